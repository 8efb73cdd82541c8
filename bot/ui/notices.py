"""What a reminder says: to the member, to the review channel, to the tasks channel — each
text in its reader's language (`tr` first, as in `messages`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Final

from bot import i18n
from bot.services.notify import Notice
from bot.services.views import TaskView
from bot.ui.text import safe, stamp, when


def task_title(task: TaskView) -> str:
    """`#12 · Title`: a task as every language names it (no words to translate)."""
    return f"#{task.number} · {safe(task.title, 120)}"


# -- reminders ----------------------------------------------------------------------------------


# Each kind's text, by its text key (bot/services/reminders/kinds.py): to the member, to
# the review channel (with the role it pings), to the tasks channel. A kind reads the table
# of where its notice goes; a key missing there reads the general "An update on" line.


def _name(notice: Notice) -> str:
    return f"**{task_title(notice.task)}**"


def _claim_warning(tr: i18n.Texts, notice: Notice) -> str:
    return claim_warning(tr, notice, can_extend=True)


def claim_warning(tr: i18n.Texts, notice: Notice, *, can_extend: bool) -> str:
    """The claim warning, offering Still on it only while an extension is left."""
    mine = next((c for c in notice.task.claims if c.member_id == notice.member_id), None)
    name = _name(notice)
    if mine is None and not can_extend:
        return tr(
            "⏳ Your claim on {name} ends soon. It can't be extended any further: submit your work before then, or tap **Release** to hand it back.",
            name=name,
        )
    if mine is None:
        return tr(
            "⏳ Your claim on {name} ends soon. Still on it? Tap **Still on it** to extend it, or **Release** to hand it back.",
            name=name,
        )
    ends = when(mine.expires_at)
    if not can_extend:
        return tr(
            "⏳ Your claim on {name} ends {ends}. It can't be extended any further: submit your work before then, or tap **Release** to hand it back.",
            name=name,
            ends=ends,
        )
    return tr(
        "⏳ Your claim on {name} ends {ends}. Still on it? Tap **Still on it** to extend it, or **Release** to hand it back.",
        name=name,
        ends=ends,
    )


def _claim_expired(tr: i18n.Texts, n: Notice) -> str:
    return tr(
        "⌛ Your claim on {name} ran out, so it's back on the board. No worries — if you're still on it and it's free, just claim it again.",
        name=_name(n),
    )


def _due_soon(tr: i18n.Texts, n: Notice) -> str:
    return tr("📅 {name} is due {when}.", name=_name(n), when=when(n.due_at))


def _overdue(tr: i18n.Texts, n: Notice) -> str:
    return tr(
        "📅 {name} was due {when}. If you need more time, say so in the task's thread.",
        name=_name(n),
        when=stamp(n.due_at),
    )


def _unblocked_member(tr: i18n.Texts, notice: Notice) -> str:
    t = notice.task
    if t.blocked_by:
        return tr(
            "🔓 {name} is no longer blocked (#{blocker} is done) — you can get going.",
            name=_name(notice),
            blocker=t.blocked_by,
        )
    return tr("🔓 {name} is no longer blocked — you can get going.", name=_name(notice))


def _unblocked_board(tr: i18n.Texts, notice: Notice) -> str:
    t = notice.task
    if t.blocked_by:
        return tr(
            "🔓 {name} can be claimed now: #{blocker} is done.",
            name=_name(notice),
            blocker=t.blocked_by,
        )
    return tr("🔓 {name} can be claimed now: its blocker is done.", name=_name(notice))


def _mention(role_id: int | None) -> str:
    return f"<@&{role_id}> " if role_id else ""


def _review_nudge(tr: i18n.Texts, n: Notice, role: int | None) -> str:
    if n.task.submission is None:
        return _mention(role) + tr(
            "👀 {name} has been waiting for review for a while. Could someone take a look?",
            name=_name(n),
        )
    return _mention(role) + tr(
        "👀 {name} has been waiting for review since {since}. Could someone take a look?",
        name=_name(n),
        since=stamp(n.task.submission.created_at),
    )


def _review_escalation(tr: i18n.Texts, n: Notice, role: int | None) -> str:
    if n.task.submission is None:
        return _mention(role) + tr(
            "🧭 {name} has waited for review for a while. Could a maintainer review it, or find someone who can?",
            name=_name(n),
        )
    return _mention(role) + tr(
        "🧭 {name} has waited for review since {since}. Could a maintainer review it, or find someone who can?",
        name=_name(n),
        since=stamp(n.task.submission.created_at),
    )


def _proposal_contested(tr: i18n.Texts, n: Notice, role: int | None) -> str:
    return _mention(role) + tr(
        "✋ Proposal {name} has an objection, so it waits for a maintainer: accept it with `/task endorse`, or `/task cancel` it.",
        name=_name(n),
    )


def _back_on_board(tr: i18n.Texts, n: Notice) -> str:
    return tr("🔁 {name} is back on the board — the last claim ran out. Up for it?", name=_name(n))


def _proposal_opened(tr: i18n.Texts, n: Notice) -> str:
    return tr("💡 Proposal {name} is now open on the board.", name=_name(n))


MEMBER_TEXTS: Final[Mapping[str, Callable[[i18n.Texts, Notice], str]]] = {
    "claim_warning": _claim_warning,
    "claim_expired": _claim_expired,
    "due_soon": _due_soon,
    "overdue": _overdue,
    "unblocked": _unblocked_member,
}

REVIEW_TEXTS: Final[Mapping[str, Callable[[i18n.Texts, Notice, int | None], str]]] = {
    "review_nudge": _review_nudge,
    "review_escalation": _review_escalation,
    "proposal_contested": _proposal_contested,
}

BOARD_TEXTS: Final[Mapping[str, Callable[[i18n.Texts, Notice], str]]] = {
    "back_on_board": _back_on_board,
    "proposal_opened": _proposal_opened,
    "unblocked": _unblocked_board,
}


def _update(tr: i18n.Texts, notice: Notice) -> str:
    return tr("🔔 An update on {name}.", name=_name(notice))


def member_text(tr: i18n.Texts, notice: Notice) -> str:
    return MEMBER_TEXTS.get(notice.kind.text, _update)(tr, notice)


def review_reminder(tr: i18n.Texts, notice: Notice, role_id: int | None) -> str:
    text = REVIEW_TEXTS.get(notice.kind.text)
    return _update(tr, notice) if text is None else text(tr, notice, role_id)


def board_notice(tr: i18n.Texts, notice: Notice) -> str:
    return BOARD_TEXTS.get(notice.kind.text, _update)(tr, notice)
