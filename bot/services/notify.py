"""The Notifier port: how a sweep reaches people. Implemented with Discord in bot/ui."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.services.config import GuildConfig
from bot.services.reminders.kinds import Kind
from bot.services.views import TaskView


@dataclass(frozen=True, slots=True)
class Notice:
    kind: Kind
    task: TaskView
    member_id: int  # 0 for a channel post
    due_at: datetime
    # The delivery's row: its message nonce, so that a send retried after a crash (sent,
    # not recorded) is the same message to Discord, which keeps the first (0: none).
    delivery_id: int = 0


class DeliveryFailed(Exception):
    """Sending failed. `transient` (429, 5xx, network): try again later; otherwise nobody
    can receive it (DMs closed and no thread or channel to fall back on, no channel set,
    access refused), and it is a dead letter at once."""

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


class Notifier(Protocol):
    async def deliver(self, notice: Notice, config: GuildConfig) -> str:
        """Send it; return how it went out ("dm", "thread", "channel"). Raise
        DeliveryFailed when it could not be sent: never a success that reached nobody."""
        ...
