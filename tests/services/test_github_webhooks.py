"""GitHub's webhook deliveries through the real aiohttp server (the operator's server with
its /webhooks/github route, on 127.0.0.1) into the services on a real database, each
handled as the bot handles it after answering. The payloads are GitHub's own examples
(tests/support/github_hooks.py), signed with the secret /config github made.

Refusals each get their status and change nothing: a wrong signature, a missing one, a
replayed delivery id, an unknown repository, an unknown guild, an oversized body, a
malformed one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
import sqlalchemy as sa

from bot.db.models import GitHubDelivery, LedgerEntry, Task, TaskHistory, TaskLink
from bot.db.uow import Database
from bot.domain.model import Status
from bot.ops.metrics import Metrics
from bot.ops.server import HttpOptions, OpsServer, Probes
from bot.ops.webhooks import PATH, GitHubHook
from bot.services.clock import ManualClock
from bot.services.github import GitHubService, WebhookService
from bot.services.tasks import TaskService
from tests.services.helpers import GUILD, OTHER_GUILD, maint, member
from tests.support import github_hooks as gh

BOT = 999
MAINT, ALICE, BOB = 1, 11, 12
LABEL = "peerboard"
ISSUE_URL = "https://github.com/commons/handbook/issues/1"
PR_URL = "https://github.com/commons/handbook/pull/2"


@dataclass
class Hook:
    base: str
    http: aiohttp.ClientSession
    github: GitHubService
    webhooks: WebhookService
    tasks: TaskService
    database: Database
    accepted: list[str]
    secret: str

    async def send(self, event: str, data: dict[str, Any] | bytes, **kw: Any) -> gh.Answer:
        return await gh.post(self.http, self.base, GUILD, event, data, self.secret, **kw)

    async def deliver(self, event: str, data: dict[str, Any], **kw: Any) -> list[Any]:
        """Post, expect it accepted, and handle it as the bot does after answering."""
        answer = await self.send(event, data, **kw)
        assert answer.status == (200 if event == "ping" else 202), answer
        return await self.webhooks.handle(self.accepted[-1], BOT)


@pytest.fixture
async def hook(database: Database, clock: ManualClock) -> AsyncIterator[Hook]:
    tasks = TaskService(database, clock)
    github = GitHubService(database, clock, tasks, public_url="https://peerboard.example.org")
    webhooks = WebhookService(database, clock, tasks)
    accepted: list[str] = []
    probes = Probes(lambda: None, database.ping, database.ping)
    route = ("POST", PATH, GitHubHook(webhooks, accepted.append).post)
    server = OpsServer(HttpOptions("127.0.0.1", 0), Metrics(), probes, [route])
    await server.start()
    setup = await github.connect(maint(MAINT), gh.REPO, label=LABEL)
    assert setup.secret is not None and setup.created
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
        yield Hook(server.url, http, github, webhooks, tasks, database, accepted, setup.secret)
    await server.stop()


async def counts(database: Database) -> dict[str, int]:
    async with database.read() as uow:
        found = {}
        for model in (Task, TaskHistory, TaskLink, GitHubDelivery, LedgerEntry):
            table = model.__table__  # type: ignore[attr-defined]
            found[table.name] = int(
                (
                    await uow.session.execute(sa.select(sa.func.count()).select_from(table))
                ).scalar_one()
            )
        return found


async def history_notes(database: Database, number: int) -> list[str]:
    async with database.read() as uow:
        task = await uow.tasks.task_by_number(GUILD, number)
        assert task is not None and task.id is not None
        return [h.note for h in await uow.history.history(task.id, 50)]


async def test_refusals_each_have_their_status_and_change_nothing(hook: Hook) -> None:
    labeled = gh.issue("labeled", 1, labels=(LABEL,), label=LABEL)
    before = await counts(hook.database)

    assert (await hook.send("issues", labeled, sign="sha256=" + "0" * 64)).status == 403
    assert (await hook.send("issues", labeled, sign="")).status == 401
    missing = await gh.post(hook.http, hook.base, GUILD, "issues", labeled, None)
    assert missing.status == 401
    # Another repository, signed with its own secret: not connected here.
    other = gh.issue("labeled", 1, repo="someone/else", labels=(LABEL,), label=LABEL)
    assert (await gh.post(hook.http, hook.base, GUILD, "issues", other, "x" * 64)).status == 404
    # Signed with this repository's secret, but naming another repository.
    assert (await hook.send("issues", other)).status == 404
    unknown_guild = await gh.post(hook.http, hook.base, OTHER_GUILD, "issues", labeled, hook.secret)
    assert unknown_guild.status == 404
    not_a_guild = await gh.post(hook.http, hook.base, 0, "issues", labeled, hook.secret)
    assert not_a_guild.status == 404
    huge = b'{"zen": "' + b"x" * (1024 * 1024) + b'"}'
    assert (await hook.send("ping", huge)).status == 413
    assert (await hook.send("issues", b"{not json")).status == 400
    assert (await hook.send("issues", b"[1, 2]")).status == 400

    assert await counts(hook.database) == before
    assert hook.accepted == []


async def test_a_replayed_delivery_is_answered_200_and_changes_nothing(hook: Hook) -> None:
    labeled = gh.issue("labeled", 1, labels=(LABEL,), label=LABEL)
    await hook.deliver("issues", labeled, delivery="d-1")
    after_first = await counts(hook.database)
    assert after_first["tasks"] == 1

    again = await hook.send("issues", labeled, delivery="d-1")

    assert again.status == 200 and "already" in again.reason
    assert len(hook.accepted) == 1
    assert await counts(hook.database) == after_first


async def test_an_issue_labeled_on_github_becomes_one_task(hook: Hook) -> None:
    effects = await hook.deliver(
        "issues",
        gh.issue(
            "labeled", 1, title="Fix the typo", labels=("bug", LABEL, "points:3"), label=LABEL
        ),
    )

    assert [e.created.number for e in effects if e.created] == [1]
    view = await hook.tasks.show(GUILD, 1)
    assert (view.title, view.points, view.status) == ("Fix the typo", 3, Status.OPEN)
    assert [(link.url, link.origin) for link in view.links] == [(ISSUE_URL, "source")]
    assert any(ISSUE_URL in note for note in await history_notes(hook.database, 1))

    # Labeled again, or opened with the label by a redelivery of another id: still one task.
    assert await hook.deliver("issues", gh.issue("labeled", 1, labels=(LABEL,), label=LABEL)) == []
    assert await hook.deliver("issues", gh.issue("opened", 1, labels=(LABEL,))) == []
    # Another label, or an issue without it: nothing.
    assert await hook.deliver("issues", gh.issue("labeled", 5, labels=("bug",), label="bug")) == []
    assert await hook.deliver("issues", gh.issue("opened", 6, labels=("bug",))) == []
    assert (await counts(hook.database))["tasks"] == 1


async def test_an_issue_opened_with_the_label_becomes_a_task(hook: Hook) -> None:
    effects = await hook.deliver("issues", gh.issue("opened", 7, labels=("PeerBoard",)))
    assert [e.created.number for e in effects if e.created] == [1]


async def test_closed_reopened_and_edited_issues_are_followed_on_the_card(hook: Hook) -> None:
    await hook.deliver("issues", gh.issue("labeled", 1, labels=(LABEL,), label=LABEL))

    await hook.deliver("issues", gh.issue("closed", 1, labels=(LABEL,)))
    view = await hook.tasks.show(GUILD, 1)
    assert view.status is Status.OPEN  # a closed issue alone does not make the task done
    assert view.links[0].state == "closed"

    await hook.deliver("issues", gh.issue("reopened", 1, labels=(LABEL,)))
    assert (await hook.tasks.show(GUILD, 1)).links[0].state == "open"

    await hook.deliver("issues", gh.issue("edited", 1, title="Fix every typo", body="All of them."))
    view = await hook.tasks.show(GUILD, 1)
    assert (view.title, view.description) == ("Fix every typo", "All of them.")
    notes = await history_notes(hook.database, 1)
    for action in ("closed", "reopened", "edited"):
        assert f"issue {action} on GitHub: {ISSUE_URL}" in notes


async def _claimed_by_alice(hook: Hook) -> None:
    await hook.deliver("issues", gh.issue("labeled", 1, labels=(LABEL,), label=LABEL))
    await hook.tasks.claim(member(ALICE), 1)
    await hook.github.set_login(member(ALICE), "Alice-GH")


async def test_a_claimants_pull_request_submits_and_its_merge_approves(hook: Hook) -> None:
    await _claimed_by_alice(hook)
    await hook.github.set_login(maint(MAINT), "mara")

    effects = await hook.deliver(
        "pull_request", gh.pull("opened", 2, author="alice-gh", body="Fixes #1, at last.")
    )

    view = await hook.tasks.show(GUILD, 1)
    assert view.status is Status.IN_REVIEW
    assert view.submission is not None and view.submission.link == PR_URL
    assert [e.result.action.value for e in effects if e.result] == ["submit"]
    assert f"pull request on GitHub: {PR_URL}" in await history_notes(hook.database, 1)

    await hook.deliver("pull_request", gh.pull("closed", 2, author="alice-gh", merged_by="Mara"))

    view = await hook.tasks.show(GUILD, 1)
    assert view.status is Status.DONE
    assert f"merged on GitHub: {PR_URL}" in await history_notes(hook.database, 1)
    async with hook.database.read() as uow:
        rows = (await uow.session.execute(sa.select(LedgerEntry))).scalars().all()
    assert sorted((e.member_id, e.kind) for e in rows) == [(MAINT, "review"), (ALICE, "task")]


async def test_a_merge_by_someone_not_linked_approves_with_no_reviewer_credit(
    hook: Hook,
) -> None:
    await _claimed_by_alice(hook)
    await hook.deliver("pull_request", gh.pull("opened", 2, author="alice-gh", body="Peerboard #1"))

    await hook.deliver(
        "pull_request", gh.pull("closed", 2, author="alice-gh", merged_by="stranger")
    )

    assert (await hook.tasks.show(GUILD, 1)).status is Status.DONE
    async with hook.database.read() as uow:
        rows = (await uow.session.execute(sa.select(LedgerEntry))).scalars().all()
    assert [(e.member_id, e.kind) for e in rows] == [(ALICE, "task")]


async def test_a_claimant_merging_their_own_pull_request_is_no_review(hook: Hook) -> None:
    await _claimed_by_alice(hook)
    await hook.deliver("pull_request", gh.pull("opened", 2, author="alice-gh", body="Fixes #1"))

    await hook.deliver(
        "pull_request", gh.pull("closed", 2, author="alice-gh", merged_by="alice-gh")
    )

    assert (await hook.tasks.show(GUILD, 1)).status is Status.IN_REVIEW


async def test_a_pull_request_closed_without_merge_sends_the_task_back(hook: Hook) -> None:
    await _claimed_by_alice(hook)
    await hook.deliver("pull_request", gh.pull("opened", 2, author="alice-gh", body="Fixes #1"))

    effects = await hook.deliver("pull_request", gh.pull("closed", 2, author="alice-gh"))

    view = await hook.tasks.show(GUILD, 1)
    assert view.status is Status.CLAIMED and view.claimant_ids == (ALICE,)
    assert [e.result.after for e in effects if e.result] == [Status.CLAIMED]
    notes = await history_notes(hook.database, 1)
    assert f"pull request closed on GitHub without a merge: {PR_URL}" in notes


async def test_a_pull_request_by_someone_without_a_claim_only_notes_it(hook: Hook) -> None:
    await _claimed_by_alice(hook)
    await hook.github.set_login(member(BOB), "bob-gh")
    before = await hook.tasks.show(GUILD, 1)

    await hook.deliver("pull_request", gh.pull("opened", 2, author="bob-gh", body="Peerboard #1"))

    view = await hook.tasks.show(GUILD, 1)
    assert view.status is before.status is Status.CLAIMED
    assert [(link.url, link.origin, link.author) for link in view.links][-1] == (
        PR_URL,
        "mention",
        "bob-gh",
    )
    # GitHub's example: the author is Codertocat, whom nobody linked.
    await hook.deliver("pull_request", gh.pull("opened", 3, body="Fixes #1"))
    assert (await hook.tasks.show(GUILD, 1)).status is Status.CLAIMED


async def test_a_draft_waits_until_it_is_ready_for_review(hook: Hook) -> None:
    await _claimed_by_alice(hook)

    assert (
        await hook.deliver(
            "pull_request", gh.pull("opened", 2, author="alice-gh", body="Fixes #1", draft=True)
        )
        == []
    )
    assert (await hook.tasks.show(GUILD, 1)).status is Status.CLAIMED

    await hook.deliver(
        "pull_request", gh.pull("ready_for_review", 2, author="alice-gh", body="Fixes #1")
    )
    assert (await hook.tasks.show(GUILD, 1)).status is Status.IN_REVIEW


async def test_a_reopened_pull_request_submits_again(hook: Hook) -> None:
    await _claimed_by_alice(hook)
    await hook.deliver("pull_request", gh.pull("opened", 2, author="alice-gh", body="Fixes #1"))
    await hook.deliver("pull_request", gh.pull("closed", 2, author="alice-gh"))

    await hook.deliver("pull_request", gh.pull("reopened", 2, author="alice-gh", body="Fixes #1"))

    assert (await hook.tasks.show(GUILD, 1)).status is Status.IN_REVIEW


async def test_a_task_linked_by_hand_is_submitted_by_its_pull_request(hook: Hook) -> None:
    await _claimed_by_alice(hook)
    await hook.github.link(member(ALICE), 1, PR_URL)

    await hook.deliver("pull_request", gh.pull("opened", 2, author="alice-gh", body="No keyword."))

    assert (await hook.tasks.show(GUILD, 1)).status is Status.IN_REVIEW


async def test_ping_says_the_hook_works(hook: Hook) -> None:
    effects = await hook.deliver("ping", gh.ping())
    assert [e.ping for e in effects] == ["commons/handbook"]


async def test_a_delivery_that_fails_stays_visible_as_failed(hook: Hook) -> None:
    broken = gh.issue("labeled", 1, labels=(LABEL,), label=LABEL)
    del broken["issue"]["number"]

    assert await hook.deliver("issues", broken, delivery="broken-1") == []

    failed = await hook.github.failed_deliveries(GUILD)
    assert [(d, event) for d, event, _why in failed] == [("broken-1", "issues")]
    assert (await counts(hook.database))["tasks"] == 0
