"""What the statements share: how tags are stored, statuses, bounds, the `Bound` pair."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Final, TypeAlias, TypeVar, cast

import sqlalchemy as sa
from sqlalchemy.orm import Mapped

from bot.domain.inputs import TASK_NUMBER_MAX
from bot.domain.shards import SHARD_SHIFT, Shards

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


def owned_by(
    guild_id: sa.ColumnElement[int] | Mapped[int], shards: Shards | None
) -> sa.ColumnElement[bool]:
    """The rows of the guilds of `shards` (all rows when None or every shard): Discord's
    formula `(guild_id >> 22) % count IN (ids)`, the same SQL on SQLite and PostgreSQL
    (both shift a 64-bit integer). The numbers are written into the SQL, not bound: they
    are the process's, fixed, so a statement keeps one text (and one plan on PostgreSQL).
    It filters the rows a sweep read finds through its own index (what is due), before
    the LIMIT: no index is on the expression, as the count is the operator's choice."""
    if shards is None or shards.every:
        return sa.true()
    shard = (
        cast("sa.ColumnElement[int]", guild_id)
        .op(">>", precedence=7)(sa.literal_column(str(SHARD_SHIFT)))
        .op("%", precedence=8)(sa.literal_column(str(shards.count)))
    )
    return shard.in_([sa.literal_column(str(i)) for i in sorted(shards.ids)])
