"""Buttons and modals on task cards.

Buttons are DynamicItems: their custom_id carries guild, task and action (the grammar
is in `ids.py`), so a card posted last month still works after any number of restarts.
Every click goes through the service, which checks permission again: a button is no
proof of right. What a click or a form does is the controller's (`actions.py`); this
module only draws them and hands them over.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

import discord

from bot.domain.errors import DomainError
from bot.domain.model import LINK_MAX, NOTE_MAX, REASON_MAX, Action
from bot.ui import ids
from bot.ui.client import Controller, client_of
from bot.ui.errors import ComponentError, refusals, report
from bot.ui.ids import ButtonId, CardAction
from bot.ui.requests import TaskRequest

BUTTONS: Final[dict[CardAction, tuple[str, discord.ButtonStyle]]] = {
    CardAction.CLAIM: ("Claim", discord.ButtonStyle.success),
    CardAction.RELEASE: ("Release", discord.ButtonStyle.secondary),
    CardAction.SUBMIT: ("Submit", discord.ButtonStyle.primary),
    CardAction.APPROVE: ("Approve", discord.ButtonStyle.success),
    CardAction.CHANGES: ("Request changes", discord.ButtonStyle.secondary),
    CardAction.ENDORSE: ("Endorse", discord.ButtonStyle.primary),
    CardAction.OBJECT: ("Object", discord.ButtonStyle.secondary),
    CardAction.EXTEND: ("Still on it", discord.ButtonStyle.success),
}


class TaskButton(discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]], template=ids.TEMPLATE):
    def __init__(self, button: ButtonId) -> None:
        label, style = BUTTONS[button.action]
        super().__init__(discord.ui.Button(label=label, style=style, custom_id=str(button)))
        self.button = button

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction,
        item: discord.ui.Item[discord.ui.View],
        match: re.Match[str],
        /,
    ) -> TaskButton:
        return cls(ids.from_match(match))  # an unknown action: ValueError, logged by discord.py

    async def callback(self, interaction: discord.Interaction) -> None:
        # discord.py only logs what a DynamicItem raises: answer the member here, and hand
        # the unexpected to the tree's handler, as a command's error would be.
        try:
            async with refusals(interaction):
                if interaction.guild_id not in (None, self.button.guild_id):
                    raise DomainError("This button belongs to another server.")
                await client_of(interaction).controller.on_button(interaction, self.button)
        except Exception as err:
            await client_of(interaction).error_handler.on_error(interaction, ComponentError(err))


# -- forms ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Prompt:
    title: str
    label: str
    required: bool
    action: Action
    limit: int


PROMPTS: Final[dict[CardAction, Prompt]] = {
    CardAction.CHANGES: Prompt(
        "Request changes on #{n}", "What needs to change?", True, Action.REQUEST_CHANGES, REASON_MAX
    ),
    CardAction.OBJECT: Prompt(
        "Object to proposal #{n}", "Why should this not open?", True, Action.OBJECT, REASON_MAX
    ),
    CardAction.RELEASE: Prompt(
        "Release #{n}", "A note for the next person (optional)", False, Action.RELEASE, NOTE_MAX
    ),
}


class _TaskModal(discord.ui.Modal):
    def __init__(self, controller: Controller, guild_id: int, number: int, title: str) -> None:
        super().__init__(title=title[:45], timeout=900)
        self.controller = controller
        self.guild_id = guild_id
        self.number = number

    async def on_error(  # type: ignore[override]  # discord.py's Modal.on_error has no item
        self, interaction: discord.Interaction, error: Exception, /
    ) -> None:
        await report(interaction, error)


class SubmitModal(_TaskModal):
    def __init__(self, controller: Controller, guild_id: int, number: int) -> None:
        super().__init__(controller, guild_id, number, f"Submit #{number} for review")
        self.link: discord.ui.TextInput[SubmitModal] = discord.ui.TextInput(
            label="Link to your work",
            custom_id="link",
            required=False,
            max_length=LINK_MAX,
            placeholder="https://…",
        )
        self.notes: discord.ui.TextInput[SubmitModal] = discord.ui.TextInput(
            label="Notes for reviewers",
            custom_id="notes",
            required=False,
            max_length=NOTE_MAX,
            style=discord.TextStyle.paragraph,
        )
        self.add_item(self.link)
        self.add_item(self.notes)

    async def on_submit(self, interaction: discord.Interaction, /) -> None:
        request = TaskRequest(
            Action.SUBMIT, self.number, link=self.link.value or None, notes=self.notes.value or None
        )
        # As before the split: a submission is always made in the server (no guild id given).
        await self.controller.perform(interaction, request)


class ReasonModal(_TaskModal):
    """Request changes, object, or release with a note: one text field."""

    def __init__(
        self, controller: Controller, guild_id: int, number: int, kind: CardAction
    ) -> None:
        prompt = PROMPTS[kind]
        super().__init__(controller, guild_id, number, prompt.title.format(n=number))
        self.prompt = prompt
        self.reason: discord.ui.TextInput[ReasonModal] = discord.ui.TextInput(
            label=prompt.label,
            custom_id="reason",
            required=prompt.required,
            max_length=prompt.limit,
            style=discord.TextStyle.paragraph,
        )
        self.add_item(self.reason)

    async def on_submit(self, interaction: discord.Interaction, /) -> None:
        text: str | None = self.reason.value
        if self.prompt.action is Action.RELEASE:
            text = text or None  # an empty note is no note
        request = TaskRequest(self.prompt.action, self.number, text=text)
        await self.controller.perform(interaction, request, self.guild_id)
