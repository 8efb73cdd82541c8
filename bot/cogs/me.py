"""/me: what concerns only the caller."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.domain.errors import DomainError
from bot.ui.context import actor_of, services_of
from bot.ui.errors import report
from bot.ui.listing import my_tasks_embed


@app_commands.guild_only()
class MeCog(commands.GroupCog, group_name="me", group_description="Your own tasks and preferences"):
    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot

    @app_commands.command(name="tasks", description="Your claims, and reviews waiting for you")
    async def tasks(self, interaction: discord.Interaction) -> None:
        try:
            actor, _config = await actor_of(interaction)
            services = services_of(interaction)
            mine = await services.tasks.list_tasks(
                actor.guild_id, member_id=actor.member_id, limit=25
            )
            reviews = await services.tasks.reviews_waiting(actor)
        except DomainError as err:
            await report(interaction, err)
            return
        embed = my_tasks_embed(mine.items, reviews, actor.member_id)
        await interaction.response.send_message(embed=embed, ephemeral=True)


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(MeCog(bot))
