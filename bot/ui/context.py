"""From an interaction to what the services need: the guild's config and the Actor."""

from __future__ import annotations

import discord

from bot.domain.errors import PermissionDenied
from bot.domain.model import Actor
from bot.services.config import GuildConfig
from bot.services.registry import Services


def is_maintainer(
    member: discord.Member, permissions: discord.Permissions, config: GuildConfig
) -> bool:
    if permissions.manage_guild or permissions.administrator:
        return True
    return config.maintainer_role_id is not None and any(
        r.id == config.maintainer_role_id for r in member.roles
    )


async def actor_of(
    services: Services, interaction: discord.Interaction, guild_id: int | None = None
) -> tuple[Actor, GuildConfig]:
    """The member behind an interaction. A button in a DM (a reminder's Still on it) names
    its guild in its custom_id; there the actor has no roles, which is all those buttons
    need: the service lets only the claimant use them."""
    if interaction.guild_id is None and guild_id is not None:
        config = await services.config.get(guild_id)
        return Actor(
            guild_id=guild_id, member_id=interaction.user.id, is_bot=interaction.user.bot
        ), config
    if interaction.guild_id is None or not isinstance(interaction.user, discord.Member):
        raise PermissionDenied("Peerboard works inside a server, not in direct messages.")
    config = await services.config.get(interaction.guild_id)
    member = interaction.user
    reviewer = config.reviewer_role_id is not None and any(
        r.id == config.reviewer_role_id for r in member.roles
    )
    actor = Actor(
        guild_id=interaction.guild_id,
        member_id=member.id,
        is_maintainer=is_maintainer(member, interaction.permissions, config),
        has_reviewer_role=reviewer,
        is_bot=member.bot,
    )
    return actor, config
