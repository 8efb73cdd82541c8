"""DiscordNotifier: the Notifier port over Discord. DM first; when DMs are closed
(50007), a mention in the task's thread. Channel notices go to the configured channel."""

from __future__ import annotations

import logging

import discord

from bot.domain.rules import can_extend
from bot.services.config import GuildConfig
from bot.services.notify import DeliveryFailed, Notice
from bot.services.reminders.kinds import Audience
from bot.ui import messages
from bot.ui.cards import card_view, task_embed, warning_view
from bot.ui.publish import Channel, refresh_card
from bot.ui.text import user

log = logging.getLogger("peerboard.notifier")

DMS_CLOSED = 50007


class DiscordNotifier:
    def __init__(self, client: discord.Client) -> None:
        self.client = client

    async def deliver(self, notice: Notice, config: GuildConfig) -> str:
        try:
            if notice.kind.to_member and notice.member_id:
                return await self._to_member(notice, config)
            return await self._to_channel(notice, config)
        except discord.HTTPException as err:
            transient = err.status == 429 or err.status >= 500
            raise DeliveryFailed(
                f"{err.status} {err.code}: {err.text[:200]}", transient=transient
            ) from err
        except (OSError, TimeoutError) as err:
            raise DeliveryFailed(str(err), transient=True) from err

    async def _to_member(self, notice: Notice, config: GuildConfig) -> str:
        text = messages.member_text(notice)
        view: discord.ui.View | None = None
        if notice.kind.buttons:
            # The claim warning carries Still on it (while an extension is left) and
            # Release; other reminders no buttons.
            mine = next((c for c in notice.task.claims if c.member_id == notice.member_id), None)
            extend = mine is not None and can_extend(mine.extensions, config.rules)
            text = messages.claim_warning(notice, can_extend=extend)
            view = warning_view(notice.task, can_extend=extend)
        try:
            target = self.client.get_user(notice.member_id) or await self.client.fetch_user(
                notice.member_id
            )
            dm = target.dm_channel or await target.create_dm()
            if view is None:
                await dm.send(text)
            else:
                await dm.send(text, view=view)
            return "dm"
        except discord.Forbidden as err:
            if err.code != DMS_CLOSED:
                raise
        # DMs closed: tell them where the task is discussed, pinging only them.
        channel = await self._channel(notice.task.thread_id or config.tasks_channel_id)
        if channel is None:
            return "nowhere"
        ping = discord.AllowedMentions(users=[discord.Object(notice.member_id)])
        text = f"{user(notice.member_id)} {text}"
        if view is None:
            await channel.send(text, allowed_mentions=ping)
        else:
            await channel.send(text, allowed_mentions=ping, view=view)
        return "thread"

    async def _to_channel(self, notice: Notice, config: GuildConfig) -> str:
        t = notice.task
        if notice.kind.refresh_card:
            await refresh_card(self.client, t)
        audience = notice.kind.audience
        if Audience.REVIEWERS in audience or Audience.MAINTAINERS in audience:
            channel = await self._channel(config.review_channel_id)
            if channel is None:
                return "nowhere"
            role = (
                config.maintainer_role_id
                if Audience.MAINTAINERS in audience
                else config.reviewer_role_id
            )
            text = messages.review_reminder(notice, role)
            pings = (
                discord.AllowedMentions(roles=[discord.Object(role)])
                if role
                else discord.AllowedMentions.none()
            )
            await channel.send(text, embed=task_embed(t), view=card_view(t), allowed_mentions=pings)
            return "channel"
        channel = await self._channel(config.tasks_channel_id)
        if channel is None:
            return "nowhere"
        await channel.send(messages.board_notice(notice))
        return "channel"

    async def _channel(self, channel_id: int | None) -> discord.abc.Messageable | None:
        if not channel_id:
            return None
        channel: Channel | None = self.client.get_channel(channel_id)
        if channel is None:
            try:
                channel = await self.client.fetch_channel(channel_id)
            except discord.NotFound:
                return None
        if not isinstance(channel, discord.abc.Messageable):
            raise DeliveryFailed(f"channel {channel_id} takes no messages", transient=False)
        return channel
