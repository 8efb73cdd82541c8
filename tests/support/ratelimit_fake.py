"""A local stand-in for Discord (127.0.0.1) that rate-limits as Discord does.

Every answer carries Discord's rate-limit headers (`X-RateLimit-Limit`, `-Remaining`,
`-Reset`, `-Reset-After`, `-Bucket`, `X-RateLimit-Scope`), per route and per major
parameter (the channel; the webhook token of an interaction), with Discord's figures:
5 messages posted, and 5 edited, per 5 s in one channel; a global 50 requests per
second for everything but interaction endpoints (which Discord keeps out of the global
limit). Over a limit it answers 429 with `retry_after` and `global` in the body and
`Retry-After`, as Discord does, and counts it per bucket.

Beyond what `fake_discord.FakeDiscord` serves (login, command sync, the gateway's
handshake), it holds one guild with a tasks channel and a thread per card (sent as
GUILD_CREATE after READY), and delivers interactions over the gateway: a press of a
card's button (`press`) or a slash command (`slash`). It records, on its own clock, when
each interaction was delivered, when its callback arrived (the 3-second deadline: a
callback later than that is refused with 10062, as Discord does, and counted), and when
the member had their answer (the callback's message, or the first follow-up after an
UPDATE_MESSAGE callback).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Final

from aiohttp import WSMsgType, web

from tests.support.fake_discord import APP_ID, BOT_USER, JSON, FakeDiscord, member
from tests.support.guild_payload import STAMP, guild_create

DEADLINE: Final = 3.0  # an interaction must be acknowledged within 3 s
CHANNEL_LIMIT: Final = (5, 5.0)  # messages posted (or edited) per channel: 5 per 5 s
GLOBAL_LIMIT: Final = (50, 1.0)  # requests per second, interaction endpoints excepted
OTHER_LIMIT: Final = (50, 1.0)  # any other route, per major parameter
WEBHOOK_LIMIT: Final = (5, 2.0)  # an interaction's follow-ups, per token
MEMBER_PERMISSIONS: Final = (1 << 10) | (1 << 11) | (1 << 31)  # view, send, use commands

_ids = itertools.count(1600000000000000001)


def snowflake() -> int:
    return next(_ids)


@dataclass
class Bucket:
    """A fixed window, as Discord's: it opens with its first request."""

    limit: int
    per: float
    name: str
    opened: float = -1.0
    used: int = 0

    def take(self, now: float) -> tuple[bool, int, float]:
        """(allowed, remaining, reset after) for a request at `now`."""
        if self.opened < 0 or now >= self.opened + self.per:
            self.opened, self.used = now, 0
        reset_after = self.opened + self.per - now
        if self.used >= self.limit:
            return False, 0, reset_after
        self.used += 1
        return True, self.limit - self.used, reset_after


@dataclass
class Call:
    at: float
    method: str
    path: str
    status: int
    bucket: str


@dataclass
class Answered:
    """One interaction on the fake's clock: delivered, acknowledged, answered."""

    kind: str  # "press" or "slash"
    delivered: float
    callback: float | None = None
    answer: float | None = None
    late: bool = False  # its callback came after the deadline (refused, as Discord does)
    source: int | None = None  # the message whose button was pressed


