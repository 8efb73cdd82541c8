"""The task card: one embed and the buttons that fit the task's state."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

import discord

from bot import i18n
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
    safe,
    stamp,
    user,
    when,
)

COLOUR: Final[dict[Status, int]] = {
    Status.PROPOSED: 0xE67E22,
    Status.OPEN: 0x2ECC71,
    Status.CLAIMED: 0x3498DB,
    Status.IN_REVIEW: 0xF1C40F,
    Status.DONE: 0x9B59B6,
    Status.CANCELLED: 0x95A5A6,
}
EMOJI: Final[dict[Status, str]] = {
    Status.PROPOSED: "💡",
    Status.OPEN: "🟢",
    Status.CLAIMED: "🔵",
    Status.IN_REVIEW: "🟡",
    Status.DONE: "✅",
    Status.CANCELLED: "⚪",
}
# Each status's name, in the reader's language (one literal each, for the catalog).
_NAMES: Final[dict[Status, Callable[[i18n.Texts], str]]] = {
    Status.PROPOSED: lambda tr: tr("Proposed"),
    Status.OPEN: lambda tr: tr("Open"),
    Status.CLAIMED: lambda tr: tr("Claimed"),
    Status.IN_REVIEW: lambda tr: tr("In review"),
    Status.DONE: lambda tr: tr("Done"),
    Status.CANCELLED: lambda tr: tr("Cancelled"),
}


def status_name(tr: i18n.Texts, status: Status) -> str:
    """ "In review", "En revisión": a status's name alone."""
    return _NAMES[status](tr)


def status_label(tr: i18n.Texts, status: Status) -> str:
    """ "🟡 In review": the card's Status field."""
    return f"{EMOJI[status]} {status_name(tr, status)}"


def footer(tr: i18n.Texts, number: int) -> str:
    """The card's footer, which also tells the bot's own messages that show a card."""
    return tr("Peerboard · task #{number}", number=number)


def is_card_footer(text: str | None, number: int) -> bool:
    """Whether an embed's footer is task `number`'s card footer, in any of the languages
    (a guild may have changed its language since the card was posted)."""
    return text is not None and any(
        text == footer(i18n.texts(code), number) for code in i18n.LANGUAGES
    )


# The card keeps the description short, so that the card and its fields fit Discord's
# 6,000 characters in every state; /task show gives the whole of it.
CARD_DESCRIPTION_MAX = 1500
EMBED_TOTAL_MAX = 6000


def _description(tr: i18n.Texts, task: TaskView, full: bool) -> str | None:
    text = safe(task.description, EMBED_DESCRIPTION_MAX)
    if full or len(text) <= CARD_DESCRIPTION_MAX:
        return text or None
    more = "\n\n" + tr("*… the rest: `/task show task:{number}`*", number=task.number)
    return clip(text, CARD_DESCRIPTION_MAX - len(more)) + more


def task_embed(tr: i18n.Texts, task: TaskView, *, full: bool = False) -> discord.Embed:
    """The card; `full`: with the whole description (/task show), as far as the embed's
    6,000 characters allow."""
    embed = discord.Embed(
        title=clip(f"#{task.number} · {task.title}", EMBED_TITLE_MAX),
        description=_description(tr, task, full),
        colour=COLOUR[task.status],
        timestamp=task.updated_at,
    )
    _fields(tr, embed, task)
    excess = len(embed) - EMBED_TOTAL_MAX
    if excess > 0 and embed.description:
        embed.description = clip(embed.description, len(embed.description) - excess)
    return embed


