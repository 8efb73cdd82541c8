"""Which language each reader gets (SPEC "Languages"): the guild's (`/config language`,
else Discord's preferred locale for the server) and each member's last seen Discord
locale, stored when they interact so that their direct messages follow it."""

from __future__ import annotations

from bot.db.uow import Database
from bot.services.clock import Clock

CACHE_MAX = 100_000  # members remembered per process; past it, the cache starts over
_UNKNOWN = object()


class LanguageService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock
        # (guild, member) -> the locale last stored: an interaction in the same locale as
        # the last one writes nothing.
        self._seen: dict[tuple[int, int], str | None] = {}

    def __repr__(self) -> str:
        return f"LanguageService({len(self._seen)} members seen)"

    def known(self, guild_id: int, member_id: int, locale: str) -> bool:
        """Whether `locale` is what this process last stored or read for the member: then
        `seen` has nothing to do (checked without awaiting, on every interaction)."""
        return self._seen.get((guild_id, member_id), _UNKNOWN) == locale

    async def seen(self, guild_id: int, member_id: int, locale: str) -> None:
        """A member interacted in `locale` (a Discord locale, e.g. "es-ES"): remember it
        for their DMs. Written only when it changed: the first time a process sees the
        member, the stored locale is read, and an unchanged one is not written again."""
        key = (guild_id, member_id)
        if key not in self._seen:
            await self.locale_of(guild_id, member_id)
        if self._seen.get(key, _UNKNOWN) == locale:
            return
        async with self._db.unit() as uow:
            await uow.guilds.set_locale(guild_id, member_id, locale, self._clock.now())
            await uow.commit()
        if len(self._seen) >= CACHE_MAX:
            self._seen.clear()
        self._seen[key] = locale

    async def locale_of(self, guild_id: int, member_id: int) -> str | None:
        """The Discord locale the member last interacted with in this guild, if any."""
        key = (guild_id, member_id)
        if key in self._seen:
            return self._seen[key]
        async with self._db.read() as uow:
            member = await uow.guilds.get_member(guild_id, member_id)
        found = member.locale if member is not None else None
        if len(self._seen) >= CACHE_MAX:
            self._seen.clear()
        self._seen[key] = found
        return found
