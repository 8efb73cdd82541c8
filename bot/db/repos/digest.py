"""The weekly digest's reads, counted, ranked and cut in the database (the statements:
queries/digest_week.py and queries/digest_board.py), and the digest_posts log that makes
each week's post happen once."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TypeVarTuple

import sqlalchemy as sa
from sqlalchemy.engine import Row
from sqlmodel import col

from bot.db import dialect
from bot.db.models import DigestPost, GuildSettings
from bot.db.queries import digest_board as db
from bot.db.queries import digest_week as dw
from bot.db.queries.common import Params, owned_by, tags_from_column
from bot.db.repos.base import Repo, rowcount
from bot.domain import digest as d
from bot.domain.shards import Shards

Ts = TypeVarTuple("Ts")
TaskRow = Row[*tuple[object, ...]]  # queries/digest_board.TASK_COLUMNS (and total)


def _first_and_total(guild_id: int, rows: Sequence[TaskRow]) -> tuple[tuple[d.TaskFact, ...], int]:
    return tuple(_task_fact(guild_id, r) for r in rows), int(rows[0].total) if rows else 0


def _task_fact(guild_id: int, row: TaskRow) -> d.TaskFact:
    return d.TaskFact(
        id=row.id,
        number=row.number,
        title=row.title,
        points=row.points,
        status=row.status,
        tags=tags_from_column(row.tags),
        url=d.card_url(guild_id, row.card_channel_id, row.card_message_id),
        since=row.status_changed_at,
    )


class DigestRepo(Repo):
    __slots__ = ()

    async def _rows(self, stmt: sa.Select[*Ts], params: Params) -> Sequence[Row[*Ts]]:
        return (await self.session.execute(stmt, params)).all()

    # -- settings ---------------------------------------------------------------------------------

    async def guild(self, guild_id: int) -> GuildSettings | None:
        return await self.session.get(GuildSettings, guild_id)

    async def timezone(self, guild_id: int) -> str | None:
        stmt = sa.select(col(GuildSettings.digest_timezone)).where(
            col(GuildSettings.guild_id) == guild_id
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def enabled_guilds(
        self, guild_ids: frozenset[int] | None, shards: Shards | None = None
    ) -> Sequence[GuildSettings]:
        """The guilds with the digest on, of `guild_ids` (None: any) on `shards` (None:
        any)."""
        stmt = sa.select(GuildSettings).where(
            col(GuildSettings.digest_enabled).is_(True),
            owned_by(col(GuildSettings.guild_id), shards),
        )
        if guild_ids is not None:
            stmt = stmt.where(col(GuildSettings.guild_id).in_(guild_ids))
        return (await self.session.scalars(stmt.order_by(col(GuildSettings.guild_id)))).all()

    # -- the week ---------------------------------------------------------------------------------

    async def numbers(
        self, guild_id: int, week: d.Week, last: d.Week, newcomers: int
    ) -> tuple[d.Numbers, d.Numbers, int]:
        """This week's numbers, last week's, and how many members were credited this week
        for a task done or a review; `newcomers`: this week's, counted already."""
        rows = await self._rows(dw.numbers_query(), dw.numbers_params(guild_id, week, last))
        done, points, reviews, kudos, people, *before = (int(n) for n in rows[0])
        this_week = d.Numbers(done, points, reviews, kudos, newcomers)
        return this_week, d.Numbers(*before), people

    async def week_done(self, guild_id: int, week: d.Week, limit: int) -> d.Listed[int]:
        """The ids of the first `limit` tasks done in the week, in the order they were
        first finished; and how many were done."""
        rows = await self._rows(
            dw.week_done_query(), {**dw.week_params(guild_id, week), "limit": limit}
        )
        return d.Listed(tuple(i for i, _total in rows), int(rows[0].total) if rows else 0)

    async def week_tasks(self, guild_id: int, ids: Iterable[int]) -> dict[int, d.WeekTask]:
        """The guild's tasks `ids` (those the digest's lists name), by id."""
        wanted = sorted(ids)
        if not wanted:
            return {}
        rows = await self._rows(dw.tasks_query(wanted), {"guild_id": guild_id})
        url = d.card_url
        return {
            i: d.WeekTask(i, d.TaskRef(number, title, url(guild_id, channel, message)), points)
            for i, number, title, points, channel, message in rows
        }

    async def credits(
        self, guild_id: int, week: d.Week, tasks: Iterable[int], members: Iterable[int]
    ) -> tuple[d.WorkCredit, ...]:
        """The week's task and review credits for `tasks` or by `members`, in ledger order."""
        tasks, members = sorted(set(tasks)), sorted(set(members))
        if not tasks and not members:
            return ()
        kinds = {k.value: k for k in d.CreditKind}
        params = {**dw.week_params(guild_id, week), "tasks": tasks, "members": members}
        rows = await self._rows(dw.credits_query(), params)
        return tuple(d.WorkCredit(m, kinds[k], t) for m, k, t in rows)

    async def reviews(self, guild_id: int, week: d.Week, limit: int) -> d.Listed[d.ReviewCount]:
        rows = await self._rows(
            dw.reviews_query(), {**dw.week_params(guild_id, week), "limit": limit}
        )
        listed = tuple(d.ReviewCount(m, n) for m, n, _total in rows)
        return d.Listed(listed, int(rows[0].total) if rows else 0)

    async def newcomers(self, guild_id: int, week: d.Week, limit: int) -> d.Listed[int]:
        rows = await self._rows(
            dw.newcomers_query(), {**dw.week_params(guild_id, week), "limit": limit}
        )
        return d.Listed(tuple(m for m, _total in rows), int(rows[0].total) if rows else 0)

    async def kudos(self, guild_id: int, week: d.Week) -> tuple[d.KudosQuote, ...]:
        rows = await self._rows(dw.kudos_query(), dw.week_params(guild_id, week))
        return tuple(d.KudosQuote(g, m, r) for g, m, r in rows)

    async def top(self, guild_id: int, week: d.Week, limit: int) -> tuple[d.TopContributor, ...]:
        rows = await self._rows(dw.top_query(limit), dw.week_params(guild_id, week))
        return tuple(d.TopContributor(m, int(p), int(t), int(r)) for m, p, t, r in rows)

    async def streaks(
        self,
        guild_id: int,
        week: d.Week,
        earlier: Sequence[tuple[datetime, datetime]],
        least: int,
        limit: int,
    ) -> tuple[d.StreakItem, ...]:
        if len(earlier) < least - 1:
            return ()  # no run that long fits in the look-back
        stmt = dw.streaks_query(least, len(earlier) + 1, limit)
        rows = await self._rows(stmt, dw.streak_params(guild_id, week, earlier))
        return tuple(d.StreakItem(m, int(n)) for m, n in rows)

    # -- the board as it stands -------------------------------------------------------------------

    async def _tasks(
        self, guild_id: int, stmt: sa.Select[*tuple[object, ...]], **params: object
    ) -> Sequence[TaskRow]:
        return await self._rows(stmt, {"guild_id": guild_id, **params})

    async def oldest_open(self, guild_id: int, limit: int) -> tuple[tuple[d.TaskFact, ...], int]:
        return _first_and_total(guild_id, await self._tasks(guild_id, db.oldest_open_query(limit)))

    async def good_first(
        self, guild_id: int, tags: Sequence[str], limit: int
    ) -> tuple[d.TaskFact, ...]:
        rows = await self._tasks(guild_id, db.good_first_query(tuple(tags), limit))
        return tuple(_task_fact(guild_id, r) for r in rows)

    async def in_review(self, guild_id: int, limit: int) -> tuple[tuple[d.TaskFact, ...], int]:
        return _first_and_total(guild_id, await self._tasks(guild_id, db.in_review_query(limit)))

    async def unclaimed_since(
        self, guild_id: int, cutoff: datetime, limit: int
    ) -> tuple[tuple[d.TaskFact, ...], int]:
        probe = dialect.probes_claims_per_task(self.dialect)
        stmt = db.unclaimed_since_query(limit, count_from_claims=not probe)
        rows = await self._tasks(guild_id, stmt, cutoff=cutoff)
        return _first_and_total(guild_id, rows)

    # -- the posts log: one row per guild and week ----------------------------------------------

    async def post(self, guild_id: int, week_start: datetime) -> DigestPost | None:
        stmt = (
            sa.select(DigestPost)
            .where(col(DigestPost.guild_id) == guild_id, col(DigestPost.week_start) == week_start)
            # Rows changed by the bulk UPDATEs below must be read again.
            .execution_options(populate_existing=True)
        )
        return (await self.session.scalars(stmt)).first()

    async def posts_between(
        self, guild_ids: Sequence[int], start: datetime, end: datetime
    ) -> Sequence[DigestPost]:
        if not guild_ids:
            return []
        stmt = sa.select(DigestPost).where(
            col(DigestPost.guild_id).in_(guild_ids),
            col(DigestPost.week_start) >= start,
            col(DigestPost.week_start) <= end,
        )
        return (await self.session.scalars(stmt)).all()

    async def add_post(self, guild_id: int, week_start: datetime, now: datetime) -> None:
        """Insert the week's row if it is not there yet; an existing row is left as it is."""
        table = DigestPost.__table__  # type: ignore[attr-defined]
        stmt = dialect.insert(self.dialect, table).values(
            guild_id=guild_id, week_start=week_start, status="pending", created_at=now
        )
        await self.session.execute(
            stmt.on_conflict_do_nothing(index_elements=["guild_id", "week_start"])
        )

    async def lease_post(
        self,
        guild_id: int,
        week_start: datetime,
        now: datetime,
        until: datetime,
        *,
        manual: bool,
    ) -> bool:
        """Take the row for posting. A free pending row, or a failed one whose retry time has
        come; a maintainer's /digest post may also take a failed or skipped one at once."""
        free = sa.or_(col(DigestPost.lease_until).is_(None), col(DigestPost.lease_until) <= now)
        takeable = sa.and_(col(DigestPost.status).in_(("pending", "failed")), free)
        if manual:
            takeable = sa.or_(takeable, col(DigestPost.status).in_(("failed", "skipped")))
        stmt = (
            sa.update(DigestPost)
            .where(
                col(DigestPost.guild_id) == guild_id,
                col(DigestPost.week_start) == week_start,
                takeable,
            )
            .values(status="pending", lease_until=until)
            .execution_options(synchronize_session=False)
        )
        return rowcount(await self.session.execute(stmt)) == 1

    async def finish_post(
        self,
        guild_id: int,
        week_start: datetime,
        *,
        only: Sequence[str],
        status: str,
        lease_until: datetime | None,
        channel_id: int | None = None,
        message_id: int | None = None,
        posted_at: datetime | None = None,
    ) -> bool:
        """Move the week's row, if its status is one of `only`, to `status` (and its lease
        to `lease_until`); where it was posted, when given."""
        values: dict[str, object] = {"status": status, "lease_until": lease_until}
        posted = {"channel_id": channel_id, "message_id": message_id, "posted_at": posted_at}
        values.update((key, value) for key, value in posted.items() if value is not None)
        stmt = (
            sa.update(DigestPost)
            .where(
                col(DigestPost.guild_id) == guild_id,
                col(DigestPost.week_start) == week_start,
                col(DigestPost.status).in_(only),
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return rowcount(await self.session.execute(stmt)) == 1
