"""What members see after every action: a short ephemeral confirmation for the actor,
the card edited in place, a line in the task's thread, and announcements where the
community needs them (review channel on submit, tasks channel when work opens up)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import discord

from bot.domain.errors import DomainError, InvalidState, PermissionDenied
from bot.domain.model import Action, Actor, Status
from bot.services.config import GuildConfig
from bot.services.registry import Services
from bot.services.views import ActionResult, TaskView
from bot.ui.cards import card_view, task_embed, task_title
from bot.ui.context import actor_of, services_of
from bot.ui.errors import report, tell
from bot.ui.text import plural, safe, user, when

log = logging.getLogger("peerboard.board")

Call = Callable[[Services, Actor], Awaitable[ActionResult]]


async def run_action(
    interaction: discord.Interaction, call: Call, guild_id: int | None = None
) -> None:
    """Run one service call for the member behind `interaction` and show the result."""
    try:
        actor, config = await actor_of(interaction, guild_id)
        result = await call(services_of(interaction), actor)
    except DomainError as err:
        await report(interaction, err)
        return
    await publish(interaction, result, config)


async def on_button(
    interaction: discord.Interaction, guild_id: int, number: int, action: str
) -> None:
    from bot.ui.components import ReasonModal, SubmitModal

    if action in ("submit", "release", "changes", "object"):
        # A pre-check so nobody fills a form they can't send; the service decides again on submit.
        actor, _config = await actor_of(interaction, guild_id)
        task = await services_of(interaction).tasks.show(actor.guild_id, number)
        if action in ("submit", "release") and actor.member_id not in task.claimant_ids:
            raise PermissionDenied(f"You haven't claimed #{number}.")
        if action == "changes" and task.status is not Status.IN_REVIEW:
            raise InvalidState(f"#{number} is not waiting for review any more.")
        if action == "changes" and actor.member_id in task.claimant_ids:
            raise PermissionDenied(f"You worked on #{number}, so someone else needs to review it.")
        modal = (
            SubmitModal(guild_id, number)
            if action == "submit"
            else ReasonModal(guild_id, number, action)
        )
        await interaction.response.send_modal(modal)
        return
    calls: dict[str, Call] = {
        "claim": lambda s, a: s.tasks.claim(a, number),
        "approve": lambda s, a: s.tasks.approve(a, number),
        "endorse": lambda s, a: s.tasks.endorse(a, number),
        "extend": lambda s, a: s.tasks.extend(a, number),
    }
    await run_action(interaction, calls[action], guild_id)


# -- what the actor is told ---------------------------------------------------------------


def confirmation(result: ActionResult) -> str:
    t = result.task
    name = task_title(t)
    a = result.action
    if a is Action.CREATE:
        return f"Created **{name}** ({plural(t.points, 'point')})."
    if a is Action.PROPOSE:
        return (
            f"Proposed **{name}**. It opens once {plural(t.required_endorsements, 'member')} "
            "endorse it, or after the proposal window if nobody objects."
        )
    if a is Action.CLAIM:
        mine = next(c for c in t.claims if c.member_id == result.actor_id)
        text = f"You claimed **{name}**. Your claim runs until {when(mine.expires_at)}; use `/task extend` if you need more time."
        if result.handoff_note:
            text += f"\n> Note from the last holder: {safe(result.handoff_note, 500)}"
        return text
    if a is Action.RELEASE:
        return f"You released **{name}** — thanks for letting someone else pick it up."
    if a is Action.EXTEND:
        mine = next(c for c in t.claims if c.member_id == result.actor_id)
        return f"Extended: your claim on **{name}** now runs until {when(mine.expires_at)}."
    if a is Action.SUBMIT:
        return f"Submitted **{name}** for review. Reviewers have been told — thank you!"
    if a is Action.APPROVE:
        if result.after is Status.DONE:
            return f"Approved **{name}** — it's done! 🎉"
        return f"Approved **{name}** ({t.approvals} of {t.required_approvals} approvals)."
    if a is Action.REQUEST_CHANGES:
        return f"Asked for changes on **{name}**; the claimant has been told."
    if a is Action.ASSIGN:
        return f"Assigned **{name}** to {user(result.member_id or 0)}."
    if a is Action.ENDORSE:
        if result.opened:
            return f"Endorsed **{name}** — it's now open on the board."
        return f"Endorsed **{name}** ({t.endorsements} of {t.required_endorsements})."
    if a is Action.OBJECT:
        return f"Your objection to **{name}** is recorded; a maintainer will decide."
    if a is Action.EDIT:
        return f"Updated **{name}**."
    if a is Action.CANCEL:
        return f"Cancelled **{name}**."
    if a is Action.REOPEN:
        return f"Reopened **{name}**; it's back on the board."
    return f"Done: {a.value} on **{name}**."


def activity(result: ActionResult) -> str | None:
    """A line for the task's thread: the public record of what happened."""
    who = user(result.actor_id)
    a = result.action
    lines = {
        Action.CLAIM: f"{who} claimed this task.",
        Action.RELEASE: f"{who} released this task; it's back on the board.",
        Action.SUBMIT: f"{who} submitted this for review.",
        Action.ASSIGN: f"{who} assigned this to {user(result.member_id or 0)}.",
        Action.CANCEL: f"{who} cancelled this task.",
        Action.REOPEN: f"{who} reopened this task.",
        Action.EDIT: f"{who} edited this task.",
    }
    if a is Action.APPROVE:
        return (
            f"{who} approved this — it's done! 🎉"
            if result.after is Status.DONE
            else f"{who} approved this."
        )
    if a is Action.REQUEST_CHANGES:
        claimants = " ".join(user(m) for m in result.task.claimant_ids)
        # The card goes back to "claimed" and no longer shows the review: say why here.
        reason = safe(result.note, 1500).replace("\n", "\n> ")
        return f"{claimants} — {who} asked for changes:\n> {reason}"
    return lines.get(a)


# -- where members see it ------------------------------------------------------------------


async def publish(
    interaction: discord.Interaction, result: ActionResult, config: GuildConfig
) -> None:
    task = result.task
    source = interaction.message
    edited_source = False
    text = confirmation(result)
    if result.action is Action.REQUEST_CHANGES and result.escalate:
        text += "\nThis task has been through several rounds of changes, so the maintainers were asked to step in."
    try:
        if source is not None and _is_card_of(source, task) and not interaction.response.is_done():
            await interaction.response.edit_message(embed=task_embed(task), view=card_view(task))
            edited_source = True
            await interaction.followup.send(text, ephemeral=True)
        else:
            await tell(interaction, text)
    except discord.HTTPException:
        log.warning("could not answer interaction for #%s", task.number, exc_info=True)

    client = interaction.client
    source_id = source.id if source is not None else None
    if (
        task.card_message_id
        and task.card_channel_id
        and not (edited_source and source_id == task.card_message_id)
    ):
        await refresh_card(client, task)
    for number in result.unblocked:  # their cards still say "waiting"
        try:
            waiting = await services_of(interaction).tasks.show(task.guild_id, number)
        except DomainError:
            continue
        await refresh_card(client, waiting)
    await _post_activity(client, result)
    await _announce(client, result, config)
    if result.credited:
        from bot.ui.recognition import grant_milestones

        await grant_milestones(client, services_of(interaction), config, result.credited)


def _is_card_of(message: discord.Message, task: TaskView) -> bool:
    """The message shows this task's card (the board's, a /task show copy, a review post).
    A reminder carrying the task's buttons (the claim warning's Still on it / Release, in a
    DM or as a thread mention) is not: edited into a card, its text would contradict it."""
    return bool(
        message.embeds and message.embeds[0].footer.text == f"Peerboard · task #{task.number}"
    )


async def _channel(client: discord.Client, channel_id: int) -> Any:
    channel = client.get_channel(channel_id)
    if channel is None:
        try:
            channel = await client.fetch_channel(channel_id)
        except discord.HTTPException:
            return None
    return channel


