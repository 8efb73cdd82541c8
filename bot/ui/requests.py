"""What a member asked a task for: the one typed request that a slash command, a card's
button and a form all hand to the controller (`actions.py`)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.model import Action


@dataclass(frozen=True, slots=True)
class Edit:
    """/task edit's options as typed; due and blocked_by are parsed with the guild's rules."""

    title: str | None = None
    description: str | None = None
    points: int | None = None
    tags: str | None = None
    due: str | None = None
    capacity: int | None = None
    blocked_by: str | None = None
    claim_days: int | None = None  # 0: back to the server's window


@dataclass(frozen=True, slots=True)
class TaskRequest:
    action: Action
    number: int
    text: str | None = None  # the note, reason or comment the action takes
    link: str | None = None  # submit
    notes: str | None = None  # submit
    member_id: int | None = None  # assign
    member_is_bot: bool = False  # assign
    edit: Edit | None = None
