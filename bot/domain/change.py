"""What an outcome changes, decided in full: `apply(state, outcome, rules, now)`.

A lifecycle function (`bot.domain.lifecycle`) decides whether an action may happen and
returns an `Outcome`. `apply` turns that outcome into a `TaskChange`: every value the
write puts in the database — the task's columns and counters, the new, renewed and ended
claims (with their warning times), the history entry, the notices and the credits — and
the task as it is afterwards. The writer persists a change; it decides nothing.

Two things a task snapshot cannot hold are left to the writer as instructions, each
with a pure helper on the change that turns what the writer read into rows:

- the reviews to pay when the task is done (`review_points`, `review_credits`): they
  include the review the action itself records, which has no id until it is written;
- the tasks that wait on this one (`notify_dependents`, `dependent_notices`): read
  only when the task is done.

`bot.services.tasks.writer` persists a change so (its `load_state` sets the snapshot's
`review_round`, so a submission's round follows the task's):

- the task row (compare-and-set): `{**edited_fields, **change.fields.values()}`;
- claims (`persist`): `change.new_claim`, each of `change.renewed`, `change.ended`; the
  sweep's batch (`persist_expiries`) ends them by claim id instead (an expiry's change
  does not depend on the rules — nothing is added, renewed, paid or nudged — so the
  batch need not read each guild's settings for it);
- `change.history`: one row (its note already `<@member>` for ASSIGN/EXPIRE, cut to 2000);
- outbox (`notify`): `[*change.notices, *change.dependent_notices(waiting)]`, each with
  `due_at = created_at = change.at`; `dependent=None` is the task changed, otherwise
  the id of the waiting task (`Dependent.task_id`). `waiting` is read only when
  `change.notify_dependents`: each task waiting on this one, with its active claimants;
- credits (`pay`): `change.payments(uncredited_reviews, paid)` — task points to each
  claimant and, after the action's own review is flushed, review points to each reviewer,
  once per (task, member, kind): `paid` is what the task's ledger rows already hold (the
  ledger's unique index holds the same); then those reviews are marked credited.
  `change.credited(reviews, paid)` is `ActionResult.credited`;
- the card's claims: `change.state.claims`; `ActionResult.opened`: `change.opened`; a
  submission's round: `change.state.review_round`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Final

from bot.domain.lifecycle import Claim, Outcome, TaskState
from bot.domain.model import (
    CHANNEL,
    HISTORY_NOTE_MAX,
    Action,
    ClaimEnd,
    LedgerKind,
    Reminder,
    Rules,
    Status,
    Verdict,
)


class Unchanged:
    """A column the change leaves as it is."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "UNCHANGED"


UNCHANGED: Final = Unchanged()


@dataclass(frozen=True, slots=True)
class TaskFields:
    """The task's own columns after the change. None (or UNCHANGED, for the one column
    that may be set to None) leaves a column as it is."""

    status: Status
    updated_at: datetime
    status_changed_at: datetime | None = None
    review_round: int | None = None
    rework_rounds: int | None = None
    next_nudge_at: datetime | Unchanged | None = UNCHANGED

    def values(self) -> dict[str, object]:
        """The columns to write, by name, as the task row stores them."""
        values: dict[str, object] = {"status": self.status.value, "updated_at": self.updated_at}
        if self.status_changed_at is not None:
            values["status_changed_at"] = self.status_changed_at
        if self.review_round is not None:
            values["review_round"] = self.review_round
        if self.rework_rounds is not None:
            values["rework_rounds"] = self.rework_rounds
        if not isinstance(self.next_nudge_at, Unchanged):
            values["next_nudge_at"] = self.next_nudge_at
        return values


@dataclass(frozen=True, slots=True)
class NewClaim:
    member_id: int
    claimed_at: datetime
    expires_at: datetime
    warn_at: datetime


@dataclass(frozen=True, slots=True)
class RenewedClaim:
    member_id: int
    expires_at: datetime
    extensions: int
    warn_at: datetime


@dataclass(frozen=True, slots=True)
class EndedClaims:
    members: tuple[int, ...]
    reason: ClaimEnd
    ended_at: datetime
    handoff_note: str | None = None  # a release's note for whoever claims next


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    actor_id: int
    action: Action
    from_status: Status | None
    to_status: Status
    note: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Notice:
    """One outbox row: `member_id` CHANNEL goes to a channel. `dependent` None is about
    the task changed, otherwise about that waiting task (its `Dependent.task_id`)."""

    kind: Reminder
    member_id: int
    dependent: int | None = None


