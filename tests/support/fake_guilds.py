"""The guilds a local stand-in for Discord knows (tests/support/fake_discord.py): each
with the channels the bot's config names (#tasks, #review, #digest), roles, and members,
as the gateway (GUILD_CREATE) and REST (channels, members) describe them — only the
fields discord.py reads, in the shapes of Discord's API description
(../shared/discord-api-spec/openapi.json).

Field conditions: the bot's own role holds exactly what `peerboard invite-url` asks for
(`bot.app.INVITE_PERMISSIONS`), and no role is mentionable."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, Final

from bot.app import INVITE_PERMISSIONS
from bot.domain.shards import shard_of

APP_ID: Final = 1234567890123456789
BOT_USER: Final = {
    "id": str(APP_ID),
    "username": "Peerboard",
    "discriminator": "0",
    "global_name": None,
    "avatar": None,
    "bot": True,
    "flags": 0,
}
JOINED: Final = "2026-01-01T00:00:00+00:00"

# Permission bits (Discord's documented values).
VIEW_CHANNEL: Final = 1 << 10
SEND_MESSAGES: Final = 1 << 11
READ_MESSAGE_HISTORY: Final = 1 << 16
USE_APPLICATION_COMMANDS: Final = 1 << 31
SEND_MESSAGES_IN_THREADS: Final = 1 << 38
MANAGE_GUILD: Final = 1 << 5
EVERYONE: Final = (
    VIEW_CHANNEL
    | SEND_MESSAGES
    | READ_MESSAGE_HISTORY
    | USE_APPLICATION_COMMANDS
    | SEND_MESSAGES_IN_THREADS
)

_snowflakes = itertools.count(1)
CHANNEL_NAMES: Final = ("tasks", "review", "digest")


def snowflake() -> int:
    """A fresh id of the size Discord's have (2026: about 1.4e18)."""
    return (340_000_000_000 << 22) + next(_snowflakes)


def guild_id_on(shard: int, count: int, n: int = 0) -> int:
    """The `n`th guild id that Discord's formula, (id >> 22) % count, puts on `shard`."""
    base = 320_000_000_000
    timestamp = base - base % count + (n + 1) * count * 1000 + shard
    guild_id = (timestamp << 22) | 1
    assert shard_of(guild_id, count) == shard
    return guild_id


def user(user_id: int, name: str | None = None) -> dict[str, Any]:
    return {
        "id": str(user_id),
        "username": name or f"member{user_id % 1000}",
        "discriminator": "0",
        "global_name": None,
        "avatar": None,
        "bot": False,
        "flags": 0,
    }


@dataclass
class FakeMember:
    user_id: int
    name: str
    role_ids: list[int] = field(default_factory=list)
    is_bot: bool = False

    def user(self) -> dict[str, Any]:
        return dict(BOT_USER) if self.is_bot else user(self.user_id, self.name)

    def json(self) -> dict[str, Any]:
        return {
            "user": self.user(),
            "roles": [str(r) for r in self.role_ids],
            "joined_at": JOINED,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "nick": None,
            "avatar": None,
            "pending": False,
        }


@dataclass
class FakeGuild:
    """One guild: #tasks, #review and #digest; the @everyone role (the guild's id),
    Maintainers (Manage Server), the bot's role; the bot, a maintainer and members."""

    id: int
    name: str
    channels: dict[str, int] = field(default_factory=dict)  # name -> id
    roles: dict[str, tuple[int, int]] = field(default_factory=dict)  # name -> (id, bits)
    members: dict[int, FakeMember] = field(default_factory=dict)

    @classmethod
    def build(cls, guild_id: int, name: str, member_ids: list[int]) -> FakeGuild:
        guild = cls(guild_id, name)
        guild.channels = {n: snowflake() for n in CHANNEL_NAMES}
        maintainers, bot_role = snowflake(), snowflake()
        guild.roles = {
            "@everyone": (guild_id, EVERYONE),
            "Maintainers": (maintainers, MANAGE_GUILD),
            "Peerboard": (bot_role, INVITE_PERMISSIONS.value),
        }
        guild.members[APP_ID] = FakeMember(APP_ID, "Peerboard", [bot_role], is_bot=True)
        guild.members[guild.maintainer] = FakeMember(guild.maintainer, "maint", [maintainers])
        for member_id in member_ids:
            guild.members[member_id] = FakeMember(member_id, f"member{member_id % 1000}")
        return guild

    @property
    def maintainer(self) -> int:
        return self.id + 7  # one per guild, distinct from every guild's other ids

    def permissions(self, user_id: int) -> int:
        """A member's permissions in the guild (no channel overwrites here)."""
        member = self.members[user_id]
        bits = self.roles["@everyone"][1]
        for role_id, role_bits in self.roles.values():
            if role_id in member.role_ids:
                bits |= role_bits
        return bits

    def channel(self, channel_id: int) -> dict[str, Any] | None:
        for position, (name, cid) in enumerate(self.channels.items()):
            if cid == channel_id:
                return {
                    "id": str(cid),
                    "type": 0,
                    "guild_id": str(self.id),
                    "name": name,
                    "position": position,
                    "permission_overwrites": [],
                    "nsfw": False,
                    "parent_id": None,
                    "topic": None,
                    "last_message_id": None,
                    "rate_limit_per_user": 0,
                    "flags": 0,
                }
        return None

    def guild_create(self) -> dict[str, Any]:
        """GUILD_CREATE's payload: the guild with its roles, channels and — as Discord
        sends it without the members intent — only the bot's own member."""
        roles = [
            {
                "id": str(role_id),
                "name": name,
                "permissions": str(bits),
                "position": position,
                "color": 0,
                "hoist": False,
                "managed": name == "Peerboard",
                "mentionable": False,
                "flags": 0,
                "icon": None,
                "unicode_emoji": None,
            }
            for position, (name, (role_id, bits)) in enumerate(self.roles.items())
        ]
        channels = [self.channel(cid) for cid in self.channels.values()]
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "owner_id": str(self.maintainer),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "roles": roles,
            "emojis": [],
            "stickers": [],
            "features": [],
            "mfa_level": 0,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "vanity_url_code": None,
            "description": None,
            "banner": None,
            "premium_tier": 0,
            "preferred_locale": "en-US",
            "public_updates_channel_id": None,
            "nsfw_level": 0,
            "premium_progress_bar_enabled": False,
            "joined_at": JOINED,
            "large": False,
            "unavailable": False,
            "member_count": len(self.members),
            "voice_states": [],
            "members": [self.members[APP_ID].json()],
            "channels": channels,
            "threads": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }
