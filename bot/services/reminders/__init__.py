"""Reminders (SPEC §6): the kinds (kinds.py), the sweep's enqueue phases (phases.py) and
the service that runs them and delivers through the outbox (service.py)."""

from bot.services.reminders.phases import BATCH
from bot.services.reminders.service import (
    EVERYTHING,
    Due,
    EnqueueReport,
    Lease,
    ReminderService,
    Work,
    backoff,
)

__all__ = [
    "BATCH",
    "EVERYTHING",
    "Due",
    "EnqueueReport",
    "Lease",
    "ReminderService",
    "Work",
    "backoff",
]
