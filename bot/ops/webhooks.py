"""`POST /webhooks/github/<guild id>` on the operator's server: GitHub's deliveries.

The body is limited to 1 MiB (413), checked from Content-Length before any of it is read
and again while reading (aiohttp's client_max_size); the signature is checked on the raw
bytes before anything parses them (bot/services/github/webhooks.py). The delivery is
recorded and answered within GitHub's 10 seconds; the work is done after, by `accepted`
(the bot's ForgeWorker)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Final

from aiohttp import web

from bot.services.github import WebhookService
from bot.services.github.webhooks import MAX_BODY

log = logging.getLogger("peerboard.github")

PATH: Final = "/webhooks/github/{guild_id}"
ANSWER_WITHIN: Final = 8.0  # seconds: GitHub gives up after 10


class GitHubHook:
    def __init__(self, webhooks: WebhookService, accepted: Callable[[str], None]) -> None:
        self._webhooks = webhooks
        self._accepted = accepted

    async def post(self, request: web.Request) -> web.Response:
        raw_guild = request.match_info.get("guild_id", "")
        if not (raw_guild.isascii() and raw_guild.isdigit() and len(raw_guild) <= 20):
            return _answer(404, "unknown guild")
        length = request.content_length
        if length is not None and length > MAX_BODY:
            return _answer(413, f"the body is larger than {MAX_BODY} bytes")
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return _answer(413, f"the body is larger than {MAX_BODY} bytes")
        delivery = request.headers.get("X-GitHub-Delivery")
        try:
            async with asyncio.timeout(ANSWER_WITHIN):
                receipt = await self._webhooks.receive(
                    int(raw_guild),
                    event=request.headers.get("X-GitHub-Event"),
                    delivery=delivery,
                    signature=request.headers.get("X-Hub-Signature-256"),
                    body=body,
                )
        except Exception:
            log.exception("GitHub delivery %s could not be recorded", delivery)
            return _answer(503, "could not record the delivery; GitHub may redeliver it")
        if receipt.status >= 400:
            log.info(
                "GitHub delivery %s for guild %s refused: %s %s",
                delivery,
                raw_guild,
                receipt.status,
                receipt.reason,
            )
        if receipt.delivery is not None:
            self._accepted(receipt.delivery)
        return _answer(receipt.status, receipt.reason)


def _answer(status: int, reason: str) -> web.Response:
    return web.json_response({"status": status, "reason": reason}, status=status)
