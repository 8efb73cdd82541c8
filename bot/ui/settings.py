"""The settings embed /config shows after every change (and /config show), in the reader's
language: only maintainers see it, in an ephemeral reply."""

from __future__ import annotations

import discord

from bot import i18n
from bot.services.config import GuildConfig
from bot.ui.language import public


def _channel(tr: i18n.Texts, channel_id: int | None) -> str:
    return f"<#{channel_id}>" if channel_id else tr("not set")


def _role(tr: i18n.Texts, role_id: int | None) -> str:
    return f"<@&{role_id}>" if role_id else tr("not set")


def digest_line(tr: i18n.Texts, day: int, time: str, timezone: str) -> str:
    """`Mondays at 09:00 (UTC)`: one whole message per weekday, since how a weekly day is
    said ("Mondays", "los lunes", "montags") is the language's."""
    lines = (
        tr("Mondays at {time} ({timezone})", time=time, timezone=timezone),
        tr("Tuesdays at {time} ({timezone})", time=time, timezone=timezone),
        tr("Wednesdays at {time} ({timezone})", time=time, timezone=timezone),
        tr("Thursdays at {time} ({timezone})", time=time, timezone=timezone),
        tr("Fridays at {time} ({timezone})", time=time, timezone=timezone),
        tr("Saturdays at {time} ({timezone})", time=time, timezone=timezone),
        tr("Sundays at {time} ({timezone})", time=time, timezone=timezone),
    )
    return lines[day]


def language_line(tr: i18n.Texts, c: GuildConfig, guild: discord.Guild | None) -> str:
    """Which language the guild's public posts are in, and why."""
    if c.language is not None:
        return tr("{language} (set with /config language)", language=i18n.LANGUAGES[c.language])
    shown = i18n.LANGUAGES[public(c, guild).code]
    return tr("{language}, following the server's Discord language", language=shown)


def config_embed(
    tr: i18n.Texts, c: GuildConfig, guild: discord.Guild | None = None
) -> discord.Embed:
    embed = discord.Embed(title=tr("Peerboard settings"))
    embed.add_field(
        name=tr("Channels"),
        value="\n".join(
            (
                tr("Tasks: {channel}", channel=_channel(tr, c.tasks_channel_id)),
                tr("Review: {channel}", channel=_channel(tr, c.review_channel_id)),
                tr("Digest: {channel}", channel=_channel(tr, c.digest_channel_id)),
            )
        ),
    )
    embed.add_field(
        name=tr("Roles"),
        value="\n".join(
            (
                tr("Maintainers: {role}", role=_role(tr, c.maintainer_role_id)),
                tr("Reviewers: {role}", role=_role(tr, c.reviewer_role_id)),
            )
        ),
    )
    rules = c.rules
    window = (
        tr.plural("{n} day", "{n} days", rules.claim_days)
        if rules.claim_days
        else tr("by size (3/7/14 days)")
    )
    embed.add_field(
        name=tr("Claims"),
        value="\n".join(
            (
                tr("Window: {window}", window=window),
                tr("Extensions: {count}", count=rules.max_extensions),
                tr(
                    "Limits: newcomer {newcomer}, contributor {contributor}, regular {regular}",
                    newcomer=rules.limit_newcomer,
                    contributor=rules.limit_contributor,
                    regular=rules.limit_regular,
                ),
                tr("Approvals needed: {count}", count=rules.required_approvals),
            )
        ),
        inline=False,
    )
    create = (
        tr("Creating tasks: regulars too")
        if rules.regulars_can_create
        else tr("Creating tasks: maintainers only")
    )
    embed.add_field(
        name=tr("Trust"),
        value="\n".join(
            (
                tr.plural(
                    "Regular after {n} task done",
                    "Regular after {n} tasks done",
                    rules.regular_threshold,
                ),
                create,
            )
        ),
    )
    embed.add_field(
        name=tr("Proposals"),
        value="\n".join(
            (
                tr.plural(
                    "Open at {n} endorsement",
                    "Open at {n} endorsements",
                    rules.proposal_endorsements,
                ),
                tr.plural(
                    "or after {n} hour with no objection",
                    "or after {n} hours with no objection",
                    rules.proposal_window_hours,
                ),
                tr(
                    "Waiting at a time: newcomer {newcomer}, contributor {contributor}, regular {regular}",
                    newcomer=rules.proposal_limit_newcomer,
                    contributor=rules.proposal_limit_contributor,
                    regular=rules.proposal_limit_regular,
                ),
            )
        ),
    )
    embed.add_field(
        name=tr("Reviews"),
        value="\n".join(
            (
                tr.plural(
                    "{n} point per task reviewed",
                    "{n} points per task reviewed",
                    rules.review_points,
                ),
                tr.plural(
                    "First nudge after {n} hour",
                    "First nudge after {n} hours",
                    rules.review_nudge_hours,
                ),
                tr.plural(
                    "Maintainers asked after {n} round of changes",
                    "Maintainers asked after {n} rounds of changes",
                    rules.rework_limit,
                ),
            )
        ),
    )
    embed.add_field(
        name=tr("Kudos"),
        value=tr.plural(
            "{n} kudos per member in any 7 days",
            "{n} kudos per member in any 7 days",
            rules.kudos_weekly_budget,
        ),
    )
    digest = (
        digest_line(tr, c.digest_day, c.digest_time, c.digest_timezone)
        if c.digest_enabled
        else tr("off")
    )
    embed.add_field(name=tr("Weekly digest"), value=digest, inline=False)
    milestones = "\n".join(
        tr(
            "{points} → {role}",
            points=tr.plural("{n} point", "{n} points", points),
            role=_role(tr, role),
        )
        for points, role in c.milestones
    )
    embed.add_field(name=tr("Milestone roles"), value=milestones or tr("none"), inline=False)
    embed.add_field(name=tr("Language"), value=language_line(tr, c, guild), inline=False)
    return embed
