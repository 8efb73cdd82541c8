"""`apply`: everything an outcome writes, for every action, and its boundaries.

The expectations are what `TaskService._attempt`, `_write`, `_outbox` and `_credit` (and
the sweep's `expire_many`) write for the same outcome.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain import lifecycle as lc
from bot.domain.change import (
    UNCHANGED,
    Credit,
    Dependent,
    EndedClaims,
    HistoryEntry,
    NewClaim,
    Notice,
    PendingReview,
    RenewedClaim,
    TaskChange,
    TaskFields,
    apply,
    warn_at,
)
from bot.domain.lifecycle import Claim, Outcome, TaskState
from bot.domain.model import (
    CHANNEL,
    HISTORY_NOTE_MAX,
    Action,
    Actor,
    ClaimEnd,
    LedgerKind,
    Reminder,
    Rules,
    Status,
    TrustLevel,
    Verdict,
)

A = Action
S = Status
L = TrustLevel

GUILD = 7
NUMBER = 12
NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
EARLIER = NOW - timedelta(days=1)
RULES = Rules(review_nudge_hours=30, review_points=2, claim_warning_fraction=0.25)
BOT_ID = 999

MAINTAINER, REVIEWER, CLAIMANT, PARTNER, PROPOSER, ALICE, BOB = 1, 2, 3, 4, 5, 6, 7


def member(member_id: int, **flags: bool) -> Actor:
    return Actor(GUILD, member_id, **flags)


def maintainer() -> Actor:
    return member(MAINTAINER, is_maintainer=True)


def held(member_id: int, *, expires_at: datetime = NOW + timedelta(days=2)) -> Claim:
    return Claim(member_id, EARLIER, expires_at)


def task(
    status: Status = S.OPEN,
    *,
    claimants: tuple[int, ...] = (),
    capacity: int = 1,
    points: int = 3,
    **fields: object,
) -> TaskState:
    fields.setdefault("claims", tuple(held(m) for m in claimants))
    return TaskState(
        number=NUMBER,
        status=status,
        points=points,
        capacity=capacity,
        creator_id=PROPOSER,
        **fields,  # type: ignore[arg-type]
    )


def change_of(
    state: TaskState, outcome: Outcome, actor_id: int, *, note: str | None = None
) -> TaskChange:
    return apply(state, outcome, RULES, NOW, actor_id=actor_id, note=note)


def history(
    actor_id: int, action: Action, before: Status, after: Status, note: str = ""
) -> HistoryEntry:
    return HistoryEntry(actor_id, action, before, after, note, NOW)


def nothing_else(change: TaskChange, *keep: str) -> None:
    """The parts of a change a test did not name are empty."""
    empty = {
        "new_claim": None,
        "renewed": (),
        "ended": None,
        "notices": (),
        "credits": (),
        "review_points": None,
        "notify_dependents": False,
    }
    for name, value in empty.items():
        if name not in keep:
            assert getattr(change, name) == value, name


# -- claims ---------------------------------------------------------------------------------


def test_claim_takes_the_last_slot() -> None:
    state = task()
    outcome = lc.claim(state, member(ALICE), L.NEWCOMER, 0, RULES, NOW)
    change = change_of(state, outcome, ALICE)
    expires = NOW + timedelta(days=7)
    assert change.new_claim == NewClaim(ALICE, NOW, expires, NOW + timedelta(days=7) * 0.25)
    assert change.fields == TaskFields(S.CLAIMED, NOW, status_changed_at=NOW, next_nudge_at=None)
    assert change.fields.values() == {
        "status": "claimed",
        "updated_at": NOW,
        "status_changed_at": NOW,
        "next_nudge_at": None,
    }
    assert change.history == history(ALICE, A.CLAIM, S.OPEN, S.CLAIMED)
    assert change.state.claims == (Claim(ALICE, NOW, expires),)
    assert change.state.status is S.CLAIMED
    assert change.at == NOW and change.outcome is outcome and not change.opened
    nothing_else(change, "new_claim")


def test_claim_with_a_slot_left_keeps_the_status_and_its_time() -> None:
    state = task(claimants=(CLAIMANT,), capacity=3)
    change = change_of(state, lc.claim(state, member(ALICE), L.NEWCOMER, 0, RULES, NOW), ALICE)
    assert change.fields.values() == {"status": "open", "updated_at": NOW, "next_nudge_at": None}
    assert [c.member_id for c in change.state.claims] == [CLAIMANT, ALICE]  # the new one last


def test_assign_notes_the_assignee() -> None:
    state = task()
    change = change_of(state, lc.assign(state, maintainer(), BOB, False, RULES, NOW), MAINTAINER)
    assert change.new_claim is not None and change.new_claim.member_id == BOB
    assert change.history == history(MAINTAINER, A.ASSIGN, S.OPEN, S.CLAIMED, f"<@{BOB}>")


def test_extend_renews_with_a_new_warning_time() -> None:
    state = task(S.CLAIMED, claimants=(CLAIMANT,))
    change = change_of(state, lc.extend(state, member(CLAIMANT), RULES, NOW), CLAIMANT)
    expires = NOW + timedelta(days=2 + 7)  # one more window on top of the 2 days left
    assert change.renewed == (RenewedClaim(CLAIMANT, expires, 1, NOW + (expires - NOW) * 0.25),)
    assert change.fields.values() == {"status": "claimed", "updated_at": NOW, "next_nudge_at": None}
    assert change.state.claims == (Claim(CLAIMANT, EARLIER, expires, 1),)  # claimed_at kept
    nothing_else(change, "renewed")


@pytest.mark.parametrize("note", ["Notes are in the thread.", None, ""])
def test_release_leaves_its_note_for_the_next_claimant(note: str | None) -> None:
    state = task(S.CLAIMED, claimants=(CLAIMANT,))
    change = change_of(state, lc.release(state, member(CLAIMANT), note), CLAIMANT)
    text = note or ""
    assert change.ended == EndedClaims((CLAIMANT,), ClaimEnd.RELEASED, NOW, text)
    assert change.history == history(CLAIMANT, A.RELEASE, S.CLAIMED, S.OPEN, text)
    assert change.state.claims == ()
    nothing_else(change, "ended")


@pytest.mark.parametrize(
    ("capacity", "before", "changed"), [(1, S.CLAIMED, True), (2, S.OPEN, False)]
)
def test_expire_tells_the_claimant_and_the_channel(
    capacity: int, before: Status, changed: bool
) -> None:
    """What `expire` and the sweep's `expire_many` write alike."""
    state = task(before, claimants=(CLAIMANT,), capacity=capacity)
    change = change_of(state, lc.expire(state, CLAIMANT, NOW + timedelta(days=2)), BOT_ID)
    assert change.ended == EndedClaims((CLAIMANT,), ClaimEnd.EXPIRED, NOW, None)
    assert change.history == history(BOT_ID, A.EXPIRE, before, S.OPEN, f"<@{CLAIMANT}>")
    assert change.notices == (
        Notice(Reminder.CLAIM_EXPIRED, CLAIMANT),
        Notice(Reminder.BACK_ON_BOARD, CHANNEL),
    )
    expected: dict[str, object] = {"status": "open", "updated_at": NOW, "next_nudge_at": None}
    if changed:
        expected["status_changed_at"] = NOW
    assert change.fields.values() == expected
    nothing_else(change, "ended", "notices")


