"""bot/github/rest.py against a local stand-in for GitHub's REST API
(tests/support/fake_github.py): pages, pull requests, errors, and where the token goes."""

from __future__ import annotations

import logging
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from bot.github.errors import (
    AccessDenied,
    GitHubUnavailable,
    InvalidLabel,
    InvalidRepo,
    RateLimited,
    RepoNotFound,
    TooManyIssues,
)
from bot.github.issues import GitHubIssue
from bot.github.rest import API_VERSION, MEDIA_TYPE, GitHubClient
from tests.support.fake_github import FakeGitHub, serving

REPO = "octo-org/Hello-World"
LABEL = "help wanted"
TOKEN = "ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


@pytest.fixture
async def github() -> AsyncIterator[FakeGitHub]:
    async with serving(FakeGitHub()) as fake:
        fake.add_repo(REPO)
        yield fake


def client(fake: FakeGitHub, token: str | None = None, **kwargs: object) -> GitHubClient:
    return GitHubClient(fake.base, token, clock=lambda: NOW, **kwargs)  # type: ignore[arg-type]


async def test_every_page_is_read_and_pull_requests_are_left_out(github: FakeGitHub) -> None:
    for n in range(1, 231):
        github.add_issue(REPO, n, f"Issue {n}", labels=("bug", LABEL))
    for n in range(231, 241):
        github.add_issue(REPO, n, f"PR {n}", labels=(LABEL,), pull_request=True)
    for n in range(241, 251):
        github.add_issue(REPO, n, f"Unlabelled {n}", labels=("bug",))
    github.add_issue(REPO, 251, "Closed", labels=(LABEL,), state="closed")

    async with client(github) as gh:
        issues = await gh.open_issues(REPO, LABEL)

    assert [i.number for i in issues] == list(range(230, 0, -1))  # newest first, each once
    assert all(isinstance(i, GitHubIssue) and i.title == f"Issue {i.number}" for i in issues)
    # 240 labelled open items (PRs included by GitHub) at 100 a page: three requests, the
    # second and third at the Link header's next address.
    assert [r.query.get("page") for r in github.requests] == [None, "2", "3"]
    assert github.requests[0].path == f"/repos/{REPO}/issues"
    assert all(r.path.startswith("/repositories/") for r in github.requests[1:])
    assert all(
        {"state": "open", "labels": LABEL, "per_page": "100"}.items() <= r.query.items()
        for r in github.requests
    )


async def test_an_issue_keeps_what_the_board_uses(github: FakeGitHub) -> None:
    github.add_issue(REPO, 7, "Fix the docs", body=None, labels=(LABEL, "points:3"), author="mona")
    async with client(github) as gh:
        (issue,) = await gh.open_issues("https://github.com/octo-org/hello-world", LABEL)
    assert issue == GitHubIssue(
        number=7,
        title="Fix the docs",
        body="",
        html_url=f"https://github.com/{REPO}/issues/7",
        labels=(LABEL, "points:3"),
        author="mona",
        state="open",
    )


async def test_requests_say_who_asks_and_which_api_without_a_token(github: FakeGitHub) -> None:
    github.add_issue(REPO, 1, labels=(LABEL,))
    async with client(github) as gh:
        assert len(await gh.open_issues(REPO, LABEL)) == 1
        assert repr(gh) == f"GitHubClient(base={github.base!r}, token=none)"
    (sent,) = github.requests
    assert sent.authorization is None
    assert sent.accept == MEDIA_TYPE == "application/vnd.github+json"
    assert sent.api_version == API_VERSION == "2022-11-28"
    assert sent.user_agent is not None and sent.user_agent.startswith("Peerboard/")


async def test_the_token_is_sent_on_every_page_and_shown_nowhere(
    github: FakeGitHub, caplog: pytest.LogCaptureFixture
) -> None:
    for n in range(1, 151):
        github.add_issue(REPO, n, labels=(LABEL,))
    caplog.set_level(logging.DEBUG)
    async with client(github, TOKEN) as gh:
        assert len(await gh.open_issues(REPO, LABEL)) == 150
        with pytest.raises(RepoNotFound) as missing:
            await gh.open_issues("octo-org/gone", LABEL)
        github.fail_status = 502
        with pytest.raises(GitHubUnavailable) as down:
            await gh.open_issues(REPO, LABEL)
        shown = [repr(gh), str(gh), repr(missing.value), str(down.value), down.value.detail]
    assert [r.authorization for r in github.requests] == [f"Bearer {TOKEN}"] * 4
    assert "token=set" in repr(gh)
    assert any("GET" in r.getMessage() for r in caplog.records)  # the client did log
    logged = "\n".join(r.getMessage() for r in caplog.records) + caplog.text
    assert TOKEN not in logged
    assert all(TOKEN not in text for text in shown)


async def test_an_unknown_repository_is_not_found(github: FakeGitHub) -> None:
    async with client(github) as gh:
        with pytest.raises(RepoNotFound) as err:
            await gh.open_issues("octo-org/nothing-here", LABEL)
    assert err.value.repo == "octo-org/nothing-here"
    assert "octo-org/nothing-here" in err.value.message and "private" in err.value.message


