"""The GUILD_CREATE a loopback Discord sends after READY: one guild, its channels and
threads, the @everyone role and the bot's own (the invite's permissions), no role
mentionable (the field conditions of tests/e2e/field.py)."""

from __future__ import annotations

from typing import Any, Final

from tests.support.fake_discord import BOT_USER

STAMP: Final = "2026-01-01T00:00:00+00:00"
# What a GUILD_CREATE carries that this guild leaves at 0, or empty.
ZEROS: Final = (
    "verification_level",
    "default_message_notifications",
    "explicit_content_filter",
    "mfa_level",
    "nsfw_level",
    "premium_tier",
    "system_channel_flags",
)
LISTS: Final = (
    "features",
    "emojis",
    "stickers",
    "voice_states",
    "presences",
    "stage_instances",
    "guild_scheduled_events",
    "soundboard_sounds",
)


def role(role_id: int, name: str, perms: int, position: int, **more: Any) -> dict[str, Any]:
    return {
        "id": str(role_id),
        "name": name,
        "permissions": str(perms),
        "position": position,
        "color": 0,
        "hoist": False,
        "managed": False,
        "mentionable": False,  # field conditions: roles are not mentionable
        "flags": 0,
        **more,
    }


def guild_create(
    guild_id: int,
    channels: list[dict[str, Any] | None],
    threads: list[dict[str, Any] | None],
    *,
    bot_permissions: int,
    member_permissions: int,
) -> dict[str, Any]:
    bot_role = guild_id + 1
    return {
        "id": str(guild_id),
        "name": "Commons",
        "icon": None,
        "owner_id": "42",
        "afk_timeout": 300,
        "preferred_locale": "en-US",
        **dict.fromkeys(ZEROS, 0),
        **{key: [] for key in LISTS},
        "roles": [
            role(guild_id, "@everyone", member_permissions, 0),
            role(bot_role, "Peerboard", bot_permissions, 1, managed=True),
        ],
        "channels": channels,
        "threads": threads,
        "members": [
            {
                "user": BOT_USER,
                "roles": [str(bot_role)],
                "joined_at": STAMP,
                "deaf": False,
                "mute": False,
                "flags": 0,
            }
        ],
        "member_count": 1000,
        "large": False,
        "unavailable": False,
        "joined_at": STAMP,
    }