def test_an_expiry_does_not_depend_on_the_rules() -> None:
    """So the sweep's batch of expiries needs no guild's settings to write them."""
    state = task(S.CLAIMED, claimants=(CLAIMANT,))
    outcome = lc.expire(state, CLAIMANT, NOW + timedelta(days=2))
    odd = Rules(claim_warning_fraction=0.9, review_nudge_hours=1, review_points=7, claim_days=2)
    assert apply(state, outcome, odd, NOW, actor_id=BOT_ID) == apply(
        state, outcome, Rules(), NOW, actor_id=BOT_ID
    )


# -- review ---------------------------------------------------------------------------------


def test_submit_starts_a_round_and_sets_the_first_nudge() -> None:
    state = task(S.CLAIMED, claimants=(CLAIMANT,), review_round=2, rework_rounds=1)
    change = change_of(state, lc.submit(state, member(CLAIMANT), None, "Ready."), CLAIMANT)
    assert change.fields == TaskFields(
        S.IN_REVIEW, NOW, NOW, review_round=3, next_nudge_at=NOW + timedelta(hours=30)
    )
    assert change.state.review_round == 3 and change.state.rework_rounds == 1
    assert change.state.claims == state.claims  # the claimants keep their claims
    nothing_else(change)


def test_an_approval_short_of_enough_keeps_the_review_and_its_nudge() -> None:
    rules = Rules(required_approvals=2)
    state = task(S.IN_REVIEW, claimants=(CLAIMANT,))
    outcome = lc.approve(state, member(REVIEWER, has_reviewer_role=True), L.NEWCOMER, rules, "Ok")
    change = apply(state, outcome, rules, NOW, actor_id=REVIEWER)
    assert change.fields.next_nudge_at is UNCHANGED
    assert change.fields.values() == {"status": "in_review", "updated_at": NOW}
    assert change.state.approvals == change.state.reviewers == {REVIEWER}
    assert change.history == history(REVIEWER, A.APPROVE, S.IN_REVIEW, S.IN_REVIEW, "Ok")
    nothing_else(change)


