"""The loopback stand-in for Discord (tests/support/fake_discord.py) with guilds: each
shard that identifies gets READY naming its guilds as unavailable, then one GUILD_CREATE
per guild, as Discord sends them — a guild goes to shard `(guild_id >> 22) % count`
(Discord's formula, bot/domain/shards.py), and an IDENTIFY whose `shard` is not of the
gateway's count is closed with 4010 (Invalid shard), as Discord does.

Each guild is what a community that invited Peerboard has: a few text channels (general,
tasks, review, digest) under a category, @everyone, a Maintainers and a Reviewers role
(not mentionable), and the bot's own member with its managed role, whose permissions are
exactly those `peerboard invite-url` asks for. No other members: the bot has no members
intent, so Discord sends only the bot's own member.

The payloads are made once, before the bot connects, so the stand-in's own work is a
string join per guild while the bot is timed."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from bot.app import INVITE_PERMISSIONS
from bot.domain.shards import shard_of
from tests.support.fake_discord import APP_ID, BOT_USER, FakeDiscord

# Channel and role ids are the guild's id plus these: guild ids differ by at least 1 << 22.
CATEGORY, GENERAL, TASKS, REVIEW, DIGEST = 1, 2, 3, 4, 5
MAINTAINERS, REVIEWERS, BOT_ROLE = 11, 12, 13
JOINED = "2025-03-01T12:00:00+00:00"
INVALID_SHARD = 4010


def channel(guild_id: int, offset: int, name: str, position: int) -> dict[str, Any]:
    return {
        "id": str(guild_id + offset),
        "type": 0,
        "guild_id": str(guild_id),
        "name": name,
        "position": position,
        "parent_id": str(guild_id + CATEGORY),
        "permission_overwrites": [],
        "nsfw": False,
        "topic": None,
        "last_message_id": None,
        "rate_limit_per_user": 0,
        "flags": 0,
    }


def role(guild_id: int, offset: int, name: str, permissions: int, position: int) -> dict[str, Any]:
    return {
        "id": str(guild_id + offset),
        "name": name,
        "color": 0,
        "hoist": False,
        "icon": None,
        "unicode_emoji": None,
        "position": position,
        "permissions": str(permissions),
        "managed": offset == BOT_ROLE,
        "mentionable": False,  # Discord's default: pings of it need Mention Everyone
        "flags": 0,
        **({"tags": {"bot_id": str(APP_ID)}} if offset == BOT_ROLE else {}),
    }


def guild_payload(guild_id: int, number: int, member_count: int = 250) -> dict[str, Any]:
    everyone = {**role(guild_id, 0, "@everyone", 0, 0), "id": str(guild_id)}
    return {
        "id": str(guild_id),
        "name": f"Community {number}",
        "icon": None,
        "splash": None,
        "discovery_splash": None,
        "banner": None,
        "description": None,
        "owner_id": str(6_000_000_000_000_000 + number),
        "afk_channel_id": None,
        "afk_timeout": 300,
        "verification_level": 1,
        "default_message_notifications": 1,
        "explicit_content_filter": 0,
        "features": [],
        "mfa_level": 0,
        "system_channel_id": str(guild_id + GENERAL),
        "system_channel_flags": 0,
        "rules_channel_id": None,
        "public_updates_channel_id": None,
        "vanity_url_code": None,
        "premium_tier": 0,
        "premium_subscription_count": 0,
        "preferred_locale": "en-US",
        "nsfw_level": 0,
        "premium_progress_bar_enabled": False,
        "max_members": 500_000,
        "emojis": [],
        "stickers": [],
        "roles": [
            everyone,
            role(guild_id, MAINTAINERS, "Maintainers", 0, 3),
            role(guild_id, REVIEWERS, "Reviewers", 0, 2),
            role(guild_id, BOT_ROLE, "Peerboard", INVITE_PERMISSIONS.value, 1),
        ],
        "channels": [
            {
                "id": str(guild_id + CATEGORY),
                "type": 4,
                "guild_id": str(guild_id),
                "name": "Community",
                "position": 0,
                "parent_id": None,
                "permission_overwrites": [],
                "nsfw": False,
                "flags": 0,
            },
            channel(guild_id, GENERAL, "general", 1),
            channel(guild_id, TASKS, "tasks", 2),
            channel(guild_id, REVIEW, "review", 3),
            channel(guild_id, DIGEST, "digest", 4),
        ],
        "threads": [],
        "members": [
            {
                "user": BOT_USER,
                "nick": None,
                "roles": [str(guild_id + BOT_ROLE)],
                "joined_at": JOINED,
                "deaf": False,
                "mute": False,
                "flags": 0,
            }
        ],
        "voice_states": [],
        "presences": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
        "soundboard_sounds": [],
        "joined_at": JOINED,
        "large": member_count > 250,
        "unavailable": False,
        "member_count": member_count,
    }


@dataclass(frozen=True, slots=True)
class ShardStart:
    """What the stand-in saw of one shard's start (time.monotonic() seconds)."""

    shard: int
    identified: float
    guilds_sent: float  # the shard's last GUILD_CREATE written to the socket
    guilds: int


