"""The reminder kinds (SPEC §6): one entry each, and the only list of them.

An entry says who a notice of its kind goes to (`audience`), when it is no longer worth
sending (`relevant`), which text it reads (`text`, a key of the tables in bot/ui/messages.py)
and, for a kind the sweep schedules itself, which read finds it due (`due`: a read spec of
bot/db/queries/sweep.py, a value without SQL, and the phase that turns what it finds into
work). A kind without `due` is written to the outbox by a task change (TaskService), or
by another kind's read (one read finds "due soon" and "overdue" alike).

A new kind is one entry here, its text in bot/ui/messages.py, and (when its read needs
one) the migration of its index. The sweep's has-work check, its phases, the relevance
check and the notifier's routing all follow from this table.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum
from typing import Final

from bot.db.queries import sweep
from bot.domain.model import DUE_SOON_HOURS, Reminder, Status
from bot.services.reminders.phases import (
    Pass,
    due_dates,
    expiries,
    nudges,
    proposals,
    warnings,
)
from bot.services.views import TaskView


class Audience(Enum):
    MEMBER = "member"  # a DM; with DMs closed, a mention in the task's thread
    BOARD = "board"  # a post in the tasks channel
    REVIEWERS = "reviewers"  # the review channel, with the card, pinging the reviewer role
    MAINTAINERS = "maintainers"  # the review channel, with the card, pinging maintainers


# Why a notice no longer fits its task (None: send it): (member it is for, the task now).
Relevance = Callable[[int, TaskView], str | None]


def always(member_id: int, task: TaskView) -> str | None:
    return None


def holding(member_id: int, task: TaskView) -> str | None:
    held = member_id in task.claimant_ids and task.status in (Status.OPEN, Status.CLAIMED)
    return None if held else "no longer holding the task"


def in_review(member_id: int, task: TaskView) -> str | None:
    return None if task.status is Status.IN_REVIEW else "no longer in review"


def proposed(member_id: int, task: TaskView) -> str | None:
    return None if task.status is Status.PROPOSED else "decided already"


def not_cancelled(member_id: int, task: TaskView) -> str | None:
    return "cancelled" if task.status is Status.CANCELLED else None


@dataclass(frozen=True, slots=True)
class Schedule:
    """A sweep phase: `read` finds what is due (and, in the has-work check, whether anything
    is), `run` makes it work (delivery rows, or task changes that write their own).
    `name` names the phase in the has-work check and in the EnqueueReport."""

    name: str
    read: sweep.Read
    run: Callable[[Pass, sweep.Read], Awaitable[int]]


@dataclass(frozen=True, slots=True)
class Kind:
    name: str
    audience: frozenset[Audience]
    text: str  # its key in bot/ui/messages.py's tables
    relevant: Relevance = always
    due: Schedule | None = None  # None: written by a task change or another kind's read
    buttons: bool = False  # with Still on it / Release
    refresh_card: bool = False  # the task's card is brought up to date first

    @property
    def to_member(self) -> bool:
        return Audience.MEMBER in self.audience


MEMBER: Final = frozenset({Audience.MEMBER})
BOARD: Final = frozenset({Audience.BOARD})

_KINDS: Final = (
    Kind(
        Reminder.CLAIM_WARNING,
        MEMBER,
        "claim_warning",
        holding,
        Schedule("warnings", sweep.ClaimsToWarn(), warnings),
        buttons=True,
    ),
    Kind(
        Reminder.CLAIM_EXPIRED,
        MEMBER,
        "claim_expired",
        # Expiring the claims writes these two notices (TaskService.expire_many).
        due=Schedule("expired", sweep.ExpiredClaims(), expiries),
    ),
    Kind(Reminder.BACK_ON_BOARD, BOARD, "back_on_board", refresh_card=True),
    Kind(
        Reminder.DUE_SOON,
        MEMBER,
        "due_soon",
        holding,
        # One read for both: "overdue" once the due time has passed, "due soon" before.
        Schedule(
            "due",
            sweep.DueDates(soon=timedelta(hours=DUE_SOON_HOURS), look_back=timedelta(days=1)),
            due_dates,
        ),
    ),
    Kind(Reminder.OVERDUE, MEMBER, "overdue", holding),
    Kind(
        Reminder.REVIEW_NUDGE,
        frozenset({Audience.REVIEWERS}),
        "review_nudge",
        in_review,
        # One read for both: the nudge escalates after REVIEW_ESCALATE_AFTER_DAYS.
        Schedule("nudges", sweep.ReviewWaiting(), nudges),
    ),
    Kind(
        Reminder.REVIEW_ESCALATION,
        frozenset({Audience.MAINTAINERS}),
        "review_escalation",
        in_review,
    ),
    # Written by the change that finishes the blocker: to the channel and to each claimant.
    Kind(Reminder.UNBLOCKED, frozenset({Audience.MEMBER, Audience.BOARD}), "unblocked"),
    Kind(
        Reminder.PROPOSAL_OPENED,
        BOARD,
        "proposal_opened",
        not_cancelled,
        # Opening a proposal writes this notice, by endorsement or (here) lazy consensus.
        Schedule("proposals", sweep.StaleProposals(), proposals),
        refresh_card=True,
    ),
    # Written by a proposal's first objection: it waits for a maintainer's decision.
    Kind(
        Reminder.PROPOSAL_CONTESTED,
        frozenset({Audience.MAINTAINERS}),
        "proposal_contested",
        proposed,
    ),
)

KINDS: Final[Mapping[str, Kind]] = {kind.name: kind for kind in _KINDS}

# The sweep's phases, in the order it runs them, and their reads for the has-work check.
SCHEDULES: Final = tuple(kind.due for kind in _KINDS if kind.due is not None)
READS: Final[sweep.Reads] = tuple((s.name, s.read) for s in SCHEDULES)
