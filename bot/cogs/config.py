"""/config: maintainers set up channels, roles, claim rules, the digest and milestones.

Hidden from members by default (Manage Server) and checked again in the service,
because server admins can change who sees a command.
"""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.domain.errors import DomainError, InvalidInput
from bot.domain.model import (
    CLAIM_DAYS,
    CLAIM_LIMIT,
    MAX_EXTENSIONS,
    MILESTONE_POINTS,
    REQUIRED_APPROVALS,
)
from bot.jobs.background import BackgroundJobs
from bot.services.config import WEEKDAY_NAMES, GuildConfig, timezone_suggestions
from bot.ui.client import PeerClient, PeerInteraction
from bot.ui.context import actor_of
from bot.ui.errors import refusals
from bot.ui.pings import ping_warning

DAY_CHOICES = [
    app_commands.Choice(name=d.capitalize(), value=i) for i, d in enumerate(WEEKDAY_NAMES)
]


def _channel(channel_id: int | None) -> str:
    return f"<#{channel_id}>" if channel_id else "not set"


def _role(role_id: int | None) -> str:
    return f"<@&{role_id}>" if role_id else "not set"


def config_embed(c: GuildConfig) -> discord.Embed:
    embed = discord.Embed(title="Peerboard settings")
    embed.add_field(
        name="Channels",
        value=f"Tasks: {_channel(c.tasks_channel_id)}\nReview: {_channel(c.review_channel_id)}\n"
        f"Digest: {_channel(c.digest_channel_id)}",
    )
    embed.add_field(
        name="Roles",
        value=f"Maintainers: {_role(c.maintainer_role_id)}\nReviewers: {_role(c.reviewer_role_id)}",
    )
    rules = c.rules
    window = f"{rules.claim_days} days" if rules.claim_days else "by size (3/7/14 days)"
    embed.add_field(
        name="Claims",
        value=f"Window: {window}\nExtensions: {rules.max_extensions}\n"
        f"Limits: newcomer {rules.limit_newcomer}, contributor {rules.limit_contributor}, "
        f"regular {rules.limit_regular}\n"
        f"Approvals needed: {rules.required_approvals}",
        inline=False,
    )
    digest = (
        f"{WEEKDAY_NAMES[c.digest_day].capitalize()}s at {c.digest_time} ({c.digest_timezone})"
        if c.digest_enabled
        else "off"
    )
    embed.add_field(name="Weekly digest", value=digest, inline=False)
    milestones = (
        "\n".join(f"{points} points → {_role(role)}" for points, role in c.milestones) or "none"
    )
    embed.add_field(name="Milestone roles", value=milestones, inline=False)
    return embed


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class ConfigCog(
    commands.GroupCog, group_name="config", group_description="Set Peerboard up (maintainers)"
):
    def __init__(self, bot: PeerClient, jobs: BackgroundJobs) -> None:
        self.bot = bot
        self.services = bot.services
        self.jobs = jobs

    async def _update(self, interaction: PeerInteraction, **changes: int | str | bool) -> None:
        await self._save(interaction, changes)

    async def _save(
        self,
        interaction: PeerInteraction,
        changes: dict[str, int | str | bool],
        *,
        pings: bool = False,
    ) -> None:
        """Save the changes; with `pings`, also say if review pings would reach nobody."""
        async with refusals(interaction):
            actor, _config = await actor_of(self.services, interaction)
            if not changes:
                raise InvalidInput("Nothing to change: pick at least one option.")
            config = await self.services.config.update(actor, **changes)
            warning = ping_warning(interaction.guild, config) if pings else None
            text = "Saved." if warning is None else f"Saved.\n{warning}"
            await interaction.response.send_message(
                text, embed=config_embed(config), ephemeral=True
            )

    @app_commands.command(name="show", description="Show the current settings")
    async def show(self, interaction: PeerInteraction) -> None:
        async with refusals(interaction):
            actor, config = await actor_of(self.services, interaction)
            if not actor.is_maintainer:
                raise DomainError("Only maintainers can see the settings.")
            await interaction.response.send_message(
                ping_warning(interaction.guild, config),
                embed=config_embed(config),
                ephemeral=True,
            )

    @app_commands.command(name="channels", description="Where cards, reviews and the digest go")
    async def channels(
        self,
        interaction: PeerInteraction,
        tasks: discord.TextChannel | None = None,
        review: discord.TextChannel | None = None,
        digest: discord.TextChannel | None = None,
    ) -> None:
        chosen = {
            "tasks_channel_id": tasks,
            "review_channel_id": review,
            "digest_channel_id": digest,
        }
        await self._save(
            interaction, {k: v.id for k, v in chosen.items() if v is not None}, pings=True
        )

    @app_commands.command(name="roles", description="Who maintains and who reviews")
    async def roles(
        self,
        interaction: PeerInteraction,
        maintainer: discord.Role | None = None,
        reviewer: discord.Role | None = None,
    ) -> None:
        chosen = {"maintainer_role_id": maintainer, "reviewer_role_id": reviewer}
        await self._save(
            interaction, {k: v.id for k, v in chosen.items() if v is not None}, pings=True
        )

    @app_commands.command(name="claims", description="Claim windows, limits and approvals")
    async def claims(
        self,
        interaction: PeerInteraction,
        claim_days: app_commands.Range[int, CLAIM_DAYS.min, CLAIM_DAYS.max] | None = None,
        max_extensions: app_commands.Range[int, MAX_EXTENSIONS.min, MAX_EXTENSIONS.max]
        | None = None,
        limit_newcomer: app_commands.Range[int, CLAIM_LIMIT.min, CLAIM_LIMIT.max] | None = None,
        limit_contributor: app_commands.Range[int, CLAIM_LIMIT.min, CLAIM_LIMIT.max] | None = None,
        limit_regular: app_commands.Range[int, CLAIM_LIMIT.min, CLAIM_LIMIT.max] | None = None,
        required_approvals: app_commands.Range[int, REQUIRED_APPROVALS.min, REQUIRED_APPROVALS.max]
        | None = None,
    ) -> None:
        values = {
            "claim_days": claim_days,
            "max_extensions": max_extensions,
            "limit_newcomer": limit_newcomer,
            "limit_contributor": limit_contributor,
            "limit_regular": limit_regular,
            "required_approvals": required_approvals,
        }
        await self._update(interaction, **{k: v for k, v in values.items() if v is not None})

    @app_commands.command(name="digest", description="When the weekly recognition digest is posted")
    @app_commands.describe(time="HH:MM, 24-hour", timezone="IANA name, e.g. Europe/Berlin")
    @app_commands.choices(day=DAY_CHOICES)
    async def digest(
        self,
        interaction: PeerInteraction,
        day: int | None = None,
        time: str | None = None,
        timezone: str | None = None,
        enabled: bool | None = None,
    ) -> None:
        values = {
            "digest_day": day,
            "digest_time": time,
            "digest_timezone": timezone,
            "digest_enabled": enabled,
        }
        await self._update(interaction, **{k: v for k, v in values.items() if v is not None})
        # Weekly digest: rebuild this guild's scheduled job for the new day, time and timezone.
        if interaction.guild_id is not None:
            await self.jobs.reschedule_digest(interaction.guild_id)

    @digest.autocomplete("timezone")
    async def _timezones(
        self, _interaction: PeerInteraction, current: str
    ) -> list[app_commands.Choice[str]]:
        return [
            app_commands.Choice(name=name, value=name) for name in timezone_suggestions(current)
        ]

    @app_commands.command(
        name="milestone", description="Grant a role when someone reaches a number of points"
    )
    @app_commands.describe(remove="Remove the milestone at these points instead")
    async def milestone(
        self,
        interaction: PeerInteraction,
        points: app_commands.Range[int, MILESTONE_POINTS.min, MILESTONE_POINTS.max],
        role: discord.Role,
        remove: bool = False,
    ) -> None:
        async with refusals(interaction):
            actor, _config = await actor_of(self.services, interaction)
            if not remove and (role.is_default() or role.managed):
                raise InvalidInput(
                    "Pick a regular role: not @everyone, and not one managed by an integration."
                )
            config = await self.services.config.set_milestone(
                actor, points, None if remove else role.id
            )
            done = (
                f"Removed the milestone at {points} points."
                if remove
                else f"At {points} points, members get {role.mention}."
            )
            await interaction.response.send_message(
                done, embed=config_embed(config), ephemeral=True
            )
