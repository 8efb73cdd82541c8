"""What members read after an action or in a reminder: pure text, no Discord calls.

Every sentence here is part of the product (the end-to-end tests quote them); the
modules that send them (`publish`, `notifier`, `recognition`) only choose where — and in
which language: each function takes the reader's `tr` first (bot/ui/language.py), and
every sentence is one whole catalog message (bot/locale) with its values put in. The
reminders' texts are in `notices` (named here too, as they always were).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Final

from bot import i18n
from bot.domain.model import Action, Status
from bot.services.views import ActionResult, TaskView
from bot.ui import github
from bot.ui.notices import BOARD_TEXTS as BOARD_TEXTS
from bot.ui.notices import MEMBER_TEXTS as MEMBER_TEXTS
from bot.ui.notices import REVIEW_TEXTS as REVIEW_TEXTS
from bot.ui.notices import board_notice as board_notice
from bot.ui.notices import claim_warning as claim_warning
from bot.ui.notices import member_text as member_text
from bot.ui.notices import review_reminder as review_reminder
from bot.ui.notices import task_title
from bot.ui.text import MESSAGE_MAX, clip, plain_name, safe, stamp, user, when

# -- the actor ------------------------------------------------------------------------------


def confirmation(tr: i18n.Texts, result: ActionResult, review_channel_id: int | None = None) -> str:
    """What the actor is told. A submission says where reviewers were told (the review
    channel given), or that nobody was; a change request whether the claimant was."""
    t = result.task
    name = task_title(t)
    a = result.action
    if a is Action.CREATE:
        points = tr.plural("{n} point", "{n} points", t.points)
        return tr("Created **{name}** ({points}).", name=name, points=points)
    if a is Action.PROPOSE:
        members = tr.plural("{n} member", "{n} members", t.required_endorsements)
        return tr(
            "Proposed **{name}**. It opens once {members} endorse it, or after the proposal window if nobody objects.",
            name=name,
            members=members,
        )
    if a is Action.CLAIM:
        mine = next(c for c in t.claims if c.member_id == result.actor_id)
        text = tr(
            "You claimed **{name}**. Your claim runs until {until}; use `/task extend` if you need more time.",
            name=name,
            until=when(mine.expires_at),
        )
        if result.handoff_note:
            note = safe(result.handoff_note, 500)
            text += "\n" + tr("> Note from the last holder: {note}", note=note)
        return text
    if a is Action.RELEASE:
        return tr(
            "You released **{name}** — thanks for letting someone else pick it up.", name=name
        )
    if a is Action.EXTEND:
        mine = next(c for c in t.claims if c.member_id == result.actor_id)
        return tr(
            "Extended: your claim on **{name}** now runs until {until}.",
            name=name,
            until=when(mine.expires_at),
        )
    if a is Action.SUBMIT:
        if review_channel_id:
            return tr(
                "Submitted **{name}** for review — thank you! I'm letting reviewers know in <#{channel}>.",
                name=name,
                channel=review_channel_id,
            )
        return tr(
            "Submitted **{name}** for review — thank you! No review channel is set, so nobody was told: a maintainer can set one with `/config channels review:`.",
            name=name,
        )
    if a is Action.APPROVE:
        if result.after is Status.DONE:
            return tr("Approved **{name}** — it's done! 🎉", name=name)
        return tr(
            "Approved **{name}** ({approvals} of {required} approvals).",
            name=name,
            approvals=t.approvals,
            required=t.required_approvals,
        )
    if a is Action.REQUEST_CHANGES:
        if t.thread_id:
            return tr(
                "Asked for changes on **{name}**; I'm letting the claimant know in the task's thread.",
                name=name,
            )
        return tr("Asked for changes on **{name}**.", name=name) + " " + claimant_not_told(tr, t)
    if a is Action.ASSIGN:
        return tr("Assigned **{name}** to {member}.", name=name, member=user(result.member_id or 0))
    if a is Action.ENDORSE:
        if result.opened:
            return tr("Endorsed **{name}** — it's now open on the board.", name=name)
        text = tr(
            "Endorsed **{name}** ({endorsements} of {required}).",
            name=name,
            endorsements=t.endorsements,
            required=t.required_endorsements,
        )
        if t.objections:
            text += " " + tr("It has an objection, so a maintainer decides whether it opens.")
        return text
    if a is Action.OBJECT:
        return tr("Your objection to **{name}** is recorded; a maintainer will decide.", name=name)
    if a is Action.EDIT:
        return _updated(tr, result, name)
    if a is Action.CANCEL:
        return tr("Cancelled **{name}**.", name=name)
    if a is Action.REOPEN:
        return tr("Reopened **{name}**; it's back on the board.", name=name)
    return tr("Done: {action} on **{name}**.", action=a.value, name=name)


def claimant_not_told(tr: i18n.Texts, task: TaskView) -> str:
    who = " ".join(user(m) for m in task.claimant_ids)
    if len(task.claimant_ids) > 1:
        return tr(
            "The task has no thread, so the claimants haven't been told: please let {who} know.",
            who=who,
        )
    return tr(
        "The task has no thread, so the claimant hasn't been told: please let {who} know.",
        who=who,
    )


def reply_to_actor(
    tr: i18n.Texts, result: ActionResult, review_channel_id: int | None = None
) -> str:
    text = confirmation(tr, result, review_channel_id)
    if result.action is Action.REQUEST_CHANGES and result.escalate:
        text += "\n" + tr(
            "This task has been through several rounds of changes, so the maintainers were asked to step in."
        )
    return text


def review_post_refused(tr: i18n.Texts, review_channel_id: int) -> str:
    return tr(
        "I couldn't post in <#{channel}>, so reviewers haven't been told: Discord refused. A maintainer can check that I may send messages and embed links there.",
        channel=review_channel_id,
    )


def thread_post_refused(tr: i18n.Texts, task: TaskView) -> str:
    who = " ".join(user(m) for m in task.claimant_ids)
    return tr(
        "I couldn't post in the task's thread, so the claimant hasn't been told: please let {who} know.",
        who=who,
    )


def card_posted(tr: i18n.Texts, text: str, jump_url: str) -> str:
    """The actor's answer (`text`, already in their language) and where the card is."""
    return f"{text} " + tr("Its card is in {url}", url=jump_url)


def card_not_posted(tr: i18n.Texts, text: str, task: TaskView, tasks_channel_id: int) -> str:
    return f"{text} " + tr(
        "I couldn't post its card in <#{channel}> (Discord refused or was busy), but the task is on the board: `/task show task:{number}` shows it.",
        channel=tasks_channel_id,
        number=task.number,
    )


def imported(tr: i18n.Texts, numbers: list[int], posted: int, tasks_channel_id: int | None) -> str:
    """/task import's answer: how many tasks, and which of their cards went out."""
    listed = ", ".join(f"#{n}" for n in numbers[:20]) + (" …" if len(numbers) > 20 else "")
    tasks = tr.plural("{n} task", "{n} tasks", len(numbers))
    if tasks_channel_id is None:
        return tr(
            "Imported {tasks} ({numbers}). No tasks channel is set, so they have no cards: `/task list` shows them, and a maintainer can set one with `/config channels tasks:`.",
            tasks=tasks,
            numbers=listed,
        )
    if posted == len(numbers):
        return tr(
            "Imported {tasks} ({numbers}) and posted them in <#{channel}>.",
            tasks=tasks,
            numbers=listed,
            channel=tasks_channel_id,
        )
    if posted == 0:
        return tr(
            "Imported {tasks} ({numbers}), but I couldn't post their cards in <#{channel}> (Discord refused): a maintainer can check that I may send messages, embed links and create threads there. They're on the board all the same: `/task list` shows them.",
            tasks=tasks,
            numbers=listed,
            channel=tasks_channel_id,
        )
    return tr(
        "Imported {tasks} ({numbers}), but I couldn't post {missing} of their cards in <#{channel}> (Discord refused): a maintainer can check that I may send messages, embed links and create threads there. They're on the board all the same: `/task list` shows them.",
        tasks=tasks,
        numbers=listed,
        missing=len(numbers) - posted,
        channel=tasks_channel_id,
    )


def review_closed(tr: i18n.Texts, task: TaskView) -> str:
    """A post in the review channel whose round is over (or that a newer post replaced)."""
    name = task_title(task)
    if task.status is Status.DONE:
        return tr("📪 **{name}** — this review post is closed: it's done 🎉.", name=name)
    if task.status is Status.IN_REVIEW:
        return tr(
            "📪 **{name}** — this review post is closed: it's still waiting for review: use the newest post about it, below.",
            name=name,
        )
    if task.status is Status.CANCELLED:
        return tr("📪 **{name}** — this review post is closed: the task was cancelled.", name=name)
    if task.status is Status.OPEN:
        return tr(
            "📪 **{name}** — this review post is closed: the task is back on the board.", name=name
        )
    return tr(
        "📪 **{name}** — this review post is closed: changes were requested, and the work is back with its claimant.",
        name=name,
    )


# -- the task's thread and the channels --------------------------------------------------------


def activity(tr: i18n.Texts, result: ActionResult) -> str | None:
    """A line for the task's thread: the public record of what happened. The mentions of
    those it is for lead the line (`<@1> — `), as in every language."""
    who = user(result.actor_id)
    a = result.action
    if a is Action.CLAIM:
        return tr("{who} claimed this task.", who=who)
    if a is Action.RELEASE:
        return tr("{who} released this task; it's back on the board.", who=who)
    if a is Action.SUBMIT:
        return tr("{who} submitted this for review.", who=who)
    if a is Action.ASSIGN:
        return tr("{who} assigned this to {member}.", who=who, member=user(result.member_id or 0))
    if a is Action.REOPEN:
        return tr("{who} reopened this task.", who=who)
    if a is Action.APPROVE:
        # The claimants hear about it, as they do about requested changes.
        claimants = " ".join(user(m) for m in told_of(result))
        head = f"{claimants} — " if claimants else ""
        if result.after is Status.DONE:
            return head + tr("{who} approved this — it's done! 🎉 Thank you for the work.", who=who)
        t = result.task
        return head + tr(
            "{who} approved this ({approvals} of {required} approvals).",
            who=who,
            approvals=t.approvals,
            required=t.required_approvals,
        )
    if a is Action.REQUEST_CHANGES and github.closed_unmerged(result):
        return github.back_to_claimants(tr, result)
    if a is Action.REQUEST_CHANGES:
        claimants = " ".join(user(m) for m in result.task.claimant_ids)
        # The card goes back to "claimed" and no longer shows the review: say why here.
        said = tr("{who} asked for changes:", who=who)
        return f"{claimants} — {said}\n> {_quote(result.note)}"
    if a is Action.CANCEL:
        told = " ".join(user(m) for m in told_of(result))
        head = f"{told} — " if told else ""
        if result.before is Status.PROPOSED:
            said = tr("{who} cancelled this proposal:", who=who)
        else:
            said = tr("{who} cancelled this task:", who=who)
        return f"{head}{said}\n> {_quote(result.note)}"
    if a is Action.EDIT and result.note:  # a note about GitHub links (bot/ui/github.py)
        return github.activity(tr, result)
    if a is Action.EDIT:
        changed, cleared = _edits(tr, result)
        if changed and cleared:
            return tr(
                "{who} changed {changed} and cleared {cleared}.",
                who=who,
                changed=changed,
                cleared=cleared,
            )
        if changed:
            return tr("{who} changed {changed}.", who=who, changed=changed)
        if cleared:
            return tr("{who} cleared {cleared}.", who=who, cleared=cleared)
        return tr("{who} edited this task.", who=who)
    return None


def told_of(result: ActionResult) -> tuple[int, ...]:
    """Whom the thread line of an approval or a cancellation is for (they are pinged): the
    task's holders, and the proposer of a cancelled proposal — never the actor. (Member
    ids, not text: it takes no `tr`.)"""
    people = list(result.holders)
    if result.action is Action.CANCEL and result.before is Status.PROPOSED:
        people.append(result.task.creator_id)
    return tuple(m for m in dict.fromkeys(people) if m != result.actor_id)


def _quote(text: str) -> str:
    return safe(text, 1500).replace("\n", "\n> ")


# The order an edit's changes are told in: a task's columns (ActionResult.edited).
_EDIT_ORDER: Final = (
    "title",
    "description",
    "points",
    "tags",
    "due_at",
    "capacity",
    "blocked_by_id",
    "claim_days",
)


def _updated(tr: i18n.Texts, result: ActionResult, name: str) -> str:
    changed, cleared = _edits(tr, result)
    if changed and cleared:
        return tr(
            "Updated **{name}**: changed {changed} and cleared {cleared}.",
            name=name,
            changed=changed,
            cleared=cleared,
        )
    if changed:
        return tr("Updated **{name}**: changed {changed}.", name=name, changed=changed)
    if cleared:
        return tr("Updated **{name}**: cleared {cleared}.", name=name, cleared=cleared)
    return tr("Updated **{name}**: edited this task.", name=name)


def _edits(tr: i18n.Texts, result: ActionResult) -> tuple[str, str]:
    """What an edit changed, as it now stands, and what it cleared, each a list ("" when
    nothing): "the points (now 3) and the description", "the due date"."""
    t = result.task
    tags = ", ".join(safe(tag, 40) for tag in t.tags)
    now: dict[str, str | None] = {  # None: cleared
        "title": tr("the title (now {value})", value=f"“{safe(t.title, 100)}”"),
        "points": tr("the points (now {value})", value=t.points),
        "tags": tr("the tags (now {value})", value=tags) if tags else None,
        "due_at": tr("the due date (now {value})", value=stamp(t.due_at, "D"))
        if t.due_at
        else None,
        "capacity": tr("the capacity (now {value})", value=t.capacity),
        "blocked_by_id": tr("the blocker (now {value})", value=f"#{t.blocked_by}")
        if t.blocked_by
        else None,
    }
    named = {  # changed with no value shown, or cleared
        "description": tr("the description"),
        "tags": tr("the tags"),
        "due_at": tr("the due date"),
        "blocked_by_id": tr("the blocker"),
        "claim_days": tr("the claim window"),
    }
    changed: list[str] = []
    cleared: list[str] = []
    for column in sorted(result.edited, key=_edit_order):
        value = now.get(column, "")
        word = named.get(column) or tr("the {field}", field=column.replace("_", " "))
        if value is None:
            cleared.append(word)
        else:
            changed.append(value or word)
    return _and(tr, changed), _and(tr, cleared)


