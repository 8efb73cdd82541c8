"""The task card, its buttons and forms, and the GitHub and upkeep texts are said through
the reader's `tr` (issue 17): every word on them comes from the catalog, values are put in
by name, numbers and sizes follow the language's CLDR rules, and the English is as before.

`Marked` wraps what `tr` returns in «…», so a text that bypasses the catalog shows up
unmarked. The German words themselves wait for the catalog (`test_the_german_card_*`)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import discord
import pytest
from babel.messages import pofile

from bot import i18n
from bot.domain.model import Status
from bot.services.views import ClaimView, LinkView, SubmissionView, TaskView
from bot.ui import github, upkeep
from bot.ui.cards import (
    EMOJI,
    card_view,
    footer,
    is_card_footer,
    status_name,
    tags_line,
    task_embed,
    warning_view,
)
from bot.ui.components import FORMS, TaskButton, form_modal, typed
from bot.ui.ids import FormId

GUILD = 1456074443980800009
NOW = datetime(2026, 12, 3, 17, 0, tzinfo=UTC)


class Marked(i18n.Texts):
    """Texts whose every catalog text is marked «…» (English words: the catalog does not
    change what is checked; a language code gives its CLDR numbers)."""

    def __call__(self, message: str, /, **values: object) -> str:
        return f"«{super().__call__(message, **values)}»"

    def plural(self, one: str, other: str, n: int) -> str:
        return f"«{super().plural(one, other, n)}»"


def task(status: Status, **changes: object) -> TaskView:
    view = TaskView(
        guild_id=GUILD,
        number=7,
        title="Fix the login page",
        description="It breaks on Safari.",
        points=5,
        tags=("frontend", "bug"),
        due_at=NOW + timedelta(days=3),
        capacity=2,
        status=status,
        creator_id=11,
        claims=(ClaimView(21, NOW, NOW + timedelta(days=7), 0),),
        approvals=1,
        required_approvals=2,
        review_round=1,
        rework_rounds=0,
        blocked_by=3,
        blocked=True,
        endorsements=0,
        objections=1,
        required_endorsements=2,
        submission=SubmissionView(21, 1, "https://example.org/pr/1", "Tested on Safari", NOW),
        handoff_note="Start with the CSS.",
        card_channel_id=None,
        card_message_id=None,
        thread_id=None,
        created_at=NOW,
        updated_at=NOW,
        links=(
            LinkView("https://github.com/o/r/issues/4", "issue", "source", "open"),
            LinkView("https://github.com/o/r/pull/5", "pull", "mention", "open", "bob-gh"),
            LinkView("https://github.com/o/r/pull/6", "pull", "submitted", "merged"),
        ),
    )
    return replace(view, **changes)  # type: ignore[arg-type]


def labels(view: discord.ui.View) -> list[str]:
    found = []
    for child in view.children:
        assert isinstance(child, TaskButton)
        found.append(child.item.label or "")
    return found


@pytest.mark.parametrize("status", list(Status))
async def test_every_word_on_the_card_comes_from_the_catalog(status: Status) -> None:
    tr = Marked("en")
    embed = task_embed(tr, task(status))
    for name in (f.name or "" for f in embed.fields):
        assert name == "GitHub" or (name.startswith("«") and name.endswith("»")), name
    assert embed.footer.text == "«Peerboard · task #7»"
    fields = {f.name: f.value or "" for f in embed.fields}
    assert fields["«Status»"] == f"{EMOJI[status]} «{status_name(i18n.texts(), status)}»"
    assert fields["«Points»"] == "5"
    big = task_embed(Marked("de"), task(status, points=1500)).fields[1]
    assert big.value == "1.500"  # CLDR's German grouping
    for line in fields.get("«Claimed by»", "«»").splitlines():
        assert "«" in line or line == "<@21>", line  # in review: the claimant alone
    for line in fields.get("GitHub", "").splitlines():
        assert line.startswith("«") and line.endswith("»"), line
    for label in labels(card_view(tr, task(status))):
        assert label.startswith("«"), label


async def test_the_proposal_and_review_fields_are_whole_messages() -> None:
    tr = Marked("en")
    proposal = {f.name: f.value for f in task_embed(tr, task(Status.PROPOSED)).fields}
    assert (
        proposal["«Proposal»"] == "«0 of «2 endorsements»» · «1 objection (a maintainer decides)»"
    )
    review = {f.name: f.value for f in task_embed(tr, task(Status.IN_REVIEW)).fields}
    assert review["«Approvals»"] == "«1 of 2»"
    assert review["«Blocked by»"] == "«#3 (waiting)»"
    assert tags_line(tr, ("a", "b", "c"), limit=14) == "`a` «+2 more»"


async def test_the_english_card_is_as_before() -> None:
    en = i18n.texts()
    embed = task_embed(en, task(Status.PROPOSED))
    fields = {f.name: f.value for f in embed.fields}
    assert fields["Status"] == "💡 Proposed"
    assert fields["Points"] == "5"
    assert fields["Proposal"] == "0 of 2 endorsements · 1 objection (a maintainer decides)"
    assert fields["Blocked by"] == "#3 (waiting)"
    assert embed.footer.text == "Peerboard · task #7"
    open_card = {f.name: f.value for f in task_embed(en, task(Status.OPEN)).fields}
    assert (open_card["Claimed by"] or "").endswith("\n1 spot open")
    assert open_card["Note from the last holder"] == "Start with the CSS."
    assert labels(card_view(en, task(Status.IN_REVIEW))) == ["Approve", "Request changes"]
    assert labels(warning_view(en, task(Status.CLAIMED))) == ["Still on it", "Release"]


def test_a_card_is_known_by_its_footer_in_any_language() -> None:
    # A guild that changed its language still finds its cards in #review.
    for code in i18n.LANGUAGES:
        assert is_card_footer(footer(i18n.texts(code), 7), 7)
    assert not is_card_footer("Peerboard · task #17", 7)
    assert not is_card_footer(None, 7)


@pytest.mark.parametrize("kind", sorted(FORMS))
async def test_a_form_is_in_the_language_of_who_opens_it(kind: object) -> None:
    tr = Marked("en")
    form_id = FormId(GUILD, 7, kind)  # type: ignore[arg-type]
    modal = form_modal(tr, form_id)
    sent = modal.to_dict()  # as Discord gets it
    assert sent["title"].startswith("«") and "#7" in sent["title"]
    inputs = [c for row in sent["components"] for c in row["components"]]
    assert len(inputs) == len(FORMS[kind].fields)  # type: ignore[index]
    for item in inputs:
        assert item["label"].startswith("«"), item["label"]
    values = {f.custom_id: "something" for f in FORMS[kind].fields}  # type: ignore[index]
    assert all(label.startswith("«") for label, _ in typed(tr, form_id, values))


def test_github_and_upkeep_texts_go_through_the_catalog() -> None:
    tr = Marked("en")
    assert github.links_field(tr, task(Status.OPEN), 1024) == "\n".join(
        [
            "«Issue: https://github.com/o/r/issues/4»",
            "«PR by @bob-gh refers to this task: https://github.com/o/r/pull/5»",
            "«PR: https://github.com/o/r/pull/6 (merged)»",
        ]
    )
    assert github.imported(tr, [1, 2], 1, 2, 99) == (
        "«Imported «2 tasks» (#1, #2) from GitHub.» «1 issue was already on the board.» "
        "«Their cards are in <#99>.»"
    )
    assert upkeep.cards_stuck(tr, 2).startswith("«⚠️ 2 task cards could not be updated")
    # CLDR's German decimal comma inside a catalog text.
    de = i18n.texts("de")
    packed = upkeep.export_reply(de, "csv", 250, 9 * 1024 * 1024, 1024 * 1024, True, 200)
    assert "9,0 MB" in packed and "(1,0 MB)" in packed


# The German words come with the catalog: the lead regenerates it (python -m bot.catalogs)
# after the merge and the translators fill it. Until a message is in it, its check waits.
CARD_WORDS = (
    "Claimed by",
    "Nobody yet",
    "Points",
    "Due",
    "Blocked by",
    "Approvals",
    "Submission",
    "Note from the last holder",
    "Claim",
    "Release",
    "Submit",
    "Approve",
    "Request changes",
    "Peerboard · task #{number}",
    "Submit #{number} for review",
    "Link to your work",
)


def test_the_german_card_words_are_translated() -> None:
    with i18n.catalog_path("de").open("rb") as source:
        catalog = pofile.read_po(source, locale="de", domain=i18n.DOMAIN)
    assert [m for m in CARD_WORDS if catalog.get(m) is None] == []
    de = i18n.texts("de")
    untranslated = [m for m in CARD_WORDS if de(m) == m]
    assert untranslated == []
    embed = task_embed(de, task(Status.OPEN))
    assert embed.footer.text != "Peerboard · task #7" and "#7" in (embed.footer.text or "")
