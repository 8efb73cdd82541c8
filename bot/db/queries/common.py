"""What the statements share: how tags are stored, statuses, bounds, the `Bound` pair."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Final, TypeAlias, TypeVar

from bot.domain.inputs import TASK_NUMBER_MAX

S = TypeVar("S")

# The values of a statement's named parameters.
Params: TypeAlias = dict[str, object]
# A statement (built once, with bound parameters) and the values to run it with.
Bound: TypeAlias = tuple[S, Params]

ACTIVE: Final = ("open", "claimed")
UNFINISHED: Final = ("open", "proposed", "claimed", "in_review")
FINISHED: Final = ("done", "cancelled")
MAX_NUMBER: Final = TASK_NUMBER_MAX  # the domain's bound: 9 digits, an INTEGER on PostgreSQL
SCORE_COLUMNS: Final = ("points", "tasks", "reviews", "kudos")
MAX_TIME: Final = datetime(9999, 12, 31, tzinfo=UTC)


def tags_to_column(tags: Sequence[str]) -> str:
    """Stored as ",a,b," so a tag filter is one exact LIKE."""
    return f",{','.join(tags)}," if tags else ""


def tags_from_column(value: str) -> tuple[str, ...]:
    return tuple(t for t in value.split(",") if t)


def escape_like(text: str) -> str:
    """`text` for a LIKE … ESCAPE '/' pattern."""
    return text.replace("/", "//").replace("%", "/%").replace("_", "/_")
