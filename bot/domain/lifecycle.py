"""The task state machine (SPEC §2), as pure functions over a task snapshot.

Each action takes the task's current state and returns an `Outcome`: the status
after, and what changes (claims added, renewed or ended; who gets credit).
`bot.domain.change.apply` turns an outcome into everything it writes (a `TaskChange`):
the service layer writes those values in one transaction, and the property tests write
the same changes to an in-memory board.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bot.domain import rules as r
from bot.domain.errors import (
    AlreadyDone,
    InvalidInput,
    InvalidState,
    LimitReached,
    PermissionDenied,
    Plural,
)
from bot.domain.inputs import clean_link
from bot.domain.model import (
    LINK_MAX,
    NOTE_MAX,
    REASON_MAX,
    Action,
    Actor,
    ClaimEnd,
    Rules,
    Status,
    TrustLevel,
    Verdict,
)
from bot.domain.wording import VERB, WHY_NOT

S = Status
A = Action

# Which statuses each action may start from. `create` and `propose` start from nothing.
ALLOWED: dict[Action, frozenset[Status]] = {
    A.ENDORSE: frozenset({S.PROPOSED}),
    A.OBJECT: frozenset({S.PROPOSED}),
    A.ACCEPT: frozenset({S.PROPOSED}),
    A.CLAIM: frozenset({S.OPEN}),
    A.RELEASE: frozenset({S.OPEN, S.CLAIMED}),
    A.EXTEND: frozenset({S.OPEN, S.CLAIMED}),
    A.EXPIRE: frozenset({S.OPEN, S.CLAIMED}),
    A.SUBMIT: frozenset({S.OPEN, S.CLAIMED}),
    A.APPROVE: frozenset({S.IN_REVIEW}),
    A.REQUEST_CHANGES: frozenset({S.IN_REVIEW}),
    A.ASSIGN: frozenset({S.OPEN}),
    A.EDIT: frozenset({S.PROPOSED, S.OPEN, S.CLAIMED, S.IN_REVIEW}),
    A.CANCEL: frozenset({S.PROPOSED, S.OPEN, S.CLAIMED, S.IN_REVIEW}),
    A.REOPEN: frozenset({S.DONE, S.CANCELLED}),
}


def require_status(
    action: Action, status: Status, number: int, *, changes_asked: bool = False
) -> None:
    """Refuse an action the task's status does not allow, saying what stands in the way.
    `changes_asked`: the task went back to its claimant after a review (a verdict that
    lost a race to a change request is told so, not that nothing was submitted)."""
    if status in ALLOWED[action]:
        return
    if action in (A.APPROVE, A.REQUEST_CHANGES) and status in (S.OPEN, S.CLAIMED):
        if changes_asked:
            raise InvalidState(
                "#{number} isn't waiting for review any more: changes were asked for, so it's back with its claimant until they submit again.",
                number=number,
            )
        raise InvalidState(
            "#{number} isn't waiting for review: nothing has been submitted yet.", number=number
        )
    if action in (A.ENDORSE, A.OBJECT, A.ACCEPT) and status in (S.OPEN, S.CLAIMED, S.IN_REVIEW):
        raise InvalidState(
            "#{number} is already on the board, so there's nothing to {verb}: only proposals are endorsed or objected to.",
            number=number,
            verb=VERB[action],
        )
    if action is A.REOPEN:
        raise InvalidState(
            "#{number} is still on the board; only done or cancelled tasks can be reopened.",
            number=number,
        )
    raise InvalidState(
        "You can't {verb} #{number}: {why_not}.",
        verb=VERB[action],
        number=number,
        why_not=WHY_NOT[status],
    )


@dataclass(frozen=True, slots=True)
class Claim:
    member_id: int
    claimed_at: datetime
    expires_at: datetime
    extensions: int = 0


@dataclass(frozen=True, slots=True)
class TaskState:
    """What the rules need to know about one task."""

    number: int
    status: Status
    points: int
    capacity: int
    creator_id: int
    claims: tuple[Claim, ...] = ()
    approvals: frozenset[int] = frozenset()  # approvers in the current review round
    reviewers: frozenset[int] = frozenset()  # anyone who reviewed in the current round
    rework_rounds: int = 0
    review_round: int = 0  # submissions so far (and reopens): the current review round
    blocked_by: int | None = None  # number of an unfinished blocking task, if any
    endorsements: frozenset[int] = frozenset()
    objections: frozenset[int] = frozenset()
    claim_days: int | None = None

    @property
    def claimant_ids(self) -> frozenset[int]:
        return frozenset(c.member_id for c in self.claims)

    def claim_of(self, member_id: int) -> Claim | None:
        return next((c for c in self.claims if c.member_id == member_id), None)


@dataclass(frozen=True, slots=True)
class Outcome:
    action: Action
    before: Status | None
    after: Status
    add_claim: Claim | None = None
    renew_claims: tuple[Claim, ...] = ()
    end_claims: tuple[int, ...] = ()
    end_reason: ClaimEnd | None = None
    review: Verdict | None = None
    vote: str | None = None  # "endorse" | "object"
    new_round: bool = False  # a submission starts a review round: approvals reset
    done: bool = False  # credit claimants (task points) and unpaid reviews
    credit_claimants: tuple[int, ...] = ()
    escalate: bool = False  # rework limit reached: maintainers are asked to step in
    note: str = ""
    capacity: int | None = None  # an edit's new capacity, if it sets one


def held_status(claims: int, capacity: int) -> Status:
    """A task with free slots stays on the board as open."""
    return S.CLAIMED if claims >= capacity else S.OPEN


def _not_bot(actor: Actor) -> None:
    if actor.is_bot:
        raise PermissionDenied("Bots can't take part in tasks.")


def _require_claimant(task: TaskState, actor: Actor) -> Claim:
    claim = task.claim_of(actor.member_id)
    if claim is None:
        raise PermissionDenied("You haven't claimed #{number}.", number=task.number)
    return claim


def _check_claimant(task: TaskState, actor: Actor, action: Action) -> Claim:
    claim = _require_claimant(task, actor)
    require_status(action, task.status, task.number)
    return claim


# The actions a member is asked to type something for (a form), and the check each one
# makes before it reads what was typed.
PRECHECKED: frozenset[Action] = frozenset({A.SUBMIT, A.RELEASE, A.REQUEST_CHANGES, A.OBJECT})


def may(action: Action, task: TaskState, actor: Actor, level: TrustLevel) -> None:
    """Whether `actor` may take `action` on `task`, decided before they type its text:
    raises the refusal the action itself would give, as each of these actions runs the
    same check first. So a form opens only for someone who can send it."""
    if action in (A.SUBMIT, A.RELEASE):
        _check_claimant(task, actor, action)
    elif action is A.REQUEST_CHANGES:
        _check_reviewer(task, actor, level, action)
    elif action is A.OBJECT:
        _check_vote(task, actor, action)
    else:
        raise ValueError(f"{action} has no check of its own before its text: just perform it")


# -- creation -----------------------------------------------------------------------------


def create(actor: Actor, level: TrustLevel, rules: Rules) -> Outcome:
    _not_bot(actor)
    r.check_can_create(actor, level, rules)
    return Outcome(A.CREATE, None, S.OPEN)


def propose(actor: Actor, level: TrustLevel, open_proposals: int, rules: Rules) -> Outcome:
    """`open_proposals`: the actor's proposals still waiting to open (limited by level)."""
    _not_bot(actor)
    r.check_proposal_limit(actor, level, open_proposals, rules)
    return Outcome(A.PROPOSE, None, S.PROPOSED)