def test_the_deciding_approval_ends_claims_and_credits_everyone() -> None:
    state = task(S.IN_REVIEW, claimants=(CLAIMANT, PARTNER), capacity=2, points=5)
    outcome = lc.approve(state, member(ALICE), L.CONTRIBUTOR, RULES, None)
    change = change_of(state, outcome, ALICE)
    assert change.fields.values() == {
        "status": "done",
        "updated_at": NOW,
        "status_changed_at": NOW,
        "next_nudge_at": None,
    }
    assert change.ended == EndedClaims((CLAIMANT, PARTNER), ClaimEnd.DONE, NOW, None)
    assert change.credits == (
        Credit(CLAIMANT, LedgerKind.TASK, 5),
        Credit(PARTNER, LedgerKind.TASK, 5),
    )
    assert change.review_points == 2 and change.notify_dependents
    # The reviews not paid yet, this approval's among them (written before they are read).
    reviews = [PendingReview(40, BOB), PendingReview(41, ALICE), PendingReview(42, CLAIMANT)]
    assert change.review_credits(reviews) == (
        Credit(BOB, LedgerKind.REVIEW, 2, 40),
        Credit(ALICE, LedgerKind.REVIEW, 2, 41),
        Credit(CLAIMANT, LedgerKind.REVIEW, 2, 42),
    )
    assert change.credited(reviews) == (CLAIMANT, PARTNER, BOB, ALICE)
    assert change.dependent_notices([Dependent(70, (BOB, ALICE)), Dependent(71)]) == (
        Notice(Reminder.UNBLOCKED, CHANNEL, 70),
        Notice(Reminder.UNBLOCKED, BOB, 70),
        Notice(Reminder.UNBLOCKED, ALICE, 70),
        Notice(Reminder.UNBLOCKED, CHANNEL, 71),
    )
    assert change.notices == ()  # the task's own: none for done
    assert change.state.claims == () and change.state.status is S.DONE


def test_no_review_points_is_still_a_credit() -> None:
    rules = Rules(review_points=0)
    state = task(S.IN_REVIEW, claimants=(CLAIMANT,))
    outcome = lc.approve(state, member(ALICE), L.CONTRIBUTOR, rules, None)
    change = apply(state, outcome, rules, NOW, actor_id=ALICE)
    assert change.review_credits([PendingReview(1, ALICE)]) == (
        Credit(ALICE, LedgerKind.REVIEW, 0, 1),
    )


def test_nothing_to_pay_or_tell_before_done() -> None:
    state = task(S.CLAIMED, claimants=(CLAIMANT,))
    change = change_of(state, lc.submit(state, member(CLAIMANT), "https://x.org", None), CLAIMANT)
    assert change.review_credits([PendingReview(1, ALICE)]) == ()
    assert change.credited([PendingReview(1, ALICE)]) == ()
    assert change.dependent_notices([Dependent(70, (BOB,))]) == ()


