"""The custom_id grammar of the buttons on task cards and of the forms they open, and
nothing else.

Buttons: `pb:t:<guild>:<task number>:<action>`, e.g. `pb:t:1234:12:claim`. Forms:
`pb:f:<guild>:<task number>:<kind>`, e.g. `pb:f:1234:12:submit`. The state lives in the
id so that a card posted last month, or a form a member kept open through a restart,
still works: the grammar is a contract with every message and form already out there,
so never change it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Final


class CardAction(StrEnum):
    """What a button on a card (or on a reminder) asks for; the last part of its id."""

    CLAIM = "claim"
    RELEASE = "release"
    SUBMIT = "submit"
    APPROVE = "approve"
    CHANGES = "changes"
    ENDORSE = "endorse"
    OBJECT = "object"
    EXTEND = "extend"


TEMPLATE: Final = r"pb:t:(?P<guild>[0-9]{1,20}):(?P<num>[0-9]{1,9}):(?P<action>[a-z]{1,10})"
_PATTERN: Final = re.compile(TEMPLATE)


@dataclass(frozen=True, slots=True)
class ButtonId:
    guild_id: int
    number: int
    action: CardAction

    def __str__(self) -> str:
        return f"pb:t:{self.guild_id}:{self.number}:{self.action.value}"


def from_match(match: re.Match[str]) -> ButtonId:
    """The id matched by `TEMPLATE`; ValueError for an action this version does not know."""
    return ButtonId(int(match["guild"]), int(match["num"]), CardAction(match["action"]))


def parse(custom_id: str) -> ButtonId | None:
    match = _PATTERN.fullmatch(custom_id)
    if match is None:
        return None
    try:
        return from_match(match)
    except ValueError:
        return None


# -- forms ------------------------------------------------------------------------------------

# The buttons that open a form, and so the kinds of form there are.
FORM_KINDS: Final = frozenset(
    {CardAction.SUBMIT, CardAction.CHANGES, CardAction.OBJECT, CardAction.RELEASE}
)
_FORM: Final = re.compile(r"pb:f:(?P<guild>\d{1,20}):(?P<num>\d{1,9}):(?P<kind>[a-z]{1,10})")


@dataclass(frozen=True, slots=True)
class FormId:
    guild_id: int
    number: int
    kind: CardAction  # one of FORM_KINDS

    def __str__(self) -> str:
        return f"pb:f:{self.guild_id}:{self.number}:{self.kind.value}"


def parse_form(custom_id: str) -> FormId | None:
    match = _FORM.fullmatch(custom_id)
    if match is None:
        return None
    try:
        kind = CardAction(match["kind"])
    except ValueError:
        return None
    if kind not in FORM_KINDS:
        return None
    return FormId(int(match["guild"]), int(match["num"]), kind)