@dataclass
class RateLimitedDiscord(FakeDiscord):
    guild_id: int = 800000000000000001
    tasks_channel_id: int = 800000000000000002
    card_threads: list[int] = field(default_factory=list)  # the cards' threads, by id
    bot_permissions: int = 0  # the invite's (bot.app.INVITE_PERMISSIONS), set by the test
    clock: Any = time.monotonic
    messages: dict[int, dict[str, Any]] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    buckets: dict[str, Bucket] = field(default_factory=dict)
    limited: Counter[str] = field(default_factory=Counter)  # 429s per bucket
    interactions: dict[int, Answered] = field(default_factory=dict)
    # Per message, every state it showed: (when, its embeds as JSON).
    history: dict[int, list[tuple[float, str]]] = field(default_factory=dict)
    tokens: dict[str, int] = field(default_factory=dict)
    guild_ready: asyncio.Event = field(default_factory=asyncio.Event)
    answered: asyncio.Event = field(default_factory=asyncio.Event)  # set at every answer
    edited: asyncio.Event = field(default_factory=asyncio.Event)  # set at every card edit
    _ws: web.WebSocketResponse | None = None
    _seq: int = 1

    # -- the guild's contents -------------------------------------------------------------

    def card(self, number: int, thread_id: int, claim_id: str) -> dict[str, Any]:
        """A card message in the tasks channel, as the bot would have posted it, with its
        Claim button (custom_id `claim_id`)."""
        button = {"type": 2, "style": 1, "label": "Claim", "custom_id": claim_id}
        message = self._message(
            self.tasks_channel_id,
            embeds=[{"title": f"#{number}", "footer": {"text": f"Peerboard · task #{number}"}}],
            components=[{"type": 1, "components": [button]}],
        )
        self.messages[int(message["id"])] = message
        self.card_threads.append(thread_id)
        return message

    def _message(self, channel_id: int, **fields: Any) -> dict[str, Any]:
        return {
            "id": str(snowflake()),
            "channel_id": str(channel_id),
            "author": BOT_USER,
            "content": "",
            "timestamp": STAMP,
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            **{key: [] for key in ("mentions", "mention_roles", "attachments")},
            "embeds": [],
            "components": [],
            "pinned": False,
            "type": 0,
            "flags": 0,
            **fields,
        }

    def _channel(self, channel_id: int) -> dict[str, Any] | None:
        if channel_id == self.tasks_channel_id:
            return {
                "id": str(channel_id),
                "type": 0,
                "guild_id": str(self.guild_id),
                "name": "tasks",
                "position": 0,
                "permission_overwrites": [],
                "parent_id": None,
                "nsfw": False,
                "topic": None,
                "rate_limit_per_user": 0,
                "last_message_id": None,
            }
        if channel_id in self.card_threads:
            return {
                "id": str(channel_id),
                "type": 11,
                "guild_id": str(self.guild_id),
                "parent_id": str(self.tasks_channel_id),
                "name": f"thread {channel_id % 1000}",
                "owner_id": str(APP_ID),
                "member_count": 1,
                "message_count": 0,
                "rate_limit_per_user": 0,
                "thread_metadata": {
                    "archived": False,
                    "auto_archive_duration": 10080,
                    "archive_timestamp": STAMP,
                    "locked": False,
                },
            }
        return None

    def _guild(self) -> dict[str, Any]:
        return guild_create(
            self.guild_id,
            [self._channel(self.tasks_channel_id)],
            [self._channel(t) for t in self.card_threads],
            bot_permissions=self.bot_permissions,
            member_permissions=MEMBER_PERMISSIONS,
        )

    # -- interactions over the gateway ----------------------------------------------------

    async def press(self, user_id: int, message_id: int, custom_id: str) -> int:
        """A member clicks a button on a message the fake holds; the interaction's id."""
        message = self.messages[message_id]
        return await self._interact(
            "press",
            user_id,
            3,
            {"custom_id": custom_id, "component_type": 2},
            message=message,
        )

    async def slash(self, user_id: int, group: str, name: str, **options: Any) -> int:
        """A member runs `/group name option:value` in the tasks channel."""
        command = next(c for c in self.commands if c["name"] == group)
        data = {
            "id": command["id"],
            "name": group,
            "type": 1,
            "options": [
                {
                    "type": 1,
                    "name": name,
                    "options": [
                        {"type": 3, "name": k, "value": str(v)} for k, v in options.items()
                    ],
                }
            ],
        }
        return await self._interact("slash", user_id, 2, data)

    async def _interact(
        self, kind: str, user_id: int, itype: int, data: dict[str, Any], **more: Any
    ) -> int:
        assert self._ws is not None, "the bot is not connected"
        interaction_id = snowflake()
        token = f"tok{interaction_id}"
        payload = {
            "id": str(interaction_id),
            "application_id": str(APP_ID),
            "type": itype,
            "data": data,
            "guild_id": str(self.guild_id),
            "channel_id": str(self.tasks_channel_id),
            "channel": self._channel(self.tasks_channel_id),
            "member": {
                "user": member(user_id),
                "roles": [],
                "permissions": str(MEMBER_PERMISSIONS),
                "joined_at": STAMP,
                "deaf": False,
                "mute": False,
                "flags": 0,
                "pending": False,
            },
            "token": token,
            "version": 1,
            "app_permissions": str(self.bot_permissions),
            "locale": "en-US",
            "guild_locale": "en-US",
            "entitlements": [],
            "authorizing_integration_owners": {"0": str(self.guild_id)},
            "context": 0,
            "attachment_size_limit": 10 * 1024 * 1024,
            **more,
        }
        self.tokens[token] = interaction_id
        source = more.get("message")
        self.interactions[interaction_id] = Answered(
            kind, self.clock(), source=int(source["id"]) if source else None
        )
        await self.dispatch("INTERACTION_CREATE", payload)
        return interaction_id

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        assert self._ws is not None
        self._seq += 1
        await self._ws.send_str(json.dumps({"op": 0, "s": self._seq, "t": event, "d": data}))

    async def gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": 41250}}))
        self._ws = ws
        while True:
            message = await ws.receive()
            if message.type is not WSMsgType.TEXT:
                break
            payload = json.loads(message.data)
            if payload["op"] == 1:
                await ws.send_str(json.dumps({"op": 11}))
            elif payload["op"] == 2:
                self.identify = payload["d"]
                self.identified.set()
                ready = {
                    "v": 10,
                    "user": BOT_USER,
                    "guilds": [{"id": str(self.guild_id), "unavailable": True}],
                    "session_id": "burst-session",
                    "resume_gateway_url": f"ws://127.0.0.1:{self.port}",
                    "application": {"id": str(APP_ID), "flags": 0},
                }
                await ws.send_str(json.dumps({"op": 0, "s": 1, "t": "READY", "d": ready}))
                await self.dispatch("GUILD_CREATE", self._guild())
                self.guild_ready.set()
        self._ws = None
        self.gateway_closed.set()
        return ws

    # -- REST, rate-limited ---------------------------------------------------------------

    def _bucket_of(self, method: str, parts: list[str]) -> tuple[str, tuple[int, float], bool]:
        """(bucket name, limit, counts toward the global limit) of a route."""
        if parts[:1] == ["channels"] and len(parts) >= 3 and parts[2] == "messages":
            if method == "POST" and len(parts) == 3:
                return f"POST messages:{parts[1]}", CHANNEL_LIMIT, True
            if method == "PATCH" and len(parts) == 4:
                return f"PATCH messages:{parts[1]}", CHANNEL_LIMIT, True
        if parts[:1] == ["interactions"]:
            return f"callback:{parts[1]}", OTHER_LIMIT, False
        if parts[:1] == ["webhooks"] and len(parts) >= 3:
            return f"webhook:{parts[2]}", WEBHOOK_LIMIT, False
        major = parts[1] if len(parts) > 1 and parts[1].isdigit() else ""
        shape = "/".join("{id}" if p.isdigit() else p for p in parts)
        return f"{method} {shape}:{major}", OTHER_LIMIT, True

    async def rest(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["path"]
        parts = path.strip("/").split("/")
        now = self.clock()
        name, (limit, per), global_ = self._bucket_of(request.method, parts)
        if global_:
            over = self.buckets.setdefault("global", Bucket(*GLOBAL_LIMIT, "global"))
            ok, _left, reset_after = over.take(now)
            if not ok:
                return self._limited(request, path, "global", reset_after, limit, glob=True)
        bucket = self.buckets.setdefault(name, Bucket(limit, per, name))
        ok, left, reset_after = bucket.take(now)
        if not ok:
            return self._limited(request, path, name, reset_after, limit, glob=False)
        response = await self._serve(request, path, parts)
        response.headers.update(
            {
                "Via": "1.1 google",
                "X-RateLimit-Limit": str(limit),
                "X-RateLimit-Remaining": str(left),
                "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
                "X-RateLimit-Reset-After": f"{reset_after:.3f}",
                "X-RateLimit-Bucket": name.split(":")[0].replace(" ", "-"),
            }
        )
        self.calls.append(Call(now, request.method, path, response.status, name))
        return response

    def _limited(
        self, request: web.Request, path: str, name: str, after: float, limit: int, *, glob: bool
    ) -> web.Response:
        self.limited[name] += 1
        self.calls.append(Call(self.clock(), request.method, path, 429, name))
        headers = {
            **JSON,
            "Via": "1.1 google",
            "Retry-After": f"{after:.3f}",
            "X-RateLimit-Scope": "global" if glob else "user",
        }
        if glob:
            headers["X-RateLimit-Global"] = "true"
        else:
            headers.update(
                {
                    "X-RateLimit-Limit": str(limit),
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset": f"{time.time() + after:.3f}",
                    "X-RateLimit-Reset-After": f"{after:.3f}",
                    "X-RateLimit-Bucket": name.split(":")[0].replace(" ", "-"),
                }
            )
        body = {"message": "You are being rate limited.", "retry_after": after, "global": glob}
        return web.Response(status=429, body=json.dumps(body).encode(), headers=headers)

    async def _serve(self, request: web.Request, path: str, parts: list[str]) -> web.Response:
        method = request.method
        mine = (
            (method == "PATCH" and parts[0] == "channels" and len(parts) == 4)
            or (method == "GET" and parts[0] == "channels" and len(parts) == 2)
            or parts[0] in ("interactions", "webhooks")
        )
        if not mine:
            return await super().rest(request)  # reads the body itself
        body = await request.json() if request.can_read_body else None
        if method == "PATCH" and parts[0] == "channels" and len(parts) == 4:
            message = self.messages.get(int(parts[3]))
            if message is None:
                return self.reply({"message": "Unknown Message", "code": 10008}, status=404)
            self._apply(message, body or {})
            self.edited.set()
            return self.reply(message)
        if method == "GET" and parts[0] == "channels" and len(parts) == 2:
            found = self._channel(int(parts[1]))
            if found is None:
                return self.reply({"message": "Unknown Channel", "code": 10003}, status=404)
            return self.reply(found)
        if method == "POST" and parts[0] == "interactions":
            return self._callback(int(parts[1]), parts[2], body or {})
        if parts[0] == "webhooks" and len(parts) >= 3:
            interaction_id = self.tokens.get(parts[2])
            if interaction_id is None:
                return self.reply({"message": "Unknown Webhook", "code": 10015}, status=404)
            message = self._message(self.tasks_channel_id, content=(body or {}).get("content"))
            seen = self.interactions[interaction_id]
            if method == "POST" and seen.answer is None:
                seen.answer = self.clock()
                self.answered.set()
            return self.reply(message)
        return await super().rest(request)

    def _callback(self, interaction_id: int, token: str, body: dict[str, Any]) -> web.Response:
        seen = self.interactions.get(interaction_id)
        if seen is None or self.tokens.get(token) != interaction_id:
            return self.reply({"message": "Unknown interaction", "code": 10062}, status=404)
        now = self.clock()
        if seen.callback is not None or now - seen.delivered > DEADLINE:
            seen.late = seen.late or seen.callback is None
            return self.reply({"message": "Unknown interaction", "code": 10062}, status=404)
        seen.callback = now
        rtype, data = body["type"], body.get("data") or {}
        message: dict[str, Any] | None = None
        if rtype == 7:  # UPDATE_MESSAGE: the card the button is on
            assert seen.source is not None, "UPDATE_MESSAGE answers a component only"
            message = self.messages[seen.source]
            self._apply(message, data)
            self.edited.set()
        elif rtype == 4:  # CHANNEL_MESSAGE_WITH_SOURCE: the member's answer
            message = self._message(
                self.tasks_channel_id, content=data.get("content") or "", flags=data.get("flags", 0)
            )
            seen.answer = now
            self.answered.set()
        return self.reply(
            {
                "interaction": {
                    "id": str(interaction_id),
                    "type": 3 if seen.kind == "press" else 2,
                    "response_message_id": message["id"] if message else None,
                    "response_message_loading": rtype == 5,
                    "response_message_ephemeral": bool(data.get("flags", 0) & 64),
                },
                "resource": {"type": rtype, "message": message} if message else None,
            }
        )

    def _apply(self, message: dict[str, Any], body: dict[str, Any]) -> None:
        for key in ("content", "embeds", "components"):
            if key in body and body[key] is not None:
                message[key] = body[key]
        message["edited_timestamp"] = STAMP
        self.history.setdefault(int(message["id"]), []).append(
            (self.clock(), json.dumps(message["embeds"], ensure_ascii=False))
        )

    # -- what the tests read ----------------------------------------------------------------

    def shows(self, message_id: int) -> str:
        """The card's status line as it shows now (its embed's fields, flattened)."""
        embeds = self.messages[message_id]["embeds"]
        return json.dumps(embeds[0] if embeds else {}, ensure_ascii=False)

    def late(self) -> int:
        return sum(1 for a in self.interactions.values() if a.late)

    def repeated_429s(self) -> dict[str, int]:
        """Buckets that were refused more than once."""
        return {name: n for name, n in self.limited.items() if n > 1}
