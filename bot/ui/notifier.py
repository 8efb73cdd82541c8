"""DiscordNotifier: the Notifier port over Discord. A notice to a member falls back DM →
the task's thread → the tasks channel (a mention pinging only them) when one refuses or is
gone; channel notices go to the configured channel. When nothing can receive it, the
delivery fails for good (a dead letter the maintainers see), never a silent success.
Every send carries the delivery's nonce with `enforce_nonce` (discord.py sets it with any
nonce), so a send retried after a crash between sending and recording is deduplicated by
Discord instead of reaching the member twice."""

from __future__ import annotations

import logging
import secrets
from typing import Final

import discord

from bot.domain.rules import can_extend
from bot.services.config import GuildConfig
from bot.services.notify import DeliveryFailed, Notice
from bot.services.reminders.kinds import Audience
from bot.ui import language, messages
from bot.ui.cards import card_view, task_embed, warning_view
from bot.ui.client import PeerClient
from bot.ui.errors import NETWORK_ERRORS
from bot.ui.publish import Channel, public_texts, refresh_card
from bot.ui.text import user

log = logging.getLogger("peerboard.notifier")

DMS_CLOSED: Final = 50007


def nonce(notice: Notice) -> str | int:
    """The delivery's message nonce (Discord takes up to 25 characters); without a
    delivery, a random one, as discord.py picks by itself."""
    return f"pb-d{notice.delivery_id}" if notice.delivery_id else secrets.randbits(64)


class DiscordNotifier:
    """A notice to a member is in their language (wherever it lands: it speaks to them);
    a channel notice, in the guild's."""

    def __init__(self, client: PeerClient) -> None:
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
        except NETWORK_ERRORS as err:
            raise DeliveryFailed(f"{type(err).__name__}: {err}"[:300], transient=True) from err

    async def _to_member(self, notice: Notice, config: GuildConfig) -> str:
        assert notice.member_id
        guild = self.client.get_guild(config.guild_id)
        tr = await language.direct(self.client.services, config, notice.member_id, guild)
        text = messages.member_text(tr, notice)
        view: discord.ui.View | None = None
        if notice.kind.buttons:
            # The claim warning carries Still on it (while an extension is left) and
            # Release; other reminders no buttons.
            mine = next((c for c in notice.task.claims if c.member_id == notice.member_id), None)
            extend = mine is not None and can_extend(mine.extensions, config.rules)
            text = messages.claim_warning(tr, notice, can_extend=extend)
            view = warning_view(tr, notice.task, can_extend=extend)
        if await self._dm(notice, text, view):
            return "dm"
        # DMs closed: the task's thread, then the tasks channel, pinging only them.
        ping = discord.AllowedMentions(users=[discord.Object(notice.member_id)])
        text = f"{user(notice.member_id)} {text}"
        tried = ["DMs closed"]
        for via, channel_id in (
            ("thread", notice.task.thread_id),
            ("channel", config.tasks_channel_id),
        ):
            if not channel_id:
                tried.append(f"no {via}")
                continue
            try:
                channel = await self._channel(channel_id)
                if channel is None:
                    tried.append(f"{via} gone")
                    continue
                await _send(channel, text, view, nonce=nonce(notice), allowed_mentions=ping)
                return via
            except (discord.Forbidden, discord.NotFound):
                tried.append(f"{via} refused")
        raise DeliveryFailed("nobody could receive it: " + ", ".join(tried), transient=False)

    async def _dm(self, notice: Notice, text: str, view: discord.ui.View | None) -> bool:
        """Whether the DM went out; False when the member takes no DMs from us."""
        try:
            target = self.client.get_user(notice.member_id) or await self.client.fetch_user(
                notice.member_id
            )
            dm = target.dm_channel or await target.create_dm()
            await _send(dm, text, view, nonce=nonce(notice))
            return True
        except discord.Forbidden:
            return False  # 50007 and its kin: this member cannot be sent a DM
        except discord.NotFound:
            return False  # the account is gone

    async def _to_channel(self, notice: Notice, config: GuildConfig) -> str:
        t = notice.task
        if notice.kind.refresh_card:
            await refresh_card(self.client, t)
        audience = notice.kind.audience
        tr = public_texts(self.client, config)
        if Audience.REVIEWERS in audience or Audience.MAINTAINERS in audience:
            channel = await self._channel(config.review_channel_id)
            if channel is None:
                raise DeliveryFailed("no review channel to post it in", transient=False)
            role = (
                config.maintainer_role_id
                if Audience.MAINTAINERS in audience
                else config.reviewer_role_id
            )
            text = messages.review_reminder(tr, notice, role)
            pings = (
                discord.AllowedMentions(roles=[discord.Object(role)])
                if role
                else discord.AllowedMentions.none()
            )
            await self._post(
                channel,
                text,
                embed=task_embed(tr, t),
                view=card_view(tr, t),
                allowed_mentions=pings,
                nonce=nonce(notice),
            )
            return "channel"
        channel = await self._channel(config.tasks_channel_id)
        if channel is None:
            raise DeliveryFailed("no tasks channel to post it in", transient=False)
        await self._post(channel, messages.board_notice(tr, notice), nonce=nonce(notice))
        return "channel"

    @staticmethod
    async def _post(channel: discord.abc.Messageable, text: str, **options: object) -> None:
        """A channel post; a channel that refuses us (a missing permission, deleted under
        us) makes the notice a dead letter, not a retry every few minutes."""
        try:
            await channel.send(text, **options)  # type: ignore[call-overload]
        except (discord.Forbidden, discord.NotFound) as err:
            raise DeliveryFailed(
                f"the channel refused it: {err.status} {err.code}", transient=False
            ) from err

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


async def _send(
    channel: discord.abc.Messageable,
    text: str,
    view: discord.ui.View | None,
    *,
    nonce: str | int,
    allowed_mentions: discord.AllowedMentions | None = None,
) -> None:
    mentions = allowed_mentions or discord.AllowedMentions.none()
    if view is None:
        await channel.send(text, nonce=nonce, allowed_mentions=mentions)
    else:
        await channel.send(text, view=view, nonce=nonce, allowed_mentions=mentions)