# -- proposals ----------------------------------------------------------------------------


def _check_vote(task: TaskState, actor: Actor, action: Action) -> None:
    _not_bot(actor)
    require_status(action, task.status, task.number)
    if actor.member_id == task.creator_id:
        raise PermissionDenied("You proposed this task, so others decide whether it opens.")
    if actor.member_id in task.endorsements:
        raise AlreadyDone("You already endorsed #{number}.", number=task.number)
    if actor.member_id in task.objections:
        raise AlreadyDone("You already objected to #{number}.", number=task.number)


def endorse(task: TaskState, actor: Actor, rules: Rules) -> Outcome:
    """A maintainer's endorsement accepts the proposal at once. An objection holds it until
    a maintainer decides: endorsements alone no longer open it."""
    _check_vote(task, actor, A.ENDORSE)
    count = len(task.endorsements) + 1
    opens = actor.is_maintainer or (not task.objections and count >= rules.proposal_endorsements)
    return Outcome(A.ENDORSE, task.status, S.OPEN if opens else S.PROPOSED, vote="endorse")


def object_(task: TaskState, actor: Actor, reason: str) -> Outcome:
    _check_vote(task, actor, A.OBJECT)
    why = r.check_text(reason, REASON_MAX, "reason for the objection", required=True)
    return Outcome(A.OBJECT, task.status, S.PROPOSED, vote="object", note=why)


def open_by_consensus(
    task: TaskState, proposed_at: datetime, now: datetime, rules: Rules
) -> Outcome:
    """Lazy consensus: open after the window when nobody objected."""
    require_status(A.ACCEPT, task.status, task.number)
    if task.objections:
        raise InvalidState("#{number} has an objection; a maintainer decides.", number=task.number)
    if now < proposed_at + timedelta(hours=rules.proposal_window_hours):
        raise InvalidState("#{number} is still in its proposal window.", number=task.number)
    return Outcome(A.ACCEPT, task.status, S.OPEN, note="no objection within the proposal window")


