"""What members see after every action, sent: a short ephemeral confirmation for the
actor, the card edited in place, a line in the task's thread, and announcements where
the community needs them (review channel on submit, tasks channel when work opens up).

The words are `messages.py`'s; this module decides where they go and what may ping.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, Final

import aiohttp
import discord

from bot import i18n
from bot.domain.errors import DomainError
from bot.domain.model import Action, Status
from bot.services.config import GuildConfig
from bot.services.views import ActionResult, TaskView
from bot.ui import language, messages
from bot.ui.cards import card_view, is_card_footer, task_embed
from bot.ui.client import PeerClient
from bot.ui.errors import tell
from bot.ui.recognition import grant_milestones

log = logging.getLogger("peerboard.board")

# Failures of the network or of Discord's side (beside discord.HTTPException).
TRANSIENT: Final = (aiohttp.ClientError, TimeoutError, OSError)

# How far back in #review a task's earlier "ready for review" posts are looked for.
REVIEW_LOOKBACK: Final = 50

Channel = discord.abc.GuildChannel | discord.Thread | discord.abc.PrivateChannel
# Where a card can be: the channels that hold messages (a forum or a category does not).
CardChannel = (
    discord.TextChannel
    | discord.VoiceChannel
    | discord.StageChannel
    | discord.Thread
    | discord.DMChannel
)


def public_texts(client: discord.Client, config: GuildConfig) -> i18n.Texts:
    """The language of what the guild's members all read: cards, thread lines, posts."""
    return language.public(config, client.get_guild(config.guild_id))


async def publish(
    client: PeerClient,
    interaction: discord.Interaction,
    result: ActionResult,
    config: GuildConfig,
) -> None:
    """The actor hears first (Discord's 3-second deadline); then the card, the thread and
    the channels. What could not be sent there is said to the actor in a follow-up, so no
    reply claims that someone was told when nobody was. The actor's replies are in their
    language; the card and the posts, in the guild's."""
    task = result.task
    source = interaction.message
    edited_source = False
    mine = language.caller(interaction, config)
    tr = language.public(config, interaction.guild or client.get_guild(config.guild_id))
    text = messages.reply_to_actor(mine, result, config.review_channel_id)
    try:
        if source is not None and _is_card_of(source, task) and not interaction.response.is_done():
            if _is_review_post(source, task, config):
                await interaction.response.edit_message(
                    **_review_post(tr, task, source.content, current=True)
                )
            else:
                await interaction.response.edit_message(
                    embed=task_embed(tr, task), view=card_view(tr, task)
                )
            edited_source = True
            await interaction.followup.send(text, ephemeral=True)
            client.pacer.shown_by_interaction(task)
        else:
            await tell(interaction, text)
    except discord.HTTPException:
        log.warning("could not answer interaction for #%s", task.number, exc_info=True)
    untold = await spread(
        client,
        result,
        config,
        source_id=source.id if source is not None else None,
        edited_source=edited_source,
        actor=mine,
    )
    if untold:
        await tell(interaction, "\n".join(untold))


async def spread(
    client: PeerClient,
    result: ActionResult,
    config: GuildConfig,
    *,
    source_id: int | None = None,
    edited_source: bool = False,
    actor: i18n.Texts | None = None,
) -> list[str]:
    """Everything after the actor's reply: the card, the cards it unblocks, the thread,
    the channels, the review posts, milestones. Also what a GitHub event changed, which
    has no interaction (bot/ui/forge.py). What could not be told, for the actor (in
    `actor`'s language; else the guild's)."""
    task = result.task
    tr = public_texts(client, config)
    mine = actor or tr
    # The card's mark (set with the change) is cleared once the card and the task's posts
    # in #review show it; what Discord refused, the sweep repairs (bot/ui/cardsync.py).
    shown = edited_source and source_id == task.card_message_id  # the click edited the card
    if not shown and task.card_message_id and task.card_channel_id:
        shown = await refresh_card(client, task, clear=False)
    for number in result.unblocked:  # their cards still say "waiting"
        try:
            waiting = await client.services.tasks.show(task.guild_id, number)
        except DomainError:
            continue  # gone since: nothing to refresh
        await refresh_card(client, waiting)
    untold: list[str] = []
    posted = await _post_activity(tr, client, result)
    if result.action is Action.EDIT and "title" in result.edited:
        await _rename_thread(tr, client, task)
    if result.action is Action.REQUEST_CHANGES and task.thread_id and not posted:
        untold.append(messages.thread_post_refused(mine, task))
    announced = await _announce(tr, client, result, config)
    if result.action is Action.SUBMIT and config.review_channel_id and announced is None:
        untold.append(messages.review_post_refused(mine, config.review_channel_id))
    if result.before is Status.IN_REVIEW or result.action is Action.SUBMIT:
        synced = await sync_review_posts(
            client,
            task,
            config,
            newest=announced.id if announced is not None else None,
            skip=source_id if edited_source else None,
        )
        shown = shown and synced
    if shown:
        await client.services.cards.shown(task)
    if result.credited:
        await grant_milestones(
            public_texts(client, config), client, client.services, config, result.credited
        )
    return untold


def _is_card_of(message: discord.Message, task: TaskView) -> bool:
    """The message shows this task's card (the board's, a /task show copy, a review post).
    A reminder carrying the task's buttons (the claim warning's Still on it / Release, in a
    DM or as a thread mention) is not: edited into a card, its text would contradict it."""
    return bool(message.embeds and is_card_footer(message.embeds[0].footer.text, task.number))


def _is_review_post(message: discord.Message, task: TaskView, config: GuildConfig) -> bool:
    """A copy of the card in #review (posted on submit), not the board's card."""
    return (
        message.id != task.card_message_id
        and config.review_channel_id is not None
        and message.channel.id == config.review_channel_id
    )


def _review_post(tr: i18n.Texts, task: TaskView, content: str, *, current: bool) -> dict[str, Any]:
    """What a "ready for review" post shows: while it is the current round's, the review
    (approvals, Approve, Request changes); once its round is over, that it is closed, with
    the task as it stands and no buttons."""
    if current and task.status is Status.IN_REVIEW:
        return {"content": content, "embed": task_embed(tr, task), "view": card_view(tr, task)}
    return {
        "content": messages.review_closed(tr, task),
        "embed": task_embed(tr, task),
        "view": None,
        "allowed_mentions": discord.AllowedMentions.none(),
    }


async def sync_review_posts(
    client: discord.Client,
    task: TaskView,
    config: GuildConfig,
    *,
    newest: int | None = None,
    skip: int | None = None,
) -> bool:
    """Bring the task's posts in #review up to date: the current round's (the newest, while
    the task is in review) shows the approvals and buttons; every other one is closed.
    `newest` is a post just made; `skip`, the post a click already edited. Reads the
    channel's recent history (Read Message History: invite-url asks for it). Whether every
    post that needed an edit took it."""
    if not config.review_channel_id or client.user is None:
        return True
    review = await channel(client, config.review_channel_id)
    if not isinstance(review, CardChannel):
        return True  # no #review to keep current
    tr = public_texts(client, config)
    me = client.user.id
    try:
        posts = [
            m
            async for m in review.history(limit=REVIEW_LOOKBACK)
            if m.author.id == me
            and m.id != task.card_message_id
            and m.embeds
            and is_card_footer(m.embeds[0].footer.text, task.number)
        ]  # newest first; the reminders' posts there carry no card
    except (discord.HTTPException, *TRANSIENT):
        log.warning("could not read #review for #%s", task.number, exc_info=True)
        return False
    in_review = task.status is Status.IN_REVIEW
    current = newest if newest is not None else (posts[0].id if posts and in_review else None)
    ok = True
    for post in posts:
        is_current = in_review and post.id == current
        if post.id == newest or (post.id == skip and (is_current or not in_review)):
            continue  # just posted, or just edited by the click
        if not is_current and not post.components:
            continue  # closed already
        try:
            await post.edit(**_review_post(tr, task, post.content, current=is_current))
        except (discord.HTTPException, *TRANSIENT):
            log.warning("could not update a review post of #%s", task.number, exc_info=True)
            ok = False
    return ok


async def channel(client: discord.Client, channel_id: int) -> Channel | None:
    found = client.get_channel(channel_id)
    if found is None:
        try:
            found = await client.fetch_channel(channel_id)
        except discord.HTTPException:
            return None
    return found


async def refresh_card(client: discord.Client, task: TaskView, *, clear: bool = True) -> bool:
    """Show the task on its card, wherever it was posted, through the card pacer
    (bot/ui/pacer.py): at once when its channel is idle, else queued behind the channel's
    other cards. Whether it is shown now; taken, the card's mark is cleared (`clear`).
    Queued, the pacer clears it when sent; refused, the sweep repairs the card."""
    if not (task.card_channel_id and task.card_message_id) or not isinstance(client, PeerClient):
        return False
    shown = await client.pacer.update(task)
    if shown and clear:
        await client.services.cards.shown(task)
    return shown


