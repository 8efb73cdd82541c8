"""bot/github/repos.py: what maintainers type to name a repository, a label, a login."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.errors import InvalidInput
from bot.github.errors import InvalidLabel, InvalidRepo
from bot.github.repos import RepoName, parse_label, parse_link, parse_login, parse_repo

OWNERS = st.from_regex(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,37}[A-Za-z0-9])?", fullmatch=True)
NAMES = st.from_regex(r"[A-Za-z0-9._-]{1,100}", fullmatch=True).filter(
    lambda n: n not in (".", "..") and not n.lower().endswith(".git")
)


@pytest.mark.parametrize(
    "typed",
    [
        "octocat/Hello-World",
        "  octocat/Hello-World ",
        "https://github.com/octocat/Hello-World",
        "https://github.com/octocat/Hello-World/",
        "https://github.com/octocat/Hello-World.git",
        "http://www.github.com/octocat/Hello-World",
        "HTTPS://GitHub.com/octocat/Hello-World",
        "github.com/octocat/Hello-World",
    ],
)
def test_a_repository_by_name_or_address(typed: str) -> None:
    repo = parse_repo(typed)
    assert (repo.owner, repo.name, repo.full) == ("octocat", "Hello-World", "octocat/Hello-World")
    assert repo.html_url == "https://github.com/octocat/Hello-World"


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("", "Name the repository"),
        ("octocat", "is not a repository"),
        ("octocat/Hello-World/issues", "is not a repository"),
        ("-octocat/x", "can't be a GitHub owner"),
        ("octocat-/x", "can't be a GitHub owner"),
        ("octo_cat/x", "can't be a GitHub owner"),
        ("a" * 40 + "/x", "can't be a GitHub owner"),
        ("octocat/..", "can't be a repository name"),
        ("octocat/" + "n" * 101, "can't be a repository name"),
        ("octocat/hello world", "can't be a repository name"),
        ("octocat/Hello-World#1", "can't be a repository name"),
        ("https://gitlab.com/octocat/Hello-World", "Only repositories on github.com"),
        ("ssh://github.com/octocat/Hello-World", "Only repositories on github.com"),
        ("https://github.com/octocat/Hello-World/issues/1", "own address"),
        ("https://github.com/octocat", "own address"),
        ("https://github.com/octocat/Hello-World?tab=readme", "not a repository's address"),
        ("https://user:pw@github.com/octocat/Hello-World", "not a repository's address"),
        ("https://github.com:8443/octocat/Hello-World", "not a repository's address"),
        ("https://[github.com/octocat/Hello-World", "not a web address"),
    ],
)
def test_anything_else_is_refused_saying_what_to_type(typed: str, says: str) -> None:
    with pytest.raises(InvalidRepo) as err:
        parse_repo(typed)
    assert says in err.value.message
    assert isinstance(err.value, InvalidInput)  # shown to the member as a refusal


@given(OWNERS, NAMES)
def test_every_name_github_allows_reads_back(owner: str, name: str) -> None:
    expected = RepoName(owner, name)
    assert parse_repo(f"{owner}/{name}") == expected
    assert parse_repo(f"https://github.com/{owner}/{name}") == expected
    assert parse_repo(expected.full).full == f"{owner}/{name}"


def test_names_compare_as_github_does_ignoring_case() -> None:
    assert RepoName("Octocat", "Hello-World") == RepoName("octocat", "hello-world")
    assert {RepoName("Octocat", "Hello-World"), RepoName("octocat", "HELLO-WORLD")} == {
        RepoName("octocat", "hello-world")
    }
    assert RepoName("octocat", "hello-world") != RepoName("octocat", "hello-world2")
    assert RepoName("Octocat", "Hello-World").key == "octocat/hello-world"
    assert str(RepoName("Octocat", "Hello-World")) == "Octocat/Hello-World"


def test_labels() -> None:
    assert parse_label("  good first   issue ") == "good first issue"
    assert parse_label("points:3") == "points:3"
    for bad, says in [("", "Name the label"), ("a,b", "without commas"), ("x" * 51, "at most 50")]:
        with pytest.raises(InvalidLabel) as err:
            parse_label(bad)
        assert says in err.value.message


def test_logins() -> None:
    assert parse_login("@octocat") == parse_login(" octocat ") == "octocat"
    for bad in ["", "@", "octo cat", "-octocat", "octocat/x", "a" * 40]:
        with pytest.raises(InvalidInput):
            parse_login(bad)


@pytest.mark.parametrize(
    ("typed", "kind", "number"),
    [
        ("https://github.com/octocat/Hello-World/issues/12", "issue", 12),
        ("https://github.com/octocat/Hello-World/pull/3", "pull", 3),
        ("https://github.com/octocat/Hello-World/pull/3/files", "pull", 3),
        ("https://github.com/octocat/Hello-World/issues/12#issuecomment-1", "issue", 12),
        ("  http://www.github.com/octocat/Hello-World/pull/3/ ", "pull", 3),
    ],
)
def test_links_to_issues_and_pull_requests(typed: str, kind: str, number: int) -> None:
    link = parse_link(typed)
    assert (link.repo, link.kind, link.number) == (RepoName("octocat", "hello-world"), kind, number)
    assert (
        link.html_url
        == f"https://github.com/octocat/Hello-World/{'issues' if kind == 'issue' else 'pull'}/{number}"
    )


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("", "Give the address"),
        ("octocat/Hello-World#12", "Give the address"),
        ("https://gitlab.com/octocat/Hello-World/issues/12", "Give the address"),
        ("https://github.com:444/octocat/Hello-World/issues/12", "Give the address"),
        ("https://github.com/octocat/Hello-World", "not an issue or a pull request"),
        ("https://github.com/octocat/Hello-World/issues/0", "not an issue or a pull request"),
        ("https://github.com/octocat/Hello-World/issues/12a", "not an issue or a pull request"),
        ("https://github.com/-bad/Hello-World/pull/1", "not an issue or a pull request"),
        ("https://github.com/octocat/Hello-World/discussions/1", "not an issue or a pull request"),
    ],
)
def test_other_addresses_are_not_links(typed: str, says: str) -> None:
    with pytest.raises(InvalidInput) as err:
        parse_link(typed)
    assert says in err.value.message


@given(st.text(max_size=200))
def test_any_text_is_a_repository_or_a_clear_refusal(text: str) -> None:
    try:
        repo = parse_repo(text)
    except InvalidRepo as err:
        assert err.message and len(err.message) < 300
    else:
        assert parse_repo(repo.full) == repo
    try:
        parse_link(text)
    except InvalidInput as err:
        assert err.message