# -- claims -------------------------------------------------------------------------------


def claim(
    task: TaskState,
    actor: Actor,
    level: TrustLevel,
    active_claims: int,
    rules: Rules,
    now: datetime,
) -> Outcome:
    _not_bot(actor)
    if actor.member_id in task.claimant_ids:
        raise AlreadyDone("You already claimed #{number}.", number=task.number)
    if task.status is S.CLAIMED:
        raise LimitReached(
            "#{number} was just taken — every spot is taken. Try /task list for another.",
            number=task.number,
        )
    require_status(A.CLAIM, task.status, task.number)
    if task.blocked_by is not None:
        raise InvalidState(
            "#{number} is waiting on #{blocked_by}; it can be claimed once that is done.",
            number=task.number,
            blocked_by=task.blocked_by,
        )
    if len(task.claims) >= task.capacity:
        raise LimitReached("Every slot on #{number} is taken.", number=task.number)
    r.check_claim_limit(actor, level, active_claims, rules)
    return _add_claim(task, A.CLAIM, actor.member_id, rules, now)


def _add_claim(
    task: TaskState, action: Action, member_id: int, rules: Rules, now: datetime
) -> Outcome:
    window = r.claim_window(task.points, rules, task.claim_days)
    new = Claim(member_id, now, now + window)
    return Outcome(
        action, task.status, held_status(len(task.claims) + 1, task.capacity), add_claim=new
    )


def assign(
    task: TaskState, actor: Actor, member_id: int, member_is_bot: bool, rules: Rules, now: datetime
) -> Outcome:
    r.check_maintainer(actor, "assign tasks")
    if member_is_bot:
        raise InvalidInput("Tasks can only be assigned to people, not bots.")
    if member_id in task.claimant_ids:
        raise AlreadyDone("That member already holds #{number}.", number=task.number)
    require_status(A.ASSIGN, task.status, task.number)
    if task.blocked_by is not None:
        raise InvalidState(
            "#{number} is waiting on #{blocked_by}; assign it once that is done.",
            number=task.number,
            blocked_by=task.blocked_by,
        )
    return _add_claim(task, A.ASSIGN, member_id, rules, now)


def release(task: TaskState, actor: Actor, note: str | None) -> Outcome:
    _check_claimant(task, actor, A.RELEASE)
    handoff = r.check_text(note, NOTE_MAX, "hand-off note")
    return Outcome(
        A.RELEASE,
        task.status,
        S.OPEN,
        end_claims=(actor.member_id,),
        end_reason=ClaimEnd.RELEASED,
        note=handoff,
    )


def extend(task: TaskState, actor: Actor, rules: Rules, now: datetime) -> Outcome:
    current = _require_claimant(task, actor)
    require_status(A.EXTEND, task.status, task.number)
    if not r.can_extend(current.extensions, rules):
        if rules.max_extensions == 0:
            raise LimitReached(
                "Claims here can't be extended. If you need more time, ask a maintainer, or release it with a hand-off note."
            )
        raise LimitReached(
            "You've extended #{number} {times}, the most allowed. If you need more time, ask a maintainer, or release it with a hand-off note.",
            number=task.number,
            times=Plural("{n} time", "{n} times", current.extensions),
        )
    window = r.claim_window(task.points, rules, task.claim_days)
    # One more window from the current expiry (never from now, which would take back the
    # time still left). A claim that already has more than a window left was just
    # extended: a second press, or an extension right after another, changes nothing.
    left = current.expires_at - now
    if left > window:
        days = Plural("{n} day", "{n} days", window.days)
        raise AlreadyDone(
            "Your claim on #{number} already runs more than {days} from now, so there's nothing to extend yet. You can extend it once less than {days} are left.",
            number=task.number,
            days=days,
        )
    renewed = replace(
        current, expires_at=max(current.expires_at, now) + window, extensions=current.extensions + 1
    )
    return Outcome(A.EXTEND, task.status, task.status, renew_claims=(renewed,))


def expire(task: TaskState, member_id: int, now: datetime) -> Outcome:
    current = task.claim_of(member_id)
    if current is None:
        raise InvalidState("That claim on #{number} has already ended.", number=task.number)
    require_status(A.EXPIRE, task.status, task.number)
    if current.expires_at > now:
        raise InvalidState("The claim on #{number} has not expired yet.", number=task.number)
    return Outcome(
        A.EXPIRE, task.status, S.OPEN, end_claims=(member_id,), end_reason=ClaimEnd.EXPIRED
    )


# -- review -------------------------------------------------------------------------------


