"""GitHub's deliveries shown in Discord: each accepted delivery is handled after the
webhook was answered (`WebhookService.handle`), in a task the bot tracks, and what it
changed is shown as a member's action is — a new task's card, the card edited, the
thread's line, #review's post (`publish.spread`) — or, for a ping, the maintainers are
told in #review that the hook works."""

from __future__ import annotations

import asyncio
import logging

import discord

from bot.services.github import Effect
from bot.ui import github
from bot.ui.client import PeerClient
from bot.ui.publish import channel, post_card, public_texts, spread

log = logging.getLogger("peerboard.github")


class ForgeWorker:
    def __init__(self, client: PeerClient) -> None:
        self._client = client
        self._running: set[asyncio.Task[None]] = set()

    def accept(self, delivery: str) -> None:
        """Handle a recorded delivery in the background (the webhook has its answer)."""
        task = asyncio.get_running_loop().create_task(self._run(delivery))
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def drain(self) -> None:
        """Wait until every delivery accepted so far is handled and shown."""
        while self._running:
            await asyncio.gather(*list(self._running), return_exceptions=True)

    async def resume(self) -> None:
        """Deliveries recorded but never handled (the process stopped in between)."""
        try:
            pending = await self._client.services.webhooks.pending()
        except Exception:  # the bot serves members all the same; the rows stay pending
            log.exception("could not read the GitHub deliveries left pending")
            return
        for delivery in pending:
            self.accept(delivery)

    async def _run(self, delivery: str) -> None:
        client = self._client
        bot_id = client.user.id if client.user is not None else 0
        effects = await client.services.webhooks.handle(delivery, bot_id)
        for effect in effects:
            try:
                await self._show(effect)
            except Exception:
                # The board has the change (the card is marked: the sweep repairs it).
                log.exception("GitHub delivery %s: could not show its effect", delivery)

    async def _show(self, effect: Effect) -> None:
        client = self._client
        config = await client.services.config.get(effect.guild_id)
        if effect.created is not None:
            await post_card(client, effect.created, config)
        if effect.result is not None:
            await spread(client, effect.result, config)
        if effect.ping is not None:
            where_id = config.review_channel_id or config.tasks_channel_id
            where = await channel(client, where_id) if where_id else None
            text = github.hook_works(public_texts(client, config), effect.ping)
            if isinstance(where, discord.abc.Messageable):
                await where.send(text)
            else:
                log.info("GitHub ping for %s: no channel to tell maintainers in", effect.ping)
