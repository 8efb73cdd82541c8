"""/me: what concerns only the caller."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.cogs import github as handlers
from bot.domain.dates import parse_due
from bot.domain.errors import Phrase
from bot.ui import language, messages
from bot.ui.client import PeerClient, PeerInteraction
from bot.ui.context import actor_of
from bot.ui.errors import refusals
from bot.ui.listing import my_tasks_embed


@app_commands.guild_only()
class MeCog(commands.GroupCog, group_name="me", group_description="Your own tasks and preferences"):
    def __init__(self, bot: PeerClient) -> None:
        self.bot = bot
        self.services = bot.services

    @app_commands.command(name="tasks", description="Your claims, and reviews waiting for you")
    async def tasks(self, interaction: PeerInteraction) -> None:
        async with refusals(interaction):
            actor, config = await actor_of(self.services, interaction)
            mine = await self.services.tasks.list_tasks(
                actor.guild_id, member_id=actor.member_id, limit=25
            )
            reviews = await self.services.tasks.reviews_waiting(actor)
            tr = language.caller(interaction, config)
            embed = my_tasks_embed(tr, mine.items, reviews, actor.member_id)
            await interaction.response.send_message(embed=embed, ephemeral=True)

    @app_commands.command(name="reminders", description="Turn my reminders on or off")
    async def reminders(self, interaction: PeerInteraction, enabled: bool) -> None:
        async with refusals(interaction):
            actor, config = await actor_of(self.services, interaction)
            await self.services.reminders.set_reminders(actor, enabled)
            tr = language.caller(interaction, config)
            text = (
                tr("Reminders are on: I'll DM you before a claim runs out or a task falls due.")
                if enabled
                else tr(
                    "Reminders are off. Your claims still expire at the end of their window, so keep an eye on them."
                )
            )
            await interaction.response.send_message(text, ephemeral=True)

    @app_commands.command(
        name="away", description="Pause my reminders and review pings until a date"
    )
    @app_commands.describe(
        until='A date (2026-12-01) or "in 2 weeks"; leave empty to come back now'
    )
    async def away(self, interaction: PeerInteraction, until: str | None = None) -> None:
        async with refusals(interaction):
            actor, config = await actor_of(self.services, interaction)
            now = self.services.clock.now()
            when = (
                parse_due(until, now, config.timezone, subject=Phrase("That “away until” date"))
                if until
                else None
            )
            reminders_on = await self.services.reminders.set_away(actor, when)
            tr = language.caller(interaction, config)
            if when is None:
                text = messages.back_from_away(tr, reminders_on)
            else:
                member = interaction.user
                held = {r.id for r in member.roles} if isinstance(member, discord.Member) else set()
                pinged = [
                    r
                    for r in (config.reviewer_role_id, config.maintainer_role_id)
                    if r is not None and r in held
                ]
                text = messages.away_until(tr, when, pinged, config.review_channel_id)
            await interaction.response.send_message(text, ephemeral=True)

    @app_commands.command(
        name="ranking", description="Show or hide me in public rankings and top lists"
    )
    async def ranking(self, interaction: PeerInteraction, visible: bool) -> None:
        async with refusals(interaction):
            actor, config = await actor_of(self.services, interaction)
            await self.services.recognition.set_ranking_visible(actor, visible)
            tr = language.caller(interaction, config)
            text = (
                tr("You're shown in leaderboards and the digest's top lists again.")
                if visible
                else tr(
                    "You're hidden from leaderboards and top lists. Your credit on tasks stays, and so do your points."
                )
            )
            await interaction.response.send_message(text, ephemeral=True)

    @app_commands.command(name="github", description="Say which GitHub account is yours")
    @app_commands.describe(
        login="Your GitHub username", remove="Remove the GitHub account you gave"
    )
    async def github(
        self,
        interaction: PeerInteraction,
        login: app_commands.Range[str, 1, 40] | None = None,
        remove: bool = False,
    ) -> None:
        await handlers.my_login(interaction, login, remove)
