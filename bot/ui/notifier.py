"""DiscordNotifier: the Notifier port over Discord. DM first; when DMs are closed
(50007), a mention in the task's thread. Channel notices go to the configured channel."""

from __future__ import annotations

import logging
from typing import Any

import discord

from bot.domain.model import Reminder
from bot.services.config import GuildConfig
from bot.services.notify import DeliveryFailed, Notice
from bot.ui.board import refresh_card
from bot.ui.cards import card_view, task_embed, task_title
from bot.ui.components import TaskButton
from bot.ui.text import stamp, user, when

log = logging.getLogger("peerboard.notifier")

DMS_CLOSED = 50007


def member_text(notice: Notice) -> str:
    t = notice.task
    name = f"**{task_title(t)}**"
    mine = next((c for c in t.claims if c.member_id == notice.member_id), None)
    if notice.kind is Reminder.CLAIM_WARNING:
        ends = when(mine.expires_at) if mine else "soon"
        return f"⏳ Your claim on {name} ends {ends}. Still on it? Tap **Still on it** to extend it, or **Release** to hand it back."
    if notice.kind is Reminder.CLAIM_EXPIRED:
        return (
            f"⌛ Your claim on {name} ran out, so it's back on the board. No worries — "
            "if you're still on it and it's free, just claim it again."
        )
    if notice.kind is Reminder.DUE_SOON:
        return f"📅 {name} is due {when(notice.due_at)}."
    if notice.kind is Reminder.OVERDUE:
        return f"📅 {name} was due {stamp(notice.due_at)}. If you need more time, say so in the task's thread."
    if notice.kind is Reminder.UNBLOCKED:
        blocker = f" (#{t.blocked_by} is done)" if t.blocked_by else ""
        return f"🔓 {name} is no longer blocked{blocker} — you can get going."
    return f"🔔 An update on {name}."


def warning_view(notice: Notice) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(TaskButton(notice.task.guild_id, notice.task.number, "extend"))
    view.add_item(TaskButton(notice.task.guild_id, notice.task.number, "release"))
    return view


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
        text = member_text(notice)
        extra: dict[str, Any] = {}
        if notice.kind is Reminder.CLAIM_WARNING:
            extra["view"] = warning_view(notice)
        try:
            target = self.client.get_user(notice.member_id) or await self.client.fetch_user(
                notice.member_id
            )
            dm = target.dm_channel or await target.create_dm()
            await dm.send(text, **extra)
            return "dm"
        except discord.Forbidden as err:
            if err.code != DMS_CLOSED:
                raise
        # DMs closed: tell them where the task is discussed, pinging only them.
        channel = await self._channel(notice.task.thread_id or config.tasks_channel_id)
        if channel is None:
            return "nowhere"
        await channel.send(
            f"{user(notice.member_id)} {text}",
            allowed_mentions=discord.AllowedMentions(users=[discord.Object(notice.member_id)]),
            **extra,
        )
        return "thread"

    async def _to_channel(self, notice: Notice, config: GuildConfig) -> str:
        t = notice.task
        name = f"**{task_title(t)}**"
        if notice.kind in (Reminder.BACK_ON_BOARD, Reminder.PROPOSAL_OPENED):
            await refresh_card(self.client, t)
        if notice.kind in (Reminder.REVIEW_NUDGE, Reminder.REVIEW_ESCALATION):
            channel = await self._channel(config.review_channel_id)
            if channel is None:
                return "nowhere"
            role = (
                config.maintainer_role_id
                if notice.kind is Reminder.REVIEW_ESCALATION
                else config.reviewer_role_id
            )
            mention = f"<@&{role}> " if role else ""
            since = stamp(t.submission.created_at) if t.submission else "a while"
            text = (
                f"{mention}🧭 {name} has waited for review since {since}. Could a maintainer review it, or find someone who can?"
                if notice.kind is Reminder.REVIEW_ESCALATION
                else f"{mention}👀 {name} has been waiting for review since {since}. Could someone take a look?"
            )
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
        if notice.kind is Reminder.BACK_ON_BOARD:
            text = f"🔁 {name} is back on the board — the last claim ran out. Up for it?"
        elif notice.kind is Reminder.PROPOSAL_OPENED:
            text = f"💡 Proposal {name} is now open on the board."
        elif notice.kind is Reminder.UNBLOCKED:
            blocker = f"#{t.blocked_by} is done" if t.blocked_by else "its blocker is done"
            text = f"🔓 {name} can be claimed now: {blocker}."
        else:
            text = f"🔔 An update on {name}."
        await channel.send(text)
        return "channel"

    async def _channel(self, channel_id: int | None) -> Any:
        if not channel_id:
            return None
        channel = self.client.get_channel(channel_id)
        if channel is None:
            try:
                channel = await self.client.fetch_channel(channel_id)
            except discord.NotFound:
                return None
        return channel
