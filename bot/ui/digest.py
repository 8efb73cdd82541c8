"""The weekly digest as members see it, in the guild's language: embeds within Discord's
limits, and the publisher that posts them.

People are named as <@id> inside embeds, which never ping; task titles and kudos reasons
are member text and go through `safe`. A long week is cut with "…and N more" per section,
and the embeds are spread over as many messages as Discord's per-message limits need.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import discord

from bot import i18n
from bot.domain.digest import (
    STALE_COUNT_LIMIT,
    Digest,
    DoneItem,
    ReviewerThanks,
    TaskRef,
    TopContributor,
    Waiting,
)
from bot.services.notify import DeliveryFailed
from bot.ui import language
from bot.ui.digest_parts import fit, people, task_link, trend, week_label
from bot.ui.text import EMBED_DESCRIPTION_MAX, EMBED_FIELD_MAX, clip, safe, stamp, user

if TYPE_CHECKING:
    from bot.ui.client import PeerClient

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


# -- sections ---------------------------------------------------------------------------------------


def _intro(tr: i18n.Texts, digest: Digest) -> str:
    if digest.quiet:
        return tr(
            "A quiet week: no tasks were finished and no reviews or kudos came in. That's "
            "alright — volunteer time comes and goes. If you have an hour to spare, the tasks "
            "below would love some help. 💛"
        )
    n = digest.this_week
    tasks = tr.plural("{n} task", "{n} tasks", n.done)
    extra = []
    if n.reviews:
        extra.append(tr.plural("{n} review", "{n} reviews", n.reviews))
    if n.kudos:
        extra.append(tr.plural("{n} kudos", "{n} kudos", n.kudos))
    if digest.people:
        who = tr.plural("{n} person", "{n} people", digest.people)
        if extra:
            return tr(
                "{tasks} done by {people}, with {extra}. Thank you, everyone! 🎉",
                tasks=tasks,
                people=who,
                extra=tr.join(extra),
            )
        return tr("{tasks} done by {people}. Thank you, everyone! 🎉", tasks=tasks, people=who)
    if extra:
        return tr(
            "{tasks} done, with {extra}. Thank you, everyone! 🎉", tasks=tasks, extra=tr.join(extra)
        )
    return tr("{tasks} done. Thank you, everyone! 🎉", tasks=tasks)


def header_embed(tr: i18n.Texts, digest: Digest) -> discord.Embed:
    embed = discord.Embed(
        title=tr("🌟 Weekly digest · {week}", week=week_label(tr, digest.week)),
        description=_intro(tr, digest),
        colour=GOLD,
    )
    for change in digest.numbers:
        # A Phrase (bot/domain/digest.py): a message of its own in the catalog.
        embed.add_field(name=tr(change.label), value=trend(tr, change))
    embed.set_footer(
        text=tr(
            "{first_day} to {last_day}, {timezone} time · numbers against last week",
            first_day=tr.weekday(0),
            last_day=tr.weekday(6),
            timezone=digest.timezone,
        )
    )
    return embed


def _done_line(tr: i18n.Texts, item: DoneItem) -> str:
    task, points = task_link(item.task), tr.plural("{n} pt", "{n} pts", item.points)
    by, reviewed = people(item.contributors), people(item.reviewers)
    if item.contributors and item.reviewers:
        return tr(
            "{task} · {points} — by {people} · reviewed by {reviewers}",
            task=task,
            points=points,
            people=by,
            reviewers=reviewed,
        )
    if item.contributors:
        return tr("{task} · {points} — by {people}", task=task, points=points, people=by)
    if item.reviewers:
        return tr(
            "{task} · {points} · reviewed by {reviewers}",
            task=task,
            points=points,
            reviewers=reviewed,
        )
    return f"{task} · {points}"


def done_embed(tr: i18n.Texts, digest: Digest) -> discord.Embed | None:
    if not digest.done:
        return None
    text = fit(
        [_done_line(tr, item) for item in digest.done],
        BUDGET["done"],
        lambda n: tr.plural(
            "…and {n} more task done (see `/task list status:done`)",
            "…and {n} more tasks done (see `/task list status:done`)",
            n,
        ),
        digest.done_total,
    )
    return discord.Embed(title=tr("✅ Done this week"), description=text, colour=GREEN)


def _reviewer_line(tr: i18n.Texts, r: ReviewerThanks) -> str:
    tasks = ", ".join(task_link(t, with_title=False) for t in r.tasks)
    member, count = user(r.member_id), tr.plural("{n} review", "{n} reviews", r.reviews)
    if not tasks:
        return tr("{member} — {reviews}", member=member, reviews=count)
    # A task can take more than one review (rounds of changes): say both when they differ.
    if len(r.tasks) != r.reviews:
        return tr(
            "{member} — {reviews} on {count}: {tasks}",
            member=member,
            reviews=count,
            count=tr.plural("{n} task", "{n} tasks", len(r.tasks)),
            tasks=tasks,
        )
    return tr("{member} — {reviews}: {tasks}", member=member, reviews=count, tasks=tasks)


def reviewers_embed(tr: i18n.Texts, digest: Digest) -> discord.Embed | None:
    if not digest.reviewers:
        return None
    listed = fit(
        [_reviewer_line(tr, r) for r in digest.reviewers],
        BUDGET["reviewers"],
        lambda n: tr.plural("…and {n} more reviewer", "…and {n} more reviewers", n),
        digest.reviewers_total,
    )
    text = tr("Reviews keep the board honest. Thank you:") + "\n" + listed
    return discord.Embed(title=tr("🔍 Reviewers thanked"), description=text, colour=BLUE)


def newcomers_embed(tr: i18n.Texts, digest: Digest) -> discord.Embed | None:
    if not digest.newcomers:
        return None
    lines = [
        tr(
            "Welcome, {member}! — first task: {task}",
            member=user(w.member_id),
            task=task_link(w.task),
        )
        if w.task
        else tr("Welcome, {member}!", member=user(w.member_id))
        for w in digest.newcomers
    ]
    return discord.Embed(
        title=tr("🌱 First-time contributors"),
        description=fit(
            lines,
            BUDGET["newcomers"],
            lambda n: tr.plural("…and {n} more newcomer", "…and {n} more newcomers", n),
            digest.newcomers_total,
        ),
        colour=GREEN,
    )


def kudos_embed(tr: i18n.Texts, digest: Digest) -> discord.Embed | None:
    if not digest.kudos:
        return None
    lines = [
        tr(
            "“{reason}” — {giver} to {receiver}",
            reason=safe(k.reason, 200),
            giver=user(k.giver_id),
            receiver=user(k.receiver_id),
        )
        for k in digest.kudos
    ]
    return discord.Embed(
        title=tr("💬 Kudos"),
        description=fit(
            lines,
            BUDGET["kudos"],
            lambda n: tr.plural("…and {n} more kudos", "…and {n} more kudos", n),
            digest.kudos_total,
        ),
        colour=PINK,
    )


def _top_line(tr: i18n.Texts, rank: str, t: TopContributor) -> str:
    member, points = user(t.member_id), tr.plural("{n} point", "{n} points", t.points)
    tasks = tr.plural("{n} task", "{n} tasks", t.tasks)
    reviews = tr.plural("{n} review", "{n} reviews", t.reviews)
    if t.tasks and t.reviews:
        detail = f"{tasks}, {reviews}"
    else:
        detail = tasks if t.tasks else reviews if t.reviews else ""
    return f"{rank} {member} — {points} ({detail})"


def top_embed(tr: i18n.Texts, digest: Digest) -> discord.Embed | None:
    if not digest.top and not digest.streaks:
        return None
    embed = discord.Embed(title=tr("🏆 Top contributors"), colour=GOLD)
    lines = [
        _top_line(tr, MEDALS[i] if i < len(MEDALS) else f"{i + 1}.", t)
        for i, t in enumerate(digest.top)
    ]
    embed.description = (
        fit(lines, BUDGET["top"], lambda n: tr.plural("…and {n} more", "…and {n} more", n)) or None
    )
    if digest.streaks:
        streaks = [
            tr(
                "🔥 {member} — {weeks} in a row",
                member=user(s.member_id),
                weeks=tr.plural("{n} week", "{n} weeks", s.weeks),
            )
            for s in digest.streaks
        ]
        embed.add_field(
            name=tr("Streaks"),
            value=fit(
                streaks,
                BUDGET["streaks"],
                lambda n: tr.plural("…and {n} more streak", "…and {n} more streaks", n),
            ),
            inline=False,
        )
    return embed


def _task_lines(tasks: Sequence[TaskRef]) -> list[str]:
    return [task_link(t) for t in tasks]


def help_embed(tr: i18n.Texts, digest: Digest) -> discord.Embed:
    embed = discord.Embed(title=tr("🙋 Help wanted"), colour=ORANGE)
    if not digest.oldest_open and not digest.good_first:
        embed.description = tr(
            "Nothing is open on the board right now. Ideas welcome: `/task propose`."
        )
        return embed
    embed.description = tr("Claim one with `/task claim` — every bit helps.")
    if digest.oldest_open:
        lines = _task_lines(digest.oldest_open)
        embed.add_field(
            name=tr("Waiting longest"),
            value=fit(
                lines,
                EMBED_FIELD_MAX,
                lambda n: tr.plural("…and {n} more open task", "…and {n} more open tasks", n),
                digest.open_total,
            ),
            inline=False,
        )
    if digest.good_first:
        embed.add_field(
            name=tr("Good first tasks"),
            value=fit(
                _task_lines(digest.good_first),
                EMBED_FIELD_MAX,
                lambda n: tr.plural("…and {n} more task", "…and {n} more tasks", n),
            ),
            inline=False,
        )
    return embed


def _since_lines(tr: i18n.Texts, items: Sequence[Waiting], style: str) -> list[str]:
    return [
        tr("{task} — since {since}", task=task_link(w.task), since=stamp(w.since, style))
        for w in items
    ]


def waiting_embed(tr: i18n.Texts, digest: Digest) -> discord.Embed | None:
    if not digest.waiting:
        return None
    lines = _since_lines(tr, digest.waiting, "R")
    return discord.Embed(
        title=tr("👀 Waiting for review"),
        description=fit(
            lines,
            BUDGET["waiting"],
            lambda n: tr.plural("…and {n} more in review", "…and {n} more in review", n),
            digest.waiting_total,
        ),
        colour=PURPLE,
    )


def hygiene_embed(tr: i18n.Texts, digest: Digest) -> discord.Embed | None:
    if not digest.hygiene:
        return None
    lines = _since_lines(tr, digest.hygiene, "D")
    intro = tr(
        "Open for 30 days or more with nobody claiming them. Nothing is closed automatically — "
        "still wanted? Maybe clarify, split or cancel them."
    )
    listed = fit(
        lines,
        BUDGET["hygiene"],
        lambda n: tr.plural("…and {n} more task", "…and {n} more tasks", n),
        digest.hygiene_total,
        STALE_COUNT_LIMIT,
        # Counted only so far: always many ("…and 1,000+ more tasks").
        lambda n: tr("…and {count}+ more tasks", count=tr.number(n)),
    )
    return discord.Embed(
        title=tr("🧹 For maintainers: tasks nobody has claimed in 30 days"),
        description=intro + "\n" + listed,
        colour=GREY,
    )


def digest_embeds(tr: i18n.Texts, digest: Digest) -> list[discord.Embed]:
    sections = [
        header_embed(tr, digest),
        done_embed(tr, digest),
        reviewers_embed(tr, digest),
        newcomers_embed(tr, digest),
        kudos_embed(tr, digest),
        top_embed(tr, digest),
        help_embed(tr, digest),
        waiting_embed(tr, digest),
        hygiene_embed(tr, digest),
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


def render(tr: i18n.Texts, digest: Digest) -> list[list[discord.Embed]]:
    """The digest as messages, each a list of embeds, in `tr`'s language (the guild's:
    `language.public`)."""
    return pack(digest_embeds(tr, digest))


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
    """The DigestPublisher port over Discord: the digest in the guild's language."""

    client: PeerClient

    async def publish(self, channel_id: int, digest: Digest) -> int:
        channel = self.client.get_partial_messageable(channel_id, guild_id=digest.guild_id)
        config = await self.client.services.config.get(digest.guild_id)
        tr = language.public(config, self.client.get_guild(digest.guild_id))
        first: int | None = None
        for embeds in render(tr, digest):
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