def test_changes_requested_counts_rework_and_renews_every_claim() -> None:
    state = task(
        S.IN_REVIEW,
        claimants=(CLAIMANT, PARTNER),
        capacity=2,
        rework_rounds=2,
        review_round=3,
        approvals=frozenset({BOB}),
        reviewers=frozenset({BOB}),
    )
    outcome = lc.request_changes(state, member(ALICE), L.CONTRIBUTOR, "Tests fail.", RULES, NOW)
    change = change_of(state, outcome, ALICE)
    expires = NOW + timedelta(days=7)
    warning = NOW + (expires - NOW) * 0.25
    assert change.renewed == (
        RenewedClaim(CLAIMANT, expires, 0, warning),
        RenewedClaim(PARTNER, expires, 0, warning),
    )
    assert change.fields.values() == {
        "status": "claimed",
        "updated_at": NOW,
        "status_changed_at": NOW,
        "rework_rounds": 3,
        "next_nudge_at": None,
    }
    assert change.state.rework_rounds == 3 and change.state.review_round == 3
    assert change.state.approvals == change.state.reviewers == frozenset()
    assert change.outcome.escalate  # the third rework reached the limit
    assert change.history == history(
        ALICE, A.REQUEST_CHANGES, S.IN_REVIEW, S.CLAIMED, "Tests fail."
    )
    nothing_else(change, "renewed")


# -- proposals ------------------------------------------------------------------------------


def test_an_endorsement_short_of_the_threshold_only_counts() -> None:
    state = task(S.PROPOSED)
    change = change_of(state, lc.endorse(state, member(ALICE), RULES), ALICE)
    assert change.fields.values() == {
        "status": "proposed",
        "updated_at": NOW,
        "next_nudge_at": None,
    }
    assert change.state.endorsements == {ALICE} and not change.opened
    nothing_else(change)


@pytest.mark.parametrize("how", ["endorse", "consensus"])
def test_an_opened_proposal_is_announced(how: str) -> None:
    state = task(S.PROPOSED, endorsements=frozenset({BOB}))
    if how == "endorse":
        outcome, actor_id, note = lc.endorse(state, member(ALICE), RULES), ALICE, ""
    else:
        later = NOW + timedelta(hours=RULES.proposal_window_hours)
        outcome = lc.open_by_consensus(state, NOW, later, RULES)
        actor_id, note = BOT_ID, "no objection within the proposal window"
    change = change_of(state, outcome, actor_id)
    assert change.opened
    assert change.notices == (Notice(Reminder.PROPOSAL_OPENED, CHANNEL),)
    assert change.fields.status_changed_at == NOW
    assert change.history == history(actor_id, outcome.action, S.PROPOSED, S.OPEN, note)


def test_an_objection_is_recorded_with_its_reason() -> None:
    state = task(S.PROPOSED)
    change = change_of(state, lc.object_(state, member(ALICE), "Too big."), ALICE)
    assert change.state.objections == {ALICE}
    assert change.history.note == "Too big."
    # The first objection holds the proposal: maintainers are told, once.
    assert change.notices == (Notice(Reminder.PROPOSAL_CONTESTED, CHANNEL),)
    nothing_else(change, "notices")
    again = change.state
    second = change_of(again, lc.object_(again, member(BOB), "Agreed."), BOB)
    assert second.state.objections == {ALICE, BOB}
    nothing_else(second)


def test_endorsements_do_not_open_an_objected_proposal() -> None:
    rules = Rules(proposal_endorsements=1)
    state = task(S.PROPOSED, objections=frozenset({BOB}))
    assert lc.endorse(state, member(ALICE), rules).after is S.PROPOSED
    assert lc.endorse(state, maintainer(), rules).after is S.OPEN  # a maintainer decides


# -- maintenance ----------------------------------------------------------------------------


def test_edit_takes_the_callers_note_and_the_new_capacity() -> None:
    state = task(S.CLAIMED, claimants=(CLAIMANT,))
    outcome = lc.edit(state, maintainer(), 3)
    change = change_of(state, outcome, MAINTAINER, note="changed capacity, title")
    assert change.history == history(
        MAINTAINER, A.EDIT, S.CLAIMED, S.OPEN, "changed capacity, title"
    )
    assert change.state.capacity == 3 and change.state.status is S.OPEN
    assert change.fields.status_changed_at == NOW


def test_editing_a_task_in_review_keeps_its_nudge() -> None:
    state = task(S.IN_REVIEW, claimants=(CLAIMANT,))
    change = change_of(state, lc.edit(state, maintainer(), None), MAINTAINER, note="changed title")
    assert change.fields.values() == {"status": "in_review", "updated_at": NOW}
    assert change.state.capacity == 1


