"""Buttons and modals on task cards.

Buttons are DynamicItems: their custom_id carries guild, task and action, so a card
posted last month still works after any number of restarts. Every click goes through
the service, which checks permission again: a button is no proof of right.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

import discord

from bot.domain.errors import DomainError
from bot.domain.model import LINK_MAX, NOTE_MAX, REASON_MAX

BUTTONS: dict[str, tuple[str, discord.ButtonStyle]] = {
    "claim": ("Claim", discord.ButtonStyle.success),
    "release": ("Release", discord.ButtonStyle.secondary),
    "submit": ("Submit", discord.ButtonStyle.primary),
    "approve": ("Approve", discord.ButtonStyle.success),
    "changes": ("Request changes", discord.ButtonStyle.secondary),
    "endorse": ("Endorse", discord.ButtonStyle.primary),
    "object": ("Object", discord.ButtonStyle.secondary),
    "extend": ("Still on it", discord.ButtonStyle.success),
}


class TaskButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"pb:t:(?P<guild>\d{1,20}):(?P<num>\d{1,9}):(?P<action>[a-z]{1,10})",
):
    def __init__(self, guild_id: int, number: int, action: str) -> None:
        label, style = BUTTONS[action]
        super().__init__(
            discord.ui.Button(
                label=label, style=style, custom_id=f"pb:t:{guild_id}:{number}:{action}"
            )
        )
        self.guild_id = guild_id
        self.number = number
        self.action = action

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> TaskButton:
        action = match["action"]
        if action not in BUTTONS:
            raise ValueError(f"unknown card action {action!r}")
        return cls(int(match["guild"]), int(match["num"]), action)

    async def callback(self, interaction: discord.Interaction) -> None:
        # discord.py only logs errors raised in a DynamicItem; route them to the member.
        from bot.ui import board
        from bot.ui.errors import report

        try:
            if interaction.guild_id not in (None, self.guild_id):
                raise DomainError("This button belongs to another server.")
            await board.on_button(interaction, self.guild_id, self.number, self.action)
        except DomainError as err:
            await report(interaction, err)
        except (
            Exception
        ) as err:  # unexpected: same path as the command tree, so it is logged with a ref
            await interaction.client.tree.on_error(interaction, err)  # type: ignore[attr-defined]


class _TaskModal(discord.ui.Modal):
    def __init__(self, guild_id: int, number: int, title: str) -> None:
        super().__init__(title=title[:45], timeout=900)
        self.guild_id = guild_id
        self.number = number

    async def on_error(  # type: ignore[override]  # discord.py's Modal.on_error has no item
        self, interaction: discord.Interaction, error: Exception, /
    ) -> None:
        from bot.ui.errors import report

        await report(interaction, error)


class SubmitModal(_TaskModal):
    def __init__(self, guild_id: int, number: int) -> None:
        super().__init__(guild_id, number, f"Submit #{number} for review")
        self.link: discord.ui.TextInput[Any] = discord.ui.TextInput(
            label="Link to your work",
            custom_id="link",
            required=False,
            max_length=LINK_MAX,
            placeholder="https://…",
        )
        self.notes: discord.ui.TextInput[Any] = discord.ui.TextInput(
            label="Notes for reviewers",
            custom_id="notes",
            required=False,
            max_length=NOTE_MAX,
            style=discord.TextStyle.paragraph,
        )
        self.add_item(self.link)
        self.add_item(self.notes)

    async def on_submit(self, interaction: discord.Interaction, /) -> None:
        from bot.ui import board

        await board.run_action(
            interaction,
            lambda s, a: s.tasks.submit(
                a, self.number, self.link.value or None, self.notes.value or None
            ),
        )


class ReasonModal(_TaskModal):
    """Request changes, object, or release with a note: one text field."""

    PROMPTS: ClassVar[dict[str, tuple[str, str, bool]]] = {
        "changes": ("Request changes on #{n}", "What needs to change?", True),
        "object": ("Object to proposal #{n}", "Why should this not open?", True),
        "release": ("Release #{n}", "A note for the next person (optional)", False),
    }

    def __init__(self, guild_id: int, number: int, kind: str) -> None:
        title, label, required = self.PROMPTS[kind]
        super().__init__(guild_id, number, title.format(n=number))
        self.kind = kind
        limit = NOTE_MAX if kind == "release" else REASON_MAX
        self.reason: discord.ui.TextInput[Any] = discord.ui.TextInput(
            label=label,
            custom_id="reason",
            required=required,
            max_length=limit,
            style=discord.TextStyle.paragraph,
        )
        self.add_item(self.reason)

    async def on_submit(self, interaction: discord.Interaction, /) -> None:
        from bot.ui import board

        text = self.reason.value
        n = self.number
        if self.kind == "changes":
            await board.run_action(
                interaction, lambda s, a: s.tasks.request_changes(a, n, text), self.guild_id
            )
        elif self.kind == "object":
            await board.run_action(
                interaction, lambda s, a: s.tasks.object(a, n, text), self.guild_id
            )
        else:
            await board.run_action(
                interaction, lambda s, a: s.tasks.release(a, n, text or None), self.guild_id
            )
