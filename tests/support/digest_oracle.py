"""The digest's test oracle: the week's summary computed from raw rows in plain Python.

DigestService.summary counts, ranks and cuts the week in SQL (bot/db/digest_queries.py);
`summarize` computes the same WeekSummary from the unaggregated rows, and the tests check
that both agree (tests/services/test_digest.py) and compose digests from fixed facts
(tests/domain/test_digest.py). Test-only: nothing in bot/ imports it. It reads the
digest's limits from bot.domain.digest at call time, as the service does, so a test that
patches one there patches both sides.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from bot.domain import digest
from bot.domain.digest import (
    CreditKind,
    KudosQuote,
    Numbers,
    ReviewCount,
    StreakItem,
    TaskFact,
    TopContributor,
    Week,
    WeekSummary,
    WeekTask,
    WorkCredit,
    _ref,
    listed_task_ids,
    needed_credits,
)
from bot.domain.scoring import weekly_streak


@dataclass(frozen=True, slots=True)
class CreditFact:
    """One ledger row."""

    member_id: int
    kind: CreditKind
    points: int
    task_id: int | None
    created_at: datetime
    giver_id: int | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class DoneFact:
    """A history row that moved a task to done."""

    task_id: int
    at: datetime


@dataclass(frozen=True, slots=True)
class WeekFacts:
    """The rows the digest is made of, unaggregated."""

    guild_id: int
    tz: tzinfo
    now: datetime
    week: Week
    previous: Week
    tasks: Mapping[int, TaskFact]  # by id: every task the credits and done rows name
    done: Sequence[DoneFact] = ()  # both weeks
    credits: Sequence[CreditFact] = ()  # both weeks, in ledger order (time, then id)
    first_credit: Mapping[int, datetime] = field(default_factory=dict)  # first accepted task
    credit_times: Mapping[int, Sequence[datetime]] = field(default_factory=dict)  # for streaks
    hidden: frozenset[int] = frozenset()  # chose /me ranking visible:false
    oldest_open: Sequence[TaskFact] = ()
    open_total: int = 0
    good_first: Sequence[TaskFact] = ()
    in_review: Sequence[TaskFact] = ()
    in_review_total: int = 0
    stale: Sequence[TaskFact] = ()
    stale_total: int = 0


def _within(moment: datetime, week: Week) -> bool:
    return week.start <= moment < week.end


def _numbers(facts: WeekFacts, week: Week) -> Numbers:
    credits = [c for c in facts.credits if _within(c.created_at, week)]
    done_ids = {d.task_id for d in facts.done if _within(d.at, week)}
    done_ids |= {c.task_id for c in credits if c.kind is CreditKind.TASK and c.task_id}
    return Numbers(
        done=len(done_ids),
        points=sum(c.points for c in credits if c.kind is not CreditKind.KUDOS),
        reviews=sum(c.kind is CreditKind.REVIEW for c in credits),
        kudos=sum(c.kind is CreditKind.KUDOS for c in credits),
        new_contributors=sum(_within(t, week) for t in facts.first_credit.values()),
    )


def _done_order(facts: WeekFacts, credits: Sequence[CreditFact]) -> tuple[int, ...]:
    # Each task once, in the order it was first finished this week (a task with no done
    # row this week, by its first task credit): a task reopened and done again is listed
    # once, with everyone it credited this week.
    order: dict[int, datetime] = {}
    for d in sorted(facts.done, key=lambda d: d.at):
        if _within(d.at, facts.week):
            order.setdefault(d.task_id, d.at)
    for c in credits:
        if c.kind is CreditKind.TASK and c.task_id is not None:
            order.setdefault(c.task_id, c.created_at)
    ranked = sorted(order.items(), key=lambda kv: (kv[1], kv[0]))
    return tuple(task_id for task_id, _at in ranked if task_id in facts.tasks)


def _reviews(credits: Sequence[CreditFact]) -> tuple[ReviewCount, ...]:
    counts: dict[int, int] = {}
    first: dict[int, datetime] = {}
    for c in credits:
        if c.kind is CreditKind.REVIEW:
            counts[c.member_id] = counts.get(c.member_id, 0) + 1
            first.setdefault(c.member_id, c.created_at)
    ordered = sorted(counts, key=lambda m: (-counts[m], first[m], m))
    return tuple(ReviewCount(m, counts[m]) for m in ordered)


def _newcomers(facts: WeekFacts) -> tuple[int, ...]:
    return tuple(
        m
        for _t, m in sorted((t, m) for m, t in facts.first_credit.items() if _within(t, facts.week))
    )


def _top(facts: WeekFacts, credits: Sequence[CreditFact]) -> tuple[TopContributor, ...]:
    points: dict[int, int] = {}
    done: dict[int, set[int]] = {}
    reviews: dict[int, int] = {}
    for c in credits:
        if c.member_id in facts.hidden:
            continue
        points[c.member_id] = points.get(c.member_id, 0) + c.points
        if c.kind is CreditKind.TASK and c.task_id is not None:
            done.setdefault(c.member_id, set()).add(c.task_id)
        if c.kind is CreditKind.REVIEW:
            reviews[c.member_id] = reviews.get(c.member_id, 0) + 1
    ranked = sorted(
        (m for m in points if points[m] > 0),
        key=lambda m: (-points[m], -len(done.get(m, ())), m),
    )
    return tuple(
        TopContributor(m, points[m], len(done.get(m, ())), reviews.get(m, 0))
        for m in ranked[: digest.TOP_LIMIT]
    )


def _streaks(facts: WeekFacts, credits: Sequence[CreditFact]) -> tuple[StreakItem, ...]:
    active = {c.member_id for c in credits if c.member_id not in facts.hidden}
    items = []
    for member in active:
        times = [*facts.credit_times.get(member, ()), facts.week.start]
        weeks = weekly_streak(times, facts.week.start, facts.tz)
        if weeks >= digest.STREAK_MIN:
            items.append(StreakItem(member, weeks))
    items.sort(key=lambda s: (-s.weeks, s.member_id))
    return tuple(items[: digest.STREAK_LIMIT])


def summarize(facts: WeekFacts) -> WeekSummary:
    """The week's summary computed from its raw rows: the reference for the queries that
    compute it in the database."""
    in_week = sorted(
        (c for c in facts.credits if _within(c.created_at, facts.week)),
        key=lambda c: c.created_at,
    )
    worked = [c for c in in_week if c.kind is not CreditKind.KUDOS]
    done = _done_order(facts, in_week)
    reviews = _reviews(worked)
    newcomers = _newcomers(facts)
    done_ids = set(done)
    people = {m for m, _n in reviews} | {
        c.member_id
        for c in worked
        if c.kind is CreditKind.TASK and c.task_id is not None and c.task_id in done_ids
    }
    credits = needed_credits(
        (WorkCredit(c.member_id, c.kind, c.task_id) for c in worked), done, reviews, newcomers
    )
    named = listed_task_ids(done, credits, reviews, newcomers)
    return WeekSummary(
        guild_id=facts.guild_id,
        now=facts.now,
        week=facts.week,
        this_week=_numbers(facts, facts.week),
        last_week=_numbers(facts, facts.previous),
        done=done[: digest.LIST_LIMIT],
        tasks={
            i: WeekTask(t.id, _ref(t), t.points)
            for i in sorted(named)
            if (t := facts.tasks.get(i)) is not None
        },
        credits=credits,
        reviews=reviews[: digest.LIST_LIMIT],
        newcomers=newcomers[: digest.LIST_LIMIT],
        done_total=len(done),
        reviews_total=len(reviews),
        newcomers_total=len(newcomers),
        people=len(people),
        kudos=tuple(
            KudosQuote(c.giver_id or 0, c.member_id, c.reason)
            for c in in_week
            if c.kind is CreditKind.KUDOS
        ),
        top=_top(facts, worked),
        streaks=_streaks(facts, worked),
        oldest_open=tuple(facts.oldest_open),
        open_total=facts.open_total,
        good_first=tuple(facts.good_first),
        in_review=tuple(facts.in_review),
        in_review_total=facts.in_review_total,
        stale=tuple(facts.stale),
        stale_total=facts.stale_total,
    )
