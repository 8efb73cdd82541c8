"""A local stand-in for Discord on 127.0.0.1 (aiohttp): enough of the REST API and the
gateway for the bot to log in, sync its commands, join the gateway and send messages.
`PEERBOARD_DISCORD_API_BASE` / `PEERBOARD_DISCORD_GATEWAY` point `peerboard run` (or a
bot built in the test) at it. It honours a message's `nonce` with `enforce_nonce` as
Discord documents it: the same nonce from the same author within a few minutes returns
the message it made, and creates no other."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, TypeVar

from aiohttp import WSMsgType, web

APP_ID = 1234567890123456789
TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4OQ.GhJkLm.a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8s9T0"
TIMEOUT = 30.0
BOT_USER = {
    "id": str(APP_ID),
    "username": "Peerboard",
    "discriminator": "0",
    "global_name": None,
    "avatar": None,
    "bot": True,
    "flags": 0,
}
JSON = {"Content-Type": "application/json"}  # exactly: discord.py compares the whole string


# How long Discord remembers a nonce: "a few minutes" (not documented more exactly).
NONCE_WINDOW: Final = 5 * 60.0
_ids = itertools.count(1400000000000000001)


def member(user_id: int) -> dict[str, Any]:
    return {
        "id": str(user_id),
        "username": f"member{user_id % 1000}",
        "discriminator": "0",
        "global_name": None,
        "avatar": None,
        "flags": 0,
    }


def dm_channel_id(user_id: int) -> int:
    """The bot's DM channel with this member (one per member, as on Discord)."""
    return 1500000000000000000 + user_id % 10**12


@dataclass
class FakeDiscord:
    """Records what the bot sends; sets an event at each step of a start."""

    port: int = 0
    requests: list[tuple[str, str, dict[str, str], Any]] = field(default_factory=list)
    commands: list[dict[str, Any]] = field(default_factory=list)
    identify: dict[str, Any] | None = None
    refuse_token: bool = False
    close_code: int | None = None
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

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/", self.gateway)
        app.router.add_route("*", "/api/v10/{path:.*}", self.rest)
        return app

    @staticmethod
    def reply(body: Any, status: int = 200) -> web.Response:
        return web.Response(status=status, body=json.dumps(body).encode(), headers=JSON)

    async def rest(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["path"]
        body = await request.json() if request.can_read_body else None
        self.requests.append((request.method, path, dict(request.headers), body))
        route = (request.method, path)
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
        if request.method == "GET" and path.startswith("/users/") and path[7:].isdigit():
            return self.reply(member(int(path[7:])))
        if route == ("POST", "/users/@me/channels"):
            recipient = int(body["recipient_id"])
            return self.reply(
                {"id": str(dm_channel_id(recipient)), "type": 1, "recipients": [member(recipient)]}
            )
        if (
            request.method == "POST"
            and path.startswith("/channels/")
            and path.endswith("/messages")
        ):
            return await self.post_message(int(path.split("/")[2]), body)
        if route == ("GET", f"/applications/{APP_ID}/commands"):
            return self.reply(self.commands)
        if route == ("PUT", f"/applications/{APP_ID}/commands"):
            self.commands = [
                {**cmd, "id": str(1000 + i), "application_id": str(APP_ID), "version": "1"}
                for i, cmd in enumerate(body)
            ]
            self.synced.set()
            return self.reply(self.commands)
        return self.reply({"message": "404: Not Found", "code": 0}, status=404)

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
            "components": [],
            "pinned": False,
            "type": 0,
            "flags": 0,
            "nonce": nonce,
        }
        self.created.append(message)
        if nonce is not None and key not in self.nonces:  # the first message keeps it
            self.nonces[key] = (time.monotonic(), message)
        if self.hold_answers:
            await self.released.wait()  # the sender is gone by then: nobody reads it
        return self.reply(message)

    async def gateway(self, request: web.Request) -> web.WebSocketResponse:
        self.requests.append(("WS", request.path_qs, dict(request.headers), None))
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": 41250}}))
        while True:
            message = await ws.receive()
            if message.type is WSMsgType.CLOSE:
                self.close_code = int(message.data)
            if message.type is not WSMsgType.TEXT:
                break
            payload = json.loads(message.data)
            if payload["op"] == 1:  # heartbeat
                await ws.send_str(json.dumps({"op": 11}))
            elif payload["op"] == 2:  # identify
                self.identify = payload["d"]
                self.identified.set()
                ready = {
                    "v": 10,
                    "user": BOT_USER,
                    "guilds": [],
                    "session_id": "smoke-session",
                    "resume_gateway_url": f"ws://127.0.0.1:{self.port}",
                    "application": {"id": str(APP_ID), "flags": 0},
                }
                if "shard" in self.identify:  # as Discord does: READY names the shard
                    ready["shard"] = self.identify["shard"]
                await ws.send_str(json.dumps({"op": 0, "s": 1, "t": "READY", "d": ready}))
        self.gateway_closed.set()
        return ws


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
        await runner.cleanup()
