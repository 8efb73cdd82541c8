"""One way to tell a member that something did not work: always ephemeral."""

from __future__ import annotations

import logging
import secrets

import discord
from discord import app_commands

from bot.domain.errors import DomainError

log = logging.getLogger("peerboard.errors")


def message_for(error: BaseException) -> str:
    original = getattr(error, "original", None) or error
    if isinstance(original, DomainError):
        return original.message
    if isinstance(error, app_commands.NoPrivateMessage):
        return "Peerboard works inside a server, not in direct messages."
    if isinstance(
        error,
        app_commands.MissingPermissions | app_commands.MissingRole | app_commands.CheckFailure,
    ):
        return "You don't have permission to do that here."
    if isinstance(error, app_commands.CommandOnCooldown):
        return f"Slow down a little — try again in {error.retry_after:.0f} s."
    ref = secrets.token_hex(3).upper()
    log.error(
        "unexpected error (ref %s)",
        ref,
        exc_info=(type(original), original, original.__traceback__),
    )
    return f"Something went wrong on our side (ref {ref}). Please try again; if it keeps happening, tell a maintainer."


async def tell(interaction: discord.Interaction, text: str) -> None:
    """Ephemeral reply, or follow-up if the interaction was already answered or deferred."""
    try:
        if interaction.response.is_done():
            await interaction.followup.send(text, ephemeral=True)
        else:
            await interaction.response.send_message(text, ephemeral=True)
    except discord.HTTPException:
        # The interaction expired (10062) or is gone: nobody is left to tell.
        log.warning("could not deliver an error message to %s", interaction.user.id)


async def report(interaction: discord.Interaction, error: BaseException) -> None:
    await tell(interaction, message_for(error))


class PeerTree(app_commands.CommandTree[discord.Client]):
    async def on_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        await report(interaction, error)