@dataclass(frozen=True, slots=True)
class Credit:
    member_id: int
    kind: LedgerKind
    points: int
    review_id: int | None = None


@dataclass(frozen=True, slots=True)
class PendingReview:
    """A review of the task not paid yet (the writer reads them)."""

    review_id: int
    reviewer_id: int


@dataclass(frozen=True, slots=True)
class Dependent:
    """A task waiting on the task changed, with who holds it (the writer reads them)."""

    task_id: int
    claimants: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class TaskChange:
    outcome: Outcome
    at: datetime
    state: TaskState  # the task once the change is written (blocked_by as it was)
    fields: TaskFields
    new_claim: NewClaim | None
    renewed: tuple[RenewedClaim, ...]
    ended: EndedClaims | None
    history: HistoryEntry
    notices: tuple[Notice, ...]  # about the task itself; see `dependent_notices`
    credits: tuple[Credit, ...]  # task points to each claimant; see `review_credits`
    review_points: int | None  # done: what each review not paid yet earns
    notify_dependents: bool  # done: tell the tasks waiting on this one

    @property
    def opened(self) -> bool:
        """A proposal opened."""
        return self.outcome.before is Status.PROPOSED and self.outcome.after is Status.OPEN

    def review_credits(self, reviews: Iterable[PendingReview]) -> tuple[Credit, ...]:
        """The credits for the task's reviews not paid yet (none unless it went done)."""
        if self.review_points is None:
            return ()
        points = self.review_points
        return tuple(
            Credit(rv.reviewer_id, LedgerKind.REVIEW, points, rv.review_id) for rv in reviews
        )

    def payments(
        self, reviews: Iterable[PendingReview], paid: Collection[tuple[int, LedgerKind]] = ()
    ) -> tuple[Credit, ...]:
        """What to write to the ledger: the claimants' credits, then the reviews' — once per
        (member, kind of credit) on the task. `paid` are the task's credits already in the
        ledger (a reopened task done again): none of those again, and one review credit
        per reviewer however many rounds they reviewed."""
        seen = set(paid)
        payments: list[Credit] = []
        for credit in (*self.credits, *self.review_credits(reviews)):
            if (credit.member_id, credit.kind) not in seen:
                seen.add((credit.member_id, credit.kind))
                payments.append(credit)
        return tuple(payments)

    def credited(
        self, reviews: Iterable[PendingReview], paid: Collection[tuple[int, LedgerKind]] = ()
    ) -> tuple[int, ...]:
        """Everyone this change credits, each once, claimants first."""
        return tuple(dict.fromkeys(c.member_id for c in self.payments(reviews, paid)))

    def dependent_notices(self, dependents: Iterable[Dependent]) -> tuple[Notice, ...]:
        """Each waiting task is unblocked: its channel, then each of its claimants."""
        if not self.notify_dependents:
            return ()
        return tuple(
            Notice(Reminder.UNBLOCKED, member, d.task_id)
            for d in dependents
            for member in (CHANNEL, *d.claimants)
        )


def warn_at(now: datetime, expires_at: datetime, rules: Rules) -> datetime:
    """The claim warning falls at `claim_warning_fraction` of the window that starts now."""
    return now + (expires_at - now) * rules.claim_warning_fraction


def apply(
    state: TaskState,
    outcome: Outcome,
    rules: Rules,
    now: datetime,
    *,
    actor_id: int,
    note: str | None = None,
) -> TaskChange:
    """Everything `outcome` (decided on `state`, by `actor_id`) changes, at `now`.

    `note` is the history note when the caller has a better one than the outcome's (an
    edit lists the fields it changed). Only for actions on an existing task: creating
    one writes the task itself.
    """
    if outcome.before is None or outcome.before is not state.status:
        raise ValueError(f"{outcome.action} was not decided on this task's state")
    action, before, after = outcome.action, outcome.before, outcome.after
    return TaskChange(
        outcome=outcome,
        at=now,
        state=_state_after(state, outcome, actor_id),
        fields=TaskFields(
            status=after,
            updated_at=now,
            status_changed_at=now if after is not before else None,
            review_round=state.review_round + 1 if _new_round(outcome) else None,
            rework_rounds=_rework_rounds(state, outcome),
            next_nudge_at=_next_nudge(outcome, rules, now),
        ),
        new_claim=(
            NewClaim(c.member_id, c.claimed_at, c.expires_at, warn_at(now, c.expires_at, rules))
            if (c := outcome.add_claim) is not None
            else None
        ),
        renewed=tuple(
            RenewedClaim(c.member_id, c.expires_at, c.extensions, warn_at(now, c.expires_at, rules))
            for c in outcome.renew_claims
        ),
        ended=_ended(outcome, now),
        history=HistoryEntry(
            actor_id, action, before, after, _history_note(outcome, note)[:HISTORY_NOTE_MAX], now
        ),
        notices=_notices(state, outcome),
        credits=tuple(
            Credit(member, LedgerKind.TASK, state.points) for member in outcome.credit_claimants
        ),
        review_points=rules.review_points if outcome.done else None,
        notify_dependents=outcome.done,
    )