async def _send(
    where: Channel | None,
    content: str,
    ping: discord.AllowedMentions | None = None,
    card: tuple[i18n.Texts, TaskView] | None = None,
) -> discord.Message | None:
    """Post `content` (with the task's card, in the language given, if given); None when
    Discord refuses."""
    if not isinstance(where, discord.abc.Messageable):
        return None
    pings = ping or discord.AllowedMentions.none()  # as the client's default: nobody
    try:
        if card is None:
            return await where.send(content, allowed_mentions=pings)
        tr, task = card
        return await where.send(
            content, embed=task_embed(tr, task), view=card_view(tr, task), allowed_mentions=pings
        )
    except (discord.HTTPException, *TRANSIENT):  # a dropped connection refuses it too
        log.warning("could not post in channel %s", where.id, exc_info=True)
        return None


async def _post_activity(tr: i18n.Texts, client: PeerClient, result: ActionResult) -> bool:
    """A line in the task's thread; whether it was posted. One Discord refused is kept
    for the sweep, which posts it later (bot/ui/cardsync.py)."""
    line = messages.activity(tr, result)
    thread_id = result.task.thread_id
    if line is None or thread_id is None:
        return False
    pings: tuple[int, ...] = ()
    if result.action is Action.REQUEST_CHANGES:
        # The claimants need to hear about requested changes: ping them, and only them.
        pings = result.task.claimant_ids
    elif result.action in (Action.APPROVE, Action.CANCEL):
        # An approval or a cancellation is news for those who did (or proposed) the work.
        pings = tuple(messages.told_of(result))
    elif result.action is Action.ASSIGN and result.member_id:
        # Someone was handed work: they need to hear about it.
        pings = (result.member_id,)
    thread = await channel(client, thread_id)
    if thread is not None and await _send(thread, line, user_pings(pings)) is not None:
        return True
    task = result.task
    await client.services.cards.owe_line(task.guild_id, task.number, thread_id, line, pings)
    return False


def user_pings(members: Sequence[int]) -> discord.AllowedMentions:
    """Mentions that may ping these members, and nobody else."""
    if not members:
        return discord.AllowedMentions.none()
    return discord.AllowedMentions(users=[discord.Object(m) for m in members])


def _role_ping(role_id: int | None) -> discord.AllowedMentions:
    if role_id:
        return discord.AllowedMentions(roles=[discord.Object(role_id)])
    return discord.AllowedMentions.none()


async def _announce(
    tr: i18n.Texts, client: PeerClient, result: ActionResult, config: GuildConfig
) -> discord.Message | None:
    """Announcements in the channels; returns the "ready for review" post, if one went out."""
    task = result.task
    posted = None
    if result.action is Action.SUBMIT and config.review_channel_id:
        review = await channel(client, config.review_channel_id)
        if review is not None:
            posted = await _send(
                review,
                messages.review_call(tr, task, result.actor_id, config.reviewer_role_id),
                _role_ping(config.reviewer_role_id),
                card=(tr, task),
            )
    if result.escalate and config.review_channel_id:
        review = await channel(client, config.review_channel_id)
        if review is not None:
            await _send(
                review,
                messages.rework_escalation(tr, task, config.maintainer_role_id),
                _role_ping(config.maintainer_role_id),
            )
    # Unblocked tasks and opened proposals are announced by the reminder sweep, from the
    # outbox written with the change; nudge it so members hear about them right away.
    # (Most actions write nothing there: a claim costs no extra trip to the database.)
    if result.notices:
        client.deliveries.kick()
    return posted


async def _rename_thread(tr: i18n.Texts, client: discord.Client, task: TaskView) -> None:
    """A renamed task's thread takes its new name. If Discord refuses (renaming a thread
    takes Manage Threads, or being its creator), the thread is told the new title."""
    if task.thread_id is None:
        return
    thread = await channel(client, task.thread_id)
    name = messages.thread_name(tr, task)
    if not isinstance(thread, discord.Thread) or thread.name == name:
        return
    try:
        await thread.edit(name=name)
    except discord.HTTPException:
        log.warning("could not rename the thread of #%s", task.number, exc_info=True)
        await _send(thread, messages.renamed(tr, task))


async def post_card(
    client: PeerClient, task: TaskView, config: GuildConfig
) -> discord.Message | None:
    """A new task's card goes to the tasks channel with a thread for its discussion."""
    if not config.tasks_channel_id:
        return None
    tasks = await channel(client, config.tasks_channel_id)
    if tasks is None:
        return None
    tr = public_texts(client, config)
    message = await _send(tasks, "", card=(tr, task))
    if message is None:
        return None
    thread_id = None
    try:
        thread = await message.create_thread(
            name=messages.thread_name(tr, task), auto_archive_duration=10080
        )
        thread_id = thread.id
    except (discord.HTTPException, *TRANSIENT):  # the card is posted: record it anyway
        log.warning("could not open a thread for #%s", task.number, exc_info=True)
    await client.services.tasks.set_card(
        task.guild_id, task.number, tasks.id, message.id, thread_id, shows=task.version
    )
    return message