def _fields(tr: i18n.Texts, embed: discord.Embed, task: TaskView) -> None:
    embed.add_field(name=tr("Status"), value=status_label(tr, task.status))
    embed.add_field(name=tr("Points"), value=tr.number(task.points))
    if task.tags:
        embed.add_field(name=tr("Tags"), value=tags_line(tr, task.tags))
    if task.status is Status.PROPOSED:
        votes = tr(
            "{count} of {endorsements}",
            count=task.endorsements,
            endorsements=tr.plural(
                "{n} endorsement", "{n} endorsements", task.required_endorsements
            ),
        )
        if task.objections:
            objections = tr.plural(
                "{n} objection (a maintainer decides)",
                "{n} objections (a maintainer decides)",
                task.objections,
            )
            votes += f" · {objections}"
        embed.add_field(name=tr("Proposal"), value=votes, inline=False)
    if task.claims or task.status in (Status.OPEN, Status.CLAIMED):
        working = task.status in (Status.OPEN, Status.CLAIMED)
        # A claim's end matters while the work is being done; in review it is not counting.
        lines = [
            tr("{member} · claim ends {when}", member=user(c.member_id), when=stamp(c.expires_at))
            if working
            else user(c.member_id)
            for c in task.claims
        ]
        if working and task.capacity > 1:
            lines.append(spots_line(tr, task.free_slots, task.capacity))
        embed.add_field(
            name=tr("Claimed by"), value="\n".join(lines) or tr("Nobody yet"), inline=False
        )
    if task.due_at is not None:
        embed.add_field(name=tr("Due"), value=when(task.due_at))
    if task.blocked_by is not None:
        embed.add_field(
            name=tr("Blocked by"),
            value=tr("#{number} (waiting)", number=task.blocked_by)
            if task.blocked
            else tr("#{number} (finished)", number=task.blocked_by),
        )
    if task.status is Status.IN_REVIEW:
        embed.add_field(
            name=tr("Approvals"),
            value=tr(
                "{approvals} of {required}",
                approvals=task.approvals,
                required=task.required_approvals,
            ),
        )
        if task.submission is not None:
            parts = []
            if task.submission.link:
                parts.append(safe(task.submission.link, 500, markdown=False))
            if task.submission.notes:
                parts.append(safe(task.submission.notes, 400))
            embed.add_field(
                name=tr("Submission"),
                value=clip("\n".join(parts), EMBED_FIELD_MAX),
                inline=False,
            )
    github = links_field(tr, task, EMBED_FIELD_MAX)
    if github is not None:
        embed.add_field(name="GitHub", value=github, inline=False)
    if task.status is Status.OPEN and task.handoff_note:
        embed.add_field(
            name=tr("Note from the last holder"), value=safe(task.handoff_note, 500), inline=False
        )
    embed.set_footer(text=footer(tr, task.number))


def spots_line(tr: i18n.Texts, free: int, capacity: int) -> str:
    """Open places on a task for more than one person: "2 spots open", or "Full"."""
    if free <= 0 or capacity <= 0:
        return tr("Full")
    return tr.plural("{n} spot open", "{n} spots open", free)


def _more(tr: i18n.Texts, n: int) -> str:
    return tr.plural("+{n} more", "+{n} more", n)


def tags_line(tr: i18n.Texts, tags: tuple[str, ...], limit: int = EMBED_FIELD_MAX) -> str:
    """Each tag whole, in code style; those that don't fit are counted, never cut."""
    shown: list[str] = []
    for i, tag in enumerate(tags):
        more = len(tags) - i - 1
        item = f"`{tag.replace('`', '')}`"
        tail = f" {_more(tr, more)}" if more else ""
        if len(" ".join([*shown, item])) + len(tail) > limit:
            return " ".join(shown) + f" {_more(tr, len(tags) - i)}"
        shown.append(item)
    return " ".join(shown)


def card_view(tr: i18n.Texts, task: TaskView) -> discord.ui.View:
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
        view.add_item(TaskButton(tr, ButtonId(task.guild_id, task.number, action)))
    return view


def warning_view(tr: i18n.Texts, task: TaskView, *, can_extend: bool = True) -> discord.ui.View:
    """The claim warning's buttons: Still on it (while an extension is left), and Release."""
    view = discord.ui.View(timeout=None)
    if can_extend:
        view.add_item(TaskButton(tr, ButtonId(task.guild_id, task.number, CardAction.EXTEND)))
    view.add_item(TaskButton(tr, ButtonId(task.guild_id, task.number, CardAction.RELEASE)))
    return view