@pytest.mark.parametrize("before", [S.PROPOSED, S.OPEN, S.CLAIMED, S.IN_REVIEW])
def test_cancel_ends_every_claim_without_a_handoff(before: Status) -> None:
    holders = (CLAIMANT,) if before in (S.CLAIMED, S.IN_REVIEW) else ()
    state = task(before, claimants=holders)
    change = change_of(state, lc.cancel(state, maintainer(), "Not needed."), MAINTAINER)
    if holders:
        assert change.ended == EndedClaims(holders, ClaimEnd.CANCELLED, NOW, None)
    else:
        assert change.ended is None
    assert change.fields.values() == {
        "status": "cancelled",
        "updated_at": NOW,
        "status_changed_at": NOW,
        "next_nudge_at": None,
    }
    assert change.history.note == "Not needed."
    nothing_else(change, "ended")


@pytest.mark.parametrize("before", [S.DONE, S.CANCELLED])
def test_reopen_starts_a_round_and_the_rework_count_again(before: Status) -> None:
    state = task(before, rework_rounds=2, review_round=4)
    change = change_of(state, lc.reopen(state, maintainer()), MAINTAINER)
    assert change.fields.values() == {
        "status": "open",
        "updated_at": NOW,
        "status_changed_at": NOW,
        "review_round": 5,
        "rework_rounds": 0,
        "next_nudge_at": None,
    }
    assert (change.state.review_round, change.state.rework_rounds) == (5, 0)
    nothing_else(change)


# -- boundaries -----------------------------------------------------------------------------


@pytest.mark.parametrize("extra", [0, 1, 500])
def test_the_history_note_is_cut_to_its_limit(extra: int) -> None:
    state = task(S.OPEN)
    text = "n" * (HISTORY_NOTE_MAX - 1 + extra)
    change = change_of(state, lc.edit(state, maintainer(), None), MAINTAINER, note=text)
    assert change.history.note == text[:HISTORY_NOTE_MAX]
    assert len(change.history.note) == min(len(text), HISTORY_NOTE_MAX)


@pytest.mark.parametrize(
    ("fraction", "days", "expected"),
    [(0.0, 7, timedelta(0)), (1.0, 7, timedelta(days=7)), (0.5, 3, timedelta(days=1.5))],
)
def test_warning_times_across_the_fraction(fraction: float, days: int, expected: timedelta) -> None:
    rules = Rules(claim_warning_fraction=fraction, claim_days=days)
    assert warn_at(NOW, NOW + timedelta(days=days), rules) == NOW + expected
    state = task(points=3)
    change = apply(
        state, lc.claim(state, member(ALICE), L.NEWCOMER, 0, rules, NOW), rules, NOW, actor_id=ALICE
    )
    assert change.new_claim is not None and change.new_claim.warn_at == NOW + expected


def test_the_nudge_follows_the_rules() -> None:
    state = task(S.CLAIMED, claimants=(CLAIMANT,))
    outcome = lc.submit(state, member(CLAIMANT), None, "Ready.")
    for hours in (1, 48, 168):
        change = apply(state, outcome, Rules(review_nudge_hours=hours), NOW, actor_id=CLAIMANT)
        assert change.fields.next_nudge_at == NOW + timedelta(hours=hours)


def test_an_outcome_must_be_decided_on_the_state() -> None:
    state = task()
    with pytest.raises(ValueError, match="create"):
        apply(state, lc.create(maintainer(), L.NEWCOMER, RULES), RULES, NOW, actor_id=1)
    decided = lc.claim(state, member(ALICE), L.NEWCOMER, 0, RULES, NOW)
    with pytest.raises(ValueError, match="claim"):
        apply(task(S.CLAIMED, claimants=(BOB,)), decided, RULES, NOW, actor_id=ALICE)


def test_ended_claims_need_a_reason() -> None:
    state = task(S.CLAIMED, claimants=(CLAIMANT,))
    bad = Outcome(A.RELEASE, S.CLAIMED, S.OPEN, end_claims=(CLAIMANT,))
    with pytest.raises(ValueError, match="why"):
        apply(state, bad, RULES, NOW, actor_id=CLAIMANT)


def test_a_review_verdict_is_what_the_state_records() -> None:
    state = task(S.IN_REVIEW, claimants=(CLAIMANT,))
    approved = lc.approve(state, member(ALICE), L.CONTRIBUTOR, Rules(required_approvals=3), None)
    assert approved.review is Verdict.APPROVE
    after = apply(state, approved, RULES, NOW, actor_id=ALICE).state
    assert after.approvals == {ALICE} and after.reviewers == {ALICE}
