"""What members type, end to end: odd task numbers and times are refused kindly, and text
loses NUL, bidi overrides and invisible characters (and is refused when nothing is left).
A submission link shows as its plain URL, never as masked link text."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import World, card_of, field, said
from tests.e2e.helpers import claimed, create, refused, status

ODD_NUMBERS = (
    "99999999999999999999",
    "9223372036854775808",
    "2147483648",
    "1000000000",
    "9" * 5000,
    "²",
    "#²",
    "①",
    "٠٧",
    "1 000",
    "#",
    "",
)
NOT_A_NUMBER = "is not a task number — use one like 12 or #12."
TOO_LARGE = "No task has a number that large"


def board(w: World) -> list[Any]:
    return [m.embeds[0].to_dict() for m in w.tasks.history() if m.embeds]


def expected(raw: str) -> str:
    """ASCII digits past the bound are too large; anything else is no number at all."""
    digits = raw.lstrip("#")
    return TOO_LARGE if digits and digits.isascii() and digits.isdigit() else NOT_A_NUMBER


@pytest.mark.parametrize("command", ["task show", "task claim", "task history"])
async def test_odd_task_numbers_are_refused_clearly(world: World, command: str) -> None:
    w = world
    await create(w, "Fix the footer")
    before = board(w)
    for raw in ODD_NUMBERS:
        r = await w.alice.slash(w.general, command, task=raw)
        refused(r, expected(raw))
    # "1 000" is not #1: nothing was claimed.
    assert status(w, 1) == "🟢 Open"
    assert board(w) == before


async def test_create_with_an_odd_blocker_creates_nothing(world: World) -> None:
    w = world
    await create(w, "Fix the footer")
    before = board(w)
    for raw in ("99999999999999999999", "9223372036854775808", "²", "#²", "①", "1 000"):
        r = await w.maint.slash(w.general, "task create", title="Blocked", blocked_by=raw)
        refused(r, expected(raw))
        r = await w.maint.slash(w.general, "task edit", task="1", blocked_by=raw)
        refused(r, expected(raw))
    assert board(w) == before
    # The number a member sees, with or without '#', still works.
    number = await create(w, "After the footer", blocked_by="#1")
    assert field(card_of(w.tasks, number), "Blocked by") == "#1 (waiting)"


async def test_autocomplete_survives_odd_numbers(world: World) -> None:
    w = world
    await create(w, "Fix the footer")
    for raw in ("²", "#²", "①", "99999999999999999999", "9" * 90, "1 000"):
        assert await w.alice.autocomplete(w.general, "task claim", "task", raw) == [], raw
    choices = await w.alice.autocomplete(w.general, "task claim", "task", "#1")
    assert [c["value"] for c in choices] == ["1"]


async def test_digest_time_takes_ascii_hh_mm_only(world: World) -> None:
    w = world
    await w.maint.slash(w.general, "config digest", time="18:30")
    for bad in ("1²:00", "٠٧:٠٥", "07:٠٥", "①:00", "7:5", "07:05:00", "99999999999999999999:00"):
        r = await w.maint.slash(w.general, "config digest", time=bad)
        refused(r, "Time must be HH:MM in 24-hour form, like 17:00.")
    r = await w.maint.slash(w.general, "config digest", time=" 7:05 ")
    assert field(r.response, "Weekly digest") == "Mondays at 07:05 (UTC)"


# -- text ------------------------------------------------------------------------------------


async def test_nul_and_bidi_overrides_are_stripped_from_task_text(world: World) -> None:
    w = world
    number = await create(
        w,
        "Fix\x00 the \u202efooter\u202c\u200b",
        description="Line one\x00\r\nline two \u2066isolated\u2069",
        tags="docs\x00, \u200bgood first",
    )
    card = card_of(w.tasks, number).embeds[0]
    assert card.title is not None and "Fix the footer" in card.title
    assert "\x00" not in str(card.to_dict()) and "\u202e" not in str(card.to_dict())
    r = await w.alice.slash(w.general, "task show", task=str(number))
    shown = r.response.embeds[0]
    assert "Line one\nline two isolated" in (shown.description or "")
    assert field(r.response, "Tags") == "`docs` `good first`"


@pytest.mark.parametrize(
    "blank",
    [
        "\u200b",
        "\u200b\u200c\u200d",
        "\u200e\u200f",
        "\ufeff",
        "\u3164",
        "\u115f\u1160",
        "\uffa0",
        "\u2800\u2800",
        "\u202e\u202d",
        "\u2066\u2069",
        "\x00",
        "\ufe0f",
    ],
)
async def test_invisible_titles_are_refused(world: World, blank: str) -> None:
    w = world
    r = await w.maint.slash(w.general, "task create", title=blank)
    refused(r, "A task needs a title.")
    r = await w.alice.slash(w.general, "task propose", title=f" {blank} ")
    refused(r, "A task needs a title.")
    assert board(w) == []


async def test_invisible_reasons_are_refused(world: World) -> None:
    w = world
    number = await create(w, "Fix the footer")
    r = await w.maint.slash(w.general, "task cancel", task=str(number), reason="\u200b")
    refused(r, "Please give a reason.")
    assert status(w, number) == "🟢 Open"
    r = await w.alice.slash(w.general, "kudos", member=w.bob, reason="\u200b\u2800")
    refused(r, "Say what you're thanking them for")
    assert w.general.last_message is None or "kudos from" not in w.general.last_message.content


async def test_a_kudos_reason_loses_nul_and_overrides(world: World) -> None:
    w = world
    r = await w.alice.slash(w.general, "kudos", member=w.bob, reason="Great\x00 \u202ereview")
    assert "Great review" in r.response.content
    assert "\x00" not in r.response.content and "\u202e" not in r.response.content


async def test_a_masked_submission_link_shows_its_plain_url(world: World) -> None:
    w = world
    number = await claimed(w, w.alice)
    r = await w.alice.slash(
        w.general,
        "task submit",
        task=str(number),
        link="[Official release notes](https://phish.example/notes)",
    )
    assert "Submitted" in said(r), said(r)
    card = card_of(w.tasks, number)
    posted = card_of(w.review, number)
    for message in (card, posted):
        submission = field(message, "Submission") or ""
        assert "https://phish.example/notes" in submission
        assert "[" not in submission and "Official release notes" not in submission


@pytest.mark.parametrize(
    "link",
    [
        "https://ok.example/pr/1 [Official release notes](https://phish.example)",
        "https://ok.example/[notes](https://phish.example)",
        "see https://ok.example",
        "javascript:alert(1)",
        "https://",
        "<https://phish.example>",
    ],
)
async def test_a_link_must_be_one_web_address(world: World, link: str) -> None:
    w = world
    number = await claimed(w, w.alice)
    r = await w.alice.slash(w.general, "task submit", task=str(number), link=link)
    refused(r, "The link should")
    assert status(w, number) == "🔵 Claimed"


async def test_due_dates_take_ascii_digits_only(world: World) -> None:
    w = world
    for bad in ("in ٣ days", "in ³ days", "٢٠٢٦-١٢-٠١", "2026-12-01T1²:00", "in 1 000 days"):
        r = await w.maint.slash(w.general, "task create", title="Dated", due=bad)
        refused(r, "as a date")
    assert board(w) == []
    number = await create(w, "Dated", due="in 3 days")
    assert field(card_of(w.tasks, number), "Due")


async def test_an_import_loses_nul_and_refuses_invisible_titles(world: World) -> None:
    w = world
    blank = "\u200b\u3164".encode()
    data = b"title\x00,description\nRow\x00 one,Desc\x00ription\n" + blank + b",Nothing\n"
    r = await w.maint.slash(w.general, "task import", file=("tasks.csv", data))
    refused(r, "Nothing was imported", "row 3: A task needs a title.")
    assert board(w) == []
    data = b"title\x00,description\nRow\x00 one,Desc\x00ription\n"
    r = await w.maint.slash(w.general, "task import", file=("tasks.csv", data))
    assert "Imported 1" in said(r), said(r)
    card = card_of(w.tasks, 1).embeds[0]
    assert card.title == "#1 · Row one" and card.description == "Description"
