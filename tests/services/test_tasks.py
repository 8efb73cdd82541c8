"""TaskService on a real database (SQLite file, and PostgreSQL): every SPEC §2 action."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.domain.errors import (
    AlreadyDone,
    InvalidInput,
    InvalidState,
    LimitReached,
    NotFound,
    PermissionDenied,
)
from bot.domain.model import Action, Status
from bot.services.clock import ManualClock
from bot.services.tasks import TaskService
from tests.services.conftest import history_count, ledger
from tests.services.helpers import GUILD, OTHER_GUILD, maint, member

ALICE, BOB, CAROL, DAN = 11, 12, 13, 14


async def test_numbers_are_per_guild(tasks: TaskService) -> None:
    a = await tasks.create(maint(), "Translate the FAQ")
    b = await tasks.create(maint(), "Fix the map legend")
    c = await tasks.create(maint(guild=OTHER_GUILD), "Elsewhere")
    assert (a.task.number, b.task.number, c.task.number) == (1, 2, 1)
    assert a.after is Status.OPEN and a.action is Action.CREATE
    with pytest.raises(NotFound):
        await tasks.show(OTHER_GUILD, 2)
    assert (await tasks.show(GUILD, 2)).title == "Fix the map legend"


async def test_create_validates_and_changes_nothing(
    tasks: TaskService, database, clock: ManualClock
) -> None:
    with pytest.raises(InvalidInput, match="100"):
        await tasks.create(maint(), "x" * 101)
    with pytest.raises(InvalidInput, match="Points"):
        await tasks.create(maint(), "ok", points=4)
    with pytest.raises(InvalidInput, match="Capacity"):
        await tasks.create(maint(), "ok", capacity=11)
    with pytest.raises(InvalidInput, match="past"):
        await tasks.create(maint(), "ok", due_at=clock.now() - timedelta(hours=1))
    with pytest.raises(NotFound):
        await tasks.create(maint(), "ok", blocked_by=42)
    with pytest.raises(PermissionDenied, match="propose"):
        await tasks.create(member(ALICE), "not a maintainer")
    assert await history_count(database, GUILD) == 0
    created = await tasks.create(maint(), "  Tidy   the   wiki ", tags="Docs, docs ,good first")
    assert created.task.number == 1  # refusals did not use up numbers
    assert created.task.title == "Tidy the wiki"
    assert created.task.tags == ("docs", "good first")


async def test_claim_window_by_size(tasks: TaskService, clock: ManualClock) -> None:
    for points, days in ((1, 3), (3, 7), (13, 14)):
        t = await tasks.create(maint(), f"size {points}", points=points)
        r = await tasks.claim(maint(100 + points), t.task.number)
        assert r.task.claims[0].expires_at == clock.now() + timedelta(days=days)


async def test_claim_twice_changes_nothing(tasks: TaskService, database) -> None:
    t = await tasks.create(maint(), "One slot")
    r = await tasks.claim(member(ALICE), 1)
    assert r.after is Status.CLAIMED and r.task.claimant_ids == (ALICE,)
    before = await history_count(database, GUILD)
    with pytest.raises(AlreadyDone):
        await tasks.claim(member(ALICE), 1)
    assert await history_count(database, GUILD) == before
    with pytest.raises(LimitReached, match="taken"):
        await tasks.claim(member(BOB), t.task.number)


async def test_capacity_keeps_task_open_until_full(tasks: TaskService) -> None:
    await tasks.create(maint(), "Two people", capacity=2)
    first = await tasks.claim(member(ALICE), 1)
    assert first.after is Status.OPEN and first.task.free_slots == 1
    second = await tasks.claim(member(BOB), 1)
    assert second.after is Status.CLAIMED and second.task.claimant_ids == (ALICE, BOB)
    with pytest.raises(LimitReached):
        await tasks.claim(member(CAROL), 1)


async def test_claim_limit_grows_with_accepted_work(tasks: TaskService) -> None:
    for i in range(4):
        await tasks.create(maint(), f"task {i}")
    await tasks.claim(member(ALICE), 1)
    with pytest.raises(LimitReached, match="1 task at a time as a newcomer"):
        await tasks.claim(member(ALICE), 2)
    await tasks.submit(member(ALICE), 1, link="https://example.org/pr/1")
    # work waiting for review does not count against the limit
    await tasks.claim(member(ALICE), 2)
    await tasks.approve(member(BOB, reviewer=True), 1)
    standing = await tasks.standing(member(ALICE))
    assert standing.level.value == "contributor" and standing.claim_limit == 3
    await tasks.claim(member(ALICE), 3)
    await tasks.claim(member(ALICE), 4)
    assert (await tasks.standing(member(ALICE))).held_claims == 3


async def test_blocked_task_unblocks_when_blocker_done(tasks: TaskService) -> None:
    await tasks.create(maint(), "Design")
    await tasks.create(maint(), "Build", blocked_by=1)
    with pytest.raises(InvalidState, match="waiting on #1"):
        await tasks.claim(member(ALICE), 2)
    assert (await tasks.show(GUILD, 2)).blocked
    await tasks.claim(member(BOB), 1)
    await tasks.submit(member(BOB), 1, notes="done")
    done = await tasks.approve(maint(), 1)
    assert done.after is Status.DONE and done.unblocked == (2,)
    assert not (await tasks.show(GUILD, 2)).blocked
    assert (await tasks.claim(member(ALICE), 2)).after is Status.CLAIMED


async def test_release_hands_off_note_to_next_claimer(tasks: TaskService) -> None:
    await tasks.create(maint(), "Hand me over")
    await tasks.claim(member(ALICE), 1)
    with pytest.raises(PermissionDenied):
        await tasks.release(member(BOB), 1)
    r = await tasks.release(member(ALICE), 1, note="Half the strings are translated, see branch x")
    assert r.after is Status.OPEN and r.task.claims == ()
    assert (await tasks.show(GUILD, 1)).handoff_note.startswith("Half the strings")
    nxt = await tasks.claim(member(BOB), 1)
    assert nxt.handoff_note == "Half the strings are translated, see branch x"


async def test_extend_is_capped(tasks: TaskService, clock: ManualClock) -> None:
    await tasks.create(maint(), "Long one")
    claimed = await tasks.claim(member(ALICE), 1)
    expires = claimed.task.claims[0].expires_at
    for n in (1, 2):
        clock.advance(days=2)  # less than a window left: worth extending
        r = await tasks.extend(member(ALICE), 1)
        expires += timedelta(days=3)  # one more window on what was left
        assert r.task.claims[0].extensions == n
        assert r.task.claims[0].expires_at == expires
    with pytest.raises(LimitReached, match="extended #1 2 times"):
        await tasks.extend(member(ALICE), 1)


async def test_extending_twice_in_a_row_changes_nothing(
    tasks: TaskService, database, clock: ManualClock
) -> None:
    await tasks.create(maint(), "Long one")
    claimed = await tasks.claim(member(ALICE), 1)
    # Right after claiming, an extension still adds a whole window (not "until the same time").
    r = await tasks.extend(member(ALICE), 1)
    expires = claimed.task.claims[0].expires_at + timedelta(days=3)
    assert (r.task.claims[0].expires_at, r.task.claims[0].extensions) == (expires, 1)
    before = await history_count(database, GUILD)
    clock.advance(minutes=5)
    with pytest.raises(AlreadyDone, match="nothing to extend yet"):
        await tasks.extend(member(ALICE), 1)
    [claim] = (await tasks.show(GUILD, 1)).claims
    assert (claim.expires_at, claim.extensions) == (expires, 1)
    assert await history_count(database, GUILD) == before


async def test_expire_only_after_window(tasks: TaskService, clock: ManualClock) -> None:
    await tasks.create(maint(), "Stale soon")
    await tasks.claim(member(ALICE), 1)
    with pytest.raises(InvalidState, match="not expired"):
        await tasks.expire(GUILD, 1, ALICE, bot_id=999)
    clock.advance(days=3)
    r = await tasks.expire(GUILD, 1, ALICE, bot_id=999)
    assert r.after is Status.OPEN and r.member_id == ALICE and r.task.claims == ()
    with pytest.raises(InvalidState):
        await tasks.expire(GUILD, 1, ALICE, bot_id=999)  # a double sweep changes nothing


async def test_submit_needs_evidence_and_a_claimant(tasks: TaskService) -> None:
    await tasks.create(maint(), "Proof")
    await tasks.claim(member(ALICE), 1)
    with pytest.raises(InvalidInput, match="link"):
        await tasks.submit(member(ALICE), 1)
    with pytest.raises(InvalidInput, match="http"):
        await tasks.submit(member(ALICE), 1, link="ftp://nope")
    with pytest.raises(PermissionDenied):
        await tasks.submit(member(BOB), 1, notes="not mine")
    r = await tasks.submit(member(ALICE), 1, link="https://example.org/1", notes="see PR")
    assert r.after is Status.IN_REVIEW
    assert r.task.submission is not None and r.task.submission.link == "https://example.org/1"


async def test_review_rules_and_credit(tasks: TaskService, database) -> None:
    await tasks.create(maint(), "Reviewed", points=5)
    await tasks.claim(member(ALICE), 1)
    await tasks.submit(member(ALICE), 1, link="https://example.org")
    with pytest.raises(PermissionDenied, match="someone else"):
        await tasks.approve(member(ALICE), 1)
    with pytest.raises(PermissionDenied, match="Reviewing opens up"):
        await tasks.approve(member(BOB), 1)  # a newcomer without the reviewer role
    r = await tasks.approve(member(CAROL, reviewer=True), 1, comment="Lovely")
    assert r.after is Status.DONE and r.task.claims == ()
    assert await ledger(database, GUILD) == [(ALICE, "task", 5), (CAROL, "review", 1)]


async def test_n_of_m_approvals(tasks: TaskService, database, clock) -> None:
    async with database.unit() as uow:
        row = await uow.guilds.ensure_guild(GUILD, clock.now())
        assert row.required_approvals == 1
        row.required_approvals = 2
        await uow.commit()
    await tasks.create(maint(), "Two reviewers")
    await tasks.claim(member(ALICE), 1)
    await tasks.submit(member(ALICE), 1, notes="ready")
    first = await tasks.approve(member(BOB, reviewer=True), 1)
    assert first.after is Status.IN_REVIEW and first.task.approvals == 1
    with pytest.raises(AlreadyDone):
        await tasks.approve(member(BOB, reviewer=True), 1)
    [listed] = (await tasks.list_tasks(GUILD, status="in_review")).items
    assert listed.approvals == 1 and (await tasks.show(GUILD, 1)).approvals == 1
    # Changes asked: the next round starts with no approval, wherever the task shows.
    await tasks.request_changes(maint(), 1, "One more thing")
    again = await tasks.submit(member(ALICE), 1, notes="fixed")
    assert again.after is Status.IN_REVIEW and again.task.approvals == 0
    [listed] = (await tasks.list_tasks(GUILD, status="in_review")).items
    assert listed.approvals == 0 and (await tasks.show(GUILD, 1)).approvals == 0
    first = await tasks.approve(member(BOB, reviewer=True), 1)
    assert first.after is Status.IN_REVIEW and first.task.approvals == 1
    second = await tasks.approve(maint(), 1)
    assert second.after is Status.DONE


async def test_request_changes_renews_and_escalates(tasks: TaskService, clock: ManualClock) -> None:
    await tasks.create(maint(), "Rework me")
    await tasks.claim(member(ALICE), 1)
    for round_ in (1, 2, 3):
        clock.advance(days=1)
        await tasks.submit(member(ALICE), 1, notes=f"try {round_}")
        with pytest.raises(InvalidInput, match="reason"):
            await tasks.request_changes(maint(), 1, "  ")
        r = await tasks.request_changes(maint(), 1, "Please add tests")
        assert r.after is Status.CLAIMED
        assert r.task.claims[0].expires_at == clock.now() + timedelta(days=3)
        assert r.escalate is (round_ == 3)


async def test_assign_is_for_maintainers(tasks: TaskService) -> None:
    await tasks.create(maint(), "Assigned")
    with pytest.raises(PermissionDenied):
        await tasks.assign(member(ALICE), 1, BOB)
    with pytest.raises(InvalidInput, match="bots"):
        await tasks.assign(maint(), 1, 77, member_is_bot=True)
    r = await tasks.assign(maint(), 1, BOB)
    assert r.after is Status.CLAIMED and r.task.claimant_ids == (BOB,) and r.member_id == BOB


async def test_edit(tasks: TaskService) -> None:
    await tasks.create(maint(), "A", capacity=2)
    await tasks.create(maint(), "B", blocked_by=1)
    await tasks.claim(member(ALICE), 1)
    await tasks.claim(member(BOB), 1)
    with pytest.raises(InvalidInput, match="below"):
        await tasks.edit(maint(), 1, capacity=1)
    with pytest.raises(InvalidInput, match="loop"):
        await tasks.edit(maint(), 1, blocked_by=2)
    with pytest.raises(InvalidInput, match="itself"):
        await tasks.edit(maint(), 2, blocked_by=2)
    with pytest.raises(PermissionDenied):
        await tasks.edit(member(ALICE), 1, title="mine now")
    with pytest.raises(InvalidInput, match="Nothing to change"):
        await tasks.edit(maint(), 1)
    r = await tasks.edit(maint(), 1, title="A, renamed", capacity=3, points=8)
    assert (r.task.title, r.task.capacity, r.task.points, r.after) == (
        "A, renamed",
        3,
        8,
        Status.OPEN,
    )
    cleared = await tasks.edit(maint(), 2, blocked_by=None)
    assert cleared.task.blocked_by is None and not cleared.task.blocked


async def test_cancel_and_reopen(tasks: TaskService, database) -> None:
    await tasks.create(maint(), "Doomed")
    await tasks.claim(member(ALICE), 1)
    with pytest.raises(PermissionDenied):
        await tasks.cancel(member(ALICE), 1, "nah")
    with pytest.raises(InvalidInput, match="reason"):
        await tasks.cancel(maint(), 1, "")
    r = await tasks.cancel(maint(), 1, "Out of scope")
    assert r.after is Status.CANCELLED and r.task.claims == ()
    with pytest.raises(AlreadyDone):
        await tasks.cancel(maint(), 1, "again")
    with pytest.raises(PermissionDenied):
        await tasks.reopen(member(ALICE), 1)
    assert (await tasks.reopen(maint(), 1)).after is Status.OPEN


async def test_reopen_keeps_credit_and_never_pays_a_review_twice(
    tasks: TaskService, database
) -> None:
    await tasks.create(maint(), "Twice", points=3)
    await tasks.claim(member(ALICE), 1)
    await tasks.submit(member(ALICE), 1, notes="v1")
    await tasks.request_changes(member(CAROL, reviewer=True), 1, "typo")
    await tasks.submit(member(ALICE), 1, notes="v2")
    await tasks.approve(member(DAN, reviewer=True), 1)
    assert await ledger(database, GUILD) == [
        (ALICE, "task", 3),
        (CAROL, "review", 1),
        (DAN, "review", 1),
    ]
    await tasks.reopen(maint(), 1)
    await tasks.claim(member(BOB), 1)
    await tasks.submit(member(BOB), 1, notes="v3")
    await tasks.approve(member(CAROL, reviewer=True), 1)
    # Bob's work is new; Carol already has her review credit for this task (once per task).
    assert await ledger(database, GUILD) == [
        (ALICE, "task", 3),
        (CAROL, "review", 1),
        (DAN, "review", 1),
        (BOB, "task", 3),
    ]


async def test_proposals_open_by_endorsement_or_consensus(
    tasks: TaskService, clock: ManualClock
) -> None:
    p = await tasks.propose(member(ALICE), "Add dark mode")
    assert p.after is Status.PROPOSED
    with pytest.raises(PermissionDenied, match="proposed"):
        await tasks.endorse(member(ALICE), 1)
    with pytest.raises(InvalidState, match="proposal"):
        await tasks.claim(member(BOB), 1)
    one = await tasks.endorse(member(BOB), 1)
    assert one.after is Status.PROPOSED and one.task.endorsements == 1
    with pytest.raises(AlreadyDone):
        await tasks.endorse(member(BOB), 1)
    two = await tasks.endorse(member(CAROL), 1)
    assert two.after is Status.OPEN and two.opened

    await tasks.propose(member(ALICE), "Maintainer says yes")
    assert (await tasks.endorse(maint(), 2)).after is Status.OPEN

    await tasks.propose(member(ALICE), "Quiet one")
    await tasks.propose(member(ALICE), "Contested one")
    with pytest.raises(InvalidInput, match="reason"):
        await tasks.object(member(BOB), 4, "")
    await tasks.object(member(BOB), 4, "We decided against this in March")
    with pytest.raises(InvalidState, match="window"):
        await tasks.open_by_consensus(GUILD, 3, bot_id=999)
    clock.advance(hours=72)
    assert (await tasks.open_by_consensus(GUILD, 3, bot_id=999)).after is Status.OPEN
    with pytest.raises(InvalidState, match="objection"):
        await tasks.open_by_consensus(GUILD, 4, bot_id=999)
    # the proposer may withdraw their own proposal
    assert (await tasks.cancel(member(ALICE), 4, "withdrawn")).after is Status.CANCELLED


async def test_list_filters_and_pages(tasks: TaskService) -> None:
    for i in range(1, 24):
        await tasks.create(maint(), f"Task {i}", tags="docs" if i % 2 else "code")
    await tasks.claim(member(ALICE), 3)
    page1 = await tasks.list_tasks(GUILD)
    assert [t.number for t in page1.items] == [1, 2, 4, 5, 6, 7, 8, 9, 10, 11]
    page2 = await tasks.list_tasks(GUILD, after=page1.next_after)
    page3 = await tasks.list_tasks(GUILD, after=page2.next_after)
    assert len(page2.items) == 10 and len(page3.items) == 2 and page3.next_after is None
    docs = await tasks.list_tasks(GUILD, status="all", tag="DOCS")
    assert all("docs" in t.tags for t in docs.items) and docs.items[0].number == 1
    mine = await tasks.list_tasks(GUILD, member_id=ALICE)
    assert [t.number for t in mine.items] == [3]
    assert [t.number for t in (await tasks.list_tasks(GUILD, status="claimed")).items] == [3]
    with pytest.raises(InvalidInput):
        await tasks.list_tasks(GUILD, status="sleeping")


async def test_history_has_one_row_per_action(tasks: TaskService) -> None:
    await tasks.create(maint(), "Traced")
    await tasks.claim(member(ALICE), 1)
    with pytest.raises(AlreadyDone):
        await tasks.claim(member(ALICE), 1)
    await tasks.submit(member(ALICE), 1, notes="here")
    await tasks.approve(maint(), 1)
    _view, rows = await tasks.history(GUILD, 1)
    assert [(h.action, h.from_status, h.to_status) for h in rows] == [
        ("create", None, "open"),
        ("claim", "open", "claimed"),
        ("submit", "claimed", "in_review"),
        ("approve", "in_review", "done"),
    ]


async def test_import_is_all_or_nothing(tasks: TaskService, database) -> None:
    rows = [
        {"title": "Good", "points": "2", "tags": "a"},
        {"title": "", "points": "1"},
        {"title": "Bad points", "points": "4"},
    ]
    with pytest.raises(InvalidInput) as err:
        await tasks.import_tasks(maint(), rows)
    assert (
        "row 3" in err.value.message
        and "row 4" in err.value.message
        and "row 2" not in err.value.message
    )
    assert await history_count(database, GUILD) == 0
    with pytest.raises(PermissionDenied):
        await tasks.import_tasks(member(ALICE), rows[:1])
    views = await tasks.import_tasks(maint(), [rows[0], {"title": "Also good", "capacity": "3"}])
    assert [(v.number, v.title, v.capacity) for v in views] == [(1, "Good", 1), (2, "Also good", 3)]
