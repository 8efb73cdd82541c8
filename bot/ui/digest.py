"""The weekly digest as members see it: embeds within Discord's limits, and the publisher
that posts them.

People are named as <@id> inside embeds, which never ping; task titles and kudos reasons
are member text and go through `safe`. A long week is cut with "…and N more" per section,
and the embeds are spread over as many messages as Discord's per-message limits need.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Final

import discord

from bot.domain.digest import STALE_COUNT_LIMIT, Change, Digest, TaskRef, Waiting, Week
from bot.services.notify import DeliveryFailed
from bot.ui.text import EMBED_DESCRIPTION_MAX, EMBED_FIELD_MAX, clip, plural, pts, safe, stamp, user

log = logging.getLogger("peerboard.digest")

EMBEDS_PER_MESSAGE: Final = 10
CHARS_PER_MESSAGE: Final = 6000
FIELDS_PER_EMBED: Final = 25

GOLD, GREEN, BLUE, PINK, ORANGE, PURPLE, GREY = (
    0xF1C40F,
    0x2ECC71,
    0x3498DB,
    0xE91E63,
    0xE67E22,
    0x9B59B6,
    0x95A5A6,
)
MEDALS: Final = ("🥇", "🥈", "🥉")

# Characters each section may use, so that even a very busy week reads in a few messages.
BUDGET: Final = {
    "done": 3500,
    "reviewers": 1500,
    "newcomers": 1200,
    "kudos": 1500,
    "top": 800,
    "streaks": 600,
    "waiting": 1000,
    "hygiene": 1200,
}
MORE_RESERVE: Final = 120  # room kept for the "…and N more" line


# -- small pieces ---------------------------------------------------------------------------------


def _label(task: TaskRef, *, with_title: bool = True) -> str:
    # Brackets would end the link text early: member text must not shape the link.
    title = task.title.replace("[", "(").replace("]", ")")
    return f"#{task.number} · {safe(title, 100)}" if with_title else f"#{task.number}"


def task_link(task: TaskRef, *, with_title: bool = True) -> str:
    """The task, linked to its card when it has one."""
    label = _label(task, with_title=with_title)
    return f"[{label}]({task.url})" if task.url else f"**{label}**"


def people(member_ids: Sequence[int]) -> str:
    return ", ".join(user(m) for m in member_ids)


def trend(change: Change) -> str:
    if change.delta > 0:
        arrow = f"▲ {change.delta}"
    elif change.delta < 0:
        arrow = f"▼ {-change.delta}"
    else:
        arrow = "= same"
    return f"**{change.current}** ({arrow} vs {change.previous})"


def fit(
    lines: Sequence[str],
    budget: int,
    more: str,
    total: int | None = None,
    counted_upto: int | None = None,
) -> str:
    """As many lines as fit in `budget` characters, then "…and N more {more}", where N
    counts against `total` (the whole list, when `lines` is already a cut of it). A total
    above `counted_upto` was only counted that far: "…and N+ more"."""
    total = len(lines) if total is None else max(total, len(lines))
    kept = list(lines)
    if sum(len(line) + 1 for line in kept) > budget or total > len(kept):
        room = budget - MORE_RESERVE
        kept = []
        used = 0
        for line in lines:
            if used + len(line) + 1 > room:
                break
            kept.append(line)
            used += len(line) + 1
    if counted_upto is not None and total > counted_upto:
        kept.append(f"…and {counted_upto - len(kept):,}+ more {more}")
    elif total > len(kept):
        kept.append(f"…and {total - len(kept)} more {more}")
    return "\n".join(kept)


def _day(day: date, *, month: bool = True, year: bool = False) -> str:
    text = str(day.day)
    if month:
        text += f" {day:%B}"
    if year:
        text += f" {day.year}"
    return text


def week_label(week: Week) -> str:
    """5–11 January 2026 · 26 January – 1 February 2026 · 29 December 2025 – 4 January 2026"""
    first, last = week.first_day, week.last_day
    if first.year != last.year:
        return f"{_day(first, year=True)} – {_day(last, year=True)}"
    if first.month != last.month:
        return f"{_day(first)} – {_day(last, year=True)}"
    return f"{_day(first, month=False)}–{_day(last, year=True)}"


# -- sections ---------------------------------------------------------------------------------------


def header_embed(digest: Digest) -> discord.Embed:
    if digest.quiet:
        intro = (
            "A quiet week: no tasks were finished and no reviews or kudos came in. That's "
            "alright — volunteer time comes and goes. If you have an hour to spare, the tasks "
            "below would love some help. 💛"
        )
    else:
        n = digest.this_week
        parts = [plural(n.done, "task") + " done"]
        if digest.people:
            parts.append(f"by {plural(digest.people, 'person', 'people')}")
        extra = []
        if n.reviews:
            extra.append(plural(n.reviews, "review"))
        if n.kudos:
            extra.append(plural(n.kudos, "kudos", "kudos"))
        line = " ".join(parts)
        if extra:
            line += ", with " + " and ".join(extra)
        intro = f"{line}. Thank you, everyone! 🎉"
    embed = discord.Embed(
        title=f"🌟 Weekly digest · {week_label(digest.week)}", description=intro, colour=GOLD
    )
    for change in digest.numbers:
        embed.add_field(name=change.label, value=trend(change))
    embed.set_footer(text=f"Monday to Sunday, {digest.timezone} time · numbers against last week")
    return embed


def done_embed(digest: Digest) -> discord.Embed | None:
    if not digest.done:
        return None
    lines = []
    for item in digest.done:
        line = f"{task_link(item.task)} · {pts(item.points)}"
        if item.contributors:
            line += f" — by {people(item.contributors)}"
        if item.reviewers:
            line += f" · reviewed by {people(item.reviewers)}"
        lines.append(line)
    text = fit(
        lines, BUDGET["done"], "tasks done (see `/task list status:done`)", digest.done_total
    )
    return discord.Embed(title="✅ Done this week", description=text, colour=GREEN)


def reviewers_embed(digest: Digest) -> discord.Embed | None:
    if not digest.reviewers:
        return None
    lines = []
    for r in digest.reviewers:
        tasks = ", ".join(task_link(t, with_title=False) for t in r.tasks)
        # A task can take more than one review (rounds of changes): say both when they differ.
        count = plural(r.reviews, "review")
        if r.tasks and len(r.tasks) != r.reviews:
            count += f" on {plural(len(r.tasks), 'task')}"
        lines.append(
            f"{user(r.member_id)} — {count}: {tasks}" if tasks else f"{user(r.member_id)} — {count}"
        )
    text = "Reviews keep the board honest. Thank you:\n" + fit(
        lines, BUDGET["reviewers"], "reviewers", digest.reviewers_total
    )
    return discord.Embed(title="🔍 Reviewers thanked", description=text, colour=BLUE)


def newcomers_embed(digest: Digest) -> discord.Embed | None:
    if not digest.newcomers:
        return None
    lines = []
    for w in digest.newcomers:
        first = f" — first task: {task_link(w.task)}" if w.task else ""
        lines.append(f"Welcome, {user(w.member_id)}!{first}")
    return discord.Embed(
        title="🌱 First-time contributors",
        description=fit(lines, BUDGET["newcomers"], "newcomers", digest.newcomers_total),
        colour=GREEN,
    )


def kudos_embed(digest: Digest) -> discord.Embed | None:
    if not digest.kudos:
        return None
    lines = [
        f"“{safe(k.reason, 200)}” — {user(k.giver_id)} to {user(k.receiver_id)}"
        for k in digest.kudos
    ]
    return discord.Embed(
        title="💬 Kudos",
        description=fit(lines, BUDGET["kudos"], "kudos", digest.kudos_total),
        colour=PINK,
    )


def top_embed(digest: Digest) -> discord.Embed | None:
    if not digest.top and not digest.streaks:
        return None
    embed = discord.Embed(title="🏆 Top contributors", colour=GOLD)
    lines = []
    for i, t in enumerate(digest.top):
        rank = MEDALS[i] if i < len(MEDALS) else f"{i + 1}."
        detail = []
        if t.tasks:
            detail.append(plural(t.tasks, "task"))
        if t.reviews:
            detail.append(plural(t.reviews, "review"))
        lines.append(
            f"{rank} {user(t.member_id)} — {plural(t.points, 'point')} ({', '.join(detail)})"
        )
    embed.description = fit(lines, BUDGET["top"], "") or None
    if digest.streaks:
        streaks = [
            f"🔥 {user(s.member_id)} — {plural(s.weeks, 'week')} in a row" for s in digest.streaks
        ]
        embed.add_field(
            name="Streaks", value=fit(streaks, BUDGET["streaks"], "streaks"), inline=False
        )
    return embed


def _task_lines(tasks: Sequence[TaskRef]) -> list[str]:
    return [task_link(t) for t in tasks]


def help_embed(digest: Digest) -> discord.Embed:
    embed = discord.Embed(title="🙋 Help wanted", colour=ORANGE)
    if not digest.oldest_open and not digest.good_first:
        embed.description = (
            "Nothing is open on the board right now. Ideas welcome: `/task propose`."
        )
        return embed
    embed.description = "Claim one with `/task claim` — every bit helps."
    if digest.oldest_open:
        lines = _task_lines(digest.oldest_open)
        embed.add_field(
            name="Waiting longest",
            value=fit(lines, EMBED_FIELD_MAX, "open tasks", digest.open_total),
            inline=False,
        )
    if digest.good_first:
        embed.add_field(
            name="Good first tasks",
            value=fit(_task_lines(digest.good_first), EMBED_FIELD_MAX, "tasks"),
            inline=False,
        )
    return embed


def _since_lines(items: Sequence[Waiting], style: str) -> list[str]:
    return [f"{task_link(w.task)} — since {stamp(w.since, style)}" for w in items]


def waiting_embed(digest: Digest) -> discord.Embed | None:
    if not digest.waiting:
        return None
    lines = _since_lines(digest.waiting, "R")
    return discord.Embed(
        title="👀 Waiting for review",
        description=fit(lines, BUDGET["waiting"], "in review", digest.waiting_total),
        colour=PURPLE,
    )


def hygiene_embed(digest: Digest) -> discord.Embed | None:
    if not digest.hygiene:
        return None
    lines = _since_lines(digest.hygiene, "D")
    intro = (
        "Open for 30 days or more with nobody claiming them. Nothing is closed automatically — "
        "still wanted? Maybe clarify, split or cancel them.\n"
    )
    return discord.Embed(
        title="🧹 For maintainers: tasks nobody has claimed in 30 days",
        description=intro
        + fit(lines, BUDGET["hygiene"], "tasks", digest.hygiene_total, STALE_COUNT_LIMIT),
        colour=GREY,
    )


def digest_embeds(digest: Digest) -> list[discord.Embed]:
    sections = [
        header_embed(digest),
        done_embed(digest),
        reviewers_embed(digest),
        newcomers_embed(digest),
        kudos_embed(digest),
        top_embed(digest),
        help_embed(digest),
        waiting_embed(digest),
        hygiene_embed(digest),
    ]
    embeds = [e for e in sections if e is not None]
    for embed in embeds:  # belt and braces: the budgets keep far below these
        if embed.description and len(embed.description) > EMBED_DESCRIPTION_MAX:
            embed.description = clip(embed.description, EMBED_DESCRIPTION_MAX)
        assert len(embed.fields) <= FIELDS_PER_EMBED
    return embeds


def pack(embeds: Sequence[discord.Embed]) -> list[list[discord.Embed]]:
    """Embeds in order, as few messages as Discord allows: ≤ 10 embeds and ≤ 6,000
    characters of embed text per message."""
    messages: list[list[discord.Embed]] = []
    size = 0
    for embed in embeds:
        if (
            not messages
            or len(messages[-1]) >= EMBEDS_PER_MESSAGE
            or size + len(embed) > CHARS_PER_MESSAGE
        ):
            messages.append([])
            size = 0
        messages[-1].append(embed)
        size += len(embed)
    return messages


def render(digest: Digest) -> list[list[discord.Embed]]:
    """The digest as messages, each a list of embeds."""
    return pack(digest_embeds(digest))


def as_text(messages: Sequence[Sequence[discord.Embed]]) -> str:
    """A plain-text transcript (logs, the demo, notes)."""
    out: list[str] = []
    for i, message in enumerate(messages, 1):
        out.append(f"=== message {i} ===")
        for embed in message:
            out.append(f"## {embed.title}")
            if embed.description:
                out.append(embed.description)
            for f in embed.fields:
                out.append(f"[{f.name}] {f.value}")
            if embed.footer.text:
                out.append(f"({embed.footer.text})")
            out.append("")
    return "\n".join(out)


# -- posting ------------------------------------------------------------------------------------------


@dataclass
class DiscordDigestPublisher:
    """The DigestPublisher port over Discord."""

    client: discord.Client

    async def publish(self, channel_id: int, digest: Digest) -> int:
        channel = self.client.get_partial_messageable(channel_id, guild_id=digest.guild_id)
        first: int | None = None
        for embeds in render(digest):
            try:
                message = await channel.send(
                    embeds=embeds, allowed_mentions=discord.AllowedMentions.none()
                )
            except discord.HTTPException as err:
                if first is None:
                    transient = err.status == 429 or err.status >= 500
                    raise DeliveryFailed(
                        f"{err.status} {err.code}: {err.text[:200]}", transient=transient
                    ) from err
                # Part of it is out: better an incomplete digest than the whole one twice.
                log.warning("digest for guild %s cut short: %s", digest.guild_id, err)
                break
            except (OSError, TimeoutError) as err:
                if first is None:
                    raise DeliveryFailed(str(err), transient=True) from err
                log.warning("digest for guild %s cut short: %s", digest.guild_id, err)
                break
            if first is None:
                first = message.id
        assert first is not None
        return first