def submit(task: TaskState, actor: Actor, link: str | None, notes: str | None) -> Outcome:
    _check_claimant(task, actor, A.SUBMIT)
    url = r.check_text(clean_link(link), LINK_MAX, "link")
    text = r.check_text(notes, NOTE_MAX, "notes")
    if not url and not text:
        raise InvalidInput(
            "Add a link to your work, a few notes, or both, so reviewers can check it."
        )
    return Outcome(A.SUBMIT, task.status, S.IN_REVIEW, new_round=True)


def _check_reviewer(task: TaskState, actor: Actor, level: TrustLevel, action: Action) -> None:
    _not_bot(actor)
    if actor.member_id in task.claimant_ids:
        raise PermissionDenied(
            "You worked on #{number}, so someone else needs to review it.", number=task.number
        )
    asked = task.rework_rounds > 0 and bool(task.claims)
    require_status(action, task.status, task.number, changes_asked=asked)
    if not r.can_review(actor, level):
        raise PermissionDenied(
            "Reviewing opens up once one of your own tasks is accepted (or with the reviewer role)."
        )
    if actor.member_id in task.reviewers:
        raise AlreadyDone("You already reviewed this submission of #{number}.", number=task.number)


def approve(
    task: TaskState, actor: Actor, level: TrustLevel, rules: Rules, comment: str | None
) -> Outcome:
    _check_reviewer(task, actor, level, A.APPROVE)
    return approval(task, rules, r.check_text(comment, NOTE_MAX, "comment"))


def approval(task: TaskState, rules: Rules, note: str) -> Outcome:
    """One more approval of the task in review (by a member, or by a merge on GitHub):
    done with the rules' last required one, the claimants credited."""
    if len(task.approvals) + 1 < rules.required_approvals:
        return Outcome(A.APPROVE, task.status, S.IN_REVIEW, review=Verdict.APPROVE, note=note)
    claimants = tuple(c.member_id for c in task.claims)
    return Outcome(
        A.APPROVE,
        task.status,
        S.DONE,
        review=Verdict.APPROVE,
        end_claims=claimants,
        end_reason=ClaimEnd.DONE,
        done=True,
        credit_claimants=claimants,
        note=note,
    )


def request_changes(
    task: TaskState, actor: Actor, level: TrustLevel, reason: str, rules: Rules, now: datetime
) -> Outcome:
    _check_reviewer(task, actor, level, A.REQUEST_CHANGES)
    why = r.check_text(reason, REASON_MAX, "reason", required=True)
    window = r.claim_window(task.points, rules, task.claim_days)
    renewed = tuple(replace(c, expires_at=now + window) for c in task.claims)
    rounds = task.rework_rounds + 1
    return Outcome(
        A.REQUEST_CHANGES,
        task.status,
        held_status(len(task.claims), task.capacity),
        review=Verdict.CHANGES,
        renew_claims=renewed,
        escalate=rounds >= rules.rework_limit,
        note=why,
    )


# -- maintenance --------------------------------------------------------------------------


def edit(task: TaskState, actor: Actor, new_capacity: int | None) -> Outcome:
    if not (
        actor.is_maintainer or (task.status is S.PROPOSED and actor.member_id == task.creator_id)
    ):
        raise PermissionDenied(
            "Only maintainers can edit tasks (proposers may edit their own proposals)."
        )
    require_status(A.EDIT, task.status, task.number)
    after = task.status
    if new_capacity is not None:
        r.check_capacity(new_capacity)
        if new_capacity < len(task.claims):
            raise InvalidInput(
                "{count} people hold #{number}; capacity can't go below that.",
                count=len(task.claims),
                number=task.number,
            )
        if task.status in (S.OPEN, S.CLAIMED):
            after = held_status(len(task.claims), new_capacity)
    return Outcome(A.EDIT, task.status, after, capacity=new_capacity)


def cancel(task: TaskState, actor: Actor, reason: str) -> Outcome:
    own_proposal = task.status is S.PROPOSED and actor.member_id == task.creator_id
    if not (actor.is_maintainer or own_proposal):
        raise PermissionDenied(
            "Only maintainers can cancel tasks (proposers may withdraw their own proposals)."
        )
    if task.status is S.CANCELLED:
        raise AlreadyDone("#{number} is already cancelled.", number=task.number)
    require_status(A.CANCEL, task.status, task.number)
    why = r.check_text(reason, REASON_MAX, "reason", required=True)
    return Outcome(
        A.CANCEL,
        task.status,
        S.CANCELLED,
        end_claims=tuple(c.member_id for c in task.claims),
        end_reason=ClaimEnd.CANCELLED,
        note=why,
    )


def reopen(task: TaskState, actor: Actor) -> Outcome:
    r.check_maintainer(actor, "reopen tasks")
    require_status(A.REOPEN, task.status, task.number)
    return Outcome(A.REOPEN, task.status, S.OPEN, new_round=True)
