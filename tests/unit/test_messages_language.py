"""Every word of bot/ui/messages.py and bot/ui/notices.py comes from the reader's catalog:
rendered with a `tr` that marks what it translated (⟦…⟧), nothing is left outside the
marks but mentions, numbers, markdown and punctuation — no English glued in between. And
an edit's list of changes is joined the reader's way (CLDR), English keeping its own."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot import i18n
from bot.domain.model import Action, Status
from bot.services.notify import Notice
from bot.services.reminders.kinds import KINDS
from bot.services.views import ActionResult, ClaimView, SubmissionView, TaskView
from bot.ui import messages

NOW = datetime(2026, 12, 3, 17, 0, tzinfo=UTC)
QUIET = "✍"  # what members typed, without a letter (it stays outside the marks)


class Marked(i18n.Texts):
    """German's CLDR (lists, plural rules) with every catalog text marked ⟦…⟧."""

    def __init__(self) -> None:
        super().__init__("de")

    def __call__(self, message: str, /, **values: object) -> str:
        return f"⟦{super().__call__(message, **values)}⟧"

    def plural(self, one: str, other: str, n: int) -> str:
        return f"⟦{super().plural(one, other, n)}⟧"

    def join(self, items: Iterable[str], style: i18n.ListStyle = "standard") -> str:
        return f"⟦{super().join(items, style)}⟧"


def outside(text: str) -> str:
    """What is left of a text once every marked part is taken out."""
    while True:
        shorter = re.sub(r"⟦[^⟦⟧]*⟧", "", text)
        if shorter == text:
            return text
        text = shorter


def assert_all_translated(text: str | None) -> None:
    assert text, "no text"
    assert "⟦" in text
    left = re.sub(r"<(@[!&]?|#)\d+>", "", outside(text))
    assert not re.search(r"[^\W\d_]", left), f"words outside the catalog: {left!r} in {text!r}"


def task(**changes: object) -> TaskView:
    base = TaskView(
        guild_id=1,
        number=7,
        title="Fix the docs",
        description="",
        points=3,
        tags=("docs", "good first"),
        due_at=NOW + timedelta(days=2),
        capacity=2,
        status=Status.CLAIMED,
        creator_id=10,
        claims=(ClaimView(20, NOW, NOW + timedelta(days=7), 0),),
        approvals=1,
        required_approvals=2,
        review_round=1,
        rework_rounds=3,
        blocked_by=4,
        blocked=False,
        endorsements=1,
        objections=1,
        required_endorsements=2,
        submission=SubmissionView(20, 1, "https://example.org", QUIET, NOW),
        handoff_note=None,
        card_channel_id=None,
        card_message_id=None,
        thread_id=None,
        created_at=NOW,
        updated_at=NOW,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def result(action: Action, t: TaskView | None = None, **changes: object) -> ActionResult:
    base = ActionResult(
        action=action,
        task=t or task(),
        before=Status.OPEN,
        after=Status.CLAIMED,
        actor_id=20,
        member_id=30,
        note=QUIET,
        holders=(20, 21),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


EVERY_COLUMN = (
    "title",
    "description",
    "points",
    "tags",
    "due_at",
    "capacity",
    "blocked_by_id",
    "claim_days",
    "something_new",
)
CLEARED = task(due_at=None, blocked_by=None, tags=())

RESULTS = [
    # (an edit's note is GitHub's: bot/ui/github.py words it)
    *(result(a, note="" if a is Action.EDIT else QUIET) for a in Action),
    result(Action.CLAIM, handoff_note=QUIET),
    result(Action.APPROVE, after=Status.DONE),
    result(Action.REQUEST_CHANGES, task(thread_id=5), escalate=True),
    result(Action.REQUEST_CHANGES, task(claims=())),
    result(Action.ENDORSE, opened=True),
    result(Action.ENDORSE, task(objections=0)),
    result(Action.CANCEL, before=Status.PROPOSED),
    result(Action.EDIT, note="", edited=EVERY_COLUMN),
    result(Action.EDIT, CLEARED, note="", edited=("due_at", "blocked_by_id", "tags")),
    result(Action.EDIT, CLEARED, note="", edited=("points", "due_at")),
    result(Action.EDIT, note="", edited=()),
]


@pytest.mark.parametrize("r", RESULTS, ids=lambda r: r.action.value)
def test_what_the_actor_and_the_thread_are_told_is_all_translated(r: ActionResult) -> None:
    tr = Marked()
    assert_all_translated(messages.reply_to_actor(tr, r, None))
    assert_all_translated(messages.reply_to_actor(tr, r, 99))
    if messages.activity(i18n.texts("en"), r) is not None:  # the actions a thread is told
        assert_all_translated(messages.activity(tr, r))


def test_every_other_message_is_all_translated() -> None:
    tr = Marked()
    t = task()
    texts = [
        messages.claimant_not_told(tr, t),
        messages.claimant_not_told(tr, task(claims=(*t.claims, ClaimView(21, NOW, NOW, 0)))),
        messages.review_post_refused(tr, 99),
        messages.thread_post_refused(tr, t),
        messages.card_posted(tr, tr("Created."), "https://discord.com/channels/1/2/3"),
        messages.card_not_posted(tr, tr("Created."), t, 99),
        messages.review_call(tr, t, 20, 5),
        messages.rework_escalation(tr, t, 6),
        messages.back_from_away(tr, True),
        messages.back_from_away(tr, False),
        messages.away_until(tr, NOW, [5, 6], 99),
        messages.renamed(tr, t),
        messages.milestone_refused(tr, 8, 100, 6),
        messages.typed_back(tr, [(tr("Notes"), QUIET)]),
    ]
    texts += [messages.review_closed(tr, task(status=s)) for s in Status]
    for posted, channel in ((0, None), (3, 99), (0, 99), (1, 99)):
        texts.append(messages.imported(tr, [1, 2, 3], posted, channel))
    for t in (task(), task(blocked_by=None, submission=None, claims=())):
        for kind in KINDS.values():
            notice = Notice(kind, t, 20, NOW)
            texts += [
                messages.member_text(tr, notice),
                messages.review_reminder(tr, notice, 5),
                messages.board_notice(tr, notice),
                messages.claim_warning(tr, notice, can_extend=False),
            ]
    for text in texts:
        assert_all_translated(text)


class Uncatalogued(i18n.Texts):
    """German's CLDR with the English messages (whatever the German catalog holds)."""

    def __init__(self) -> None:
        super().__init__("de")

    def __call__(self, message: str, /, **values: object) -> str:
        return message.format(**values)

    def plural(self, one: str, other: str, n: int) -> str:
        return (one if n == 1 else other).format(n=n)


def test_an_edit_lists_its_changes_the_readers_way() -> None:
    r = result(Action.EDIT, note="", edited=("description", "points", "capacity"))
    english = messages.confirmation(i18n.texts("en"), r)
    assert english == (
        "Updated **#7 · Fix the docs**: changed the description, the points (now 3) "
        "and the capacity (now 2)."
    )
    german = messages.confirmation(Uncatalogued(), r)
    assert "the description, the points (now 3) und the capacity (now 2)" in german
    assert messages.activity(i18n.texts("en"), r) == (
        "<@20> changed the description, the points (now 3) and the capacity (now 2)."
    )


def test_a_thread_name_has_no_words_of_its_own() -> None:
    for code in i18n.LANGUAGES:
        assert messages.thread_name(i18n.texts(code), task()) == "#7 Fix the docs"
