"""The weekly recognition digest (SPEC §3): built from the ledger and history of the
last full week in the guild's timezone, posted once per guild and week."""

from __future__ import annotations

from bot.db.uow import Database
from bot.services.clock import Clock


class DigestService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock
