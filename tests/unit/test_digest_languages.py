"""The weekly digest in the guild's language: its dates and weekdays from CLDR (Babel), its
counted nouns in the language's plural forms, its numbers in the language's digits; the
English digest as it always read."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import discord
import pytest
from babel import dates

from bot import i18n
from bot.domain.digest import (
    Change,
    Digest,
    DoneItem,
    KudosQuote,
    Numbers,
    TaskRef,
    TopContributor,
    Week,
    week_starting,
)
from bot.domain.errors import Phrase
from bot.ui.digest import render
from bot.ui.digest_parts import week_label

BERLIN = ZoneInfo("Europe/Berlin")
ALICE, BOB = 1001, 1002


def week(monday: date) -> Week:
    return week_starting(monday, BERLIN)


def digest(monday: date = date(2026, 1, 5)) -> Digest:
    task = TaskRef(7, "Fix the footer", None)
    return Digest(
        guild_id=1,
        week=week(monday),
        timezone="Europe/Berlin",
        generated_at=datetime(2026, 1, 12, 16, tzinfo=UTC),
        done=(DoneItem(task, 2, (ALICE,), (BOB,)),),
        reviewers=(),
        newcomers=(),
        kudos=(KudosQuote(BOB, ALICE, "thanks"),),
        top=(TopContributor(ALICE, 1, 1, 0), TopContributor(BOB, 2, 2, 0)),
        streaks=(),
        oldest_open=(),
        good_first=(),
        open_total=0,
        waiting=(),
        waiting_total=0,
        numbers=(Change(Phrase("Points"), 12345, 3),),
        hygiene=(),
        hygiene_total=0,
        this_week=Numbers(done=1, points=12345, kudos=1),
        last_week=Numbers(done=0, points=3),
        done_total=1,
        kudos_total=1,
        people=2,
    )


def embeds(code: str, d: Digest | None = None) -> list[discord.Embed]:
    return [e for message in render(i18n.texts(code), d or digest()) for e in message]


def titled(found: list[discord.Embed], start: str) -> discord.Embed:
    return next(e for e in found if (e.title or "").startswith(start))


def month(day: date, code: str) -> str:
    return dates.format_date(day, "MMMM", locale=code)


def test_the_english_digest_reads_as_it_always_did() -> None:
    header, *_ = embeds("en")
    assert header.title == "🌟 Weekly digest · 5–11 January 2026"
    assert header.footer.text == "Monday to Sunday, Europe/Berlin time · numbers against last week"
    assert header.description == ("1 task done by 2 people, with 1 kudos. Thank you, everyone! 🎉")
    top = titled(embeds("en"), "🏆")
    assert top.description == f"🥇 <@{ALICE}> — 1 point (1 task)\n🥈 <@{BOB}> — 2 points (2 tasks)"
    assert header.fields[0].value == "**12,345** (▲ 12,342 vs 3)"


@pytest.mark.parametrize(
    ("monday", "german"),
    [
        (date(2026, 1, 5), "5.–11. Januar 2026"),
        (date(2026, 1, 26), "26. Januar\u2009–\u20091. Februar 2026"),
        (date(2025, 12, 29), "29. Dezember 2025\u2009–\u20094. Januar 2026"),
    ],
)
def test_a_german_digest_dates_its_week_with_cldr_month_names(monday: date, german: str) -> None:
    tr = i18n.texts("de")
    assert week_label(tr, week(monday)) == german  # CLDR's German interval, full month names
    for day in (monday, week(monday).last_day):
        assert month(day, "de") in german
    header, *_ = embeds("de", digest(monday))
    assert header.title is not None and header.title.endswith(german)


@pytest.mark.parametrize("code", ["es", "fr", "pt_BR"])
def test_every_language_names_the_months_its_own_way(code: str) -> None:
    label = week_label(i18n.texts(code), week(date(2026, 1, 26)))
    assert month(date(2026, 1, 26), code) in label and month(date(2026, 2, 1), code) in label
    assert "January" not in label and "2026" in label


def test_a_german_digest_names_cldr_weekdays_and_german_numbers() -> None:
    header, *_ = embeds("de")
    days = dates.get_day_names("wide", locale="de")
    assert header.footer.text is not None
    assert days[0] in header.footer.text and days[6] in header.footer.text  # Montag, Sonntag
    assert "Monday" not in header.footer.text
    # 12345 points: German digits ("12.345"), not English ("12,345").
    assert header.fields[0].value is not None and "**12.345**" in header.fields[0].value


def test_a_german_digest_counts_in_german_plural_forms() -> None:
    """ "{n} point" and "{n} task" are in the German catalog already: 1 Punkt, 2 Punkte."""
    top = titled(embeds("de"), "🏆").description or ""
    first, second = top.split("\n")
    assert first.endswith("— 1 Punkt (1 Aufgabe)")
    assert second.endswith("— 2 Punkte (2 Aufgaben)")


def test_a_german_digest_has_no_english_words_left() -> None:
    """The translated words themselves (titles, the intro, the footer, the "…and N more"
    lines), not only the dates and numbers."""
    found = embeds("de")
    header = found[0]
    assert header.title is not None and "Weekly digest" not in header.title
    assert header.description is not None and "Thank you, everyone" not in header.description
    assert "done by" not in header.description and "with" not in header.description
    assert header.footer.text is not None and "numbers against last week" not in header.footer.text
    assert header.fields[0].name != "Points"
    done = titled(found, "✅")
    assert done.title != "✅ Done this week"
    assert done.description is not None and "reviewed by" not in done.description
    kudos = titled(found, "💬")
    assert kudos.description is not None and " to <@" not in kudos.description
