"""What an operator asks of the data (bot/ops): does the database answer, and how many
notices wait, went out, or were given up on."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from bot.db.uow import Database
from bot.domain.shards import Shards
from bot.services.reminders.kinds import KINDS

# A delivery's status in the table, as an operator reads it: `failed` is a delivery
# given up on after its attempt cap, a dead letter.
STATES: Final[Mapping[str, str]] = {
    "pending": "pending",
    "sent": "sent",
    "skipped": "skipped",
    "failed": "dead",
    "dead": "dead",
}
ALWAYS: Final = ("pending", "sent", "dead")  # shown for every kind, 0 when there are none


class HealthService:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def ping(self) -> None:
        """Raises when the database does not answer."""
        await self._db.ping()

    async def delivery_counts(self, shards: Shards | None = None) -> dict[tuple[str, str], int]:
        """(kind, state) → how many deliveries in the guilds of `shards` (None: every
        guild); every known kind has pending, sent, dead."""
        counts = {(kind, state): 0 for kind in KINDS for state in ALWAYS}
        async with self._db.read() as uow:
            rows = await uow.deliveries.counts(shards)
        for kind, status, n in rows:
            key = (kind, STATES.get(status, status))
            counts[key] = counts.get(key, 0) + n
        return counts
