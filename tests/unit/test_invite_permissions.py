"""The invite link asks for exactly the permissions the bot uses."""

from __future__ import annotations

import discord

from bot.app import INVITE_PERMISSIONS


def test_invite_permissions_are_exactly_what_the_bot_needs() -> None:
    """SPEC §7: exactly the permissions it needs, and nothing like Administrator."""
    needed = discord.Permissions(
        view_channel=True,
        send_messages=True,
        send_messages_in_threads=True,
        create_public_threads=True,
        embed_links=True,
        attach_files=True,
        read_message_history=True,
        manage_roles=True,
        # Review pings: Discord drops a bot's ping of a non-mentionable role without it.
        mention_everyone=True,
    )
    assert INVITE_PERMISSIONS.value == needed.value
    assert not INVITE_PERMISSIONS.administrator
