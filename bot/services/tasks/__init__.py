"""The task service, by use:

- `commands`: `TaskService`, one method per SPEC §2 action;
- `queries`: its reads (`TaskQueries`: show, list, history, standing, autocomplete);
- `writer`: the one write path — a domain `TaskChange` persisted in one transaction;
- `views`: rows assembled into the cards' `TaskView`s;
- `importing`: /task import's CSV, read and checked;
- `common`: task numbers, UNSET, the statuses and field checks they share.
"""

from __future__ import annotations

from bot.services.tasks.commands import TaskService
from bot.services.tasks.common import (
    ACTIVE_STATUSES,
    FINISHED,
    HISTORY_LIMIT,
    PAGE_SIZE,
    UNSET,
    no_such_task,
    parse_task_number,
)

__all__ = [
    "ACTIVE_STATUSES",
    "FINISHED",
    "HISTORY_LIMIT",
    "PAGE_SIZE",
    "UNSET",
    "TaskService",
    "no_such_task",
    "parse_task_number",
]
