"""/digest preview and /digest post (maintainers).

Hidden from members by default (Manage Server) and checked again in the service,
because server admins can change who sees a command.
"""

from __future__ import annotations

from datetime import datetime

from discord import app_commands
from discord.ext import commands

from bot.domain.digest import Digest
from bot.jobs.background import BackgroundJobs
from bot.jobs.digest import Published, PublishResult
from bot.services.config import WEEKDAY_NAMES, GuildConfig
from bot.ui.client import PeerClient, PeerInteraction
from bot.ui.context import actor_of
from bot.ui.digest import render, week_label
from bot.ui.errors import refusals
from bot.ui.text import safe, stamp


def schedule_line(config: GuildConfig) -> str:
    if not config.digest_enabled:
        return (
            "The weekly digest is off (`/config digest enabled:True` turns it on); "
            "`/digest post` posts it anyway."
        )
    when = (
        f"{WEEKDAY_NAMES[config.digest_day].capitalize()}s at {config.digest_time} "
        f"({safe(config.digest_timezone, 64)})"
    )
    if config.digest_channel_id is None:
        return (
            f"It's due {when}, but no digest channel is set, so it won't be posted: "
            "pick one with `/config channels digest:`."
        )
    return f"It goes out {when} in <#{config.digest_channel_id}>."


def preview_intro(digest: Digest, config: GuildConfig, now: datetime) -> str:
    so_far = " (the week so far)" if digest.week.end > now else ""
    return (
        f"👀 Preview of the digest for **{week_label(digest.week)}**{so_far} — only you can "
        f"see this. {schedule_line(config)}"
    )


def post_reply(result: PublishResult, label: str, channel_id: int) -> str:
    record = result.record
    link = record.url if record is not None and record.url else None
    if result.outcome is Published.POSTED:
        return f"📬 Posted the digest for **{label}** in <#{channel_id}>: {link}"
    if result.outcome is Published.ALREADY:
        when = f" {stamp(record.posted_at)}" if record and record.posted_at else ""
        where = f": {link}" if link else "."
        return (
            f"Good news — the digest for **{label}** was already posted{when}{where} "
            "I won't post it twice, so nothing new went out."
        )
    if result.outcome is Published.BUSY:
        return (
            f"The digest for **{label}** is being posted right now (or waits for a retry "
            "after Discord refused it). Give it a few minutes."
        )
    return (
        f"I couldn't post the digest in <#{channel_id}> — Discord said: {safe(result.error, 200)}. "
        "Check that I can send messages and embed links there, then try again."
    )


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class DigestCog(
    commands.GroupCog, group_name="digest", group_description="The weekly recognition digest"
):
    def __init__(self, bot: PeerClient, jobs: BackgroundJobs) -> None:
        self.bot = bot
        self.services = bot.services
        self.jobs = jobs

    @app_commands.command(
        name="preview", description="See the weekly digest as it stands now (only you)"
    )
    async def preview(self, interaction: PeerInteraction) -> None:
        async with refusals(interaction):
            actor, config = await actor_of(self.services, interaction)
            await interaction.response.defer(ephemeral=True, thinking=True)
            digest = await self.services.digest.preview(actor)
            messages = render(digest)
            await interaction.followup.send(
                preview_intro(digest, config, self.services.clock.now()),
                embeds=messages[0],
                ephemeral=True,
            )
            for embeds in messages[1:]:
                await interaction.followup.send(embeds=embeds, ephemeral=True)

    @app_commands.command(
        name="post", description="Post last week's digest now (once per week, never twice)"
    )
    async def post(self, interaction: PeerInteraction) -> None:
        async with refusals(interaction):
            actor, config = await actor_of(self.services, interaction)
            await interaction.response.defer(ephemeral=True, thinking=True)
            week = await self.services.digest.start_post(actor)
            # Without a digest channel, the maintainer asked here: post it here.
            channel_id = config.digest_channel_id or interaction.channel_id
            assert channel_id is not None
            result = await self.jobs.post_digest(actor.guild_id, week, channel_id)
            label = week_label(week)
            record = result.record
            where = record.channel_id if record and record.channel_id else channel_id
            await interaction.followup.send(post_reply(result, label, where), ephemeral=True)
