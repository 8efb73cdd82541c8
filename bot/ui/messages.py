"""What members read after an action or in a reminder: pure text, no Discord calls.

Every sentence here is part of the product (the end-to-end tests quote them); the
modules that send them (`publish`, `notifier`, `recognition`) only choose where.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Final

from bot.domain.model import Action, Status
from bot.services.notify import Notice
from bot.services.views import ActionResult, TaskView
from bot.ui import github
from bot.ui.text import MESSAGE_MAX, clip, plain_name, plural, safe, stamp, user, when


def task_title(task: TaskView) -> str:
    return f"#{task.number} · {safe(task.title, 120)}"


# -- the actor ------------------------------------------------------------------------------


def confirmation(result: ActionResult, review_channel_id: int | None = None) -> str:
    """What the actor is told. A submission says where reviewers were told (the review
    channel given), or that nobody was; a change request whether the claimant was."""
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
        if review_channel_id:
            return (
                f"Submitted **{name}** for review — thank you! I'm letting reviewers know in "
                f"<#{review_channel_id}>."
            )
        return (
            f"Submitted **{name}** for review — thank you! No review channel is set, so nobody "
            "was told: a maintainer can set one with `/config channels review:`."
        )
    if a is Action.APPROVE:
        if result.after is Status.DONE:
            return f"Approved **{name}** — it's done! 🎉"
        return f"Approved **{name}** ({t.approvals} of {t.required_approvals} approvals)."
    if a is Action.REQUEST_CHANGES:
        if t.thread_id:
            return f"Asked for changes on **{name}**; I'm letting the claimant know in the task's thread."
        return f"Asked for changes on **{name}**. {claimant_not_told(t)}"
    if a is Action.ASSIGN:
        return f"Assigned **{name}** to {user(result.member_id or 0)}."
    if a is Action.ENDORSE:
        if result.opened:
            return f"Endorsed **{name}** — it's now open on the board."
        text = f"Endorsed **{name}** ({t.endorsements} of {t.required_endorsements})."
        if t.objections:
            text += " It has an objection, so a maintainer decides whether it opens."
        return text
    if a is Action.OBJECT:
        return f"Your objection to **{name}** is recorded; a maintainer will decide."
    if a is Action.EDIT:
        return f"Updated **{name}**: {edit_summary(result)}."
    if a is Action.CANCEL:
        return f"Cancelled **{name}**."
    if a is Action.REOPEN:
        return f"Reopened **{name}**; it's back on the board."
    return f"Done: {a.value} on **{name}**."


def claimant_not_told(task: TaskView) -> str:
    who = " ".join(user(m) for m in task.claimant_ids)
    if len(task.claimant_ids) > 1:
        return f"The task has no thread, so the claimants haven't been told: please let {who} know."
    return f"The task has no thread, so the claimant hasn't been told: please let {who} know."


def reply_to_actor(result: ActionResult, review_channel_id: int | None = None) -> str:
    text = confirmation(result, review_channel_id)
    if result.action is Action.REQUEST_CHANGES and result.escalate:
        text += "\nThis task has been through several rounds of changes, so the maintainers were asked to step in."
    return text


def review_post_refused(review_channel_id: int) -> str:
    return (
        f"I couldn't post in <#{review_channel_id}>, so reviewers haven't been told: Discord "
        "refused. A maintainer can check that I may send messages and embed links there."
    )


def thread_post_refused(task: TaskView) -> str:
    who = " ".join(user(m) for m in task.claimant_ids)
    return (
        "I couldn't post in the task's thread, so the claimant hasn't been told: "
        f"please let {who} know."
    )


def card_posted(text: str, jump_url: str) -> str:
    return f"{text} Its card is in {jump_url}"


def card_not_posted(text: str, task: TaskView, tasks_channel_id: int) -> str:
    return (
        f"{text} I couldn't post its card in <#{tasks_channel_id}> (Discord refused or was "
        f"busy), but the task is on the board: `/task show task:{task.number}` shows it."
    )


def imported(numbers: list[int], posted: int, tasks_channel_id: int | None) -> str:
    """/task import's answer: how many tasks, and which of their cards went out."""
    listed = ", ".join(f"#{n}" for n in numbers[:20]) + (" …" if len(numbers) > 20 else "")
    head = f"Imported {plural(len(numbers), 'task')} ({listed})"
    if tasks_channel_id is None:
        return (
            f"{head}. No tasks channel is set, so they have no cards: `/task list` shows "
            "them, and a maintainer can set one with `/config channels tasks:`."
        )
    if posted == len(numbers):
        return f"{head} and posted them in <#{tasks_channel_id}>."
    which = "their cards" if posted == 0 else f"{len(numbers) - posted} of their cards"
    return (
        f"{head}, but I couldn't post {which} in <#{tasks_channel_id}> (Discord refused): "
        "a maintainer can check that I may send messages, embed links and create threads "
        "there. They're on the board all the same: `/task list` shows them."
    )


def review_closed(task: TaskView) -> str:
    """A post in the review channel whose round is over (or that a newer post replaced)."""
    if task.status is Status.DONE:
        why = "it's done 🎉"
    elif task.status is Status.IN_REVIEW:
        why = "it's still waiting for review: use the newest post about it, below"
    elif task.status is Status.CANCELLED:
        why = "the task was cancelled"
    elif task.status is Status.OPEN:
        why = "the task is back on the board"
    else:
        why = "changes were requested, and the work is back with its claimant"
    return f"📪 **{task_title(task)}** — this review post is closed: {why}."


# -- the task's thread and the channels --------------------------------------------------------


def activity(result: ActionResult) -> str | None:
    """A line for the task's thread: the public record of what happened."""
    who = user(result.actor_id)
    a = result.action
    lines = {
        Action.CLAIM: f"{who} claimed this task.",
        Action.RELEASE: f"{who} released this task; it's back on the board.",
        Action.SUBMIT: f"{who} submitted this for review.",
        Action.ASSIGN: f"{who} assigned this to {user(result.member_id or 0)}.",
        Action.REOPEN: f"{who} reopened this task.",
    }
    if a is Action.APPROVE:
        # The claimants hear about it, as they do about requested changes.
        claimants = " ".join(user(m) for m in told_of(result))
        head = f"{claimants} — " if claimants else ""
        if result.after is Status.DONE:
            return f"{head}{who} approved this — it's done! 🎉 Thank you for the work."
        t = result.task
        return f"{head}{who} approved this ({t.approvals} of {t.required_approvals} approvals)."
    if a is Action.REQUEST_CHANGES and github.closed_unmerged(result):
        return github.back_to_claimants(result)
    if a is Action.REQUEST_CHANGES:
        claimants = " ".join(user(m) for m in result.task.claimant_ids)
        # The card goes back to "claimed" and no longer shows the review: say why here.
        return f"{claimants} — {who} asked for changes:\n> {_quote(result.note)}"
    if a is Action.CANCEL:
        told = " ".join(user(m) for m in told_of(result))
        head = f"{told} — " if told else ""
        what = "this proposal" if result.before is Status.PROPOSED else "this task"
        return f"{head}{who} cancelled {what}:\n> {_quote(result.note)}"
    if a is Action.EDIT and result.note:  # a note about GitHub links (bot/ui/github.py)
        return github.activity(result)
    if a is Action.EDIT:
        return f"{who} {edit_summary(result)}."
    return lines.get(a)


def told_of(result: ActionResult) -> tuple[int, ...]:
    """Whom the thread line of an approval or a cancellation is for (they are pinged): the
    task's holders, and the proposer of a cancelled proposal — never the actor."""
    people = list(result.holders)
    if result.action is Action.CANCEL and result.before is Status.PROPOSED:
        people.append(result.task.creator_id)
    return tuple(m for m in dict.fromkeys(people) if m != result.actor_id)


def _quote(text: str) -> str:
    return safe(text, 1500).replace("\n", "\n> ")


_EDITED: Final[Mapping[str, str]] = {
    "title": "title",
    "description": "description",
    "points": "points",
    "tags": "tags",
    "due_at": "due date",
    "capacity": "capacity",
    "blocked_by_id": "blocker",
    "claim_days": "claim window",
}


def edit_summary(result: ActionResult) -> str:
    """What an edit changed, as it now stands: "changed the points (now 3) and the
    description and cleared the due date"."""
    t = result.task
    now: dict[str, str] = {
        "points": str(t.points),
        "capacity": str(t.capacity),
        "due_at": stamp(t.due_at, "D") if t.due_at else "none",
        "blocked_by_id": f"#{t.blocked_by}" if t.blocked_by else "none",
        "tags": ", ".join(safe(tag, 40) for tag in t.tags) or "none",
        "title": f"“{safe(t.title, 100)}”",
    }
    changed: list[str] = []
    cleared: list[str] = []
    for column in sorted(result.edited, key=_edit_order):
        word = f"the {_EDITED.get(column, column.replace('_', ' '))}"
        value = now.get(column)
        if value == "none":
            cleared.append(word)
        else:
            changed.append(f"{word} (now {value})" if value is not None else word)
    said = [f"changed {_and(changed)}"] if changed else []
    said += [f"cleared {_and(cleared)}"] if cleared else []
    return " and ".join(said) or "edited this task"


def _edit_order(column: str) -> int:
    order = list(_EDITED)
    return order.index(column) if column in order else len(order)


def _and(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def review_call(task: TaskView, submitter_id: int, reviewer_role_id: int | None) -> str:
    role = f"<@&{reviewer_role_id}> " if reviewer_role_id else ""
    return (
        f"{role}📬 **{task_title(task)}** is ready for review — submitted by {user(submitter_id)}."
    )


def rework_escalation(task: TaskView, maintainer_role_id: int | None) -> str:
    mention = f"<@&{maintainer_role_id}> " if maintainer_role_id else ""
    return (
        f"{mention}🧭 **{task_title(task)}** has been through {plural(task.rework_rounds, 'round')} "
        "of changes. Could a maintainer step in and help it land?"
    )


def back_from_away(reminders_on: bool) -> str:
    if reminders_on:
        return "Welcome back! Reminders are on again."
    return (
        "Welcome back! You're no longer away, but your reminders are still off: "
        "`/me reminders enabled:True` turns them on."
    )


def away_until(until: datetime, pinged_roles: list[int], review_channel_id: int | None) -> str:
    text = (
        f"Enjoy the break — no reminders until {stamp(until, 'D')}. "
        "Claims you hold still expire at the end of their window; release them if you won't get to them."
    )
    if pinged_roles and review_channel_id:
        # A role ping reaches every member of the role: Discord can't leave one out.
        roles = " and ".join(f"<@&{r}>" for r in pinged_roles)
        text += (
            f"\nReview calls in <#{review_channel_id}> ping {roles}, and Discord can't leave "
            f"one person out of a role ping: mute <#{review_channel_id}> until you're back "
            "for a quiet break."
        )
    return text


def renamed(task: TaskView) -> str:
    return f"📝 This task is now called “{safe(task.title, 120)}”."


def thread_name(task: TaskView) -> str:
    # Plain text (a thread's name is never markdown): mentions read as what they name.
    return clip(f"#{task.number} {plain_name(task.title)}", 100)


# -- reminders ----------------------------------------------------------------------------------


# Each kind's text, by its text key (bot/services/reminders/kinds.py): to the member, to
# the review channel (with the role it pings), to the tasks channel. A kind reads the table
# of where its notice goes; a key missing there reads the general "An update on" line.


def _name(notice: Notice) -> str:
    return f"**{task_title(notice.task)}**"


def _claim_warning(notice: Notice) -> str:
    return claim_warning(notice, can_extend=True)


def claim_warning(notice: Notice, *, can_extend: bool) -> str:
    """The claim warning, offering Still on it only while an extension is left."""
    mine = next((c for c in notice.task.claims if c.member_id == notice.member_id), None)
    ends = when(mine.expires_at) if mine else "soon"
    if not can_extend:
        return (
            f"⏳ Your claim on {_name(notice)} ends {ends}. It can't be extended any further: "
            "submit your work before then, or tap **Release** to hand it back."
        )
    return f"⏳ Your claim on {_name(notice)} ends {ends}. Still on it? Tap **Still on it** to extend it, or **Release** to hand it back."


def _unblocked_member(notice: Notice) -> str:
    t = notice.task
    blocker = f" (#{t.blocked_by} is done)" if t.blocked_by else ""
    return f"🔓 {_name(notice)} is no longer blocked{blocker} — you can get going."


def _unblocked_board(notice: Notice) -> str:
    t = notice.task
    blocker = f"#{t.blocked_by} is done" if t.blocked_by else "its blocker is done"
    return f"🔓 {_name(notice)} can be claimed now: {blocker}."


def _since(notice: Notice) -> str:
    t = notice.task
    return stamp(t.submission.created_at) if t.submission else "a while"


def _mention(role_id: int | None) -> str:
    return f"<@&{role_id}> " if role_id else ""


MEMBER_TEXTS: Final[Mapping[str, Callable[[Notice], str]]] = {
    "claim_warning": _claim_warning,
    "claim_expired": lambda n: (
        f"⌛ Your claim on {_name(n)} ran out, so it's back on the board. No worries — "
        "if you're still on it and it's free, just claim it again."
    ),
    "due_soon": lambda n: f"📅 {_name(n)} is due {when(n.due_at)}.",
    "overdue": lambda n: (
        f"📅 {_name(n)} was due {stamp(n.due_at)}. If you need more time, say so in the task's thread."
    ),
    "unblocked": _unblocked_member,
}

REVIEW_TEXTS: Final[Mapping[str, Callable[[Notice, int | None], str]]] = {
    "review_nudge": lambda n, role: (
        f"{_mention(role)}👀 {_name(n)} has been waiting for review since {_since(n)}. Could someone take a look?"
    ),
    "review_escalation": lambda n, role: (
        f"{_mention(role)}🧭 {_name(n)} has waited for review since {_since(n)}. Could a maintainer review it, or find someone who can?"
    ),
    "proposal_contested": lambda n, role: (
        f"{_mention(role)}✋ Proposal {_name(n)} has an objection, so it waits for a maintainer: "
        "accept it with `/task endorse`, or `/task cancel` it."
    ),
}

BOARD_TEXTS: Final[Mapping[str, Callable[[Notice], str]]] = {
    "back_on_board": lambda n: (
        f"🔁 {_name(n)} is back on the board — the last claim ran out. Up for it?"
    ),
    "proposal_opened": lambda n: f"💡 Proposal {_name(n)} is now open on the board.",
    "unblocked": _unblocked_board,
}


def _update(notice: Notice) -> str:
    return f"🔔 An update on {_name(notice)}."


def member_text(notice: Notice) -> str:
    return MEMBER_TEXTS.get(notice.kind.text, _update)(notice)


def review_reminder(notice: Notice, role_id: int | None) -> str:
    text = REVIEW_TEXTS.get(notice.kind.text)
    return _update(notice) if text is None else text(notice, role_id)


def board_notice(notice: Notice) -> str:
    return BOARD_TEXTS.get(notice.kind.text, _update)(notice)


# -- recognition ---------------------------------------------------------------------------------


def milestone_refused(role_id: int, points: int, maintainer_role_id: int | None) -> str:
    mention = f"<@&{maintainer_role_id}> " if maintainer_role_id else ""
    return (
        f"{mention}⚠️ I couldn't give the <@&{role_id}> milestone role ({points} points): Discord says I'm "
        "not allowed. In Server Settings → Roles, move my role above it and make sure I have Manage Roles. "
        "I'll keep recording milestones, and I won't repeat this message."
    )


# -- forms ------------------------------------------------------------------------------------

_FENCE = "```"


def typed_back(fields: Sequence[tuple[str, str]]) -> str | None:
    """What a member typed into a form that was refused, given back so they can copy it:
    each field's text in a code block (shown as typed: no markdown, no mentions), the
    whole within one message."""
    if not fields:
        return None
    parts = ["Here's what you wrote, so it isn't lost:"]
    for label, text in fields:
        body = text.replace(_FENCE, "`\u200b`\u200b`")  # a fence inside can't end the block
        parts.append(f"**{label}**\n{_FENCE}\n{body}\n{_FENCE}")
    return clip("\n".join(parts), MESSAGE_MAX)  # forms hold less: never clipped
