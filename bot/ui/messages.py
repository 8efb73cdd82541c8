"""What members read after an action or in a reminder: pure text, no Discord calls.

Every sentence here is part of the product (the end-to-end tests quote them); the
modules that send them (`publish`, `notifier`, `recognition`) only choose where.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Final

from bot.domain.model import Action, Status
from bot.services.notify import Notice
from bot.services.views import ActionResult, TaskView
from bot.ui.text import MESSAGE_MAX, clip, plural, safe, stamp, user, when


def task_title(task: TaskView) -> str:
    return f"#{task.number} · {safe(task.title, 120)}"


# -- the actor ------------------------------------------------------------------------------


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


def reply_to_actor(result: ActionResult) -> str:
    text = confirmation(result)
    if result.action is Action.REQUEST_CHANGES and result.escalate:
        text += "\nThis task has been through several rounds of changes, so the maintainers were asked to step in."
    return text


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


def thread_name(task: TaskView) -> str:
    # Mentions defused: the "thread started" notice shows the name as message text.
    return f"#{task.number} {safe(task.title, 100, markdown=False)}"[:100]


# -- reminders ----------------------------------------------------------------------------------


# Each kind's text, by its text key (bot/services/reminders/kinds.py): to the member, to
# the review channel (with the role it pings), to the tasks channel. A kind reads the table
# of where its notice goes; a key missing there reads the general "An update on" line.


def _name(notice: Notice) -> str:
    return f"**{task_title(notice.task)}**"


def _claim_warning(notice: Notice) -> str:
    mine = next((c for c in notice.task.claims if c.member_id == notice.member_id), None)
    ends = when(mine.expires_at) if mine else "soon"
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


def _size(size: int) -> str:
    if size < 1024 * 1024:
        return f"{max(1, round(size / 1024))} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def export_reply(
    fmt: str, tasks: int, size: int, packed_size: int, compressed: bool, import_max: int
) -> str:
    """The reply to /export, with the file (compressed when over Discord's limit)."""
    what = f"{plural(tasks, 'task')} as {fmt.upper()}"
    if not compressed:
        text = f"📦 Here is this server's board: {what} ({_size(size)}). Only you can see this."
    else:
        text = (
            f"📦 Here is this server's board: {what}. It was {_size(size)}, over Discord's "
            f"attachment limit, so I compressed it with gzip ({_size(packed_size)}): "
            "open it with any unzip tool, or `gunzip`. Only you can see this."
        )
    if fmt == "csv" and tasks > import_max:
        text += (
            f"\n`/task import` reads up to {import_max} tasks a file: split this one "
            "to import it elsewhere."
        )
    return text


def export_too_large(fmt: str, tasks: int, packed_size: int, guild_id: int) -> str:
    return (
        f"This server's board ({plural(tasks, 'task')} as {fmt.upper()}) is {_size(packed_size)} "
        "even compressed — too large to attach in Discord. The bot's operator can export it "
        f"with `peerboard export --guild {guild_id} --format {fmt}`."
    )
