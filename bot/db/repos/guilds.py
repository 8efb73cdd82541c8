"""A guild's settings row and its members' rows (reminder, away and ranking choices)."""

from __future__ import annotations

import functools
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Final

import sqlalchemy as sa
from sqlmodel import col

from bot.db import dialect
from bot.db.models import GuildMember, GuildSettings
from bot.db.repos.base import Repo


@functools.cache
def _touch_member_statement(name: str) -> sa.Insert:
    table = GuildMember.__table__  # type: ignore[attr-defined]
    now = sa.bindparam("now", type_=table.c.updated_at.type)
    stmt = dialect.insert(name, table).values(
        guild_id=sa.bindparam("guild", type_=sa.BigInteger),
        member_id=sa.bindparam("member", type_=sa.BigInteger),
        updated_at=now,
    )
    return stmt.on_conflict_do_update(
        index_elements=["guild_id", "member_id"], set_={"updated_at": now}
    )


class _Keep:
    def __repr__(self) -> str:
        return "KEEP"


KEEP: Final = _Keep()  # a member preference left as it is


class GuildRepo(Repo):
    __slots__ = ()

    async def ensure_guild(self, guild_id: int, now: datetime) -> GuildSettings:
        found = await self.session.get(GuildSettings, guild_id)
        if found is not None:  # nearly always: one read, no write
            return found
        table = GuildSettings.__table__  # type: ignore[attr-defined]
        stmt = dialect.insert(self.dialect, table).values(
            guild_id=guild_id, created_at=now, updated_at=now
        )
        await self.session.execute(stmt.on_conflict_do_nothing(index_elements=["guild_id"]))
        settings = await self.session.get(GuildSettings, guild_id)
        assert settings is not None
        return settings

    async def get_guild(self, guild_id: int) -> GuildSettings | None:
        return await self.session.get(GuildSettings, guild_id)

    async def proposal_windows(self, guild_ids: Collection[int]) -> dict[int, int]:
        """Each guild's lazy-consensus window in hours, in one statement (a guild without
        a settings row is left out)."""
        if not guild_ids:
            return {}
        stmt = sa.select(
            col(GuildSettings.guild_id), col(GuildSettings.proposal_window_hours)
        ).where(col(GuildSettings.guild_id).in_(sorted(guild_ids)))
        return {int(g): int(h) for g, h in (await self.session.execute(stmt)).all()}

    async def touch_member(self, guild_id: int, member_id: int, now: datetime) -> None:
        """Upsert and write the member's row: on PostgreSQL the row lock serialises one
        member's concurrent claims, so two claims at once cannot both pass the limit."""
        params = {"guild": guild_id, "member": member_id, "now": now}
        await self.session.execute(_touch_member_statement(self.dialect), params)

    async def lock_member(self, guild_id: int, member_id: int, now: datetime) -> None:
        """Serialise this member's concurrent writes until the transaction ends: where a
        write transaction locks only rows (PostgreSQL), by writing the member's row first;
        SQLite's write transaction (BEGIN IMMEDIATE) has done that already."""
        if dialect.locks_rows(self.dialect):
            await self.touch_member(guild_id, member_id, now)

    async def get_member(self, guild_id: int, member_id: int) -> GuildMember | None:
        return await self.session.get(GuildMember, (guild_id, member_id))

    async def set_locale(self, guild_id: int, member_id: int, locale: str, now: datetime) -> None:
        """The Discord locale the member last interacted with (their DMs' language)."""
        await self.touch_member(guild_id, member_id, now)
        member = await self.get_member(guild_id, member_id)
        assert member is not None
        member.locale = locale[:16]
        await self.session.flush()

    async def update_settings(
        self, guild_id: int, values: Mapping[str, object], now: datetime
    ) -> GuildSettings:
        """Write these settings (validated by the caller) and return the row as it now is."""
        row = await self.ensure_guild(guild_id, now)
        for name, value in values.items():
            setattr(row, name, value)
        row.updated_at = now
        await self.session.flush()
        return row

    async def set_preferences(
        self,
        guild_id: int,
        member_id: int,
        now: datetime,
        *,
        reminders_enabled: bool | _Keep = KEEP,
        away_until: datetime | _Keep | None = KEEP,
        ranking_visible: bool | _Keep = KEEP,
    ) -> None:
        """A member's own choices (reminders, away, ranking), on their row, made if new."""
        await self.touch_member(guild_id, member_id, now)
        member = await self.get_member(guild_id, member_id)
        assert member is not None
        if not isinstance(reminders_enabled, _Keep):
            member.reminders_enabled = reminders_enabled
        if not isinstance(away_until, _Keep):
            member.away_until = away_until
        if not isinstance(ranking_visible, _Keep):
            member.ranking_visible = ranking_visible
