"""Refusals are told in the reader's language: their Discord locale, then the guild's
`/config language` (from the settings the process holds), then the server's locale; and
each refusal is one template whose values are translated on their own (phrases, counted
nouns, numbers, the refusals an import found in its rows)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from bot import i18n
from bot.domain.errors import DomainError, InvalidInput, Lines, Number, Phrase, Plural
from bot.domain.model import RULE_BOUNDS
from bot.domain.rules import SETTING_NAMES, check_rule_values
from bot.services.tasks.importing import clean_rows
from bot.ui.errors import PeerTree, message_for, reader, said

GUILD = 42


@dataclass
class Cached:
    language: str | None

    def cached(self, guild_id: int) -> Any:
        return SimpleNamespace(language=self.language) if guild_id == GUILD else None


def interaction(locale: str, guild_locale: str | None, language: str | None) -> Any:
    tree = PeerTree.__new__(PeerTree)  # only its attributes are read
    tree.configs = Cached(language)  # type: ignore[assignment]
    return SimpleNamespace(
        locale=locale,
        guild_locale=guild_locale,
        guild_id=GUILD,
        client=SimpleNamespace(tree=tree),
    )


def test_the_callers_locale_comes_first_then_the_guilds_language_then_the_servers() -> None:
    assert reader(interaction("es-ES", "en-US", "de")).code == "es"
    assert reader(interaction("ja", "en-US", "de")).code == "de"  # Peerboard has no Japanese
    assert reader(interaction("ja", "fr", None)).code == "fr"
    assert reader(interaction("ja", None, None)).code == "en"


def test_without_the_guilds_settings_at_hand_the_servers_locale_is_used() -> None:
    inside = interaction("ja", "pt-BR", "de")
    inside.guild_id = GUILD + 1  # not cached in this process: no database read for it
    assert reader(inside).code == "pt_BR"


def test_setting_names_are_phrases_with_todays_english() -> None:
    assert set(SETTING_NAMES) == set(RULE_BOUNDS)
    for name, phrase in SETTING_NAMES.items():
        assert isinstance(phrase, Phrase)
        assert phrase == name.replace("_", " ").capitalize()
    try:
        check_rule_values({"claim_days": 0})
    except InvalidInput as err:
        assert err.message == "Claim days must be between 1 and 90."
        assert isinstance(err.values["setting"], Phrase)
    else:
        raise AssertionError("claim_days 0 was accepted")


def test_numbers_are_written_the_readers_way() -> None:
    err = InvalidInput(
        "No task has a number that large (they go up to {most}).", most=Number(10**6)
    )
    assert err.message.endswith("up to 1,000,000).")
    assert said(i18n.texts("de"), Number(10**6)) == "1.000.000"
    assert said(i18n.texts("en"), Number(10**6)) == "1,000,000"


def test_an_imports_rows_are_refusals_of_their_own_inside_one() -> None:
    rows = [{"_row": n, "title": ""} for n in range(2, 14)]
    try:
        clean_rows(rows, now=datetime(2026, 1, 5, tzinfo=UTC))
    except InvalidInput as err:
        english = err.message
        assert english.startswith("Nothing was imported. Fix these rows and try again:\nrow 2: ")
        assert english.endswith("\n…and 2 more.")
        assert isinstance(err.values["rows"], Lines)
        assert message_for(err) == english  # the English reply is the message itself
    else:
        raise AssertionError("rows without titles were imported")


def test_nested_values_are_translated_one_by_one() -> None:
    inner = DomainError(
        "row {row}: {problem}", row=3, problem=InvalidInput("A task needs a title.")
    )
    lines = Lines((inner, Plural("…and {n} more.", "…and {n} more.", 4)))
    assert said(i18n.texts("en"), lines) == "row 3: A task needs a title.\n…and 4 more."
