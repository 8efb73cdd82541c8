"""Whether the bot's role pings reach anyone. Discord drops a ping of a role that is not
mentionable (its default) unless the sender holds Mention Everyone where it posts, with
no error: the review call would look sent and notify nobody. The review channel is where
the reviewer and maintainer roles are pinged (review calls, nudges, escalations)."""

from __future__ import annotations

import discord

from bot import i18n
from bot.services.config import GuildConfig
from bot.ui import upkeep


def unreachable_roles(guild: discord.Guild, config: GuildConfig) -> list[int]:
    """The configured roles (reviewers, maintainers) a ping from the bot would not reach."""
    me = guild.me
    if me is None:
        return []
    where = guild.get_channel(config.review_channel_id) if config.review_channel_id else None
    allowed = where.permissions_for(me) if where is not None else me.guild_permissions
    if allowed.mention_everyone:
        return []
    roles = (guild.get_role(r) for r in (config.reviewer_role_id, config.maintainer_role_id) if r)
    return list(
        dict.fromkeys(role.id for role in roles if role is not None and not role.mentionable)
    )


def ping_warning(tr: i18n.Texts, guild: discord.Guild | None, config: GuildConfig) -> str | None:
    """What a maintainer should change so that review pings arrive, or None if they do."""
    if guild is None:
        return None
    roles = unreachable_roles(guild, config)
    return upkeep.pings_unreachable(tr, roles, config.review_channel_id) if roles else None
