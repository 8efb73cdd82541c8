"""A local stand-in for Discord on 127.0.0.1 (aiohttp): enough of the REST API and the
gateway for the bot to log in, sync its commands, join the gateway, receive its guilds and
slash commands, answer them, and send and edit messages. `PEERBOARD_DISCORD_API_BASE` /
`PEERBOARD_DISCORD_GATEWAY` point `peerboard run` (or a bot built in the test) at it.

Several processes can share it, as they share Discord: it knows a set of guilds
(tests/support/fake_guilds.py), puts each on a shard by Discord's formula
`(guild_id >> 22) % shard_count`, and with `shard_count` set enforces IDENTIFY's `shard`
as Discord does (close 4011 "sharding required" without one, 4010 "invalid shard" for
another count or an id outside it). A session gets READY, then one GUILD_CREATE for each
guild of its shard; `slash()` delivers an INTERACTION_CREATE to the session that owns the
guild, and the answer (`POST /interactions/{id}/{token}/callback`, the followups and the
edits of `@original`) is recorded on that interaction. Every REST call is recorded in
`requests`, with its headers: a test that gives each process its own token
(`token_for`) can tell which process made it (`sender`).

It honours a message's `nonce` with `enforce_nonce` as Discord documents it: the same
nonce from the same author within a few minutes returns the message it made, and creates
no other.

Languages: a member's Discord client has its locale (`locales`, by member id) and a guild its
preferred locale (`guild_locales`, by guild id), both "en-US" unless set, as Discord's
defaults. An INTERACTION_CREATE carries them as `locale` and `guild_locale`, and GUILD_CREATE
the guild's as `preferred_locale`: set them before the member's command (the guild's before
the bot connects, as its GUILD_CREATE is sent once)."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, TypeVar

from aiohttp import WSMsgType, web

from bot.domain.shards import shard_of
from tests.support.fake_guilds import APP_ID, BOT_USER, FakeGuild, guild_id_on, user

__all__ = ["APP_ID", "BOT_USER", "FakeDiscord", "FakeGuild", "guild_id_on"]

TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4OQ.GhJkLm.a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8s9T0"
TIMEOUT = 30.0
JSON = {"Content-Type": "application/json"}  # exactly: discord.py compares the whole string
EPHEMERAL: Final = 1 << 6
DEFAULT_LOCALE: Final = "en-US"  # Discord's, for a user and for a guild
# Gateway close codes (Discord's "Gateway Close Event Codes").
INVALID_SHARD: Final = 4010
SHARDING_REQUIRED: Final = 4011

# How long Discord remembers a nonce: "a few minutes" (not documented more exactly).
NONCE_WINDOW: Final = 5 * 60.0
_ids = itertools.count(1400000000000000001)
_sessions = itertools.count(1)


def member(user_id: int) -> dict[str, Any]:
    return {**user(user_id), "bot": False}


def dm_channel_id(user_id: int) -> int:
    """The bot's DM channel with this member (one per member, as on Discord)."""
    return 1500000000000000000 + user_id % 10**12


def is_dm(channel_id: int) -> bool:
    return 0 <= channel_id - dm_channel_id(0) < 10**12


def token_for(label: str) -> str:
    """A token of the stand-in's bot, told apart by its last part: one per process, so the
    stand-in can say which process made a call (Discord itself sees one bot)."""
    return f"{TOKEN.rsplit('.', 1)[0]}.{label}"


def sender(headers: dict[str, str]) -> str:
    """The last part of the token a REST call carried (`token_for`'s label)."""
    return headers.get("Authorization", "").rsplit(".", 1)[-1]


@dataclass
class Session:
    """One gateway connection that identified: its token, its shard, its guilds."""

    ws: web.WebSocketResponse
    token: str
    shard: tuple[int, int] | None
    guild_ids: list[int]
    id: str = field(default_factory=lambda: f"session-{next(_sessions)}")
    seq: int = 0
    open: bool = True

    @property
    def label(self) -> str:
        return self.token.rsplit(".", 1)[-1]

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        self.seq += 1
        await self.ws.send_str(json.dumps({"op": 0, "s": self.seq, "t": event, "d": data}))


