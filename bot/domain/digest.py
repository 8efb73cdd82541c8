"""The weekly recognition digest (SPEC §3), composed from plain facts: `compose` builds
it from a WeekSummary, the week already counted and ranked (in SQL, by the digest's
queries). The tests check those queries against a plain-Python reference that computes
the same summary from raw rows (tests/support/digest_oracle.py).

Pure: the moment and the guild's timezone are passed in. Weeks are local calendar weeks,
Monday 00:00 to the next Monday 00:00 in the guild's timezone, carried as UTC instants
for queries (so a week with a daylight-saving change lasts 167 or 169 hours).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from typing import Any, Final, Generic, NamedTuple, TypeVar

from bot.domain.errors import Phrase
from bot.domain.inputs import parse_time
from bot.domain.scoring import week_of

LATE_LIMIT: Final = timedelta(hours=24)  # a digest more than a day late is not posted
STALE_AFTER: Final = timedelta(days=30)  # maintainer hygiene: open this long with no claim
TOP_LIMIT: Final = 5
STREAK_MIN: Final = 2  # one week is not a streak yet
STREAK_LIMIT: Final = 10
HELP_LIMIT: Final = 5
# Done tasks, reviewers, newcomers and kudos listed at most: more than any section's
# budget can show (its shortest line is ~35 characters), the rest counted in "…and N more".
LIST_LIMIT: Final = 100
WAITING_LIMIT: Final = 15
HYGIENE_LIMIT: Final = 15
STALE_COUNT_LIMIT: Final = 1000  # stale tasks counted up to this; more reads "1,000+"

# Tags that mark a task as a good first one, as parse_tags stores them (lower case).
GOOD_FIRST_TAGS: Final = (
    "good first",
    "good first issue",
    "good first task",
    "good-first",
    "good-first-issue",
    "good_first_issue",
    "beginner",
    "beginner friendly",
    "beginner-friendly",
    "first timers only",
    "first-timers-only",
)


# -- weeks and the posting moment ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Week:
    """A local calendar week: [start, end) as UTC instants, and its local Monday."""

    start: datetime
    end: datetime
    first_day: date

    @property
    def last_day(self) -> date:
        return self.first_day + timedelta(days=6)


def local_moment(day: date, at: time, tz: tzinfo) -> datetime:
    """The UTC instant of a local wall-clock time. A time that a daylight-saving change
    skips is read with the offset from before the change (zoneinfo's fold=0)."""
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


def week_starting(monday: date, tz: tzinfo) -> Week:
    midnight = time(0, 0)
    return Week(
        start=local_moment(monday, midnight, tz),
        end=local_moment(monday + timedelta(days=7), midnight, tz),
        first_day=monday,
    )


def last_full_week(moment: datetime, tz: tzinfo) -> Week:
    """The local Monday-to-Monday week before the one that contains `moment`."""
    return week_starting(week_of(moment, tz) - timedelta(days=7), tz)


def previous_week(week: Week, tz: tzinfo) -> Week:
    return week_starting(week.first_day - timedelta(days=7), tz)


def parse_hhmm(text: str) -> time:
    """A stored digest time (written by `inputs.parse_time`'s rules)."""
    return parse_time(text)


def latest_slot(now: datetime, tz: tzinfo, day: int, at: time) -> datetime:
    """The most recent scheduled posting moment at or before `now` (day: 0 = Monday)."""
    monday = week_of(now, tz)
    slot = local_moment(monday + timedelta(days=day), at, tz)
    if slot > now:
        slot = local_moment(monday + timedelta(days=day - 7), at, tz)
    return slot


def due_slot(now: datetime, tz: tzinfo, day: int, at: time) -> datetime | None:
    """The posting moment a digest is due for now: the latest one, unless it is a day or
    more ago (a bot that was down longer than that skips the week)."""
    slot = latest_slot(now, tz, day, at)
    return slot if now - slot < LATE_LIMIT else None


def streak_weeks(week: Week, tz: tzinfo, since: datetime) -> tuple[tuple[datetime, datetime], ...]:
    """The local weeks before `week`, latest first, as [start, end) UTC instants, back to
    the one that holds `since` (cut to start there): a streak counts credit in them."""
    found: list[tuple[datetime, datetime]] = []
    earlier = previous_week(week, tz)
    while earlier.end > since:
        found.append((max(earlier.start, since), earlier.end))
        earlier = previous_week(earlier, tz)
    return tuple(found)


# -- facts in --------------------------------------------------------------------------------------


class CreditKind(StrEnum):
    TASK = "task"
    REVIEW = "review"
    KUDOS = "kudos"


@dataclass(frozen=True, slots=True)
class TaskFact:
    id: int
    number: int
    title: str
    points: int
    status: str
    tags: tuple[str, ...]
    url: str | None  # the task card, when there is one
    since: datetime  # when it entered its current status


# The week's rows come by the thousand: plain named tuples, cheap to make.


class WeekTask(NamedTuple):
    """A task the week's done rows or credits name."""

    id: int
    ref: TaskRef
    points: int


class WorkCredit(NamedTuple):
    """A task or review credit (task_id None: the task is gone)."""

    member_id: int
    kind: CreditKind
    task_id: int | None


class ReviewCount(NamedTuple):
    member_id: int
    reviews: int


T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Listed(Generic[T]):
    """The first rows of a list, and how many it holds in all."""

    items: tuple[T, ...]
    total: int


# -- the digest out --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TaskRef:
    number: int
    title: str
    url: str | None


@dataclass(frozen=True, slots=True)
class DoneItem:
    task: TaskRef
    points: int
    contributors: tuple[int, ...]
    reviewers: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class ReviewerThanks:
    member_id: int
    reviews: int
    tasks: tuple[TaskRef, ...]


@dataclass(frozen=True, slots=True)
class Welcome:
    member_id: int
    task: TaskRef | None  # their first accepted task


@dataclass(frozen=True, slots=True)
class KudosQuote:
    giver_id: int
    receiver_id: int
    reason: str


@dataclass(frozen=True, slots=True)
class TopContributor:
    member_id: int
    points: int
    tasks: int
    reviews: int


@dataclass(frozen=True, slots=True)
class StreakItem:
    member_id: int
    weeks: int


@dataclass(frozen=True, slots=True)
class Waiting:
    task: TaskRef
    since: datetime


@dataclass(frozen=True, slots=True)
class Change:
    label: Phrase  # the number's name, a message of its own (the digest says it translated)
    current: int
    previous: int

    @property
    def delta(self) -> int:
        return self.current - self.previous


@dataclass(frozen=True, slots=True)
class Numbers:
    done: int = 0
    points: int = 0
    reviews: int = 0
    kudos: int = 0
    new_contributors: int = 0


@dataclass(frozen=True, slots=True)
class Digest:
    guild_id: int
    week: Week
    timezone: str
    generated_at: datetime
    done: tuple[DoneItem, ...]
    reviewers: tuple[ReviewerThanks, ...]
    newcomers: tuple[Welcome, ...]
    kudos: tuple[KudosQuote, ...]
    top: tuple[TopContributor, ...]
    streaks: tuple[StreakItem, ...]
    oldest_open: tuple[TaskRef, ...]
    good_first: tuple[TaskRef, ...]
    open_total: int
    waiting: tuple[Waiting, ...]
    waiting_total: int
    numbers: tuple[Change, ...]
    hygiene: tuple[Waiting, ...]  # open tasks with no claim for 30 days (never auto-closed)
    hygiene_total: int
    this_week: Numbers
    last_week: Numbers
    # The lists above hold the first LIST_LIMIT; these count them whole.
    done_total: int = 0
    reviewers_total: int = 0
    newcomers_total: int = 0
    kudos_total: int = 0
    people: int = 0  # members credited for a task done in the week or for a review

    @property
    def quiet(self) -> bool:
        """Nothing was finished, reviewed or thanked."""
        return not (self.done or self.reviewers or self.kudos)


# -- the week, aggregated --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WeekSummary:
    """The week as the digest needs it, counted, ranked and cut already: what the digest's
    queries return (bot/db/queries/digest_week.py), and what the tests' oracle computes from raw rows.
    The week's lists (done, reviews, newcomers) come as their first LIST_LIMIT with their
    totals, the credits only as far as those lists need them (`needed_credits`), kudos
    whole; the rankings come cut (top, streaks), the board's lists as their first rows and
    total."""

    guild_id: int
    now: datetime
    week: Week
    this_week: Numbers
    last_week: Numbers
    done: tuple[int, ...] = ()  # task ids, in the order first finished in the week
    tasks: Mapping[int, WeekTask] = field(default_factory=dict)  # the ones the lists name
    credits: tuple[WorkCredit, ...] = ()  # task and review credits, in ledger order
    reviews: tuple[ReviewCount, ...] = ()  # most first, then by first review, then by id
    newcomers: tuple[int, ...] = ()  # first-time contributors, by their first accepted task
    done_total: int = 0
    reviews_total: int = 0  # members who reviewed
    newcomers_total: int = 0
    people: int = 0  # members credited for a task done in the week or for a review
    kudos: tuple[KudosQuote, ...] = ()  # in order given
    top: tuple[TopContributor, ...] = ()  # best first, at most TOP_LIMIT
    streaks: tuple[StreakItem, ...] = ()  # longest first, at most STREAK_LIMIT
    oldest_open: tuple[TaskFact, ...] = ()  # claimable, oldest first
    open_total: int = 0
    good_first: tuple[TaskFact, ...] = ()  # claimable and good first, oldest first
    in_review: tuple[TaskFact, ...] = ()  # longest waiting first
    in_review_total: int = 0
    stale: tuple[TaskFact, ...] = ()  # open with no claim for STALE_AFTER, oldest first
    stale_total: int = 0


def card_url(guild_id: int, channel_id: int | None, message_id: int | None) -> str | None:
    if not channel_id or not message_id:
        return None
    return f"https://discord.com/channels/{guild_id}/{channel_id}/{message_id}"


def is_good_first(tags: Iterable[str]) -> bool:
    return any(t in GOOD_FIRST_TAGS for t in tags)


def _ref(task: TaskFact) -> TaskRef:
    return TaskRef(task.number, task.title, task.url)


def listed_task_ids(
    done: Sequence[int],
    credits: Sequence[WorkCredit],
    reviews: Sequence[ReviewCount],
    newcomers: Sequence[int],
) -> set[int]:
    """The tasks the digest's lists name: the first LIST_LIMIT done, what the first
    LIST_LIMIT reviewers reviewed, the first task of the first LIST_LIMIT newcomers. Only
    these need their titles and links read."""
    ids = set(done[:LIST_LIMIT])
    shown_reviewers = {m for m, _n in reviews[:LIST_LIMIT]}
    shown_newcomers = set(newcomers[:LIST_LIMIT])
    firsts: set[int] = set()
    for member, kind, task_id in credits:
        if task_id is None:
            continue
        if kind is CreditKind.REVIEW and member in shown_reviewers:
            ids.add(task_id)
        elif kind is CreditKind.TASK and member in shown_newcomers and member not in firsts:
            firsts.add(member)
            ids.add(task_id)
    return ids


def needed_credits(
    credits: Iterable[WorkCredit],
    done: Sequence[int],
    reviews: Sequence[ReviewCount],
    newcomers: Sequence[int],
) -> tuple[WorkCredit, ...]:
    """The credits the lists need: those for the first LIST_LIMIT done tasks (who did and
    reviewed each) and those of the first LIST_LIMIT reviewers and newcomers (what each
    reviewed, each one's first task)."""
    tasks = set(done[:LIST_LIMIT])
    members = {m for m, _n in reviews[:LIST_LIMIT]} | set(newcomers[:LIST_LIMIT])
    return tuple(c for c in credits if c.task_id in tasks or c.member_id in members)


def _credited(
    summary: WeekSummary,
) -> tuple[tuple[DoneItem, ...], tuple[ReviewerThanks, ...], tuple[Welcome, ...]]:
    """The first LIST_LIMIT done items with who did and reviewed each task (each member
    once, in the order of their credits); as many reviewers with the tasks they reviewed;
    as many newcomers with the first task they were credited for. (Lists grow as tuples:
    most hold one member or one task.)"""
    contributors: dict[int, tuple[int, ...]] = {}
    reviewers: dict[int, tuple[int, ...]] = {}
    reviewed: dict[int, tuple[TaskRef, ...]] = {}
    first_task: dict[int, int] = {}
    tasks = summary.tasks
    for member, kind, task_id in summary.credits:
        if task_id is None:
            continue
        if kind is CreditKind.TASK:
            _add(contributors, task_id, member)
            first_task.setdefault(member, task_id)
        elif kind is CreditKind.REVIEW:
            _add(reviewers, task_id, member)
            task = tasks.get(task_id)
            if task is not None:
                _add(reviewed, member, task.ref)
    done = tuple(
        DoneItem(task.ref, task.points, contributors.get(i, ()), reviewers.get(i, ()))
        for i in summary.done[:LIST_LIMIT]
        if (task := tasks.get(i)) is not None
    )
    thanks = tuple(
        ReviewerThanks(m, n, reviewed.get(m, ())) for m, n in summary.reviews[:LIST_LIMIT]
    )
    welcomes = []
    for member in summary.newcomers[:LIST_LIMIT]:
        task = tasks.get(first_task.get(member, -1))
        welcomes.append(Welcome(member, task.ref if task is not None else None))
    return done, thanks, tuple(welcomes)


def _add(lists: dict[int, tuple[Any, ...]], key: int, value: Any) -> None:
    """Append `value` to the tuple at `key`, unless it is there already."""
    found = lists.get(key)
    if found is None:
        lists[key] = (value,)
    elif value not in found:
        lists[key] = (*found, value)


def compose(summary: WeekSummary, timezone: str) -> Digest:
    """The digest of `summary.week`; help wanted and review queues as of `summary.now`."""
    s = summary
    done, reviewers, newcomers = _credited(s)
    oldest = tuple(_ref(t) for t in s.oldest_open[:HELP_LIMIT])
    shown = {t.number for t in oldest}
    good_first = tuple(_ref(t) for t in s.good_first if t.number not in shown)[:HELP_LIMIT]
    this_week, last_week = s.this_week, s.last_week
    return Digest(
        guild_id=s.guild_id,
        week=s.week,
        timezone=timezone,
        generated_at=s.now,
        done=done,
        reviewers=reviewers,
        newcomers=newcomers,
        kudos=tuple(s.kudos[:LIST_LIMIT]),
        top=tuple(s.top[:TOP_LIMIT]),
        streaks=tuple(s.streaks[:STREAK_LIMIT]),
        oldest_open=oldest,
        good_first=good_first,
        open_total=s.open_total,
        waiting=tuple(Waiting(_ref(t), t.since) for t in s.in_review[:WAITING_LIMIT]),
        waiting_total=max(s.in_review_total, len(s.in_review)),
        numbers=(
            Change(Phrase("Tasks done"), this_week.done, last_week.done),
            Change(Phrase("Points"), this_week.points, last_week.points),
            Change(Phrase("Reviews"), this_week.reviews, last_week.reviews),
            Change(Phrase("Kudos"), this_week.kudos, last_week.kudos),
            Change(
                Phrase("New contributors"), this_week.new_contributors, last_week.new_contributors
            ),
        ),
        hygiene=tuple(Waiting(_ref(t), t.since) for t in s.stale[:HYGIENE_LIMIT]),
        hygiene_total=min(max(s.stale_total, len(s.stale)), STALE_COUNT_LIMIT + 1),
        this_week=this_week,
        last_week=last_week,
        done_total=max(s.done_total, len(s.done)),
        reviewers_total=max(s.reviews_total, len(s.reviews)),
        newcomers_total=max(s.newcomers_total, len(s.newcomers)),
        kudos_total=len(s.kudos),
        people=s.people,
    )