async def test_a_rate_limit_says_when_github_takes_requests_again(github: FakeGitHub) -> None:
    reset = int((NOW + timedelta(minutes=17)).timestamp())
    github.rate_limited_until = reset
    async with client(github, TOKEN) as gh:
        with pytest.raises(RateLimited) as err:
            await gh.open_issues(REPO, LABEL)
    assert err.value.reset_at == datetime.fromtimestamp(reset, UTC) == NOW + timedelta(minutes=17)
    assert "after 09:47 UTC" in err.value.message


async def test_a_secondary_rate_limit_waits_for_retry_after(github: FakeGitHub) -> None:
    github.retry_after = 120
    async with client(github) as gh:
        with pytest.raises(RateLimited) as err:
            await gh.open_issues(REPO, LABEL)
    assert err.value.reset_at == NOW + timedelta(seconds=120)


@pytest.mark.parametrize("page", [None, 2])
async def test_a_server_error_on_any_page_returns_nothing(
    github: FakeGitHub, page: int | None
) -> None:
    for n in range(1, 151):
        github.add_issue(REPO, n, labels=(LABEL,))
    github.fail_status, github.fail_page = 503, page
    async with client(github) as gh:
        with pytest.raises(GitHubUnavailable) as err:
            await gh.open_issues(REPO, LABEL)
    assert err.value.detail == "HTTP 503 from GitHub"
    assert len(github.requests) == (1 if page is None else 2)


async def test_a_refused_connection_is_unavailable() -> None:
    with socket.socket() as sock:  # a port nothing listens on once it is closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with GitHubClient(f"http://127.0.0.1:{port}", None) as gh:
        with pytest.raises(GitHubUnavailable) as err:
            await gh.open_issues(REPO, LABEL)
    assert "Connect" in err.value.detail
    assert "Try again" in err.value.message


async def test_an_answer_that_never_comes_times_out(github: FakeGitHub) -> None:
    github.hang = True
    async with client(github, timeout=0.2) as gh:
        with pytest.raises(GitHubUnavailable) as err:
            await gh.open_issues(REPO, LABEL)
    assert "Timeout" in err.value.detail
    assert len(github.requests) == 1


async def test_a_next_page_elsewhere_is_not_followed_with_the_token(github: FakeGitHub) -> None:
    for n in range(1, 151):
        github.add_issue(REPO, n, labels=(LABEL,))
    github.links_origin = "https://collector.invalid"
    async with client(github, TOKEN) as gh:
        with pytest.raises(GitHubUnavailable) as err:
            await gh.open_issues(REPO, LABEL)
    assert "collector.invalid" in err.value.detail
    assert len(github.requests) == 1  # the next page was never asked for


async def test_a_renamed_repository_is_followed(github: FakeGitHub) -> None:
    github.add_repo("octo-org/new-name")
    github.add_issue("octo-org/new-name", 3, labels=(LABEL,))
    github.renamed["octo-org/old-name"] = "octo-org/new-name"
    async with client(github, TOKEN) as gh:
        issues = await gh.open_issues("octo-org/old-name", LABEL)
    assert [i.number for i in issues] == [3]
    assert [r.path.split("/")[1] for r in github.requests] == ["repos", "repositories"]
    assert all(r.authorization == f"Bearer {TOKEN}" for r in github.requests)


async def test_more_pages_than_one_import_takes_is_refused(github: FakeGitHub) -> None:
    for n in range(1, 302):
        github.add_issue(REPO, n, labels=(LABEL,))
    async with client(github, max_pages=3) as gh:
        with pytest.raises(TooManyIssues) as err:
            await gh.open_issues(REPO, LABEL)
    assert "more than 300 open issues" in err.value.message
    assert len(github.requests) == 3


@pytest.mark.parametrize(
    ("repo", "label", "error"),
    [
        ("not a repository", LABEL, InvalidRepo),
        ("https://gitlab.com/octo-org/hello-world", LABEL, InvalidRepo),
        (REPO, "bug,help wanted", InvalidLabel),
        (REPO, "  ", InvalidLabel),
    ],
)
async def test_bad_input_is_refused_before_any_request(
    github: FakeGitHub, repo: str, label: str, error: type[Exception]
) -> None:
    async with client(github) as gh:
        with pytest.raises(error):
            await gh.open_issues(repo, label)
    assert github.requests == []


async def test_a_bad_token_is_access_denied() -> None:
    from aiohttp import web

    async def unauthorised(request: web.Request) -> web.Response:
        return web.json_response({"message": "Bad credentials"}, status=401)

    app = web.Application()
    app.router.add_get("/repos/{owner}/{repo}/issues", unauthorised)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        async with GitHubClient(f"http://127.0.0.1:{runner.addresses[0][1]}", TOKEN) as gh:
            with pytest.raises(AccessDenied) as err:
                await gh.open_issues(REPO, LABEL)
    finally:
        await runner.cleanup()
    assert err.value.status == 401 and "PEERBOARD_GITHUB_TOKEN" in err.value.message


async def test_a_session_it_was_given_stays_open(github: FakeGitHub) -> None:
    github.add_issue(REPO, 1, labels=(LABEL,))
    async with aiohttp.ClientSession() as session:
        async with GitHubClient(github.base, None, session) as gh:
            assert len(await gh.open_issues(REPO, LABEL)) == 1
        assert not session.closed


def test_the_base_must_be_a_web_address() -> None:
    with pytest.raises(ValueError, match="http"):
        GitHubClient("ftp://example.org", None)