@dataclass
class GuildGateway(FakeDiscord):
    """FakeDiscord whose gateway serves `guilds` ({guild id: its number}) to the shards of
    `shard_count` by Discord's formula."""

    shard_count: int = 1
    guilds: dict[int, int] = field(default_factory=dict)
    identifies: list[dict[str, Any]] = field(default_factory=list)
    starts: dict[int, ShardStart] = field(default_factory=dict)
    shard_ready: asyncio.Event = field(default_factory=asyncio.Event)  # any shard's guilds sent
    _payloads: dict[int, list[str]] = field(default_factory=dict)

    def prepare(self) -> None:
        """Serialize every guild's GUILD_CREATE once, by shard (before the bots start)."""
        self._payloads = {shard: [] for shard in range(self.shard_count)}
        for guild_id, number in self.guilds.items():
            body = json.dumps(guild_payload(guild_id, number), separators=(",", ":"))
            self._payloads[shard_of(guild_id, self.shard_count)].append(body)

    def guilds_of(self, shard: int) -> list[int]:
        return [g for g in self.guilds if shard_of(g, self.shard_count) == shard]

    async def gateway(self, request: web.Request) -> web.WebSocketResponse:
        self.requests.append(("WS", request.path_qs, dict(request.headers), None))
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        await ws.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": 41250}}))
        seq = 0
        while True:
            message = await ws.receive()
            if message.type is not WSMsgType.TEXT:
                break
            payload = json.loads(message.data)
            if payload["op"] == 1:
                await ws.send_str(json.dumps({"op": 11}))
            elif payload["op"] == 2:
                seq = await self._start_shard(ws, payload["d"])
                if seq < 0:
                    break
            elif payload["op"] == 8:  # request guild members: none to send without the intent
                continue
        self.gateway_closed.set()
        return ws

    async def _start_shard(self, ws: web.WebSocketResponse, identify: dict[str, Any]) -> int:
        identified = time.monotonic()
        self.identify = identify
        self.identifies.append(identify)
        self.identified.set()
        shard, count = identify.get("shard", [0, 1])
        if count != self.shard_count or not 0 <= shard < count:
            await ws.close(code=INVALID_SHARD, message=b"Invalid shard.")
            return -1
        ids = self.guilds_of(shard)
        ready = {
            "v": 10,
            "user": BOT_USER,
            "guilds": [{"id": str(g), "unavailable": True} for g in ids],
            "session_id": f"session-{shard}",
            "resume_gateway_url": f"ws://127.0.0.1:{self.port}",
            "application": {"id": str(APP_ID), "flags": 0},
            "shard": [shard, count],
        }
        await ws.send_str(json.dumps({"op": 0, "s": 1, "t": "READY", "d": ready}))
        seq = 1
        for body in self._payloads.get(shard, []):
            seq += 1
            await ws.send_str(f'{{"op":0,"s":{seq},"t":"GUILD_CREATE","d":{body}}}')
        self.starts[shard] = ShardStart(shard, identified, time.monotonic(), len(ids))
        self.shard_ready.set()
        return seq


def balanced_guild_ids(n: int, shard_count: int, first: int = 1_100_000_000_000) -> list[int]:
    """`n` guild ids (snowflakes from about 2023) whose shards take turns: guild k is on
    shard k % shard_count, so every shard has n / shard_count of them (± 1)."""
    base = first - first % shard_count  # (base >> 0) % count == 0: guild 0 on shard 0
    return [((base + k) << 22) | (k % 4096) for k in range(n)]


def shards_of(guild_ids: Iterable[int], count: int) -> dict[int, int]:
    counts = dict.fromkeys(range(count), 0)
    for g in guild_ids:
        counts[shard_of(g, count)] += 1
    return counts


def numbered(guild_ids: Sequence[int]) -> dict[int, int]:
    return {g: k for k, g in enumerate(guild_ids)}
