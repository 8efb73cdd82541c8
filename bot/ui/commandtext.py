"""The command picker in every language Peerboard speaks: discord.py's app_commands
Translator, reading the catalogs (bot/i18n). Names stay as SPEC §5 writes them (communities
share them in docs); descriptions, option descriptions and choice names are translated."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.app_commands import TranslationContextLocation as Where

from bot import i18n

_KEPT = frozenset({Where.command_name, Where.group_name, Where.parameter_name})


class CommandTranslator(app_commands.Translator):
    async def translate(
        self,
        string: app_commands.locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        if context.location in _KEPT:
            return None
        code = i18n.language_of(locale.value)
        if code is None:
            return None
        return i18n.command_text(code, string.message)
