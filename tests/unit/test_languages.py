"""Which language a text is in: a Discord locale Peerboard has, else the next candidate,
else English; es-419 is served by the Spanish catalog."""

from __future__ import annotations

import pytest

from bot import i18n


@pytest.mark.parametrize(
    ("discord_locale", "code"),
    [
        ("es-ES", "es"),
        ("es-419", "es"),
        ("fr", "fr"),
        ("de", "de"),
        ("pt-BR", "pt_BR"),
        ("en-US", "en"),
        ("en-GB", "en"),
        ("ja", None),
        ("pt", None),
        (None, None),
    ],
)
def test_a_discord_locale_is_served_by_its_language(
    discord_locale: str | None, code: str | None
) -> None:
    assert i18n.language_of(discord_locale) == code


def test_a_locale_peerboard_lacks_gets_the_next_candidate_then_english() -> None:
    assert i18n.choose("ja", "de") == "de"
    assert i18n.choose("ja", None) == "en"
    assert i18n.choose("es-419", "de") == "es"
    assert i18n.choose("pt_BR") == "pt_BR"


def test_plurals_and_numbers_come_from_cldr() -> None:
    from babel.numbers import format_decimal

    assert i18n.locale("de").plural_form(1) == "one"
    assert i18n.locale("pt_BR").plural_form(0) == "one"  # Brazilian Portuguese: 0 is one
    assert i18n.locale("fr").plural_form(0) == "one"
    assert i18n.locale("es").plural_form(0) == "other"
    assert format_decimal(12345, locale=i18n.locale("de")) == "12.345"
