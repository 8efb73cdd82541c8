"""GitHub drives the board, end to end on SimCord under field conditions: the real bot
with its real aiohttp server on 127.0.0.1 (a free port), GitHub's own example payloads
posted to it signed with the secret /config github showed, and what members see in
Discord afterwards. /task import-github reads a loopback fake of GitHub's REST API."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import discord
import pytest

from bot.app import PeerBot
from bot.bootstrap import Runtime, build_bot, build_services
from bot.github.rest import GitHubClient
from bot.ops.server import HttpOptions
from tests.e2e import field as field_conditions
from tests.e2e.conftest import World, card_of, field, said, virtual_clock
from tests.e2e.helpers import refused, thread_lines
from tests.e2e.test_digest import DUE_IN, HOUR, embeds_of, set_up_digest, text_of
from tests.support import github_hooks as gh
from tests.support.fake_github import FakeGitHub, serving

ISSUE_URL = "https://github.com/commons/handbook/issues/1"
PR_URL = "https://github.com/commons/handbook/pull/2"


@pytest.fixture
async def fake_github() -> AsyncIterator[FakeGitHub]:
    async with serving(FakeGitHub()) as fake:
        yield fake


@pytest.fixture
async def runtime(sqlite_url: str, fake_github: FakeGitHub) -> AsyncIterator[Runtime]:
    client = GitHubClient(fake_github.base, None)
    rt = build_services(
        sqlite_url,
        clock=virtual_clock(),
        public_url="https://peerboard.example.org",
        github=client,
    )
    yield rt
    await rt.close()


@pytest.fixture
async def simcord_bot(runtime: Runtime) -> AsyncIterator[PeerBot]:
    bot = build_bot(runtime.services, scheduler=False, http=HttpOptions("127.0.0.1", 0))
    yield bot
    await bot.close()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    # One connection per request: a kept-alive one is a handler task SimCord would wait on.
    async with aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(force_close=True),
        timeout=aiohttp.ClientTimeout(total=10),
    ) as session:
        yield session


async def connect(w: World, **options: Any) -> str:
    """A maintainer connects the repository; the secret the reply shows, once."""
    r = await w.maint.slash(w.general, "config github", repo="Commons/Handbook", **options)
    text = said(r)
    assert r.ephemeral
    assert f"https://peerboard.example.org/webhooks/github/{w.guild.id}" in text
    assert "application/json" in text
    assert "Issues, Pull requests, Ping" in text
    match = re.search(r"Secret: `([0-9a-f]{64})`", text)
    assert match, text
    return match[1]


async def deliver(
    bot: PeerBot, http: aiohttp.ClientSession, w: World, event: str, data: Any, secret: str
) -> None:
    assert bot.ops is not None
    answer = await gh.post(http, bot.ops.url, w.guild.id, event, data, secret)
    assert answer.status == (200 if event == "ping" else 202), answer
    await bot.forge.drain()  # the work done after the answer, and shown in Discord


async def test_an_issue_becomes_a_task_a_pr_submits_it_and_the_merge_makes_it_done(
    world: World, simcord_bot: PeerBot, http: aiohttp.ClientSession
) -> None:
    w, bot = world, simcord_bot
    digest = await set_up_digest(w)
    secret = await connect(w, label="peerboard")

    await deliver(bot, http, w, "ping", gh.ping(), secret)
    assert "webhook for **commons/handbook** works" in w.review.last_message.content

    labeled = gh.issue(
        "labeled", 1, title="Fix the README", labels=("peerboard", "points:3"), label="peerboard"
    )
    await deliver(bot, http, w, "issues", labeled, secret)
    card = card_of(w.tasks, 1)
    assert card.embeds[0].title == "#1 · Fix the README"
    assert field(card, "Points") == "3"
    assert ISSUE_URL in (field(card, "GitHub") or "")

    r = await w.alice.slash(w.general, "task claim", task="1")
    assert "You claimed" in said(r)
    r = await w.alice.slash(w.general, "me github", login="Alice-GH")
    assert "@alice-gh" in said(r) and r.ephemeral
    profile = await w.alice.slash(w.general, "profile")
    assert field(profile.response, "GitHub") == "@alice-gh"

    opened = gh.pull("opened", 2, author="alice-gh", body="Fixes #1 — the typo is gone.")
    await deliver(bot, http, w, "pull_request", opened, secret)
    card = card_of(w.tasks, 1)
    assert field(card, "Status") == "🟡 In review"
    assert PR_URL in (field(card, "Submission") or "")
    assert any("task #1" in (m.embeds[0].footer.text or "") for m in w.review.history() if m.embeds)

    r = await w.maint.slash(w.general, "me github", login="mara-gh")
    assert "@mara-gh" in said(r)
    merged = gh.pull("closed", 2, author="alice-gh", body="Fixes #1", merged_by="Mara-GH")
    await deliver(bot, http, w, "pull_request", merged, secret)

    card = card_of(w.tasks, 1)
    assert field(card, "Status") == "✅ Done"
    assert "merged" in (field(card, "GitHub") or "")
    profile = await w.alice.slash(w.general, "profile")
    assert field(profile.response, "Points") == "3"

    await w.env.advance_time(DUE_IN - HOUR)
    r = await w.maint.slash(w.general, "digest preview")
    text = text_of(embeds_of([r.response, *r.followups]))
    assert f"by <@{w.alice.id}> · reviewed by <@{w.maint.id}>" in text
    assert digest is not None


async def test_a_pull_request_by_someone_without_a_claim_is_noted_for_maintainers(
    world: World, simcord_bot: PeerBot, http: aiohttp.ClientSession
) -> None:
    w, bot = world, simcord_bot
    secret = await connect(w, label="peerboard")
    await deliver(bot, http, w, "issues", gh.issue("opened", 1, labels=("peerboard",)), secret)
    await w.alice.slash(w.general, "task claim", task="1")

    await deliver(
        bot,
        http,
        w,
        "pull_request",
        gh.pull("opened", 2, author="bob-gh", body="Peerboard #1"),
        secret,
    )

    card = card_of(w.tasks, 1)
    assert field(card, "Status") == "🔵 Claimed"
    assert f"PR by @bob-gh refers to this task: {PR_URL}" in (field(card, "GitHub") or "")


async def test_a_repository_connects_to_one_server_only(world: World) -> None:
    w = world
    await connect(w)
    elsewhere = field_conditions.create_guild(w.env, "Elsewhere")
    owner = elsewhere.add_member(
        w.env.create_user("olga"),
        roles=[
            field_conditions.create_role(
                elsewhere, "Admins", permissions=discord.Permissions(manage_guild=True)
            )
        ],
    )
    lobby = elsewhere.create_text_channel("lobby")
    refused(
        await owner.slash(lobby, "config github", repo="commons/handbook"),
        "connected to another server",
    )
    r = await w.maint.slash(w.general, "config github", repo="Commons/Handbook", rotate=True)
    assert re.search(r"Secret: `[0-9a-f]{64}`", said(r))
    r = await w.maint.slash(w.general, "config github", repo="commons/handbook")
    assert "Secret" not in said(r) and "rotate:True" in said(r)
    r = await w.maint.slash(w.general, "config github", repo="not a repo")
    refused(r, "owner/name")
    r = await w.maint.slash(w.general, "config show")
    assert "commons/handbook" in said(r)


async def test_link_and_unlink_are_for_maintainers_and_claimants(world: World) -> None:
    w = world
    r = await w.maint.slash(w.general, "task create", title="Write the guide")
    assert "Created" in said(r)
    refused(
        await w.bob.slash(w.general, "task link", task="1", url=PR_URL),
        "Only maintainers and those who claimed #1",
    )
    refused(await w.maint.slash(w.general, "task link", task="1", url="https://example.org/x"))
    r = await w.maint.slash(w.general, "task link", task="1", url=PR_URL)
    assert "Linked #1" in said(r)
    assert PR_URL in (field(card_of(w.tasks, 1), "GitHub") or "")
    refused(await w.maint.slash(w.general, "task link", task="1", url=PR_URL), "already linked")
    r = await w.maint.slash(w.general, "task unlink", task="1")
    assert "GitHub links" in said(r)
    assert field(card_of(w.tasks, 1), "GitHub") is None


async def test_logins_are_one_member_each_and_a_maintainer_can_clear_one(world: World) -> None:
    w = world
    await w.alice.slash(w.general, "me github", login="alice-gh")
    refused(await w.bob.slash(w.general, "me github", login="ALICE-GH"), "a maintainer can clear")
    refused(await w.bob.slash(w.general, "me github", login="-bad-"), "GitHub login")
    refused(await w.bob.slash(w.general, "me github"), "remove:True")
    r = await w.maint.slash(w.general, "config github-login", member=w.alice)
    assert "@alice-gh" in said(r)
    r = await w.bob.slash(w.general, "me github", login="alice-gh")
    assert "@alice-gh" in said(r)
    r = await w.bob.slash(w.general, "me github", remove=True)
    assert "Removed @alice-gh" in said(r)


async def test_import_github_reads_every_page_and_skips_what_is_on_the_board(
    world: World, fake_github: FakeGitHub
) -> None:
    w = world
    fake_github.add_repo("Commons/Handbook")
    for n in range(1, 131):
        fake_github.add_issue("Commons/Handbook", n, f"Issue {n}", labels=("help wanted",))
    fake_github.add_issue("Commons/Handbook", 200, "Not for us", labels=("bug",))

    r = await w.maint.slash(
        w.general, "task import-github", repo="Commons/Handbook", label="help wanted"
    )
    assert "Imported 130 tasks" in said(r), said(r)
    assert len({req.query.get("page", "1") for req in fake_github.requests}) == 2

    fake_github.add_issue("Commons/Handbook", 131, "Issue 131", labels=("help wanted",))
    r = await w.maint.slash(
        w.general, "task import-github", repo="Commons/Handbook", label="help wanted"
    )
    assert "Imported 1 task (#131)" in said(r) and "130 issues were already" in said(r)


async def test_import_github_says_what_github_answered_and_imports_nothing(
    world: World, fake_github: FakeGitHub
) -> None:
    w = world
    r = await w.maint.slash(w.general, "task import-github", repo="nobody/here", label="x")
    refused(r, "GitHub has no repository nobody/here")
    fake_github.add_repo("Commons/Handbook")
    fake_github.add_issue("Commons/Handbook", 1, labels=("x",))
    fake_github.rate_limited_until = 1_900_000_000
    r = await w.maint.slash(w.general, "task import-github", repo="Commons/Handbook", label="x")
    refused(r, "Try again after", "UTC", "nothing was changed")
    refused(
        await w.alice.slash(w.general, "task import-github", repo="Commons/Handbook", label="x"),
        "maintainers",
    )
    r = await w.maint.slash(w.general, "task list")
    assert "#1" not in said(r)


async def test_a_pull_request_closed_without_merge_tells_the_claimant_in_the_thread(
    world: World, simcord_bot: PeerBot, http: aiohttp.ClientSession
) -> None:
    w, bot = world, simcord_bot
    secret = await connect(w, label="peerboard")
    await deliver(bot, http, w, "issues", gh.issue("opened", 1, labels=("peerboard",)), secret)
    await w.alice.slash(w.general, "task claim", task="1")
    await w.alice.slash(w.general, "me github", login="alice-gh")
    opened = gh.pull("opened", 2, author="alice-gh", body="Closes #1")
    await deliver(bot, http, w, "pull_request", opened, secret)
    assert field(card_of(w.tasks, 1), "Status") == "🟡 In review"

    await deliver(bot, http, w, "pull_request", gh.pull("closed", 2, author="alice-gh"), secret)

    assert field(card_of(w.tasks, 1), "Status") == "🔵 Claimed"
    line = thread_lines(w, 1)[-1]
    assert line.startswith(f"<@{w.alice.id}> — the pull request {PR_URL} was closed")
    sent = [
        e.json
        for e in w.env.http_requests
        if e.method == "POST" and e.json and "closed on GitHub" in str(e.json.get("content"))
    ]
    assert [int(u) for u in sent[-1]["allowed_mentions"]["users"]] == [w.alice.id]