def _new_round(o: Outcome) -> bool:
    """A submission starts a review round; so does a reopen (its next submission's round)."""
    return (o.new_round and o.action is Action.SUBMIT) or o.action is Action.REOPEN


def _rework_rounds(state: TaskState, o: Outcome) -> int | None:
    if o.action is Action.REOPEN:
        return 0  # a reopened task starts its rework count again
    if o.review is Verdict.CHANGES:
        return state.rework_rounds + 1
    return None


def _next_nudge(o: Outcome, rules: Rules, now: datetime) -> datetime | Unchanged | None:
    """Entering review sets the first nudge; leaving it clears it; staying keeps it (the
    nudge sweep moves it on)."""
    if o.after is Status.IN_REVIEW:
        if o.before is not Status.IN_REVIEW:
            return now + timedelta(hours=rules.review_nudge_hours)
        return UNCHANGED
    return None


def _ended(o: Outcome, now: datetime) -> EndedClaims | None:
    if not o.end_claims:
        return None
    if o.end_reason is None:
        raise ValueError(f"{o.action} ends claims without saying why")
    handoff = o.note if o.end_reason is ClaimEnd.RELEASED else None
    return EndedClaims(o.end_claims, o.end_reason, now, handoff)


def _history_note(o: Outcome, note: str | None) -> str:
    if o.action in (Action.ASSIGN, Action.EXPIRE) and o.add_claim is not None:
        return f"<@{o.add_claim.member_id}>"
    if o.action is Action.EXPIRE and o.end_claims:
        return f"<@{o.end_claims[0]}>"
    return note if note is not None else o.note


def _notices(state: TaskState, o: Outcome) -> tuple[Notice, ...]:
    """Notices that must not be lost go in the same transaction as the change."""
    notices: list[Notice] = []
    if o.vote == "object" and not state.objections:
        # The first objection holds the proposal: maintainers are told once to decide.
        notices.append(Notice(Reminder.PROPOSAL_CONTESTED, CHANNEL))
    if o.action is Action.EXPIRE:
        notices += [Notice(Reminder.CLAIM_EXPIRED, member) for member in o.end_claims]
        notices.append(Notice(Reminder.BACK_ON_BOARD, CHANNEL))
    if o.before is Status.PROPOSED and o.after is Status.OPEN:
        notices.append(Notice(Reminder.PROPOSAL_OPENED, CHANNEL))
    return tuple(notices)


def _state_after(state: TaskState, o: Outcome, actor_id: int) -> TaskState:
    """The snapshot the rules would load once the change (and the review or vote the
    action records) is written. Claims keep their order, the new one last."""
    ended = set(o.end_claims)
    renewed = {c.member_id: c for c in o.renew_claims}
    claims: list[Claim] = [
        renewed.get(c.member_id, c) for c in state.claims if c.member_id not in ended
    ]
    if o.add_claim is not None:
        claims.append(o.add_claim)
    approvals, reviewers = state.approvals, state.reviewers
    if o.new_round:  # a submission or a reopen starts a review round
        approvals = reviewers = frozenset()
    if o.review is Verdict.APPROVE:
        approvals |= {actor_id}
        reviewers |= {actor_id}
    elif o.review is Verdict.CHANGES:  # ends the round
        approvals = reviewers = frozenset()
    endorsements, objections = state.endorsements, state.objections
    if o.vote == "endorse":
        endorsements |= {actor_id}
    elif o.vote == "object":
        objections |= {actor_id}
    review_round = state.review_round + 1 if _new_round(o) else state.review_round
    rework_rounds = _rework_rounds(state, o)
    return replace(
        state,
        status=o.after,
        capacity=o.capacity if o.capacity is not None else state.capacity,
        claims=tuple(claims),
        approvals=approvals,
        reviewers=reviewers,
        rework_rounds=state.rework_rounds if rework_rounds is None else rework_rounds,
        review_round=review_round,
        endorsements=endorsements,
        objections=objections,
    )
