"""The task card: one embed and the buttons that fit the task's state."""

from __future__ import annotations

import discord

from bot.domain.model import Status
from bot.services.views import TaskView
from bot.ui.components import TaskButton
from bot.ui.github import links_field
from bot.ui.ids import ButtonId, CardAction
from bot.ui.text import (
    EMBED_DESCRIPTION_MAX,
    EMBED_FIELD_MAX,
    EMBED_TITLE_MAX,
    clip,
    plural,
    safe,
    spots,
    stamp,
    user,
    when,
)

STYLE: dict[Status, tuple[int, str]] = {
    Status.PROPOSED: (0xE67E22, "💡 Proposed"),
    Status.OPEN: (0x2ECC71, "🟢 Open"),
    Status.CLAIMED: (0x3498DB, "🔵 Claimed"),
    Status.IN_REVIEW: (0xF1C40F, "🟡 In review"),
    Status.DONE: (0x9B59B6, "✅ Done"),
    Status.CANCELLED: (0x95A5A6, "⚪ Cancelled"),
}


# The card keeps the description short, so that the card and its fields fit Discord's
# 6,000 characters in every state; /task show gives the whole of it.
CARD_DESCRIPTION_MAX = 1500
EMBED_TOTAL_MAX = 6000


def _description(task: TaskView, full: bool) -> str | None:
    text = safe(task.description, EMBED_DESCRIPTION_MAX)
    if full or len(text) <= CARD_DESCRIPTION_MAX:
        return text or None
    more = f"\n\n*… the rest: `/task show task:{task.number}`*"
    return clip(text, CARD_DESCRIPTION_MAX - len(more)) + more


def task_embed(task: TaskView, *, full: bool = False) -> discord.Embed:
    """The card; `full`: with the whole description (/task show), as far as the embed's
    6,000 characters allow."""
    colour, label = STYLE[task.status]
    embed = discord.Embed(
        title=clip(f"#{task.number} · {task.title}", EMBED_TITLE_MAX),
        description=_description(task, full),
        colour=colour,
        timestamp=task.updated_at,
    )
    _fields(embed, task, label)
    excess = len(embed) - EMBED_TOTAL_MAX
    if excess > 0 and embed.description:
        embed.description = clip(embed.description, len(embed.description) - excess)
    return embed


def _fields(embed: discord.Embed, task: TaskView, label: str) -> None:
    embed.add_field(name="Status", value=label)
    embed.add_field(name="Points", value=str(task.points))
    if task.tags:
        embed.add_field(name="Tags", value=tags_line(task.tags))
    if task.status is Status.PROPOSED:
        votes = f"{task.endorsements} of {task.required_endorsements} endorsements"
        if task.objections:
            votes += f" · {plural(task.objections, 'objection')} (a maintainer decides)"
        embed.add_field(name="Proposal", value=votes, inline=False)
    if task.claims or task.status in (Status.OPEN, Status.CLAIMED):
        working = task.status in (Status.OPEN, Status.CLAIMED)
        # A claim's end matters while the work is being done; in review it is not counting.
        lines = [
            f"{user(c.member_id)} · claim ends {stamp(c.expires_at)}"
            if working
            else user(c.member_id)
            for c in task.claims
        ]
        if working and task.capacity > 1:
            lines.append(spots(task.free_slots, task.capacity))
        embed.add_field(name="Claimed by", value="\n".join(lines) or "Nobody yet", inline=False)
    if task.due_at is not None:
        embed.add_field(name="Due", value=when(task.due_at))
    if task.blocked_by is not None:
        embed.add_field(
            name="Blocked by",
            value=f"#{task.blocked_by} (waiting)"
            if task.blocked
            else f"#{task.blocked_by} (finished)",
        )
    if task.status is Status.IN_REVIEW:
        embed.add_field(name="Approvals", value=f"{task.approvals} of {task.required_approvals}")
        if task.submission is not None:
            parts = []
            if task.submission.link:
                parts.append(safe(task.submission.link, 500, markdown=False))
            if task.submission.notes:
                parts.append(safe(task.submission.notes, 400))
            embed.add_field(
                name="Submission", value=clip("\n".join(parts), EMBED_FIELD_MAX), inline=False
            )
    github = links_field(task, EMBED_FIELD_MAX)
    if github is not None:
        embed.add_field(name="GitHub", value=github, inline=False)
    if task.status is Status.OPEN and task.handoff_note:
        embed.add_field(
            name="Note from the last holder", value=safe(task.handoff_note, 500), inline=False
        )
    embed.set_footer(text=f"Peerboard · task #{task.number}")


def tags_line(tags: tuple[str, ...], limit: int = EMBED_FIELD_MAX) -> str:
    """Each tag whole, in code style; those that don't fit are counted, never cut."""
    shown: list[str] = []
    for i, tag in enumerate(tags):
        more = len(tags) - i - 1
        item = f"`{tag.replace('`', '')}`"
        tail = f" +{more} more" if more else ""
        if len(" ".join([*shown, item])) + len(tail) > limit:
            return " ".join(shown) + f" +{len(tags) - i} more"
        shown.append(item)
    return " ".join(shown)


def card_view(task: TaskView) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    actions: list[CardAction] = []
    if task.status is Status.PROPOSED:
        actions = [CardAction.ENDORSE, CardAction.OBJECT]
    elif task.status is Status.OPEN:
        actions = [CardAction.CLAIM]
        if task.claims:
            actions += [CardAction.RELEASE, CardAction.SUBMIT]
    elif task.status is Status.CLAIMED:
        actions = [CardAction.RELEASE, CardAction.SUBMIT]
    elif task.status is Status.IN_REVIEW:
        actions = [CardAction.APPROVE, CardAction.CHANGES]
    for action in actions:
        view.add_item(TaskButton(ButtonId(task.guild_id, task.number, action)))
    return view


def warning_view(task: TaskView, *, can_extend: bool = True) -> discord.ui.View:
    """The claim warning's buttons: Still on it (while an extension is left), and Release."""
    view = discord.ui.View(timeout=None)
    if can_extend:
        view.add_item(TaskButton(ButtonId(task.guild_id, task.number, CardAction.EXTEND)))
    view.add_item(TaskButton(ButtonId(task.guild_id, task.number, CardAction.RELEASE)))
    return view
