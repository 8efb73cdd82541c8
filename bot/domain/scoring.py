"""Scores and streaks from ledger facts (pure)."""

from __future__ import annotations

from collections.abc import Iterable
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


def next_level(
    level: TrustLevel, done: int, rules: Rules, *, reviews_already: bool = False
) -> str | None:
    """What the next trust level unlocks, in words, or None at the top. `reviews_already`:
    the member may review anyway (a maintainer, or the reviewer role), so that is no news."""
    if level is TrustLevel.NEWCOMER:
        unlock = f"hold up to {rules.limit_contributor} tasks at once"
        if not reviews_already:
            unlock += " and review others' work"
        return f"1 accepted task to become a contributor: {unlock}."
    if level is TrustLevel.CONTRIBUTOR:
        left = max(rules.regular_threshold - done, 1)
        unlock = f"hold up to {rules.limit_regular} tasks at once"
        if rules.regulars_can_create:
            unlock += " and put tasks on the board"
        return f"{left} more accepted task{'s' if left != 1 else ''} to become a regular: {unlock}."
    return None
