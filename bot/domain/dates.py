"""Due dates as members type them: ISO dates and a few plain-English phrases."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, tzinfo

from bot.domain.errors import InvalidInput, Phrase
from bot.domain.inputs import clean_line

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_UNITS = {"hour": 1 / 24, "day": 1, "week": 7}
_IN = re.compile(r"^in\s+([0-9]{1,3})\s+(hour|day|week)s?$", re.ASCII)  # "٣" is no number here
_WEEKDAY = re.compile(r"^(next\s+|this\s+)?(" + "|".join(WEEKDAYS) + r")$")
MAX_AHEAD = timedelta(days=5 * 365)


def _end_of(day: date, tz: tzinfo) -> datetime:
    """A date alone means the end of that day where the community lives."""
    return datetime.combine(day, time(23, 59), tzinfo=tz)


def parse_due(
    text: str, now: datetime, tz: tzinfo, *, subject: str = Phrase("That due date")
) -> datetime:
    """`subject` names the date in a refusal ("That due date is in the past")."""
    raw = " ".join(text.strip().lower().split())
    if not raw:
        raise InvalidInput(
            'The due date is empty. Try a date like 2026-12-01, or "tomorrow", "in 3 days", "in 2 weeks", "next friday".'
        )
    local_today = now.astimezone(tz).date()
    result: datetime | None = None
    if raw == "today":
        result = _end_of(local_today, tz)
    elif raw == "tomorrow":
        result = _end_of(local_today + timedelta(days=1), tz)
    elif match := _IN.match(raw):
        amount, unit = int(match[1]), match[2]
        if unit == "hour":
            result = now + timedelta(hours=amount)
        else:
            result = _end_of(local_today + timedelta(days=amount * _UNITS[unit]), tz)
    elif match := _WEEKDAY.match(raw):
        target = WEEKDAYS.index(match[2])
        ahead = (target - local_today.weekday()) % 7 or 7
        result = _end_of(local_today + timedelta(days=ahead), tz)
    else:
        try:
            parsed = datetime.fromisoformat(raw.upper().replace(" ", "T"))
        except ValueError:
            raise InvalidInput(
                'I couldn\'t read “{text}” as a date. Try a date like 2026-12-01, or "tomorrow", "in 3 days", "in 2 weeks", "next friday".',
                text=clean_line(text)[:40],
            ) from None
        if len(raw) <= 10:  # a date without a time
            result = _end_of(parsed.date(), tz)
        else:
            result = parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)
    if result <= now:
        raise InvalidInput("{subject} is in the past; pick a later one.", subject=Phrase(subject))
    if result - now > MAX_AHEAD:
        raise InvalidInput("{subject} is more than five years away.", subject=Phrase(subject))
    return result
