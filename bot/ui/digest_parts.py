"""The digest's small pieces: task links, trends, lists cut to a budget ("…and N more"),
and the week's dates in the reader's language (CLDR, through Babel)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import date
from typing import Final

from babel import dates

from bot import i18n
from bot.domain.digest import Change, TaskRef, Week
from bot.ui.text import safe, user

MORE_RESERVE: Final = 120  # room kept for the "…and N more" line


# -- small pieces ---------------------------------------------------------------------------------


def _label(task: TaskRef, *, with_title: bool = True) -> str:
    # Brackets would end the link text early: member text must not shape the link.
    title = task.title.replace("[", "(").replace("]", ")")
    return f"#{task.number} · {safe(title, 100)}" if with_title else f"#{task.number}"


def task_link(task: TaskRef, *, with_title: bool = True) -> str:
    """The task, linked to its card when it has one."""
    label = _label(task, with_title=with_title)
    return f"[{label}]({task.url})" if task.url else f"**{label}**"


def people(member_ids: Sequence[int]) -> str:
    return ", ".join(user(m) for m in member_ids)


def trend(tr: i18n.Texts, change: Change) -> str:
    current, previous = tr.number(change.current), tr.number(change.previous)
    if change.delta > 0:
        return tr(
            "**{current}** (▲ {delta} vs {previous})",
            current=current,
            delta=tr.number(change.delta),
            previous=previous,
        )
    if change.delta < 0:
        return tr(
            "**{current}** (▼ {delta} vs {previous})",
            current=current,
            delta=tr.number(-change.delta),
            previous=previous,
        )
    return tr("**{current}** (= same vs {previous})", current=current, previous=previous)


# "…and N more …": the line that ends a cut list, whole for each list.
More = Callable[[int], str]


def fit(
    lines: Sequence[str],
    budget: int,
    more: More,
    total: int | None = None,
    counted_upto: int | None = None,
    more_than: Callable[[int], str] | None = None,
) -> str:
    """As many lines as fit in `budget` characters, then `more(N)` ("…and N more tasks"),
    where N counts against `total` (the whole list, when `lines` is already a cut of it). A
    total above `counted_upto` was only counted that far: `more_than(N)` ("…and N+ more")."""
    total = len(lines) if total is None else max(total, len(lines))
    kept = list(lines)
    if sum(len(line) + 1 for line in kept) > budget or total > len(kept):
        room = budget - MORE_RESERVE
        kept = []
        used = 0
        for line in lines:
            if used + len(line) + 1 > room:
                break
            kept.append(line)
            used += len(line) + 1
    if counted_upto is not None and more_than is not None and total > counted_upto:
        kept.append(more_than(counted_upto - len(kept)))
    elif total > len(kept):
        kept.append(more(total - len(kept)))
    return "\n".join(kept)


def _day(day: date, *, month: bool = True, year: bool = False) -> str:
    text = str(day.day)
    if month:
        text += f" {day:%B}"
    if year:
        text += f" {day.year}"
    return text


_SHORT_MONTH = re.compile(r"(?<![ML])([ML])\1\1(?![ML])")


def _interval(tr: i18n.Texts, first: date, last: date) -> str:
    """CLDR's date interval with the months' full names ("5.–11. Januar 2026"). Where a
    language has no such interval, its interval with short month names is widened, as
    CLDR's matching of skeletons says (babel picks the pattern but keeps its widths)."""
    formats = tr.locale.interval_formats
    pieces = formats["yMMMMd"] if "yMMMMd" in formats else formats["yMMMd"]
    field = "y" if first.year != last.year else "M" if first.month != last.month else "d"
    return "".join(
        dates.parse_pattern(_SHORT_MONTH.sub(r"\1\1\1\1", pattern)).apply(day, tr.locale)
        for pattern, day in zip(pieces[field], (first, last), strict=True)
    )


def week_label(tr: i18n.Texts, week: Week) -> str:
    """5–11 January 2026 · 26 January – 1 February 2026 · 29 December 2025 – 4 January 2026;
    `5.–11. Januar 2026` in German (CLDR's interval: babel's English one is American)."""
    first, last = week.first_day, week.last_day
    if tr.code != "en":
        return _interval(tr, first, last)
    if first.year != last.year:
        return f"{_day(first, year=True)} – {_day(last, year=True)}"
    if first.month != last.month:
        return f"{_day(first)} – {_day(last, year=True)}"
    return f"{_day(first, month=False)}–{_day(last, year=True)}"
