"""Which language a text is in, by who reads it (SPEC "Languages"):

- a reply only the caller sees: their Discord locale, else the guild's language, else
  English (`caller`);
- a public post (card, thread line, review call, notice, digest): the guild's language —
  `/config language`, else the server's Discord preferred locale, else English
  (`public`);
- a direct message: the member's last seen Discord locale, else the guild's (`direct`).
"""

from __future__ import annotations

import discord

from bot import i18n
from bot.services.config import GuildConfig
from bot.services.registry import Services


def _preferred(guild: discord.Guild | None) -> str | None:
    return str(guild.preferred_locale) if guild is not None else None


def public(config: GuildConfig, guild: discord.Guild | None = None) -> i18n.Texts:
    """The guild's language, for what everyone in it reads."""
    return i18n.texts(config.language, _preferred(guild))


def caller(interaction: discord.Interaction, config: GuildConfig | None = None) -> i18n.Texts:
    """The language of a reply only the caller sees."""
    guild = interaction.guild_locale
    return i18n.texts(
        str(interaction.locale),
        config.language if config is not None else None,
        str(guild) if guild is not None else _preferred(interaction.guild),
    )


async def direct(
    services: Services, config: GuildConfig, member_id: int, guild: discord.Guild | None = None
) -> i18n.Texts:
    """The language of a DM to a member about this guild."""
    seen = await services.languages.locale_of(config.guild_id, member_id)
    return i18n.texts(seen, config.language, _preferred(guild))
