"""Card repair with Discord (the `CardPublisher` port): the sweep hands over a task
whose card Discord refused to update; its card is edited from the task as it stands,
posted again if its message was deleted, and its posts in #review brought up to date.
"""

from __future__ import annotations

import logging
from typing import Final

import discord

from bot.services.cards import CardOutcome, Line
from bot.services.config import GuildConfig
from bot.services.views import TaskView
from bot.ui import upkeep
from bot.ui.cards import card_view, task_embed
from bot.ui.client import PeerClient
from bot.ui.publish import (
    TRANSIENT,
    CardChannel,
    channel,
    public_texts,
    sync_review_posts,
    user_pings,
)

log = logging.getLogger("peerboard.board")

UNKNOWN_CHANNEL: Final = 10003
UNKNOWN_MESSAGE: Final = 10008


class DiscordCards:
    def __init__(self, client: PeerClient) -> None:
        self.client = client

    async def repair(self, task: TaskView, config: GuildConfig) -> CardOutcome:
        if not (task.card_channel_id and task.card_message_id):
            return CardOutcome.SHOWN  # no card to keep in step
        try:
            outcome = await self._edit(task, config)
        except discord.HTTPException as err:
            if err.status == 429 or err.status >= 500:
                outcome = CardOutcome.RETRY
            else:
                log.warning("Discord refused the card of #%s (%s)", task.number, err)
                outcome = CardOutcome.BLOCKED
        except TRANSIENT:
            log.warning("could not reach Discord for the card of #%s", task.number, exc_info=True)
            outcome = CardOutcome.RETRY
        if outcome is CardOutcome.SHOWN and not await sync_review_posts(self.client, task, config):
            outcome = CardOutcome.RETRY  # a post in #review still shows an older state
        return outcome

    async def _edit(self, task: TaskView, config: GuildConfig) -> CardOutcome:
        assert task.card_channel_id and task.card_message_id
        try:
            where = self.client.get_channel(task.card_channel_id) or (
                await self.client.fetch_channel(task.card_channel_id)
            )
        except discord.NotFound:
            # The card's channel is gone: a tasks channel configured since takes the card.
            return await self._repost_elsewhere(task, config)
        if not isinstance(where, CardChannel):
            return CardOutcome.BLOCKED
        try:
            async with self.client.pacer.turn(task):  # paced with the channel's other cards
                tr = public_texts(self.client, config)
                await where.get_partial_message(task.card_message_id).edit(
                    embed=task_embed(tr, task), view=card_view(tr, task)
                )
        except discord.NotFound as err:
            if err.code == UNKNOWN_CHANNEL:
                return await self._repost_elsewhere(task, config)
            if err.code != UNKNOWN_MESSAGE:
                raise
            # Someone deleted the card: the board shows it again, where it was.
            return await self._repost(task, config, where)
        return CardOutcome.SHOWN

    async def _repost_elsewhere(self, task: TaskView, config: GuildConfig) -> CardOutcome:
        if not config.tasks_channel_id or config.tasks_channel_id == task.card_channel_id:
            return CardOutcome.BLOCKED
        where = await channel(self.client, config.tasks_channel_id)
        if not isinstance(where, CardChannel):
            return CardOutcome.BLOCKED
        return await self._repost(task, config, where)

    async def _repost(self, task: TaskView, config: GuildConfig, where: CardChannel) -> CardOutcome:
        # Raises as an edit does; the caller sorts a failure into retry or blocked.
        tr = public_texts(self.client, config)
        message = await where.send(
            embed=task_embed(tr, task),
            view=card_view(tr, task),
            allowed_mentions=discord.AllowedMentions.none(),
        )
        await self.client.services.tasks.set_card(
            task.guild_id, task.number, where.id, message.id, None, shows=task.version
        )
        log.info("posted the card of #%s again (message %s)", task.number, message.id)
        return CardOutcome.SHOWN

    async def post_line(self, line: Line) -> CardOutcome:
        try:
            thread = self.client.get_channel(line.thread_id) or (
                await self.client.fetch_channel(line.thread_id)
            )
            if not isinstance(thread, discord.abc.Messageable):
                return CardOutcome.BLOCKED
            await thread.send(
                line.content,
                allowed_mentions=user_pings(line.pings),
            )
        except discord.HTTPException as err:
            transient = err.status == 429 or err.status >= 500
            log.warning("could not post a line in thread %s (%s)", line.thread_id, err)
            return CardOutcome.RETRY if transient else CardOutcome.BLOCKED
        except TRANSIENT:
            log.warning("could not reach Discord for thread %s", line.thread_id, exc_info=True)
            return CardOutcome.RETRY
        return CardOutcome.SHOWN

    async def tell_blocked(self, task: TaskView, config: GuildConfig) -> bool:
        """A line in #review, where maintainers are asked to step in; no ping."""
        if not config.review_channel_id:
            return False
        review = await channel(self.client, config.review_channel_id)
        where = task.card_channel_id or config.tasks_channel_id or 0
        if not isinstance(review, discord.abc.Messageable) or review.id == where:
            return False
        try:
            await review.send(
                upkeep.cards_blocked(public_texts(self.client, config), where),
                allowed_mentions=discord.AllowedMentions.none(),
            )
        except (discord.HTTPException, *TRANSIENT):
            log.warning("could not tell #review that cards can't be updated", exc_info=True)
            return False
        return True
