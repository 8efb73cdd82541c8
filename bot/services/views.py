"""Frozen results that services hand to the adapters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.domain.model import Action, Status, TrustLevel


@dataclass(frozen=True, slots=True)
class ClaimView:
    member_id: int
    claimed_at: datetime
    expires_at: datetime
    extensions: int


@dataclass(frozen=True, slots=True)
class SubmissionView:
    member_id: int
    round: int
    link: str
    notes: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class LinkView:
    """An issue or pull request linked to a task (bot/domain/forge.py's names)."""

    url: str
    kind: str  # issue | pull
    origin: str  # source | manual | submitted | mention
    state: str  # open | closed | merged
    author: str = ""  # a pull request's author's GitHub login


@dataclass(frozen=True, slots=True)
class TaskView:
    guild_id: int
    number: int
    title: str
    description: str
    points: int
    tags: tuple[str, ...]
    due_at: datetime | None
    capacity: int
    status: Status
    creator_id: int
    claims: tuple[ClaimView, ...]
    approvals: int
    required_approvals: int
    review_round: int
    rework_rounds: int
    blocked_by: int | None  # the blocking task's number
    blocked: bool  # the blocking task is not finished yet
    endorsements: int
    objections: int
    required_endorsements: int
    submission: SubmissionView | None
    handoff_note: str | None
    card_channel_id: int | None
    card_message_id: int | None
    thread_id: int | None
    created_at: datetime
    updated_at: datetime
    version: int = 0  # the row's, so a card shown can be matched to the state it shows
    links: tuple[LinkView, ...] = ()  # GitHub issues and pull requests

    @property
    def claimant_ids(self) -> tuple[int, ...]:
        return tuple(c.member_id for c in self.claims)

    @property
    def free_slots(self) -> int:
        return max(self.capacity - len(self.claims), 0)


@dataclass(frozen=True, slots=True)
class ActionResult:
    action: Action
    task: TaskView
    before: Status | None
    after: Status
    actor_id: int
    member_id: int | None = None  # whom the action was for (assign, expire)
    escalate: bool = False  # rework limit reached: maintainers should step in
    handoff_note: str | None = None  # the previous holder's note, shown on claim
    unblocked: tuple[int, ...] = ()  # numbers of tasks this one no longer blocks
    opened: bool = False  # a proposal opened
    credited: tuple[int, ...] = ()  # members who just got credit (claimants and reviewers)
    note: str = ""  # the member's own words: a reason, a comment, a hand-off note
    notices: int = 0  # deliveries the change wrote to the outbox, for the sweep to send
    holders: tuple[int, ...] = ()  # who held the task when the action was taken
    edited: tuple[str, ...] = ()  # an edit's changed columns (title, due_at, blocked_by_id …)


@dataclass(frozen=True, slots=True)
class HistoryView:
    actor_id: int
    action: str
    from_status: str | None
    to_status: str
    note: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class TaskChoice:
    """A task as autocomplete offers it."""

    number: int
    title: str
    status: Status


@dataclass(frozen=True, slots=True)
class TaskPage:
    items: tuple[TaskView, ...]
    next_after: int | None  # pass back as `after` for the next page


@dataclass(frozen=True, slots=True)
class MemberStanding:
    member_id: int
    done_tasks: int
    level: TrustLevel
    held_claims: int
    claim_limit: int | None  # None: maintainers have no limit
