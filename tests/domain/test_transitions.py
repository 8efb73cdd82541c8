"""Every (status, action) pair of the task state machine (SPEC §2).

For each action in `ALLOWED` and each `Status`, the task is set up so that only its
status could stand in the way: the actor holds a claim where one is needed, the reviewer
is eligible and not a claimant, the maintainer is a maintainer, the texts are valid.
Then: allowed ⇔ status in ALLOWED[action]; a refusal is a `DomainError` with a message
a member can read that names the task; an allowed action lands on the exact status.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain import lifecycle as lc
from bot.domain.errors import (
    AlreadyDone,
    DomainError,
    InvalidState,
    LimitReached,
)
from bot.domain.lifecycle import ALLOWED, Claim, Outcome, TaskState
from bot.domain.model import Action, Actor, Rules, Status, TrustLevel

A = Action
S = Status

GUILD = 7
NUMBER = 42
NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
RULES = Rules()

MAINTAINER = 1
REVIEWER = 2
CLAIMANT = 3
PARTNER = 4  # the second claimant on a capacity-2 task
PROPOSER = 5
NEWBIE = 6  # holds nothing yet; the one who claims or gets assigned

ACTIONS = sorted(ALLOWED, key=lambda a: list(Action).index(a))
STATUSES = list(Status)

# Refusals that are not `InvalidState`, on purpose (SPEC §2: "pressing a button twice
# changes nothing"; "two members pressing Claim on the last slot: the other gets a clear
# message").
SPECIAL_REFUSALS: dict[tuple[Action, Status], type[DomainError]] = {
    (A.CLAIM, S.CLAIMED): LimitReached,
    (A.CANCEL, S.CANCELLED): AlreadyDone,
}


def member(member_id: int, **flags: bool) -> Actor:
    return Actor(GUILD, member_id, **flags)


def maintainer() -> Actor:
    return member(MAINTAINER, is_maintainer=True)


def held_claim(member_id: int, *, expires_in: timedelta = timedelta(days=2)) -> Claim:
    return Claim(member_id, NOW - timedelta(days=1), NOW + expires_in)


def board_task(status: Status, *, capacity: int = 2, **fields: object) -> TaskState:
    """A task as the board would hold it in `status` (capacity 2 by default).

    open: one of two slots held; claimed / in review: both held; others: nobody holds it.
    """
    holders = {
        S.OPEN: (CLAIMANT,),
        S.CLAIMED: (CLAIMANT, PARTNER),
        S.IN_REVIEW: (CLAIMANT, PARTNER),
    }.get(status, ())
    defaults: dict[str, object] = {
        "number": NUMBER,
        "status": status,
        "points": 3,
        "capacity": capacity,
        "creator_id": PROPOSER,
        "claims": tuple(held_claim(m) for m in holders[:capacity]),
    }
    defaults.update(fields)
    return TaskState(**defaults)  # type: ignore[arg-type]


def held_by_actor(status: Status, *, expires_in: timedelta = timedelta(days=2)) -> TaskState:
    """Like `board_task`, but CLAIMANT always holds a claim — even where the board never
    would (proposed, done, cancelled) — so that only the status can refuse the action."""
    task = board_task(status)
    others = tuple(c for c in task.claims if c.member_id != CLAIMANT)
    return TaskState(
        number=task.number,
        status=task.status,
        points=task.points,
        capacity=task.capacity,
        creator_id=task.creator_id,
        claims=(held_claim(CLAIMANT, expires_in=expires_in), *others),
    )


Scenario = Callable[[Status], Outcome]


def _endorse(status: Status) -> Outcome:
    return lc.endorse(board_task(status), member(PARTNER), RULES)


def _object(status: Status) -> Outcome:
    return lc.object_(board_task(status), member(PARTNER), "This duplicates #7.")


def _accept(status: Status) -> Outcome:
    proposed_at = NOW - timedelta(hours=RULES.proposal_window_hours + 1)
    return lc.open_by_consensus(board_task(status), proposed_at, NOW, RULES)


def _claim(status: Status) -> Outcome:
    return lc.claim(board_task(status), member(NEWBIE), TrustLevel.NEWCOMER, 0, RULES, NOW)


def _release(status: Status) -> Outcome:
    return lc.release(held_by_actor(status), member(CLAIMANT), "Half done, notes in the thread.")


def _extend(status: Status) -> Outcome:
    return lc.extend(held_by_actor(status), member(CLAIMANT), RULES, NOW)


def _expire(status: Status) -> Outcome:
    return lc.expire(held_by_actor(status, expires_in=-timedelta(hours=1)), CLAIMANT, NOW)


def _submit(status: Status) -> Outcome:
    return lc.submit(
        held_by_actor(status), member(CLAIMANT), "https://example.org/pr/1", "Ready for a look."
    )


def _approve(status: Status) -> Outcome:
    return lc.approve(
        board_task(status), member(REVIEWER), TrustLevel.CONTRIBUTOR, RULES, "Looks good."
    )


def _request_changes(status: Status) -> Outcome:
    return lc.request_changes(
        board_task(status),
        member(REVIEWER),
        TrustLevel.CONTRIBUTOR,
        "The link is broken.",
        RULES,
        NOW,
    )


def _assign(status: Status) -> Outcome:
    return lc.assign(board_task(status), maintainer(), NEWBIE, False, RULES, NOW)


def _edit(status: Status) -> Outcome:
    return lc.edit(board_task(status), maintainer(), None)


def _cancel(status: Status) -> Outcome:
    return lc.cancel(board_task(status), maintainer(), "No longer needed.")


def _reopen(status: Status) -> Outcome:
    return lc.reopen(board_task(status), maintainer())


SCENARIOS: dict[Action, Scenario] = {
    A.ENDORSE: _endorse,
    A.OBJECT: _object,
    A.ACCEPT: _accept,
    A.CLAIM: _claim,
    A.RELEASE: _release,
    A.EXTEND: _extend,
    A.EXPIRE: _expire,
    A.SUBMIT: _submit,
    A.APPROVE: _approve,
    A.REQUEST_CHANGES: _request_changes,
    A.ASSIGN: _assign,
    A.EDIT: _edit,
    A.CANCEL: _cancel,
    A.REOPEN: _reopen,
}

# The status after an allowed action, from the status it started in (the scenarios above).
EXPECTED_AFTER: dict[Action, Callable[[Status], Status]] = {
    A.ENDORSE: lambda s: S.PROPOSED,  # 1 endorsement of the 2 needed
    A.OBJECT: lambda s: S.PROPOSED,
    A.ACCEPT: lambda s: S.OPEN,
    A.CLAIM: lambda s: S.CLAIMED,  # takes the second of two slots
    A.RELEASE: lambda s: S.OPEN,
    A.EXTEND: lambda s: s,
    A.EXPIRE: lambda s: S.OPEN,
    A.SUBMIT: lambda s: S.IN_REVIEW,
    A.APPROVE: lambda s: S.DONE,  # 1 approval of the 1 needed
    A.REQUEST_CHANGES: lambda s: S.CLAIMED,  # both slots still held
    A.ASSIGN: lambda s: S.CLAIMED,  # takes the second of two slots
    A.EDIT: lambda s: s,
    A.CANCEL: lambda s: S.CANCELLED,
    A.REOPEN: lambda s: S.OPEN,
}

PAIRS = list(itertools.product(ACTIONS, STATUSES))

LIVE = {S.PROPOSED, S.OPEN, S.CLAIMED, S.IN_REVIEW}
# SPEC §2's "from" column, written out independently of `ALLOWED`, so that changing the
# state machine is a deliberate act that shows up here.
SPEC_FROM: dict[Action, set[Status]] = {
    A.ENDORSE: {S.PROPOSED},
    A.OBJECT: {S.PROPOSED},
    A.ACCEPT: {S.PROPOSED},
    A.CLAIM: {S.OPEN},
    # The table says "claimed", but a task with capacity > 1 and a free slot is still
    # `open` while its claimants work on it, so they can release, extend, expire and submit.
    A.RELEASE: {S.OPEN, S.CLAIMED},
    A.EXTEND: {S.OPEN, S.CLAIMED},
    A.EXPIRE: {S.OPEN, S.CLAIMED},
    A.SUBMIT: {S.OPEN, S.CLAIMED},
    A.APPROVE: {S.IN_REVIEW},
    A.REQUEST_CHANGES: {S.IN_REVIEW},
    A.ASSIGN: {S.OPEN},
    A.EDIT: LIVE,
    A.CANCEL: LIVE,  # "any but done": cancelling a cancelled task is AlreadyDone
    A.REOPEN: {S.DONE, S.CANCELLED},
}


def test_allowed_matches_the_spec_table() -> None:
    assert {action: set(statuses) for action, statuses in ALLOWED.items()} == SPEC_FROM


def test_every_action_but_creation_has_allowed_statuses() -> None:
    assert set(ALLOWED) == set(Action) - {A.CREATE, A.PROPOSE}
    assert set(SCENARIOS) == set(ALLOWED) == set(EXPECTED_AFTER)
    assert all(ALLOWED[action] for action in ALLOWED)
    assert len(PAIRS) == len(ALLOWED) * len(Status)


@pytest.mark.parametrize(
    ("action", "status"), PAIRS, ids=[f"{a.value}-from-{s.value}" for a, s in PAIRS]
)
def test_transition(action: Action, status: Status) -> None:
    scenario = SCENARIOS[action]
    if status in ALLOWED[action]:
        outcome = scenario(status)
        assert outcome.action is action
        assert outcome.before is status
        assert outcome.after is EXPECTED_AFTER[action](status)
        return

    with pytest.raises(DomainError) as caught:
        scenario(status)
    err = caught.value
    assert type(err) is SPECIAL_REFUSALS.get((action, status), InvalidState)
    message = str(err)
    assert message == err.message
    assert message.strip()
    assert f"#{NUMBER}" in message
    # Written for a member: a sentence, no enum reprs or snake_case state names.
    assert message[0].isupper() or message[0] == "#"
    assert message.rstrip().endswith(".")
    assert "_" not in message
    assert "Status." not in message
    assert "Action." not in message


# -- creation starts from nothing ------------------------------------------------------------


def test_create_opens_a_task() -> None:
    outcome = lc.create(maintainer(), TrustLevel.NEWCOMER, RULES)
    assert (outcome.action, outcome.before, outcome.after) == (A.CREATE, None, S.OPEN)


def test_propose_makes_a_proposal() -> None:
    outcome = lc.propose(member(PROPOSER), TrustLevel.NEWCOMER, 0, Rules())
    assert (outcome.action, outcome.before, outcome.after) == (A.PROPOSE, None, S.PROPOSED)


# -- the allowed transitions, in their variants ------------------------------------------------


@pytest.mark.parametrize(
    ("capacity", "held", "after"),
    [(1, 0, S.CLAIMED), (2, 0, S.OPEN), (2, 1, S.CLAIMED), (3, 1, S.OPEN), (10, 9, S.CLAIMED)],
)
def test_claim_keeps_the_task_open_until_every_slot_is_taken(
    capacity: int, held: int, after: Status
) -> None:
    holders = (CLAIMANT, PARTNER, 10, 11, 12, 13, 14, 15, 16)[:held]
    task = board_task(S.OPEN, capacity=capacity, claims=tuple(held_claim(m) for m in holders))
    claimed = lc.claim(task, member(NEWBIE), TrustLevel.NEWCOMER, 0, RULES, NOW)
    assigned = lc.assign(task, maintainer(), NEWBIE, False, RULES, NOW)
    for outcome in (claimed, assigned):
        assert outcome.after is after
        assert outcome.add_claim is not None
        assert outcome.add_claim.member_id == NEWBIE


@pytest.mark.parametrize(
    ("capacity", "holders", "after"),
    [
        (1, (CLAIMANT,), S.CLAIMED),
        (2, (CLAIMANT, PARTNER), S.CLAIMED),
        (2, (CLAIMANT,), S.OPEN),  # submitted by the only holder of a two-person task
    ],
)
def test_request_changes_hands_the_work_back(
    capacity: int, holders: tuple[int, ...], after: Status
) -> None:
    task = board_task(S.IN_REVIEW, capacity=capacity, claims=tuple(held_claim(m) for m in holders))
    outcome = lc.request_changes(
        task, member(REVIEWER), TrustLevel.CONTRIBUTOR, "Tests fail.", RULES, NOW
    )
    assert outcome.after is after
    assert {c.member_id for c in outcome.renew_claims} == set(holders)
    assert not outcome.end_claims


@pytest.mark.parametrize(
    ("required", "already", "after"),
    [
        (1, 0, S.DONE),
        (2, 0, S.IN_REVIEW),
        (2, 1, S.DONE),
        (3, 0, S.IN_REVIEW),
        (3, 1, S.IN_REVIEW),
        (3, 2, S.DONE),
    ],
)
def test_approve_reaches_done_only_with_enough_approvals(
    required: int, already: int, after: Status
) -> None:
    approvers = frozenset((20, 21)[:already])
    task = board_task(S.IN_REVIEW, approvals=approvers, reviewers=approvers)
    outcome = lc.approve(
        task,
        member(REVIEWER, has_reviewer_role=True),
        TrustLevel.NEWCOMER,
        Rules(required_approvals=required),
        None,
    )
    assert outcome.after is after
    assert outcome.done is (after is S.DONE)
    if outcome.done:
        assert set(outcome.credit_claimants) == {CLAIMANT, PARTNER}
        assert set(outcome.end_claims) == {CLAIMANT, PARTNER}
    else:
        assert not outcome.credit_claimants
        assert not outcome.end_claims


@pytest.mark.parametrize("endorsed", [0, 1])
def test_endorsement_opens_at_the_threshold(endorsed: int) -> None:
    task = board_task(S.PROPOSED, endorsements=frozenset((20,)[:endorsed]))
    outcome = lc.endorse(task, member(PARTNER), RULES)
    assert outcome.after is (S.OPEN if endorsed + 1 >= RULES.proposal_endorsements else S.PROPOSED)
    assert outcome.vote == "endorse"


@pytest.mark.parametrize(
    ("status", "capacity", "after"),
    [
        (S.OPEN, 1, S.CLAIMED),  # one holder, one slot left after the edit: full
        (S.OPEN, 3, S.OPEN),
        (S.CLAIMED, 3, S.OPEN),  # more slots: back on the board
        (S.CLAIMED, 2, S.CLAIMED),
        (S.IN_REVIEW, 5, S.IN_REVIEW),  # capacity never moves a task out of review
        (S.PROPOSED, 4, S.PROPOSED),
    ],
)
def test_edit_capacity_reshapes_open_and_claimed(
    status: Status, capacity: int, after: Status
) -> None:
    assert lc.edit(board_task(status), maintainer(), capacity).after is after


def test_release_from_a_partly_held_task_stays_open() -> None:
    outcome = lc.release(board_task(S.OPEN), member(CLAIMANT), None)
    assert outcome.after is S.OPEN
    assert outcome.end_claims == (CLAIMANT,)


def test_cancel_ends_every_claim_and_reopen_starts_a_new_round() -> None:
    cancelled = lc.cancel(board_task(S.CLAIMED), maintainer(), "Out of scope.")
    assert set(cancelled.end_claims) == {CLAIMANT, PARTNER}
    reopened = lc.reopen(board_task(S.DONE), maintainer())
    assert reopened.new_round
    assert reopened.after is S.OPEN
