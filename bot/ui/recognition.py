"""Recognition as members see it: profile and leaderboard embeds, milestone roles."""

from __future__ import annotations

import logging

import discord

from bot import i18n
from bot.domain.errors import Phrase
from bot.domain.model import TrustLevel
from bot.domain.scoring import NextLevel
from bot.services.config import GuildConfig
from bot.services.recognition import Profile
from bot.services.registry import Services
from bot.ui.messages import milestone_refused
from bot.ui.text import safe, user

log = logging.getLogger("peerboard.recognition")

# Texts looked up by a key: each a message of its own in the catalog (Phrase is extracted).
LEVEL_LABEL = {
    "newcomer": Phrase("🌱 Newcomer"),
    "contributor": Phrase("🌿 Contributor"),
    "regular": Phrase("🌳 Regular"),
}
# The leaderboard's title, whole, for each ranking and period.
BOARD_TITLE = {
    ("points", "week"): Phrase("Top contributors by points, the last 7 days"),
    ("points", "month"): Phrase("Top contributors by points, the last 30 days"),
    ("points", "all"): Phrase("Top contributors by points, all time"),
    ("tasks", "week"): Phrase("Top contributors by tasks done, the last 7 days"),
    ("tasks", "month"): Phrase("Top contributors by tasks done, the last 30 days"),
    ("tasks", "all"): Phrase("Top contributors by tasks done, all time"),
    ("reviews", "week"): Phrase("Top contributors by reviews, the last 7 days"),
    ("reviews", "month"): Phrase("Top contributors by reviews, the last 30 days"),
    ("reviews", "all"): Phrase("Top contributors by reviews, all time"),
    ("kudos", "week"): Phrase("Top contributors by kudos, the last 7 days"),
    ("kudos", "month"): Phrase("Top contributors by kudos, the last 30 days"),
    ("kudos", "all"): Phrase("Top contributors by kudos, all time"),
}
MEDALS = ("🥇", "🥈", "🥉")


def score(tr: i18n.Texts, by: str, n: int) -> str:
    """A score with its unit: "1 point", "1 task done", "1 review", "2 kudos"."""
    if by == "tasks":
        return tr.plural("{n} task done", "{n} tasks done", n)
    if by == "reviews":
        return tr.plural("{n} review", "{n} reviews", n)
    if by == "kudos":
        return tr.plural("{n} kudos", "{n} kudos", n)
    return tr.plural("{n} point", "{n} points", n)


def profile_embed(
    tr: i18n.Texts, p: Profile, name: str, *, github: str | None = None
) -> discord.Embed:
    """`github`: the GitHub login the member gave (/me github)."""
    embed = discord.Embed(title=tr("{name}'s profile", name=name), colour=0x2ECC71)
    embed.add_field(name=tr("Level"), value=tr(LEVEL_LABEL[p.level.value]))
    embed.add_field(name=tr("Points"), value=tr.number(p.points))
    embed.add_field(name=tr("Tasks done"), value=tr.number(p.tasks_done))
    embed.add_field(name=tr("Reviews given"), value=tr.number(p.reviews_given))
    embed.add_field(name=tr("Kudos received"), value=tr.number(p.kudos_received))
    streak = tr.plural("{n} week", "{n} weeks", p.streak_weeks) if p.streak_weeks else "—"
    embed.add_field(name=tr("Streak"), value=streak)
    limit = (
        tr("no limit (maintainer)")
        if p.claim_limit is None
        else tr("{held} of {limit}", held=p.held_claims, limit=p.claim_limit)
    )
    embed.add_field(name=tr("Tasks held"), value=limit)
    if github:
        embed.add_field(name="GitHub", value=f"@{safe(github, 39)}")
    if p.next_level:
        embed.add_field(
            name=tr("Next level"), value=next_level_text(tr, p.next_level), inline=False
        )
    if not p.ranking_visible:
        embed.set_footer(text=tr("Hidden from public rankings (credit on tasks stays)."))
    return embed


def leaderboard_embed(
    tr: i18n.Texts, rows: list[tuple[int, int]], period: str, by: str
) -> discord.Embed:
    lines = []
    for i, (member, points) in enumerate(rows):
        rank = MEDALS[i] if i < len(MEDALS) else f"{i + 1}."
        lines.append(f"{rank} {user(member)} — {score(tr, by, points)}")
    return discord.Embed(
        title=tr(BOARD_TITLE[by, period]),
        description="\n".join(lines)
        or tr("No credit yet in this period — every task done counts!"),
        colour=0xF1C40F,
    )


async def grant_milestones(
    tr: i18n.Texts,
    client: discord.Client,
    services: Services,
    config: GuildConfig,
    member_ids: tuple[int, ...],
) -> None:
    """Give milestone roles members have just reached. If Discord refuses (the role sits
    above the bot's, or Manage Roles is missing), nothing breaks: maintainers are told once.
    `tr`: the guild's language (`language.public`): the audit log's reason and the notice
    to maintainers are read in the guild."""
    guild_id = config.guild_id
    for member_id in member_ids:
        for due in await services.recognition.milestones_due(guild_id, member_id):
            try:
                await client.http.add_role(
                    guild_id,
                    member_id,
                    due.role_id,
                    reason=tr.plural(
                        "Peerboard milestone: {n} point",
                        "Peerboard milestone: {n} points",
                        due.points,
                    ),
                )
                granted = True
            except discord.Forbidden:
                granted = False
            except discord.HTTPException:
                log.warning("could not grant milestone role %s", due.role_id, exc_info=True)
                continue  # try again on the next credit
            first_problem = await services.recognition.record_grant(
                guild_id, member_id, due, granted=granted
            )
            if not granted and first_problem:
                await _tell_maintainers(tr, client, config, due.role_id, due.points)


async def _tell_maintainers(
    tr: i18n.Texts, client: discord.Client, config: GuildConfig, role_id: int, points: int
) -> None:
    channel_id = config.review_channel_id or config.tasks_channel_id
    channel = client.get_channel(channel_id) if channel_id else None
    if channel is None or not isinstance(channel, discord.abc.Messageable):
        log.warning("milestone role %s refused and no channel to say so", role_id)
        return
    pings = (
        discord.AllowedMentions(roles=[discord.Object(config.maintainer_role_id)])
        if config.maintainer_role_id
        else discord.AllowedMentions.none()
    )
    try:
        await channel.send(
            milestone_refused(tr, role_id, points, config.maintainer_role_id),
            allowed_mentions=pings,
        )
    except discord.HTTPException:
        log.warning("could not tell maintainers about milestone role %s", role_id, exc_info=True)


def next_level_text(tr: i18n.Texts, next: NextLevel) -> str:
    """What the next trust level takes and unlocks, as one sentence per case."""
    if next.level is TrustLevel.CONTRIBUTOR:
        if next.reviews:
            return tr(
                "1 accepted task to become a contributor: hold up to {limit} tasks at once and review others' work.",
                limit=next.limit,
            )
        return tr(
            "1 accepted task to become a contributor: hold up to {limit} tasks at once.",
            limit=next.limit,
        )
    if next.creates:
        return tr.plural(
            "{n} more accepted task to become a regular: hold up to {limit} tasks at once and put tasks on the board.",
            "{n} more accepted tasks to become a regular: hold up to {limit} tasks at once and put tasks on the board.",
            next.tasks,
            limit=next.limit,
        )
    return tr.plural(
        "{n} more accepted task to become a regular: hold up to {limit} tasks at once.",
        "{n} more accepted tasks to become a regular: hold up to {limit} tasks at once.",
        next.tasks,
        limit=next.limit,
    )
