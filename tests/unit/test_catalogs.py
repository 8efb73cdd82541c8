"""Every language's catalog is complete against the English template: every message, the
same placeholders, nothing empty or fuzzy, within Discord's limits; and the template holds
every text the bot's commands show (run `python -m bot.catalogs` when it does not)."""

from __future__ import annotations

import pytest
from babel.messages.catalog import Catalog

from bot import i18n
from bot.catalogs import command_texts
from bot.i18n.check import problems, read, template

TRANSLATED = [code for code in i18n.LANGUAGES if code != i18n.SOURCE]


@pytest.mark.parametrize("code", TRANSLATED)
def test_every_catalog_has_every_message_with_its_placeholders(code: str) -> None:
    catalog = read(i18n.catalog_path(code), code)
    assert str(catalog.locale).replace("-", "_") == code
    assert problems(template(), catalog) == []


async def test_the_template_holds_every_text_the_commands_show() -> None:
    texts = {text for _, text in await command_texts()}
    held = {m.id for m in template() if m.id and m.context == i18n.COMMAND}
    assert texts == held, "run `python -m bot.catalogs` and translate what it added"
    assert len(held) > 100


def _one(english: str, translated: str, context: str | None = None) -> list[str]:
    pot, po = Catalog(), Catalog(locale="de")
    pot.add(english, context=context)
    po.add(english, translated, context=context)
    return problems(pot, po)


def test_a_missing_or_extra_placeholder_is_named() -> None:
    assert _one("{who} claimed #{number}", "{who} hat #{number} übernommen") == []
    assert _one("{who} claimed #{number}", "{wer} hat #{number} übernommen") != []
    assert _one("{who} claimed #{number}", "hat #{number} übernommen") != []
    assert _one("Claimed #{number}", "#{number} von {who} übernommen") != []


def test_an_empty_fuzzy_missing_or_left_over_message_is_named() -> None:
    assert _one("Take a task on", "") == ["empty: 'Take a task on'"]
    pot, po = Catalog(), Catalog(locale="de")
    pot.add("Take a task on")
    po.add("Take a task on", "Eine Aufgabe übernehmen", flags=["fuzzy"])
    po.add("Gone", "Weg")
    assert problems(pot, po) == [
        "fuzzy (not used until reviewed): 'Take a task on'",
        "not in the template (left over): 'Gone'",
    ]
    assert problems(pot, Catalog(locale="de")) == ["missing: 'Take a task on'"]


def test_a_command_text_over_discords_limit_is_named() -> None:
    long = "x" * 101
    assert _one("Take a task on", long, context=i18n.COMMAND) != []
    assert _one("Take a task on", long) == []  # a reply is not a command description


def test_a_fuzzy_entry_is_not_used_and_a_translated_one_is() -> None:
    po = Catalog(locale="de")
    po.add("Take a task on", "Eine Aufgabe übernehmen", context=i18n.COMMAND, flags=["fuzzy"])
    po.add("Send your work for review", "Deine Arbeit zum Review geben", context=i18n.COMMAND)
    gettext = i18n.compiled(po).pgettext
    assert gettext(i18n.COMMAND, "Take a task on") == "Take a task on"
    assert gettext(i18n.COMMAND, "Send your work for review") == "Deine Arbeit zum Review geben"
    for code in TRANSLATED:  # and the shipped catalogs are read
        text = i18n.command_text(code, "Take a task on")
        assert text is not None and text != "Take a task on", code
    assert i18n.command_text("en", "Take a task on") is None