def _edit_order(column: str) -> int:
    return _EDIT_ORDER.index(column) if column in _EDIT_ORDER else len(_EDIT_ORDER)


def _and(tr: i18n.Texts, parts: list[str]) -> str:
    """`a, b and c`: CLDR's list in each language; English keeps its own (no comma
    before "and"), as every English text has said it."""
    if tr.code != i18n.SOURCE or len(parts) < 2:
        return tr.join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def review_call(
    tr: i18n.Texts, task: TaskView, submitter_id: int, reviewer_role_id: int | None
) -> str:
    role = f"<@&{reviewer_role_id}> " if reviewer_role_id else ""
    return role + tr(
        "📬 **{name}** is ready for review — submitted by {member}.",
        name=task_title(task),
        member=user(submitter_id),
    )


def rework_escalation(tr: i18n.Texts, task: TaskView, maintainer_role_id: int | None) -> str:
    mention = f"<@&{maintainer_role_id}> " if maintainer_role_id else ""
    return mention + tr(
        "🧭 **{name}** has been through {rounds} of changes. Could a maintainer step in and help it land?",
        name=task_title(task),
        rounds=tr.plural("{n} round", "{n} rounds", task.rework_rounds),
    )


def back_from_away(tr: i18n.Texts, reminders_on: bool) -> str:
    if reminders_on:
        return tr("Welcome back! Reminders are on again.")
    return tr(
        "Welcome back! You're no longer away, but your reminders are still off: `/me reminders enabled:True` turns them on."
    )


def away_until(
    tr: i18n.Texts, until: datetime, pinged_roles: list[int], review_channel_id: int | None
) -> str:
    text = tr(
        "Enjoy the break — no reminders until {date}. Claims you hold still expire at the end of their window; release them if you won't get to them.",
        date=stamp(until, "D"),
    )
    if pinged_roles and review_channel_id:
        # A role ping reaches every member of the role: Discord can't leave one out.
        roles = _and(tr, [f"<@&{r}>" for r in pinged_roles])
        text += "\n" + tr(
            "Review calls in <#{channel}> ping {roles}, and Discord can't leave one person out of a role ping: mute <#{channel}> until you're back for a quiet break.",
            channel=review_channel_id,
            roles=roles,
        )
    return text


def renamed(tr: i18n.Texts, task: TaskView) -> str:
    return tr("📝 This task is now called “{title}”.", title=safe(task.title, 120))


def thread_name(tr: i18n.Texts, task: TaskView) -> str:
    """A task's thread: `#12 Title` in every language (no words: `tr` is taken as every
    text here takes it). Plain text (a thread's name is never markdown): mentions read as
    what they name."""
    return clip(f"#{task.number} {plain_name(task.title)}", 100)


# -- recognition ---------------------------------------------------------------------------------


def milestone_refused(
    tr: i18n.Texts, role_id: int, points: int, maintainer_role_id: int | None
) -> str:
    mention = f"<@&{maintainer_role_id}> " if maintainer_role_id else ""
    return mention + tr(
        "⚠️ I couldn't give the <@&{role}> milestone role ({points}): Discord says I'm not allowed. In Server Settings → Roles, move my role above it and make sure I have Manage Roles. I'll keep recording milestones, and I won't repeat this message.",
        role=role_id,
        points=tr.plural("{n} point", "{n} points", points),
    )


# -- forms ------------------------------------------------------------------------------------

_FENCE = "```"


def typed_back(tr: i18n.Texts, fields: Sequence[tuple[str, str]]) -> str | None:
    """What a member typed into a form that was refused, given back so they can copy it:
    each field's text in a code block (shown as typed: no markdown, no mentions), the
    whole within one message. `fields`: each field's label (in the reader's language)
    and text."""
    if not fields:
        return None
    parts = [tr("Here's what you wrote, so it isn't lost:")]
    for label, text in fields:
        body = text.replace(_FENCE, "`\u200b`\u200b`")  # a fence inside can't end the block
        parts.append(f"**{label}**\n{_FENCE}\n{body}\n{_FENCE}")
    return clip("\n".join(parts), MESSAGE_MAX)  # forms hold less: never clipped
