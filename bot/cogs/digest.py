"""/digest preview and /digest post (maintainers).

Hidden from members by default (Manage Server) and checked again in the service,
because server admins can change who sees a command.
"""

from __future__ import annotations

from datetime import datetime

from discord import app_commands
from discord.ext import commands

from bot import i18n
from bot.domain.digest import Digest
from bot.domain.errors import Phrase
from bot.jobs.background import BackgroundJobs
from bot.jobs.digest import Published, PublishResult
from bot.services.config import GuildConfig
from bot.ui import language
from bot.ui.client import PeerClient, PeerInteraction
from bot.ui.context import actor_of
from bot.ui.digest import render
from bot.ui.digest_parts import week_label
from bot.ui.errors import refusals
from bot.ui.text import safe, stamp

# When the digest goes out, each weekday a message of its own ("Mondays at 09:00 (UTC)").
SCHEDULE = (
    Phrase("Mondays at {time} ({timezone})"),
    Phrase("Tuesdays at {time} ({timezone})"),
    Phrase("Wednesdays at {time} ({timezone})"),
    Phrase("Thursdays at {time} ({timezone})"),
    Phrase("Fridays at {time} ({timezone})"),
    Phrase("Saturdays at {time} ({timezone})"),
    Phrase("Sundays at {time} ({timezone})"),
)


def schedule_line(tr: i18n.Texts, config: GuildConfig) -> str:
    if not config.digest_enabled:
        return tr(
            "The weekly digest is off (`/config digest enabled:True` turns it on); "
            "`/digest post` posts it anyway."
        )
    when = tr(
        SCHEDULE[config.digest_day],
        time=config.digest_time,
        timezone=safe(config.digest_timezone, 64),
    )
    if config.digest_channel_id is None:
        return tr(
            "It's due {when}, but no digest channel is set, so it won't be posted: "
            "pick one with `/config channels digest:`.",
            when=when,
        )
    return tr(
        "It goes out {when} in {channel}.", when=when, channel=f"<#{config.digest_channel_id}>"
    )


def preview_intro(tr: i18n.Texts, digest: Digest, config: GuildConfig, now: datetime) -> str:
    week = week_label(tr, digest.week)
    intro = (
        tr(
            "👀 Preview of the digest for **{week}** (the week so far) — only you can see this.",
            week=week,
        )
        if digest.week.end > now
        else tr("👀 Preview of the digest for **{week}** — only you can see this.", week=week)
    )
    return f"{intro} {schedule_line(tr, config)}"


def post_reply(tr: i18n.Texts, result: PublishResult, label: str, channel_id: int) -> str:
    record = result.record
    link = record.url if record is not None and record.url else None
    channel = f"<#{channel_id}>"
    if result.outcome is Published.POSTED:
        return tr(
            "📬 Posted the digest for **{week}** in {channel}: {link}",
            week=label,
            channel=channel,
            link=link,
        )
    if result.outcome is Published.ALREADY:
        return _already(
            tr, label, stamp(record.posted_at) if record and record.posted_at else None, link
        )
    if result.outcome is Published.BUSY:
        return tr(
            "The digest for **{week}** is being posted right now (or waits for a retry "
            "after Discord refused it). Give it a few minutes.",
            week=label,
        )
    return tr(
        "I couldn't post the digest in {channel} — Discord said: {error}. "
        "Check that I can send messages and embed links there, then try again.",
        channel=channel,
        error=safe(result.error, 200),
    )


def _already(tr: i18n.Texts, week: str, when: str | None, link: str | None) -> str:
    if when and link:
        return tr(
            "Good news — the digest for **{week}** was already posted {when}: {link} "
            "I won't post it twice, so nothing new went out.",
            week=week,
            when=when,
            link=link,
        )
    if when:
        return tr(
            "Good news — the digest for **{week}** was already posted {when}. "
            "I won't post it twice, so nothing new went out.",
            week=week,
            when=when,
        )
    if link:
        return tr(
            "Good news — the digest for **{week}** was already posted: {link} "
            "I won't post it twice, so nothing new went out.",
            week=week,
            link=link,
        )
    return tr(
        "Good news — the digest for **{week}** was already posted. "
        "I won't post it twice, so nothing new went out.",
        week=week,
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
            # The digest as the guild will read it; what is said about it, in the caller's.
            messages = render(language.public(config, interaction.guild), digest)
            tr = language.caller(interaction, config)
            await interaction.followup.send(
                preview_intro(tr, digest, config, self.services.clock.now()),
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
            tr = language.caller(interaction, config)
            label = week_label(tr, week)
            record = result.record
            where = record.channel_id if record and record.channel_id else channel_id
            await interaction.followup.send(post_reply(tr, result, label, where), ephemeral=True)
