"""Guild configuration (/config): read as a frozen view, written by maintainers only."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.db.models import GuildSettings, Milestone
from bot.db.uow import Database
from bot.domain.errors import InvalidInput, NotFound
from bot.domain.model import Actor
from bot.domain.rules import check_maintainer
from bot.services.clock import Clock

WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True, slots=True)
class GuildConfig:
    guild_id: int
    tasks_channel_id: int | None
    review_channel_id: int | None
    digest_channel_id: int | None
    maintainer_role_id: int | None
    reviewer_role_id: int | None
    claim_days: int | None
    max_extensions: int
    limit_newcomer: int
    limit_contributor: int
    limit_regular: int
    required_approvals: int
    regular_threshold: int
    proposal_endorsements: int
    proposal_window_hours: int
    review_nudge_hours: int
    kudos_weekly_budget: int
    digest_day: int
    digest_time: str
    digest_timezone: str
    digest_enabled: bool
    milestones: tuple[tuple[int, int], ...]  # (points, role id), by points

    @property
    def timezone(self) -> ZoneInfo:
        return ZoneInfo(self.digest_timezone)


_FIELDS = {f.name for f in fields(GuildConfig)} - {"milestones"}


def _view(row: GuildSettings, milestones: list[Milestone]) -> GuildConfig:
    values: dict[str, Any] = {name: getattr(row, name) for name in _FIELDS}
    return GuildConfig(**values, milestones=tuple((m.points, m.role_id) for m in milestones))


class ConfigService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def get(self, guild_id: int) -> GuildConfig:
        async with self._db.unit() as uow:
            row = await uow.repo.get_guild(guild_id)
            if row is None:
                row = await uow.repo.ensure_guild(guild_id, self._clock.now())
                await uow.commit()
            milestones = list(await uow.repo.milestones(guild_id))
            return _view(row, milestones)

    async def update(self, actor: Actor, **changes: Any) -> GuildConfig:
        check_maintainer(actor, "change the settings")
        unknown = set(changes) - _FIELDS
        if unknown:
            raise InvalidInput(f"Unknown setting: {', '.join(sorted(unknown))}.")
        _validate(changes)
        async with self._db.unit() as uow:
            row = await uow.repo.ensure_guild(actor.guild_id, self._clock.now())
            for name, value in changes.items():
                setattr(row, name, value)
            row.updated_at = self._clock.now()
            await uow.repo.flush()
            milestones = list(await uow.repo.milestones(actor.guild_id))
            view = _view(row, milestones)
            await uow.commit()
        return view

    async def set_milestone(self, actor: Actor, points: int, role_id: int | None) -> GuildConfig:
        """role_id None removes the milestone at `points`."""
        check_maintainer(actor, "change milestone roles")
        if not 1 <= points <= 1_000_000:
            raise InvalidInput("Milestone points must be between 1 and 1,000,000.")
        async with self._db.unit() as uow:
            repo = uow.repo
            await repo.ensure_guild(actor.guild_id, self._clock.now())
            existing = next(
                (m for m in await repo.milestones(actor.guild_id) if m.points == points), None
            )
            if role_id is None:
                if existing is None:
                    raise NotFound(f"There is no milestone at {points} points.")
                await repo.session.delete(existing)
            elif existing is not None:
                existing.role_id = role_id
            else:
                if len(await repo.milestones(actor.guild_id)) >= 25:
                    raise InvalidInput("A server can have at most 25 milestone roles.")
                repo.add(Milestone(guild_id=actor.guild_id, points=points, role_id=role_id))
            await repo.flush()
            await uow.commit()
        return await self.get(actor.guild_id)


def _validate(changes: dict[str, Any]) -> None:
    ranges = {
        "claim_days": (1, 90),
        "max_extensions": (0, 10),
        "limit_newcomer": (1, 50),
        "limit_contributor": (1, 50),
        "limit_regular": (1, 50),
        "required_approvals": (1, 5),
    }
    for name, (low, high) in ranges.items():
        value = changes.get(name)
        if value is not None and not low <= value <= high:
            raise InvalidInput(
                f"{name.replace('_', ' ').capitalize()} must be between {low} and {high}."
            )
    if "digest_time" in changes:
        text = str(changes["digest_time"]).strip()
        hh, sep, mm = text.partition(":")
        if not (
            sep
            and hh.isdigit()
            and mm.isdigit()
            and 0 <= int(hh) < 24
            and 0 <= int(mm) < 60
            and len(mm) == 2
        ):
            raise InvalidInput("Time must be HH:MM in 24-hour form, like 17:00.")
        changes["digest_time"] = f"{int(hh):02d}:{mm}"
    if "digest_timezone" in changes:
        try:
            ZoneInfo(str(changes["digest_timezone"]))
        except (ZoneInfoNotFoundError, ValueError, OSError):  # "Europe" is a folder: OSError
            raise InvalidInput(
                f"“{str(changes['digest_timezone'])[:60]}” is not a timezone I know; "
                "pick one like Europe/Berlin or America/New_York."
            ) from None
    if "digest_day" in changes and not 0 <= int(changes["digest_day"]) <= 6:
        raise InvalidInput("The digest day must be a weekday name.")


def timezone_suggestions(query: str, limit: int = 25) -> list[str]:
    q = query.strip().lower().replace(" ", "_")
    names = sorted(available_timezones())
    starts = [n for n in names if n.lower().startswith(q)]
    contains = [n for n in names if q in n.lower() and n not in starts]
    return (starts + contains)[:limit]
