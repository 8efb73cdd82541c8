"""/kudos, /profile, /leaderboard: recognition that reads the ledger."""

from __future__ import annotations

from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.domain.scoring import KUDOS_REASON_MAX
from bot.ui import language
from bot.ui.client import PeerClient, PeerInteraction
from bot.ui.context import actor_of, is_maintainer
from bot.ui.errors import refusals
from bot.ui.recognition import leaderboard_embed, profile_embed
from bot.ui.text import safe, user


@app_commands.guild_only()
class RecognitionCog(commands.Cog):
    def __init__(self, bot: PeerClient) -> None:
        self.bot = bot
        self.services = bot.services

    @app_commands.guild_only()
    @app_commands.command(name="kudos", description="Thank someone for their work, in public")
    @app_commands.describe(member="Who to thank", reason="What for (up to 200 characters)")
    async def kudos(
        self,
        interaction: PeerInteraction,
        member: discord.Member,
        reason: app_commands.Range[str, 1, KUDOS_REASON_MAX],
    ) -> None:
        async with refusals(interaction):
            actor, config = await actor_of(self.services, interaction)
            result = await self.services.recognition.give_kudos(
                actor, member.id, member.bot, reason
            )
            tr = language.public(config, interaction.guild)  # the thanks is public
            # Public, and it pings the receiver only: never a role or @everyone, whatever the reason says.
            await interaction.response.send_message(
                tr(
                    "🙏 {receiver} — kudos from {giver}: “{reason}”",
                    receiver=user(result.receiver_id),
                    giver=user(result.giver_id),
                    reason=safe(result.reason, 200),
                ),
                allowed_mentions=discord.AllowedMentions(
                    users=[discord.Object(result.receiver_id)]
                ),
            )
            # The budget is a rolling 7 days (as the refusal says), not a calendar week.
            tr = language.caller(interaction, config)  # the rest only the giver sees
            left = result.left_this_week
            more = (
                tr(
                    "That was your last kudos for now: the budget refills as those you gave "
                    "get older than 7 days."
                )
                if left == 0
                else tr.plural(
                    "You can give kudos {n} more time for now: the budget counts the last 7 days.",
                    "You can give kudos {n} more times for now: the budget counts the last 7 days.",
                    left,
                )
            )
            thanks = tr("Thanks for noticing!")
            await interaction.followup.send(f"{thanks} {more}", ephemeral=True)

    @app_commands.guild_only()
    @app_commands.command(
        name="profile", description="Points, level and streak, from accepted work"
    )
    async def profile(
        self, interaction: PeerInteraction, member: discord.Member | None = None
    ) -> None:
        async with refusals(interaction):
            actor, config = await actor_of(self.services, interaction)
            target = member or interaction.user
            is_maint = actor.is_maintainer if target.id == actor.member_id else False
            reviewer = actor.has_reviewer_role if target.id == actor.member_id else False
            if (
                member is not None
                and member.id != actor.member_id
                and isinstance(member, discord.Member)
            ):
                is_maint = is_maintainer(member, member.guild_permissions, config)
                reviewer = config.reviewer_role_id in {role.id for role in member.roles}
            data = await self.services.recognition.profile(
                actor.guild_id, target.id, is_maintainer=is_maint, has_reviewer_role=reviewer
            )
            login = await self.services.github.login_of(actor.guild_id, target.id)
            tr = language.caller(interaction, config)
            embed = profile_embed(tr, data, safe(target.display_name, 80), github=login)
            await interaction.response.send_message(embed=embed, ephemeral=True)

    @app_commands.guild_only()
    @app_commands.command(name="leaderboard", description="Who moved things forward")
    async def leaderboard(
        self,
        interaction: PeerInteraction,
        period: Literal["week", "month", "all"] = "week",
        by: Literal["points", "tasks", "reviews", "kudos"] = "points",
    ) -> None:
        async with refusals(interaction):
            actor, config = await actor_of(self.services, interaction)
            rows = await self.services.recognition.leaderboard(actor.guild_id, period, by)
            tr = language.caller(interaction, config)
            await interaction.response.send_message(
                embed=leaderboard_embed(tr, rows, period, by), ephemeral=True
            )
