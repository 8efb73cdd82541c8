"""Lists: /task list pages (with Previous/Next), /task history, /me tasks."""

from __future__ import annotations

import re
from typing import Any

import discord

from bot.domain.errors import DomainError
from bot.services.views import HistoryView, TaskView
from bot.ui.cards import STYLE
from bot.ui.context import services_of
from bot.ui.errors import report
from bot.ui.text import EMBED_DESCRIPTION_MAX, clip, safe, stamp, user

ACTION_WORDS = {
    "create": "created",
    "propose": "proposed",
    "endorse": "endorsed",
    "object": "objected",
    "accept": "opened (no objection)",
    "claim": "claimed",
    "release": "released",
    "extend": "extended",
    "expire": "claim expired",
    "submit": "submitted",
    "approve": "approved",
    "request_changes": "asked for changes",
    "assign": "assigned",
    "edit": "edited",
    "cancel": "cancelled",
    "reopen": "reopened",
}


def task_line(task: TaskView) -> str:
    emoji = STYLE[task.status][1].split(" ", 1)[0]
    extra = []
    if task.claims:
        extra.append(", ".join(user(c.member_id) for c in task.claims))
    if task.capacity > 1 and task.free_slots:
        extra.append(f"{task.free_slots}/{task.capacity} free")
    if task.due_at:
        extra.append(f"due {stamp(task.due_at)}")
    if task.blocked:
        extra.append(f"waits on #{task.blocked_by}")
    tail = f" — {' · '.join(extra)}" if extra else ""
    return f"{emoji} **#{task.number}** {safe(task.title, 100)} · {task.points} pt{tail}"


class ListView(discord.ui.View):
    """Ephemeral and short-lived, so it keeps its cursors in memory."""

    def __init__(self, owner_id: int, guild_id: int, filters: dict[str, Any], title: str) -> None:
        super().__init__(timeout=600)
        self.owner_id = owner_id
        self.guild_id = guild_id
        self.filters = filters
        self.title = title
        self.cursors: list[int] = [0]  # `after` of each page seen
        self.next_after: int | None = None

    async def page(self, interaction: discord.Interaction) -> discord.Embed:
        page = await services_of(interaction).tasks.list_tasks(
            self.guild_id, after=self.cursors[-1], **self.filters
        )
        self.next_after = page.next_after
        self.previous.disabled = len(self.cursors) == 1
        self.next.disabled = page.next_after is None
        lines = [task_line(t) for t in page.items] or ["Nothing here right now."]
        embed = discord.Embed(
            title=self.title, description=clip("\n".join(lines), EMBED_DESCRIPTION_MAX)
        )
        embed.set_footer(text=f"Page {len(self.cursors)}")
        return embed

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        return interaction.user.id == self.owner_id

    @discord.ui.button(label="Previous", style=discord.ButtonStyle.secondary)
    async def previous(
        self, interaction: discord.Interaction, _button: discord.ui.Button[Any]
    ) -> None:
        if len(self.cursors) > 1:
            self.cursors.pop()
        await interaction.response.edit_message(embed=await self.page(interaction), view=self)

    @discord.ui.button(label="Next", style=discord.ButtonStyle.secondary)
    async def next(self, interaction: discord.Interaction, _button: discord.ui.Button[Any]) -> None:
        if self.next_after is not None:
            self.cursors.append(self.next_after)
        await interaction.response.edit_message(embed=await self.page(interaction), view=self)

    async def on_error(
        self, interaction: discord.Interaction, error: Exception, item: Any, /
    ) -> None:
        await report(interaction, error)


async def show_list(
    interaction: discord.Interaction, *, status: str | None, tag: str | None, member: Any
) -> None:
    assert interaction.guild_id is not None
    filters: dict[str, Any] = {
        "status": status,
        "tag": tag,
        "member_id": member.id if member else None,
    }
    label = {None: "Open tasks", "all": "All tasks"}.get(
        status, f"Tasks: {(status or '').replace('_', ' ')}"
    )
    if member is not None and status is None:
        label = "Work in progress"
    if member is not None:
        label += f" held by {getattr(member, 'display_name', 'member')}"
    if tag:
        label += f" tagged “{tag.strip().lower()[:32]}”"
    view = ListView(interaction.user.id, interaction.guild_id, filters, clip(label, 256))
    try:
        embed = await view.page(interaction)
    except DomainError as err:
        await report(interaction, err)
        return
    await interaction.response.send_message(embed=embed, view=view, ephemeral=True)


def _note(h: HistoryView) -> str:
    # Assign and expire rows name the member as a bare mention the bot wrote itself; show it
    # as one (embeds never ping). Everything else is member text, shown defused.
    if h.action in ("assign", "expire") and re.fullmatch(r"<@\d{1,20}>", h.note):
        return h.note
    return safe(h.note, 200)


def history_embed(task: TaskView, rows: tuple[HistoryView, ...]) -> discord.Embed:
    lines = []
    for h in rows:
        change = (
            f" ({h.from_status} → {h.to_status})"
            if h.from_status and h.from_status != h.to_status
            else ""
        )
        # The first row's note is the title, already in the embed's title.
        note = f" — {_note(h)}" if h.note and h.action not in ("create", "propose") else ""
        lines.append(
            f"{stamp(h.created_at)} {user(h.actor_id)} {ACTION_WORDS.get(h.action, h.action)}{change}{note}"
        )
    text = "\n".join(lines)
    if len(text) > EMBED_DESCRIPTION_MAX:
        text = "…\n" + text[-(EMBED_DESCRIPTION_MAX - 2) :].split("\n", 1)[-1]
    return discord.Embed(
        title=clip(f"History of #{task.number} · {task.title}", 256), description=text
    )


def my_tasks_embed(
    claims: tuple[TaskView, ...], reviews: tuple[TaskView, ...], member_id: int
) -> discord.Embed:
    embed = discord.Embed(title="Your tasks")
    held = []
    for t in claims:
        mine = next((c for c in t.claims if c.member_id == member_id), None)
        ends = (
            f" · claim ends {stamp(mine.expires_at)}"
            if mine and t.status.value != "in_review"
            else ""
        )
        held.append(task_line(t).split(" — ")[0] + ends)
    embed.add_field(
        name="You're working on",
        value=clip("\n".join(held), 1024) or "Nothing yet — try `/task list`.",
        inline=False,
    )
    embed.add_field(
        name="Waiting for your review",
        value=clip("\n".join(task_line(t) for t in reviews), 1024) or "Nothing right now.",
        inline=False,
    )
    return embed
