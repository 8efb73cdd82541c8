"""Recognition as members see it: profile and leaderboard embeds, milestone roles."""

from __future__ import annotations

import logging

import discord

from bot.services.config import GuildConfig
from bot.services.recognition import Profile
from bot.services.registry import Services
from bot.ui.messages import milestone_refused
from bot.ui.text import plural, safe, user

log = logging.getLogger("peerboard.recognition")

LEVEL_LABEL = {"newcomer": "🌱 Newcomer", "contributor": "🌿 Contributor", "regular": "🌳 Regular"}
BY_LABEL = {"points": "points", "tasks": "tasks done", "reviews": "reviews", "kudos": "kudos"}
# A score's unit, one and many: "1 point", "1 task done", "1 review", "2 kudos".
BY_UNIT = {
    "points": ("point", "points"),
    "tasks": ("task done", "tasks done"),
    "reviews": ("review", "reviews"),
    "kudos": ("kudos", "kudos"),
}
PERIOD_LABEL = {"week": "the last 7 days", "month": "the last 30 days", "all": "all time"}
MEDALS = ("🥇", "🥈", "🥉")


def profile_embed(p: Profile, name: str, *, github: str | None = None) -> discord.Embed:
    """`github`: the GitHub login the member gave (/me github)."""
    embed = discord.Embed(title=f"{name}'s profile", colour=0x2ECC71)
    embed.add_field(name="Level", value=LEVEL_LABEL[p.level.value])
    embed.add_field(name="Points", value=str(p.points))
    embed.add_field(name="Tasks done", value=str(p.tasks_done))
    embed.add_field(name="Reviews given", value=str(p.reviews_given))
    embed.add_field(name="Kudos received", value=str(p.kudos_received))
    embed.add_field(name="Streak", value=plural(p.streak_weeks, "week") if p.streak_weeks else "—")
    limit = (
        "no limit (maintainer)" if p.claim_limit is None else f"{p.held_claims} of {p.claim_limit}"
    )
    embed.add_field(name="Tasks held", value=limit)
    if github:
        embed.add_field(name="GitHub", value=f"@{safe(github, 39)}")
    if p.next_level:
        embed.add_field(name="Next level", value=p.next_level, inline=False)
    if not p.ranking_visible:
        embed.set_footer(text="Hidden from public rankings (credit on tasks stays).")
    return embed


def leaderboard_embed(rows: list[tuple[int, int]], period: str, by: str) -> discord.Embed:
    lines = []
    for i, (member, score) in enumerate(rows):
        rank = MEDALS[i] if i < len(MEDALS) else f"{i + 1}."
        lines.append(f"{rank} {user(member)} — {plural(score, *BY_UNIT[by])}")
    return discord.Embed(
        title=f"Top contributors by {BY_LABEL[by]}, {PERIOD_LABEL[period]}",
        description="\n".join(lines) or "No credit yet in this period — every task done counts!",
        colour=0xF1C40F,
    )


async def grant_milestones(
    client: discord.Client, services: Services, config: GuildConfig, member_ids: tuple[int, ...]
) -> None:
    """Give milestone roles members have just reached. If Discord refuses (the role sits
    above the bot's, or Manage Roles is missing), nothing breaks: maintainers are told once."""
    guild_id = config.guild_id
    for member_id in member_ids:
        for due in await services.recognition.milestones_due(guild_id, member_id):
            try:
                await client.http.add_role(
                    guild_id,
                    member_id,
                    due.role_id,
                    reason=f"Peerboard milestone: {due.points} points",
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
                await _tell_maintainers(client, config, due.role_id, due.points)


async def _tell_maintainers(
    client: discord.Client, config: GuildConfig, role_id: int, points: int
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
            milestone_refused(role_id, points, config.maintainer_role_id), allowed_mentions=pings
        )
    except discord.HTTPException:
        log.warning("could not tell maintainers about milestone role %s", role_id, exc_info=True)
