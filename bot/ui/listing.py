"""Lists: /task list pages (with Previous/Next), /task history, /me tasks."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import discord

from bot import i18n
from bot.domain.errors import Phrase
from bot.domain.model import Status
from bot.services.registry import Services
from bot.services.views import HistoryView, TaskView
from bot.ui.cards import EMOJI
from bot.ui.errors import refusals, report
from bot.ui.text import EMBED_DESCRIPTION_MAX, clip, safe, stamp, user

# What someone did, as a history line says it (each a message of its own in the catalog).
ACTION_WORDS = {
    "create": Phrase("{actor} created"),
    "propose": Phrase("{actor} proposed"),
    "endorse": Phrase("{actor} endorsed"),
    "object": Phrase("{actor} objected"),
    "accept": Phrase("{actor} opened (no objection)"),
    "claim": Phrase("{actor} claimed"),
    "release": Phrase("{actor} released"),
    "extend": Phrase("{actor} extended"),
    "expire": Phrase("{actor} claim expired"),
    "submit": Phrase("{actor} submitted"),
    "approve": Phrase("{actor} approved"),
    "request_changes": Phrase("{actor} asked for changes"),
    "assign": Phrase("{actor} assigned"),
    "edit": Phrase("{actor} edited"),
    "cancel": Phrase("{actor} cancelled"),
    "reopen": Phrase("{actor} reopened"),
}
# A list's title by the `status:` asked for (None: the default, open tasks).
LIST_TITLE = {
    None: Phrase("Open tasks"),
    "all": Phrase("All tasks"),
    "proposed": Phrase("Tasks: proposed"),
    "open": Phrase("Tasks: open"),
    "claimed": Phrase("Tasks: claimed"),
    "in_review": Phrase("Tasks: in review"),
    "done": Phrase("Tasks: done"),
    "cancelled": Phrase("Tasks: cancelled"),
}


def task_line(tr: i18n.Texts, task: TaskView, *, details: bool = True) -> str:
    """`details`: who holds it, open spots, due date, what it waits on."""
    emoji = EMOJI[task.status]
    points = tr.plural("{n} pt", "{n} pts", task.points)
    line = f"{emoji} **#{task.number}** {safe(task.title, 100)} · {points}"
    if not details:
        return line
    extra = []
    if task.claims:
        extra.append(", ".join(user(c.member_id) for c in task.claims))
    if task.capacity > 1 and task.status in (Status.OPEN, Status.CLAIMED):
        extra.append(
            tr.plural("{n} spot open", "{n} spots open", task.free_slots)
            if task.free_slots > 0
            else tr("Full")
        )
    if task.due_at:
        extra.append(tr("due {when}", when=stamp(task.due_at)))
    if task.blocked:
        extra.append(tr("waits on #{number}", number=task.blocked_by))
    return f"{line} — {' · '.join(extra)}" if extra else line


@dataclass(frozen=True, slots=True)
class Filters:
    status: str | None = None
    tag: str | None = None
    member_id: int | None = None


class ListView(discord.ui.View):
    """Ephemeral and short-lived, so it keeps its cursors in memory."""

    def __init__(
        self,
        tr: i18n.Texts,
        services: Services,
        owner_id: int,
        guild_id: int,
        filters: Filters,
        title: str,
    ) -> None:
        super().__init__(timeout=600)
        self.tr = tr
        self.previous.label = tr("Previous")
        self.next.label = tr("Next")
        self.services = services
        self.owner_id = owner_id
        self.guild_id = guild_id
        self.filters = filters
        self.title = title
        self.cursors: list[int] = [0]  # `after` of each page seen
        self.next_after: int | None = None

    async def page(self) -> discord.Embed:
        f = self.filters
        page = await self.services.tasks.list_tasks(
            self.guild_id,
            after=self.cursors[-1],
            status=f.status,
            tag=f.tag,
            member_id=f.member_id,
        )
        self.next_after = page.next_after
        self.previous.disabled = len(self.cursors) == 1
        self.next.disabled = page.next_after is None
        tr = self.tr
        lines = [task_line(tr, t) for t in page.items] or [tr("Nothing here right now.")]
        embed = discord.Embed(
            title=self.title, description=clip("\n".join(lines), EMBED_DESCRIPTION_MAX)
        )
        embed.set_footer(text=tr("Page {number}", number=len(self.cursors)))
        return embed

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        return interaction.user.id == self.owner_id

    @discord.ui.button(label="Previous", style=discord.ButtonStyle.secondary)
    async def previous(
        self, interaction: discord.Interaction, _button: discord.ui.Button[ListView]
    ) -> None:
        if len(self.cursors) > 1:
            self.cursors.pop()
        await interaction.response.edit_message(embed=await self.page(), view=self)

    @discord.ui.button(label="Next", style=discord.ButtonStyle.secondary)
    async def next(
        self, interaction: discord.Interaction, _button: discord.ui.Button[ListView]
    ) -> None:
        if self.next_after is not None:
            self.cursors.append(self.next_after)
        await interaction.response.edit_message(embed=await self.page(), view=self)

    async def on_error(
        self, interaction: discord.Interaction, error: Exception, item: discord.ui.Item[Any], /
    ) -> None:
        await report(interaction, error)


async def show_list(
    tr: i18n.Texts,
    services: Services,
    interaction: discord.Interaction,
    *,
    status: str | None,
    tag: str | None,
    member: discord.Member | discord.User | None,
) -> None:
    assert interaction.guild_id is not None
    filters = Filters(status, tag, member.id if member else None)
    known = LIST_TITLE.get(status)
    label = (
        tr(known)
        if known is not None
        else tr("Tasks: {status}", status=(status or "").replace("_", " "))
    )
    if member is not None and status is None:
        label = tr("Work in progress")
    if member is not None:
        label = tr("{tasks} held by {member}", tasks=label, member=member.display_name)
    if tag:
        label = tr("{tasks} tagged “{tag}”", tasks=label, tag=tag.strip().lower()[:32])
    view = ListView(
        tr, services, interaction.user.id, interaction.guild_id, filters, clip(label, 256)
    )
    async with refusals(interaction):
        embed = await view.page()
        await interaction.response.send_message(embed=embed, view=view, ephemeral=True)


def _note(h: HistoryView) -> str:
    # Assign and expire rows name the member as a bare mention the bot wrote itself; show it
    # as one (embeds never ping). Everything else is member text, shown defused.
    if h.action in ("assign", "expire") and re.fullmatch(r"<@\d{1,20}>", h.note):
        return h.note
    return safe(h.note, 200)


def history_embed(tr: i18n.Texts, task: TaskView, rows: tuple[HistoryView, ...]) -> discord.Embed:
    lines = []
    for h in rows:
        change = (
            f" ({h.from_status} → {h.to_status})"
            if h.from_status and h.from_status != h.to_status
            else ""
        )
        # The first row's note is the title, already in the embed's title.
        note = f" — {_note(h)}" if h.note and h.action not in ("create", "propose") else ""
        words = ACTION_WORDS.get(h.action)
        did = (
            tr(words, actor=user(h.actor_id))
            if words is not None
            else f"{user(h.actor_id)} {h.action}"
        )
        lines.append(f"{stamp(h.created_at)} {did}{change}{note}")
    text = "\n".join(lines)
    if len(text) > EMBED_DESCRIPTION_MAX:
        text = "…\n" + text[-(EMBED_DESCRIPTION_MAX - 2) :].split("\n", 1)[-1]
    return discord.Embed(
        title=clip(tr("History of #{number} · {title}", number=task.number, title=task.title), 256),
        description=text,
    )


def my_tasks_embed(
    tr: i18n.Texts, claims: tuple[TaskView, ...], reviews: tuple[TaskView, ...], member_id: int
) -> discord.Embed:
    embed = discord.Embed(title=tr("Your tasks"))
    held = []
    for t in claims:
        mine = next((c for c in t.claims if c.member_id == member_id), None)
        line = task_line(tr, t, details=False)
        held.append(
            tr("{task} · claim ends {when}", task=line, when=stamp(mine.expires_at))
            if mine and t.status.value != "in_review"
            else line
        )
    embed.add_field(
        name=tr("You're working on"),
        value=clip("\n".join(held), 1024) or tr("Nothing yet — try `/task list`."),
        inline=False,
    )
    embed.add_field(
        name=tr("Waiting for your review"),
        value=clip("\n".join(task_line(tr, t) for t in reviews), 1024) or tr("Nothing right now."),
        inline=False,
    )
    return embed
