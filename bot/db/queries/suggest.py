"""Autocomplete: tasks by number or title, bounded however large the board grows."""

from __future__ import annotations

import functools
from collections.abc import Sequence

import sqlalchemy as sa
from sqlmodel import col

from bot.db import dialect
from bot.db.models import Task
from bot.db.queries.common import MAX_NUMBER, UNFINISHED, Bound, Params, escape_like
from bot.domain import inputs

Choice = sa.Select[int, str, str]


def number_prefix_ranges(text: str, max_number: int = MAX_NUMBER) -> list[tuple[int, int]]:
    """The numbers up to `max_number` whose decimal form starts with `text`, as ranges:
    12 → 12, 120–129, 1200–1299, … "012" starts no number; it still names #12."""
    top = min(max_number, MAX_NUMBER)
    if len(text.lstrip("0")) > len(str(top)):  # past every task (and int() of 5,000 digits raises)
        return []
    value = int(text)
    if value < 1 or value > top:
        return []
    if text.startswith("0"):
        return [(value, value)]
    ranges, low, high = [], value, value
    while low <= top:
        ranges.append((low, min(high, top)))
        low, high = low * 10, high * 10 + 9
    return ranges


def typed_number(query: str) -> bool:
    """Whether autocomplete was given a task number (or its start), not title words."""
    return inputs.typed_number(query) is not None


def suggest_tasks_query(
    guild_id: int,
    query: str,
    limit: int,
    statuses: Sequence[str] = UNFINISHED,
    max_number: int = MAX_NUMBER,
    *,
    dialect_name: str = dialect.POSTGRESQL,
) -> Bound[Choice]:
    """Autocomplete: tasks by number or title (unfinished ones unless told otherwise); the
    exact number typed first, then open ones, then the newest. The statement (built once
    per shape and kept) and its parameters.

    Bounded however large the board: for each status (and, for a number, each range of
    numbers starting with what was typed, up to the guild's highest number) only the
    newest `limit` matches are read, walking an index backwards, and the best `limit` of
    those are kept. That is exactly the best `limit` overall: within one status and range
    every row ranks the same but for its number. A title can match anywhere in it (no
    index finds that): its words are tested in ix_tasks_titles, newest first, until
    `limit` match, so a rare word reads that status's index entries, never finished ones.
    `dialect_name`: the database's, for how a title is matched without regard to case."""
    digits = inputs.typed_number(query)
    text = digits if digits is not None else inputs.clean_line(query).lstrip("#").strip()
    values: Params = {"guild_id": guild_id}
    if text and digits is None:
        values["title"] = f"%{escape_like(text)}%"
        like = "like" if dialect.like_ignores_case(dialect_name) else "ilike"
        return _suggest_template("title", tuple(statuses), 1, limit, like), values
    if not text:
        return _suggest_template("newest", tuple(statuses), 1, limit), values
    ranges = number_prefix_ranges(text, max_number)
    if not ranges:  # a number no task has
        return _suggest_template("none", tuple(statuses), 0, limit), {}
    for k, (low, high) in enumerate(ranges):
        values[f"low{k}"], values[f"high{k}"] = low, high
    values["exact"] = int(text)
    return _suggest_template("number", tuple(statuses), len(ranges), limit), values


@functools.lru_cache(maxsize=256)
def _suggest_template(
    kind: str, statuses: tuple[str, ...], ranges: int, limit: int, like: str = "ilike"
) -> Choice:
    # Dozens of subqueries take SQLAlchemy milliseconds to build: each shape is built
    # once, with bound parameters, and reused (statements are immutable).
    number, status = col(Task.number), col(Task.status)
    if kind == "none":  # a number no task has
        return sa.select(number, col(Task.title), status).where(sa.false()).limit(limit)
    groups: list[list[sa.ColumnElement[bool]]] = [[]]
    if kind == "title":
        # Tested on the titles in ix_tasks_titles while walking it newest first: ILIKE on
        # PostgreSQL; on SQLite a plain LIKE, which ignores case as SQLite's lower() does
        # (ASCII letters only, both), at a third of the cost of lower() LIKE lower().
        title = col(Task.title)
        pattern = sa.bindparam("title", type_=sa.String)
        match = (
            title.like(pattern, escape="/") if like == "like" else title.ilike(pattern, escape="/")
        )
        groups = [[match]]
    elif kind == "number":
        groups = [
            [number.between(sa.bindparam(f"low{k}"), sa.bindparam(f"high{k}"))]
            for k in range(ranges)
        ]
    # Candidates from the indexes alone (id, number, status), the newest `limit` of each
    # status and range; the best `limit` of them; then only those rows are read.
    guild = sa.bindparam("guild_id", type_=sa.BigInteger)
    parts = [_newest(guild, st, limit, where) for st in statuses for where in groups]
    found = (parts[0] if len(parts) == 1 else sa.union_all(*parts)).subquery()
    ranks: list[sa.Label[int]] = []
    if kind == "number":  # the number typed, exactly, comes first
        ranks.append(sa.case((found.c.number == sa.bindparam("exact"), 0), else_=1).label("exact"))
    ranks.append(sa.case((found.c.status == "open", 0), else_=1).label("open"))
    best = (
        sa.select(found.c.id, found.c.number, *ranks)
        .order_by(*ranks, found.c.number.desc())
        .limit(limit)
        .subquery()
    )
    order = [best.c[r.name] for r in ranks]
    return (
        sa.select(number, col(Task.title), status)
        .join(best, col(Task.id) == best.c.id)
        .order_by(*order, best.c.number.desc())
    )


def _newest(
    guild: sa.BindParameter[int],
    status: str,
    limit: int,
    where: Sequence[sa.ColumnElement[bool]],
) -> sa.Select[int | None, int, str]:
    """The newest `limit` tasks of one status matching `where`, as a subquery to union."""
    top = (
        sa.select(col(Task.id), col(Task.number), col(Task.status))
        .where(col(Task.guild_id) == guild, col(Task.status) == status, *where)
        .order_by(col(Task.number).desc())
        .limit(limit)
        .subquery()
    )
    return sa.select(*top.columns)  # type: ignore[return-value]
