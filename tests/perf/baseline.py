"""The floor: a tiny discord.py bot with the same command names, options and buttons as
Peerboard, answering each with a constant reply. Its latency through SimCord is what
discord.py and the simulator cost on their own; every Peerboard figure is a ratio to it."""

from __future__ import annotations

import re
from typing import Any, Literal

import discord
from discord import app_commands
from discord.ext import commands

Status = Literal["open", "claimed", "in_review", "done", "cancelled", "proposed", "all"]


async def _choices(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    return [app_commands.Choice(name="#1 · A task (open)", value="1")]


class ConstantButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"pb:t:(?P<guild>\d{1,20}):(?P<num>\d{1,9}):(?P<action>[a-z]{1,10})",
):
    def __init__(self, custom_id: str) -> None:
        super().__init__(discord.ui.Button(label="Claim", custom_id=custom_id))

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ConstantButton:
        return cls(item.custom_id or "")  # type: ignore[attr-defined]

    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message("ok", ephemeral=True)


class NextView(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=600)

    @discord.ui.button(label="Next")
    async def next(self, interaction: discord.Interaction, _b: discord.ui.Button[Any]) -> None:
        await interaction.response.edit_message(content="ok", view=self)


def card(guild_id: int, number: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(ConstantButton(f"pb:t:{guild_id}:{number}:claim"))
    return view


class Tasks(commands.GroupCog, group_name="task", group_description="Work on the task board"):
    @app_commands.command(name="claim", description="Take a task on")
    @app_commands.autocomplete(task=_choices)
    async def claim(self, interaction: discord.Interaction, task: str) -> None:
        await interaction.response.send_message("ok", ephemeral=True)

    @app_commands.command(name="show", description="Show a task's card")
    @app_commands.autocomplete(task=_choices)
    async def show(self, interaction: discord.Interaction, task: str) -> None:
        await interaction.response.send_message(
            "ok", view=card(interaction.guild_id or 0, 1), ephemeral=True
        )

    @app_commands.command(name="list", description="Browse the board, 10 tasks a page")
    async def list_(
        self,
        interaction: discord.Interaction,
        status: Status | None = None,
        tag: str | None = None,
        member: discord.Member | None = None,
        mine: bool = False,
    ) -> None:
        await interaction.response.send_message("ok", view=NextView(), ephemeral=True)


class Profile(commands.Cog):
    @app_commands.command(name="profile", description="Points, level and streak")
    async def profile(
        self, interaction: discord.Interaction, member: discord.Member | None = None
    ) -> None:
        await interaction.response.send_message("ok", ephemeral=True)


class BaselineBot(commands.Bot):
    def __init__(self) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=discord.Intents.default(),
            allowed_mentions=discord.AllowedMentions.none(),
            help_command=None,
        )

    async def setup_hook(self) -> None:
        await self.add_cog(Tasks())
        await self.add_cog(Profile())
        self.add_dynamic_items(ConstantButton)
        await self.tree.sync()

    async def post_card(self, channel_id: int, guild_id: int, number: int) -> discord.Message:
        channel = self.get_channel(channel_id)
        assert isinstance(channel, discord.TextChannel)
        return await channel.send("ok", view=card(guild_id, number))