@dataclass
class Interaction:
    """A slash command delivered to one session, and what the bot answered."""

    id: int
    token: str
    guild_id: int
    channel_id: int
    user_id: int
    session: Session
    locale: str = DEFAULT_LOCALE  # the member's (the payload's `locale`)
    guild_locale: str = DEFAULT_LOCALE  # the guild's preferred one (`guild_locale`)
    callbacks: list[dict[str, Any]] = field(default_factory=list)
    followups: list[dict[str, Any]] = field(default_factory=list)
    edits: list[dict[str, Any]] = field(default_factory=list)
    original: dict[str, Any] | None = None

    @property
    def answered(self) -> bool:
        """Whether the member saw an answer: a message, or a deferral and then its edit or
        a followup."""
        if not self.callbacks:
            return False
        return self.callbacks[0]["type"] != 5 or bool(self.edits or self.followups)

    def texts(self) -> list[str]:
        """What the member was shown, in order."""
        bodies = [c.get("data") or {} for c in self.callbacks] + self.edits + self.followups
        return [b["content"] for b in bodies if b.get("content")]


@dataclass
class FakeDiscord:
    """Records what the bot sends; sets an event at each step of a start."""

    port: int = 0
    requests: list[tuple[str, str, dict[str, str], Any]] = field(default_factory=list)
    commands: list[dict[str, Any]] = field(default_factory=list)
    identify: dict[str, Any] | None = None  # the last IDENTIFY
    refuse_token: bool = False
    close_code: int | None = None  # of the last connection the bot closed
    logged_in: asyncio.Event = field(default_factory=asyncio.Event)
    synced: asyncio.Event = field(default_factory=asyncio.Event)
    identified: asyncio.Event = field(default_factory=asyncio.Event)
    gateway_closed: asyncio.Event = field(default_factory=asyncio.Event)
    # Messages: every one created, in order; those a nonce found again are not created.
    created: list[dict[str, Any]] = field(default_factory=list)
    nonces: dict[tuple[str, str], tuple[float, dict[str, Any]]] = field(default_factory=dict)
    message_posted: asyncio.Event = field(default_factory=asyncio.Event)  # any POST of one
    # While set, a created message's answer never comes: the sender waits, as over a
    # connection that hangs after Discord made the message.
    hold_answers: bool = False
    released: asyncio.Event = field(default_factory=asyncio.Event)  # held answers end
    # The world, for several processes: guilds, and the count IDENTIFY must carry (None:
    # any, or none; an unsharded session gets every guild).
    guilds: dict[int, FakeGuild] = field(default_factory=dict)
    shard_count: int | None = None
    sessions: list[Session] = field(default_factory=list)
    refused: list[tuple[Any, int]] = field(default_factory=list)  # (shard asked, close code)
    messages: dict[int, dict[str, Any]] = field(default_factory=dict)  # by message id
    threads: dict[int, dict[str, Any]] = field(default_factory=dict)
    interactions: dict[int, Interaction] = field(default_factory=dict)
    activity: asyncio.Condition = field(default_factory=asyncio.Condition)
    # Languages (Discord locales): a member's client, by member id; a guild's preferred
    # locale, by guild id. Unset: "en-US".
    locales: dict[int, str] = field(default_factory=dict)
    guild_locales: dict[int, str] = field(default_factory=dict)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/", self.gateway)
        app.router.add_route("*", "/api/v10/{path:.*}", self.rest)
        return app

    # -- the world ----------------------------------------------------------------------

    def add_guild(self, guild_id: int, name: str, member_ids: list[int]) -> FakeGuild:
        guild = FakeGuild.build(guild_id, name, member_ids)
        self.guilds[guild_id] = guild
        return guild

    def guild_locale(self, guild_id: int) -> str:
        """The guild's preferred locale, as Discord's "Server Primary Language"."""
        return self.guild_locales.get(guild_id, DEFAULT_LOCALE)

    def guild_create(self, guild_id: int) -> dict[str, Any]:
        """GUILD_CREATE's payload, with the guild's preferred locale."""
        payload = self.guilds[guild_id].guild_create()
        payload["preferred_locale"] = self.guild_locale(guild_id)
        return payload

    def owns(self, shard: tuple[int, int] | None, guild_id: int) -> bool:
        return shard is None or shard_of(guild_id, shard[1]) == shard[0]

    def channel(self, channel_id: int) -> dict[str, Any] | None:
        for guild in self.guilds.values():
            found = guild.channel(channel_id)
            if found is not None:
                return found
        return self.threads.get(channel_id)

    def guild_of_channel(self, channel_id: int) -> int | None:
        found = self.channel(channel_id)
        return int(found["guild_id"]) if found is not None else None

    def in_channel(self, channel_id: int) -> list[dict[str, Any]]:
        """The messages of a channel, in order of creation."""
        return [m for m in self.created if m["channel_id"] == str(channel_id)]

    async def changed(self) -> None:
        async with self.activity:
            self.activity.notify_all()

    async def until(self, seen: Callable[[], bool], *running: Awaitable[object]) -> None:
        """Wait until `seen()` holds after some call or event; fail at once when one of
        `running` (a process's wait()) ends first."""

        async def condition() -> None:
            async with self.activity:
                await self.activity.wait_for(seen)

        waiter = asyncio.ensure_future(condition())
        watched = [asyncio.ensure_future(r) for r in running]
        try:
            done, _ = await asyncio.wait(
                {waiter, *watched}, timeout=TIMEOUT, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            waiter.cancel()
        if waiter not in done:
            ended = [w.result() for w in watched if w in done]
            raise AssertionError(f"not seen within {TIMEOUT} s (ended first: {ended})")

    # -- REST ---------------------------------------------------------------------------

    @staticmethod
    def reply(body: Any, status: int = 200) -> web.Response:
        return web.Response(status=status, body=json.dumps(body).encode(), headers=JSON)

    @classmethod
    def not_found(cls, what: str, code: int) -> web.Response:
        return cls.reply({"message": f"Unknown {what}", "code": code}, status=404)

    @staticmethod
    async def body_of(request: web.Request) -> Any:
        if not request.can_read_body:
            return None
        if request.content_type.startswith("multipart/"):  # files: the JSON is a part
            reader = await request.multipart()
            async for part in reader:
                if getattr(part, "name", None) == "payload_json":
                    return json.loads(await part.text())  # type: ignore[union-attr]
            return None
        return await request.json()

    async def rest(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["path"]
        body = await self.body_of(request)
        self.requests.append((request.method, path, dict(request.headers), body))
        try:
            return await self.route(request, path, body)
        finally:
            await self.changed()

    async def route(self, request: web.Request, path: str, body: Any) -> web.Response:
        method, parts = request.method, path.strip("/").split("/")
        route = (method, path)
        if route == ("GET", "/users/@me"):
            if self.refuse_token:
                return self.reply({"message": "401: Unauthorized", "code": 0}, status=401)
            self.logged_in.set()
            return self.reply(BOT_USER)
        if route == ("GET", "/oauth2/applications/@me"):
            return self.reply(
                {
                    "id": str(APP_ID),
                    "name": "Peerboard",
                    "description": "",
                    "icon": None,
                    "bot_public": True,
                    "bot_require_code_grant": False,
                    "verify_key": "0" * 64,
                    "owner": {**BOT_USER, "id": "42", "username": "owner", "bot": False},
                    "team": None,
                    "flags": 0,
                }
            )
        if route == ("GET", f"/applications/{APP_ID}/commands"):
            return self.reply(self.commands)
        if route == ("PUT", f"/applications/{APP_ID}/commands"):
            self.commands = [
                {**cmd, "id": str(1000 + i), "application_id": str(APP_ID), "version": "1"}
                for i, cmd in enumerate(body)
            ]
            self.synced.set()
            return self.reply(self.commands)
        if method == "GET" and parts[0] == "users" and len(parts) == 2 and parts[1].isdigit():
            return self.reply(member(int(parts[1])))
        if route == ("POST", "/users/@me/channels"):
            recipient = int(body["recipient_id"])
            return self.reply(
                {"id": str(dm_channel_id(recipient)), "type": 1, "recipients": [member(recipient)]}
            )
        if parts[0] == "interactions" and parts[3:] == ["callback"] and method == "POST":
            return self.callback(int(parts[1]), parts[2], body, request.query)
        if parts[0] == "webhooks" and len(parts) >= 3:
            return self.webhook(method, parts[2], parts[3:], body)
        if parts[0] == "guilds" and parts[2:3] == ["members"] and method == "GET":
            guild = self.guilds.get(int(parts[1]))
            found = guild.members.get(int(parts[3])) if guild is not None else None
            return self.reply(found.json()) if found else self.not_found("Member", 10007)
        if parts[0] == "channels":
            return await self.channels(method, int(parts[1]), parts[2:], body)
        return self.reply({"message": "404: Not Found", "code": 0}, status=404)

    async def channels(
        self, method: str, channel_id: int, rest: list[str], body: Any
    ) -> web.Response:
        known = self.channel(channel_id)
        if rest == [] and method == "GET":
            if known is None:
                return self.not_found("Channel", 10003)
            return self.reply(known)
        if rest == [] and method == "PATCH" and channel_id in self.threads:
            self.threads[channel_id].update({k: v for k, v in body.items() if k == "name"})
            return self.reply(self.threads[channel_id])
        if rest == ["messages"] and method == "POST":
            if known is None and self.guilds and not is_dm(channel_id):
                return self.not_found("Channel", 10003)
            return await self.post_message(channel_id, body)
        if len(rest) >= 2 and rest[0] == "messages":
            message = self.messages.get(int(rest[1]))
            if message is None or message["channel_id"] != str(channel_id):
                return self.not_found("Message", 10008)
            if len(rest) == 2 and method == "PATCH":
                message.update(
                    {k: body[k] for k in ("content", "embeds", "components") if k in body}
                )
                message["edited_timestamp"] = "2026-01-01T00:00:01+00:00"
                return self.reply(message)
            if len(rest) == 2 and method == "GET":
                return self.reply(message)
            if rest[2:] == ["threads"] and method == "POST":
                return self.reply(self.start_thread(channel_id, message, body))
        return self.reply({"message": "404: Not Found", "code": 0}, status=404)

    def start_thread(
        self, channel_id: int, message: dict[str, Any], body: dict[str, Any]
    ) -> dict[str, Any]:
        """A thread from a message: its id is the message's, as on Discord."""
        thread = {
            "id": message["id"],
            "type": 11,
            "guild_id": str(self.guild_of_channel(channel_id)),
            "parent_id": str(channel_id),
            "name": body["name"],
            "owner_id": str(APP_ID),
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "message_count": 0,
            "member_count": 1,
            "flags": 0,
            "thread_metadata": {
                "archived": False,
                "auto_archive_duration": body.get("auto_archive_duration", 1440),
                "archive_timestamp": "2026-01-01T00:00:00+00:00",
                "locked": False,
            },
        }
        self.threads[int(message["id"])] = thread
        return thread

    def new_message(self, channel_id: int, body: dict[str, Any], **extra: Any) -> dict[str, Any]:
        message = {
            "id": str(next(_ids)),
            "channel_id": str(channel_id),
            "author": BOT_USER,
            "content": body.get("content") or "",
            "timestamp": "2026-01-01T00:00:00+00:00",
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": body.get("embeds") or [],
            "components": body.get("components") or [],
            "pinned": False,
            "type": 0,
            "flags": body.get("flags") or 0,
            **extra,
        }
        self.messages[int(message["id"])] = message
        return message

    async def post_message(self, channel_id: int, body: dict[str, Any]) -> web.Response:
        """Create a message, or with `enforce_nonce` return the one the same author made
        with the same nonce within NONCE_WINDOW (Discord's "Create Message")."""
        self.message_posted.set()
        author = BOT_USER["id"]
        nonce = body.get("nonce")
        key = (str(author), str(nonce))
        if nonce is not None and body.get("enforce_nonce"):
            seen = self.nonces.get(key)
            if seen is not None and time.monotonic() - seen[0] < NONCE_WINDOW:
                return self.reply(seen[1])
        message = self.new_message(channel_id, body, nonce=nonce)
        self.created.append(message)
        if nonce is not None and key not in self.nonces:  # the first message keeps it
            self.nonces[key] = (time.monotonic(), message)
        if self.hold_answers:
            await self.released.wait()  # the sender is gone by then: nobody reads it
        return self.reply(message)

    # -- interactions -------------------------------------------------------------------

    def callback(
        self, interaction_id: int, token: str, body: dict[str, Any], query: Any
    ) -> web.Response:
        """The first answer to an interaction: a message (4), a deferral (5), a modal (9)…
        Only once, as on Discord (40060 "already acknowledged")."""
        found = self.interactions.get(interaction_id)
        if found is None or found.token != token:
            return self.not_found("interaction", 10062)
        if found.callbacks:
            return self.reply(
                {"message": "Interaction has already been acknowledged.", "code": 40060},
                status=400,
            )
        found.callbacks.append(body)
        if query.get("with_response") not in ("1", "true"):
            return web.Response(status=204)
        data = body.get("data") or {}
        answer: dict[str, Any] = {"id": str(interaction_id), "type": 2}
        resource: dict[str, Any] = {"type": body["type"]}
        if body["type"] in (4, 5):
            found.original = self.new_message(
                found.channel_id,
                data,
                type=20,  # a reply to a slash command
                interaction_metadata={
                    "id": str(interaction_id),
                    "type": 2,
                    "user": user(found.user_id),
                    "authorizing_integration_owners": {"0": str(found.guild_id)},
                },
                webhook_id=str(APP_ID),
            )
            answer |= {
                "response_message_id": found.original["id"],
                "response_message_loading": body["type"] == 5,
                "response_message_ephemeral": bool((data.get("flags") or 0) & EPHEMERAL),
            }
            resource["message"] = found.original
        return self.reply({"interaction": answer, "resource": resource})

    def webhook(self, method: str, token: str, rest: list[str], body: Any) -> web.Response:
        """An interaction's followups and its original message (`@original`)."""
        found = next((i for i in self.interactions.values() if i.token == token), None)
        if found is None:
            return self.not_found("Webhook", 10015)
        if rest == [] and method == "POST":
            found.followups.append(body)
            return self.reply(self.new_message(found.channel_id, body, webhook_id=str(APP_ID)))
        if rest == ["messages", "@original"] and found.original is not None:
            if method == "PATCH":
                found.edits.append(body)
                found.original.update(
                    {k: body[k] for k in ("content", "embeds", "components") if k in body}
                )
            return self.reply(found.original)
        return self.not_found("Message", 10008)

    async def slash(
        self, guild_id: int, user_id: int, command: str, *, channel: str = "tasks", **options: Any
    ) -> Interaction:
        """`/task claim task:12` by a member, as Discord delivers it: an INTERACTION_CREATE
        to the newest open session whose shard owns the guild (an error if none does)."""
        guild = self.guilds[guild_id]
        owners = [s for s in self.sessions if s.open and guild_id in s.guild_ids]
        if not owners:
            raise AssertionError(f"no session owns guild {guild_id}")
        session = owners[-1]
        interaction = Interaction(
            id=next(_ids),
            token=f"interaction-{next(_ids)}",
            guild_id=guild_id,
            channel_id=guild.channels[channel],
            user_id=user_id,
            session=session,
            locale=self.locales.get(user_id, DEFAULT_LOCALE),
            guild_locale=self.guild_locale(guild_id),
        )
        self.interactions[interaction.id] = interaction
        await session.dispatch(
            "INTERACTION_CREATE", self.command_payload(interaction, user_id, command, options)
        )
        return interaction

    def command_payload(
        self, interaction: Interaction, user_id: int, command: str, options: dict[str, Any]
    ) -> dict[str, Any]:
        """The interaction's payload, its option types read from the synced commands."""
        guild = self.guilds[interaction.guild_id]
        name, *sub = command.split()
        synced = next(c for c in self.commands if c["name"] == name)
        declared = synced.get("options") or []
        nested: list[dict[str, Any]]
        if sub:
            group = next(o for o in declared if o["name"] == sub[0])
            declared = group.get("options") or []
        typed = {o["name"]: o["type"] for o in declared}
        values = [{"name": k, "type": typed[k], "value": v} for k, v in options.items()]
        nested = [{"type": 1, "name": sub[0], "options": values}] if sub else values
        channel = guild.channel(interaction.channel_id)
        return {
            "id": str(interaction.id),
            "application_id": str(APP_ID),
            "type": 2,
            "token": interaction.token,
            "version": 1,
            "guild_id": str(guild.id),
            "channel_id": str(interaction.channel_id),
            "channel": channel,
            "member": {
                **guild.members[user_id].json(),
                "permissions": str(guild.permissions(user_id)),
            },
            "data": {
                "id": synced["id"],
                "name": name,
                "type": 1,
                "guild_id": str(guild.id),
                "options": nested,
            },
            "locale": interaction.locale,
            "guild_locale": interaction.guild_locale,
            "app_permissions": str(guild.permissions(APP_ID)),
            "entitlements": [],
            "authorizing_integration_owners": {"0": str(guild.id)},
            "context": 0,
            "attachment_size_limit": 10 * 1024 * 1024,
        }

    # -- the gateway --------------------------------------------------------------------

    def shard_refusal(self, shard: Any) -> int | None:
        """Discord's answer to IDENTIFY's `shard` when this bot must be sharded."""
        if self.shard_count is None:
            return None
        if shard is None:
            return SHARDING_REQUIRED
        valid = isinstance(shard, list) and len(shard) == 2
        if not valid or shard[1] != self.shard_count or not 0 <= shard[0] < shard[1]:
            return INVALID_SHARD
        return None

    async def gateway(self, request: web.Request) -> web.WebSocketResponse:
        self.requests.append(("WS", request.path_qs, dict(request.headers), None))
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": 41250}}))
        session: Session | None = None
        while True:
            message = await ws.receive()
            if message.type is WSMsgType.CLOSE:
                self.close_code = int(message.data)
            if message.type is not WSMsgType.TEXT:
                break
            payload = json.loads(message.data)
            if payload["op"] == 1:  # heartbeat
                await ws.send_str(json.dumps({"op": 11, "d": None}))
            elif payload["op"] == 2:  # identify
                session = await self.identified_session(ws, payload["d"])
                if session is None:
                    break
            elif payload["op"] == 6:  # resume: this stand-in keeps no sessions to resume
                await ws.send_str(json.dumps({"op": 9, "d": False}))
        if session is not None:
            session.open = False
        self.gateway_closed.set()
        await self.changed()
        return ws

    async def identified_session(
        self, ws: web.WebSocketResponse, identify: dict[str, Any]
    ) -> Session | None:
        self.identify = identify
        self.identified.set()
        asked = identify.get("shard")
        refusal = self.shard_refusal(asked)
        if refusal is not None:
            self.refused.append((asked, refusal))
            await ws.close(code=refusal, message=b"Invalid shard")
            await self.changed()
            return None
        shard = (int(asked[0]), int(asked[1])) if asked else None
        ids = [g for g in self.guilds if self.owns(shard, g)]
        session = Session(ws, str(identify["token"]), shard, ids)
        self.sessions.append(session)
        ready = {
            "v": 10,
            "user": BOT_USER,
            "guilds": [{"id": str(g), "unavailable": True} for g in ids],
            "session_id": session.id,
            "resume_gateway_url": f"ws://127.0.0.1:{self.port}",
            "application": {"id": str(APP_ID), "flags": 0},
        }
        if asked is not None:  # as Discord does: READY names the shard
            ready["shard"] = asked
        await session.dispatch("READY", ready)
        for guild_id in ids:
            await session.dispatch("GUILD_CREATE", self.guild_create(guild_id))
        await self.changed()
        return session


async def step(event: asyncio.Event, running: asyncio.Task[None]) -> None:
    """Wait for the stub to see the next step, or fail at once if the bot stopped instead."""
    waiter = asyncio.ensure_future(event.wait())
    done, _ = await asyncio.wait({waiter, running}, return_when=asyncio.FIRST_COMPLETED)
    if waiter not in done:
        waiter.cancel()
        running.result()  # raises what stopped the bot
        raise AssertionError("the bot stopped before the next step")


async def start_peerboard_run(
    fake: FakeDiscord, cwd: Path, output: Any, **env: str
) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        str(Path(sys.executable).with_name("peerboard")),
        "run",
        cwd=cwd,
        env={
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(cwd),
            "PEERBOARD_DISCORD_TOKEN": TOKEN,
            "PEERBOARD_DISCORD_API_BASE": f"http://127.0.0.1:{fake.port}/api/v10",
            "PEERBOARD_DISCORD_GATEWAY": f"ws://127.0.0.1:{fake.port}",
            **env,
        },
        stdout=output,
        stderr=subprocess.STDOUT,
    )


Fake = TypeVar("Fake", bound=FakeDiscord)


@asynccontextmanager
async def serving(fake: Fake) -> AsyncIterator[Fake]:
    """The stand-in listening on a free loopback port (`fake.port`) until the block ends."""
    runner = web.AppRunner(fake.app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    fake.port = runner.addresses[0][1]
    try:
        yield fake
    finally:
        fake.released.set()  # a held answer would keep the server's cleanup waiting
        for session in fake.sessions:  # open sockets would keep the server's cleanup waiting
            if session.open:
                await session.ws.close()
        await runner.cleanup()
