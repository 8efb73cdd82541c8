"""From an interaction to what the services need: the guild's config and the Actor."""

from __future__ import annotations

import discord

from bot.domain.errors import PermissionDenied
from bot.domain.model import Actor
from bot.services.config import GuildConfig
from bot.services.registry import Services
from bot.ui.text import safe


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
    its guild in its custom_id; there the member is fetched from that guild (the members
    intent is off): someone who has left the server can't act in it any more."""
    if interaction.guild_id is None and guild_id is not None:
        member = await member_in(interaction, guild_id)
        config = await services.config.get(guild_id)
        return _actor(guild_id, member, member.guild_permissions, config), config
    if interaction.guild_id is None or not isinstance(interaction.user, discord.Member):
        raise PermissionDenied("Peerboard works inside a server, not in direct messages.")
    config = await services.config.get(interaction.guild_id)
    actor = _actor(interaction.guild_id, interaction.user, interaction.permissions, config)
    return actor, config


async def member_in(interaction: discord.Interaction, guild_id: int) -> discord.Member:
    """The user of a DM interaction as a member of the guild a button belongs to; a
    refusal if they (or the bot) are no longer there."""
    guild = interaction.client.get_guild(guild_id)
    if guild is None:
        raise PermissionDenied(
            "Peerboard is no longer in that server, so this button doesn't work any more."
        )
    try:
        return await guild.fetch_member(interaction.user.id)
    except discord.NotFound:
        raise PermissionDenied(
            "You're no longer a member of **{guild}**, so this button doesn't work any more.",
            guild=safe(guild.name, 100),
        ) from None


def _actor(
    guild_id: int, member: discord.Member, permissions: discord.Permissions, config: GuildConfig
) -> Actor:
    reviewer = config.reviewer_role_id is not None and any(
        r.id == config.reviewer_role_id for r in member.roles
    )
    return Actor(
        guild_id=guild_id,
        member_id=member.id,
        is_maintainer=is_maintainer(member, permissions, config),
        has_reviewer_role=reviewer,
        is_bot=member.bot,
    )
