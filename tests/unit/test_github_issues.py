"""bot/github/issues.py: issues read from GitHub's own payloads, the task each becomes
(checked by the CSV import's own row checks), and the references a pull request makes."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import discord
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.inputs import TASK_NUMBER_MAX, clean_line, clean_text
from bot.domain.model import DESCRIPTION_MAX, POINT_CHOICES, TITLE_MAX
from bot.github.issues import (
    DEFAULT_POINTS,
    ISSUE,
    LINK,
    GitHubIssue,
    closing_refs,
    is_pull_request,
    neutralise_mentions,
    peerboard_refs,
    points_from_labels,
    task_draft,
)
from bot.github.repos import RepoName
from bot.services.tasks.importing import clean_rows
from tests.support.fake_github import payload, payloads_dir

REPO = RepoName("Codertocat", "Hello-World")
NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
# What Discord reads as a ping in message text.
PINGS = re.compile(r"@everyone|@here|<@[!&]?\d+>")


def issue(**fields: Any) -> GitHubIssue:
    data = payload("issues", "opened")["issue"]
    data.update(fields)
    return GitHubIssue.from_api(data)


@pytest.mark.parametrize("path", sorted(p.name for p in (payloads_dir() / "issues").iterdir()))
def test_every_issue_github_sends_is_read(path: str) -> None:
    raw = payload("issues", path.removesuffix(".payload.json"))["issue"]
    read = GitHubIssue.from_api(raw)
    assert (read.number, read.title, read.html_url) == (
        raw["number"],
        raw["title"],
        raw["html_url"],
    )
    assert read.author == raw["user"]["login"]
    assert read.labels == tuple(label["name"] for label in raw["labels"])
    assert read.body == (raw["body"] or "")
    assert not is_pull_request(raw)


def test_an_empty_body_and_a_deleted_author() -> None:
    raw = payload("issues", "opened.with-empty-body")["issue"]
    assert raw["body"] is None and GitHubIssue.from_api(raw).body == ""
    assert issue(user=None).author == "ghost"


@pytest.mark.parametrize(
    "broken",
    [
        {"number": None},
        {"number": True},
        {"number": 0},
        {"number": "7"},
        {"title": None},
        {"html_url": None},
        {"body": 12},
        {"labels": "bug"},
        {"labels": [{"id": 1}]},
    ],
)
def test_what_is_not_an_issue_is_refused(broken: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        issue(**broken)


def test_an_issue_becomes_a_row_the_csv_import_takes_as_it_is() -> None:
    body = "## Steps\n\n1. Open **README**\n2. See `commmit`\n\n```py\nprint('x')\n```"
    draft = task_draft(issue(number=12, title="  Fix   the\nREADME ", body=body, labels=[]))
    row = draft.row()
    assert row[LINK] == "https://github.com/Codertocat/Hello-World/issues/1"
    assert row[ISSUE] == 12
    assert (row["title"], row["description"], row["points"]) == ("Fix the README", body, 1)
    ((fields, due),) = clean_rows([row], NOW)
    assert (fields.title, fields.description, fields.points, fields.tags, fields.capacity) == (
        "Fix the README",
        body,  # markdown kept
        1,
        "",
        1,
    )
    assert due is None


def test_long_text_is_cut_to_the_boards_limits() -> None:
    draft = task_draft(issue(title="word " * 60, body="line\n" * 1000))
    assert len(draft.title) == TITLE_MAX and draft.title.endswith("…")
    assert len(draft.description) <= DESCRIPTION_MAX and draft.description.endswith("…")
    ((fields, _),) = clean_rows([draft.row()], NOW)
    assert (fields.title, fields.description) == (draft.title, draft.description)


def test_template_comments_go_and_a_blank_title_gets_the_issue_number() -> None:
    draft = task_draft(
        issue(
            number=5, title="\u200b \u3164", body="<!-- Describe it -->\nIt breaks.\n<!--\nx\n-->"
        )
    )
    assert draft.title == "GitHub issue #5"
    assert draft.description == "It breaks."


def test_mentions_in_github_text_never_ping() -> None:
    role, user = "<@&123456789012345678>", "<@!123456789012345678>"
    draft = task_draft(issue(title="@everyone look", body=f"@here {role} {user} @octocat"))
    assert not PINGS.search(draft.title) and not PINGS.search(draft.description)
    assert draft.title.replace("\u200c", "") == "@everyone look"  # reads the same
    assert "@octocat" in draft.description  # a GitHub login is not a Discord mention
    ((fields, _),) = clean_rows([draft.row()], NOW)  # the board's cleaning keeps the break
    assert not PINGS.search(fields.title) and not PINGS.search(fields.description)


TEXT = st.text(st.characters(codec="utf-8"), max_size=3000) | st.sampled_from(
    ["@everyone", "@here", "<@&123456789012345678>", "x" * 5000, "\u200b", " "]
)


@given(TEXT, TEXT, st.lists(st.text(max_size=60), max_size=5), st.integers(1, 10**6))
def test_any_issue_makes_a_task_the_import_accepts(
    title: str, body: str, labels: list[str], number: int
) -> None:
    draft = task_draft(issue(number=number, title=title, body=body, labels=labels))
    ((fields, _),) = clean_rows([draft.row()], NOW)
    assert (fields.title, fields.description, fields.points) == (
        draft.title,
        draft.description,
        draft.points,
    )
    assert 1 <= len(fields.title) <= TITLE_MAX and len(fields.description) <= DESCRIPTION_MAX
    for text in (fields.title, fields.description):
        assert not PINGS.search(text)
        # as the board shows it, escaped once more: still no ping
        assert not PINGS.search(discord.utils.escape_mentions(text))


@pytest.mark.parametrize(
    ("labels", "points"),
    [
        ([], DEFAULT_POINTS),
        (["bug"], DEFAULT_POINTS),
        (["points:3"], 3),
        (["Points: 5"], 5),
        (["POINTS :13"], 13),
        (["bug", "points:  8", "points:2"], 8),
        (["points:4"], DEFAULT_POINTS),  # not a size the board has
        (["points:4", "points:2"], 2),
        (["points:0"], DEFAULT_POINTS),
        (["points:1000"], DEFAULT_POINTS),
        (["points:-3"], DEFAULT_POINTS),
        (["points:٣"], DEFAULT_POINTS),
        (["story points:3"], DEFAULT_POINTS),
        (["points:3x"], DEFAULT_POINTS),
    ],
)
def test_points_from_a_label(labels: list[str], points: int) -> None:
    assert points_from_labels(labels) == points
    assert points in POINT_CHOICES


@pytest.mark.parametrize(
    ("text", "numbers"),
    [
        ("Fixes #12", {12}),
        ("This closes: #3 at last", {3}),
        ("RESOLVED #4", {4}),
        ("fix #5.", {5}),
        ("Closed #6\nResolves #7", {6, 7}),
        ("fixes codertocat/hello-world#8", {8}),
        ("Fixes https://github.com/Codertocat/Hello-World/issues/9", {9}),
        ("Fixes https://github.com/Codertocat/Hello-World/issues/9#issuecomment-1", {9}),
        ("Fixes #1, #2", {1}),  # GitHub wants a keyword before each
        ("fixes #1 and closes #2", {1, 2}),
        ("Fixes other/Hello-World#10", set()),
        ("Fixes Codertocat/Hello-World-2#11", set()),
        ("Fixes https://github.com/other/repo/issues/12", set()),
        ("Fixes https://github.com/Codertocat/Hello-World/pull/13", set()),
        ("prefixes #14, unfixed #15, fixer #16", set()),
        ("Fixes #17abc", set()),
        ("Fixes #0", set()),
        ("Fixes #99999999999", set()),
        ("Fixes#18", set()),
        ("Refs #19", set()),
        ("", set()),
    ],
)
def test_closing_references(text: str, numbers: set[int]) -> None:
    assert closing_refs(text, REPO) == numbers
    assert closing_refs(text, "codertocat/hello-world") == numbers


OWNERS = st.from_regex(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,8}[A-Za-z0-9])?", fullmatch=True)
NAMES = st.from_regex(r"[A-Za-z0-9._-]{1,12}", fullmatch=True)
KEYWORDS = st.sampled_from(
    ["close", "closes", "closed", "fix", "fixes", "fixed", "resolve", "resolves", "resolved"]
).map(lambda k: k.upper() if len(k) % 2 else k.capitalize())
NOISE = st.text(st.characters(codec="ascii", exclude_characters="#"), max_size=20)


@st.composite
def foreign_refs(draw: st.DrawFn) -> str:
    owner, name = draw(OWNERS), draw(NAMES)
    if RepoName(owner, name) == REPO or name in (".", ".."):
        owner = "someone-else"
    number = draw(st.integers(1, 10**6))
    form = draw(st.sampled_from(["{o}/{n}#{i}", "https://github.com/{o}/{n}/issues/{i}"]))
    sep = draw(st.sampled_from([" ", ": ", "  ", "\n"]))
    return draw(KEYWORDS) + sep + form.format(o=owner, n=name, i=number)


@given(st.lists(st.tuples(NOISE, foreign_refs()), max_size=8), NOISE)
def test_other_repositories_issues_are_never_this_ones(
    parts: list[tuple[str, str]], end: str
) -> None:
    text = " ".join(f"{noise} {ref}" for noise, ref in parts) + " " + end
    assert closing_refs(text, REPO) == set()


@given(
    st.lists(foreign_refs(), max_size=5),
    st.lists(st.tuples(KEYWORDS, st.integers(1, 10**6)), max_size=5),
)
def test_this_repositorys_issues_are_found_among_others(
    foreign: list[str], own: list[tuple[str, int]]
) -> None:
    mine = [f"{k} #{n}" for k, n in own[:3]] + [
        f"{k} https://github.com/codertocat/hello-world/issues/{n}" for k, n in own[3:]
    ]
    text = "\n".join(foreign + mine)
    assert closing_refs(text, REPO) == {n for _, n in own}


@pytest.mark.parametrize(
    ("text", "numbers"),
    [
        ("Peerboard #12", {12}),
        ("part of peerboard#3 and PEERBOARD # 4", {3, 4}),
        ("notpeerboard #5", set()),
        ("Peerboard #0", set()),
        ("Peerboard #12a", set()),
        (f"Peerboard #{TASK_NUMBER_MAX + 1}", set()),
        ("Peerboard 12", set()),
        (None, set()),
    ],
)
def test_peerboard_references(text: str | None, numbers: set[int]) -> None:
    assert peerboard_refs(text) == numbers


def test_neutralising_keeps_what_is_not_a_mention() -> None:
    assert (
        neutralise_mentions("mail me@here.org? @everyone!")
        == "mail me@\u200chere.org? @\u200ceveryone!"
    )
    assert neutralise_mentions("@octocat #12") == "@octocat #12"
    assert clean_text(neutralise_mentions("@here")) == clean_line("@\u200chere") == "@\u200chere"