async def refresh_card(client: discord.Client, task: TaskView) -> None:
    """Edit the task's card in place, wherever it was posted."""
    if not (task.card_channel_id and task.card_message_id):
        return
    channel = await _channel(client, task.card_channel_id)
    if channel is None:
        return
    try:
        await channel.get_partial_message(task.card_message_id).edit(
            embed=task_embed(task), view=card_view(task)
        )
    except discord.HTTPException:
        log.warning("could not edit the card of #%s", task.number, exc_info=True)


async def _send(channel: Any, content: str, **kwargs: Any) -> discord.Message | None:
    try:
        return await channel.send(content, **kwargs)  # type: ignore[no-any-return]
    except discord.HTTPException:
        log.warning("could not post in channel %s", getattr(channel, "id", "?"), exc_info=True)
        return None


async def _post_activity(client: discord.Client, result: ActionResult) -> None:
    line = activity(result)
    if line is None or result.task.thread_id is None:
        return
    thread = await _channel(client, result.task.thread_id)
    if thread is None:
        return
    ping = discord.AllowedMentions.none()
    if result.action is Action.REQUEST_CHANGES:
        # The claimants need to hear about requested changes: ping them, and only them.
        ping = discord.AllowedMentions(users=[discord.Object(m) for m in result.task.claimant_ids])
    elif result.action is Action.ASSIGN and result.member_id:
        # Someone was handed work: they need to hear about it.
        ping = discord.AllowedMentions(users=[discord.Object(result.member_id)])
    await _send(thread, line, allowed_mentions=ping)


async def _announce(client: discord.Client, result: ActionResult, config: GuildConfig) -> None:
    task = result.task
    if result.action is Action.SUBMIT and config.review_channel_id:
        channel = await _channel(client, config.review_channel_id)
        if channel is not None:
            role = f"<@&{config.reviewer_role_id}> " if config.reviewer_role_id else ""
            ping = (
                discord.AllowedMentions(roles=[discord.Object(config.reviewer_role_id)])
                if config.reviewer_role_id
                else discord.AllowedMentions.none()
            )
            await _send(
                channel,
                f"{role}📬 **{task_title(task)}** is ready for review — submitted by {user(result.actor_id)}.",
                embed=task_embed(task),
                view=card_view(task),
                allowed_mentions=ping,
            )
    if result.escalate and config.review_channel_id:
        channel = await _channel(client, config.review_channel_id)
        if channel is not None:
            mention = f"<@&{config.maintainer_role_id}> " if config.maintainer_role_id else ""
            ping = (
                discord.AllowedMentions(roles=[discord.Object(config.maintainer_role_id)])
                if config.maintainer_role_id
                else discord.AllowedMentions.none()
            )
            await _send(
                channel,
                f"{mention}🧭 **{task_title(task)}** has been through {plural(task.rework_rounds, 'round')} "
                "of changes. Could a maintainer step in and help it land?",
                allowed_mentions=ping,
            )
    # Unblocked tasks and opened proposals are announced by the reminder sweep, from the
    # outbox written with the change; nudge it so members hear about them right away.
    # (Most actions write nothing there: a claim costs no extra trip to the database.)
    kick = getattr(client, "kick_deliveries", None)
    if kick is not None and result.notices:
        kick()


async def post_card(
    client: discord.Client, services: Services, task: TaskView, config: GuildConfig
) -> discord.Message | None:
    """A new task's card goes to the tasks channel with a thread for its discussion."""
    if not config.tasks_channel_id:
        return None
    channel = await _channel(client, config.tasks_channel_id)
    if channel is None:
        return None
    message = await _send(channel, "", embed=task_embed(task), view=card_view(task))
    if message is None:
        return None
    thread_id = None
    try:
        thread = await message.create_thread(
            # Mentions defused: the "thread started" notice shows the name as message text.
            name=f"#{task.number} {safe(task.title, 100, markdown=False)}"[:100],
            auto_archive_duration=10080,
        )
        thread_id = thread.id
    except discord.HTTPException:
        log.warning("could not open a thread for #%s", task.number, exc_info=True)
    await services.tasks.set_card(task.guild_id, task.number, channel.id, message.id, thread_id)
    return message
