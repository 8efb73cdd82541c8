"""What the task service's modules share: the statuses they ask for, the UNSET marker,
task numbers, and the checks on a task's own fields."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from bot.db.models import Task
from bot.db.queries.common import tags_to_column
from bot.db.uow import UnitOfWork
from bot.domain import rules as r
from bot.domain.errors import InvalidInput, NotFound
from bot.domain.inputs import parse_task_number as parse_task_number
from bot.domain.model import Status

FINISHED: Final = (Status.DONE.value, Status.CANCELLED.value)
ACTIVE_STATUSES: Final = (Status.OPEN.value, Status.CLAIMED.value, Status.IN_REVIEW.value)
LIST_STATUSES: Final = {s.value for s in Status} | {"all"}
PAGE_SIZE: Final = 10
HISTORY_LIMIT: Final = 200


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = _Unset()


def no_such_task(number: int) -> NotFound:
    return NotFound("There is no task #{number} in this server. Try /task list.", number=number)


@dataclass(frozen=True, slots=True)
class TaskFields:
    """A new task's own fields, checked (tags as the column stores them)."""

    title: str
    description: str
    points: int
    tags: str
    capacity: int


def _whole(value: object) -> int:
    """A whole number from a command's int or a file's text; blank is 1."""
    if value is None or value == "":
        return 1
    if isinstance(value, str):  # ASCII digits only: int() also reads "٣" as 3
        text = value.strip()
        if not (text.isascii() and text.isdigit() and len(text) <= 9):
            raise ValueError(value)
        return int(text)
    if isinstance(value, int | float):
        return int(value)
    raise TypeError(value)


def clean_fields(
    title: str, description: str | None, points: object, tags: str | None, capacity: object
) -> TaskFields:
    try:
        points_i = _whole(points)
        capacity_i = _whole(capacity)
    except (TypeError, ValueError):
        raise InvalidInput("Points and capacity must be whole numbers.") from None
    return TaskFields(
        title=r.clean_title(title),
        description=r.clean_description(description),
        points=r.check_points(points_i),
        tags=tags_to_column(r.parse_tags(tags)),
        capacity=r.check_capacity(capacity_i),
    )


def check_due(due_at: datetime | None, now: datetime) -> None:
    if due_at is not None and due_at <= now:
        raise InvalidInput("The due date is in the past; pick a later one.")


async def task_or_404(uow: UnitOfWork, guild_id: int, number: int) -> Task:
    task = await uow.tasks.task_by_number(guild_id, number)
    if task is None:
        raise no_such_task(number)
    return task
