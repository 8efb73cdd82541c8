"""Guild configuration (/config): read as a frozen view, written by maintainers only."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot import i18n
from bot.db.models import GuildSettings, Milestone
from bot.db.uow import Database
from bot.domain.errors import InvalidInput, NotFound, Plural
from bot.domain.inputs import clean_line, format_time, parse_time
from bot.domain.model import Actor, Rules
from bot.domain.rules import check_maintainer, check_milestone_points, check_rule_values
from bot.services.clock import Clock

CACHE_SECONDS: Final = 60.0
WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True, slots=True)
class GuildConfig:
    guild_id: int
    tasks_channel_id: int | None
    review_channel_id: int | None
    digest_channel_id: int | None
    maintainer_role_id: int | None
    reviewer_role_id: int | None
    digest_day: int
    digest_time: str
    digest_timezone: str
    digest_enabled: bool
    language: str | None  # a catalog code; None: the guild's preferred locale
    # All of them, those /config does not set (yet) too, so a write can decide from the
    # cached config without reading the settings row again.
    rules: Rules
    milestones: tuple[tuple[int, int], ...]  # (points, role id), by points

    @property
    def timezone(self) -> ZoneInfo:
        return ZoneInfo(self.digest_timezone)


_OWN = {f.name for f in fields(GuildConfig)} - {"rules", "milestones"}
# What `update` may set, by column name: the config's own settings and each rule.
_FIELDS = _OWN | {f.name for f in fields(Rules)}


def _view(row: GuildSettings, milestones: list[Milestone]) -> GuildConfig:
    values: dict[str, Any] = {name: getattr(row, name) for name in _OWN}
    return GuildConfig(
        **values, rules=row.rules, milestones=tuple((m.points, m.role_id) for m in milestones)
    )


class ConfigService:
    """Reads are served from a per-process cache: every interaction needs its guild's
    config, and reading it was a transaction of its own (a third of a read command's time).

    The cache is right as long as a guild's settings are written only through this
    service in this process — true for one bot process, and for shards, since every
    guild lives on exactly one shard. Each write replaces the cached entry when it
    commits; an entry also lapses after `cache_seconds` (real time), and every sweep
    forgets the whole cache (jobs/sweep.py), so a change made by another process (the
    CLI, an SQL console, the process that owned the guild before) is seen within one
    sweep.
    """

    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        cache_seconds: float = CACHE_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._db = db
        self._clock = clock
        self._ttl = cache_seconds
        self._monotonic = monotonic
        self._cache: dict[int, tuple[float, GuildConfig]] = {}
        # Bumped by every write: a read that started before a write must not cache what
        # it read, or it could put the old settings back after the write stored the new.
        self._writes: dict[int, int] = {}

    async def get(self, guild_id: int) -> GuildConfig:
        hit = self._cache.get(guild_id)
        if hit is not None and self._monotonic() - hit[0] < self._ttl:
            return hit[1]
        writes = self._writes.get(guild_id, 0)
        read_at = self._monotonic()
        async with self._db.unit() as uow:
            row = await uow.guilds.get_guild(guild_id)
            if row is None:
                row = await uow.guilds.ensure_guild(guild_id, self._clock.now())
                await uow.commit()
            milestones = list(await uow.ledger.milestones(guild_id))
            view = _view(row, milestones)
        if self._writes.get(guild_id, 0) == writes:
            self._cache[guild_id] = (read_at, view)
        return view

    def cached(self, guild_id: int) -> GuildConfig | None:
        """The guild's settings if this process holds them (however old), without reading
        the database: for a refusal's language, which must be told even when the database
        is what failed."""
        hit = self._cache.get(guild_id)
        return hit[1] if hit is not None else None

    def forget(self, guild_id: int | None = None) -> None:
        """Drop cached settings (all guilds when None): for whoever changed them
        without this service, like tests and benchmarks writing SQL directly."""
        if guild_id is None:
            self._cache.clear()
        else:
            self._cache.pop(guild_id, None)
        for key in [guild_id] if guild_id is not None else list(self._writes):
            self._writes[key] = self._writes.get(key, 0) + 1

    def _written(self, guild_id: int, view: GuildConfig | None) -> None:
        self._writes[guild_id] = self._writes.get(guild_id, 0) + 1
        if view is None:
            self._cache.pop(guild_id, None)
        else:
            self._cache[guild_id] = (self._monotonic(), view)

    async def update(self, actor: Actor, **changes: Any) -> GuildConfig:
        check_maintainer(actor, "change the settings")
        unknown = set(changes) - _FIELDS
        if unknown:
            raise InvalidInput("Unknown setting: {names}.", names=", ".join(sorted(unknown)))
        _validate(changes)
        async with self._db.unit() as uow:
            row = await uow.guilds.update_settings(actor.guild_id, changes, self._clock.now())
            if "proposal_window_hours" in changes:  # its waiting proposals open on the new one
                window = timedelta(hours=row.proposal_window_hours)
                await uow.tasks.move_proposal_windows(actor.guild_id, window)
            milestones = list(await uow.ledger.milestones(actor.guild_id))
            view = _view(row, milestones)
            self._written(actor.guild_id, None)  # from here, no read may cache the old settings
            await uow.commit()
        self._written(actor.guild_id, view)
        return view

    async def set_milestone(self, actor: Actor, points: int, role_id: int | None) -> GuildConfig:
        """role_id None removes the milestone at `points`."""
        check_maintainer(actor, "change milestone roles")
        check_milestone_points(points)
        async with self._db.unit() as uow:
            await uow.guilds.ensure_guild(actor.guild_id, self._clock.now())
            existing = next(
                (m for m in await uow.ledger.milestones(actor.guild_id) if m.points == points), None
            )
            if role_id is None:
                if existing is None:
                    raise NotFound(
                        "There is no milestone at {points}.",
                        points=Plural("{n} point", "{n} points", points),
                    )
                await uow.ledger.remove_milestone(existing)
            elif existing is not None:
                uow.ledger.set_milestone_role(existing, role_id)
            else:
                if len(await uow.ledger.milestones(actor.guild_id)) >= 25:
                    raise InvalidInput("A server can have at most 25 milestone roles.")
                uow.ledger.add_milestone(actor.guild_id, points, role_id)
            await uow.flush()
            self._written(actor.guild_id, None)
            await uow.commit()
        self._written(actor.guild_id, None)  # a read during the commit may have cached the old
        return await self.get(actor.guild_id)


def _validate(changes: dict[str, Any]) -> None:
    check_rule_values(changes)
    if "digest_time" in changes:
        changes["digest_time"] = format_time(parse_time(str(changes["digest_time"])))
    if "digest_timezone" in changes:
        try:
            ZoneInfo(str(changes["digest_timezone"]))
        except (ZoneInfoNotFoundError, ValueError, OSError):  # "Europe" is a folder: OSError
            raise InvalidInput(
                "“{value}” is not a timezone I know; pick one like Europe/Berlin or America/New_York.",
                value=clean_line(str(changes["digest_timezone"]))[:60],
            ) from None
    if "digest_day" in changes and not 0 <= int(changes["digest_day"]) <= 6:
        raise InvalidInput("The digest day must be a weekday name.")
    language = changes.get("language")
    if language is not None and language not in i18n.LANGUAGES:  # None: the server's locale
        raise InvalidInput(
            "“{value}” is not a language Peerboard speaks; pick one of {languages}.",
            value=clean_line(str(language))[:40],
            languages=", ".join(f"{name} ({code})" for code, name in i18n.LANGUAGES.items()),
        )


# Offered first when nothing is typed yet: the zones most communities live in, west to east.
COMMON_TIMEZONES: Final = (
    "UTC",
    "America/Los_Angeles",
    "America/Denver",
    "America/Chicago",
    "America/New_York",
    "America/Sao_Paulo",
    "Europe/London",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Madrid",
    "Europe/Rome",
    "Africa/Lagos",
    "Africa/Cairo",
    "Europe/Istanbul",
    "Europe/Moscow",
    "Africa/Nairobi",
    "Asia/Dubai",
    "Asia/Kolkata",
    "Asia/Shanghai",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Pacific/Auckland",
)


def timezone_suggestions(query: str, limit: int = 25, current: str | None = None) -> list[str]:
    """With nothing typed: the guild's current timezone, then common ones. Else names that
    start with the query, then those that contain it."""
    q = query.strip().lower().replace(" ", "_")
    if not q:
        first = [current] if current else []
        return list(dict.fromkeys([*first, *COMMON_TIMEZONES]))[:limit]
    names = sorted(available_timezones())
    starts = [n for n in names if n.lower().startswith(q)]
    contains = [n for n in names if q in n.lower() and n not in starts]
    return (starts + contains)[:limit]
