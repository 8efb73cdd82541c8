"""Scores and streaks from ledger facts (pure)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from bot.domain.model import Rules, TrustLevel

KUDOS_REASON_MAX = 200


def week_of(moment: datetime, tz: tzinfo) -> date:
    """The Monday that starts the local week containing `moment`."""
    local = moment.astimezone(tz).date()
    return local - timedelta(days=local.weekday())


def weekly_streak(credit_times: Iterable[datetime], now: datetime, tz: tzinfo) -> int:
    """Consecutive weeks with accepted work or reviews, up to this week (or last week,
    so a streak is not lost on Monday morning)."""
    weeks = {week_of(t, tz) for t in credit_times}
    current = week_of(now, tz)
    if current not in weeks:
        current -= timedelta(days=7)
    streak = 0
    while current in weeks:
        streak += 1
        current -= timedelta(days=7)
    return streak


@dataclass(frozen=True, slots=True)
class NextLevel:
    """What the next trust level takes and unlocks (the profile phrases it): `tasks` more
    accepted tasks to reach `level`, then holding up to `limit` tasks at once, and
    reviewing others' work (`reviews`) or putting tasks on the board (`creates`)."""

    level: TrustLevel
    tasks: int
    limit: int
    reviews: bool = False
    creates: bool = False


def next_level(
    level: TrustLevel, done: int, rules: Rules, *, reviews_already: bool = False
) -> NextLevel | None:
    """What the next trust level unlocks, or None at the top. `reviews_already`: the
    member may review anyway (a maintainer, or the reviewer role), so that is no news."""
    if level is TrustLevel.NEWCOMER:
        return NextLevel(
            TrustLevel.CONTRIBUTOR, 1, rules.limit_contributor, reviews=not reviews_already
        )
    if level is TrustLevel.CONTRIBUTOR:
        left = max(rules.regular_threshold - done, 1)
        return NextLevel(
            TrustLevel.REGULAR, left, rules.limit_regular, creates=rules.regulars_can_create
        )
    return None
