"""The command picker in every language: the payload `tree.sync` sends carries Discord's
`*_localizations` for each supported locale, validates against Discord's OpenAPI
description and its limits, and keeps the names SPEC §5 gives."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot import i18n
from bot.bootstrap import build_bot, build_services
from bot.sync import built_payload, normalise_commands
from bot.ui.commandtext import CommandTranslator
from tests.support.openapi import check_requests

SUPPORTED = {loc for code, locs in i18n.DISCORD_LOCALES.items() if code != "en" for loc in locs}
NAME = re.compile(r"^[-_\w]{1,32}$")  # Discord's command and option name rule (ASCII here)


class Sent:
    def __init__(self, payload: list[dict[str, Any]]) -> None:
        self.method, self.path, self.json = "PUT", "/applications/1/commands", payload


@pytest.fixture
async def payload(tmp_path: Path) -> AsyncIterator[list[dict[str, Any]]]:
    runtime = build_services(f"sqlite+aiosqlite:///{tmp_path / 'p.db'}")
    try:
        bot = build_bot(runtime.services, scheduler=False)
        for cog in bot.cogs_to_load():
            await bot.add_cog(cog)
        await bot.tree.set_translator(CommandTranslator())
        yield await built_payload(bot.tree, None)
    finally:
        await runtime.close()


def _texts(node: dict[str, Any]) -> Iterator[tuple[str, dict[str, str] | None, dict[str, Any]]]:
    """(English, localisations, node) for every description and choice name under node."""
    if "description" in node and node.get("type", 1) in range(1, 12) and node["description"]:
        yield node["description"], node.get("description_localizations"), node
    for choice in node.get("choices") or []:
        yield choice["name"], choice.get("name_localizations"), choice
    for option in node.get("options") or []:
        yield from _texts(option)


def _named(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for option in node.get("options") or []:
        yield from _named(option)


def test_the_translated_commands_validate_against_discords_openapi(
    payload: list[dict[str, Any]],
) -> None:
    report = check_requests([Sent(payload)])
    assert report.checked == 1
    assert report.problems == []


def test_every_text_is_translated_for_every_supported_locale_within_discords_limits(
    payload: list[dict[str, Any]],
) -> None:
    seen = 0
    for english, localised, _ in (t for command in payload for t in _texts(command)):
        if not any(c.isalpha() for c in english) or english in ("json", "csv"):
            continue
        seen += 1
        # A language whose catalog says the same as the English (e.g. "owner/name") sends
        # no localisation of it: Discord shows the default, which is that text.
        same = {
            loc
            for code, locs in i18n.DISCORD_LOCALES.items()
            if code != i18n.SOURCE
            and i18n.translations(code).pgettext(i18n.COMMAND, english) == english
            for loc in locs
        }
        assert same != SUPPORTED, f"{english!r} is translated in no language"
        assert set(localised or {}) == SUPPORTED - same, english
        localised = localised or {}
        for text in localised.values():
            assert 1 <= len(text) <= 100, text
        assert localised.get("es-ES") == localised.get("es-419")
        assert all(text != english for text in localised.values())
    assert seen > 100


def test_names_stay_as_the_spec_writes_them(payload: list[dict[str, Any]]) -> None:
    for command in payload:
        for node in _named(command):
            assert "name_localizations" not in node or not node["name_localizations"]
            assert NAME.match(node["name"]), node["name"]
    assert {c["name"] for c in payload} >= {"task", "me", "config", "profile", "leaderboard"}


def test_a_change_of_translation_alone_is_a_change_to_sync(
    payload: list[dict[str, Any]],
) -> None:
    changed = [dict(c) for c in payload]
    first = changed[0]
    first["description_localizations"] = {**first["description_localizations"], "de": "x"}
    assert normalise_commands(changed) != normalise_commands(payload)
    assert normalise_commands([dict(c) for c in payload]) == normalise_commands(payload)
