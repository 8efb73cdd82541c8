"""The `Any` reporter (python -m tests.support.any_count) keeps working. It reports; it sets
no limit."""

from __future__ import annotations

from pathlib import Path

from tests.support.any_count import count_any, counts, package_of

ROOT = Path(__file__).resolve().parents[2]


def test_it_counts_uses_not_imports_comments_or_strings() -> None:
    source = (
        "from typing import Any, cast\n"
        "import typing\n"
        "x: dict[str, Any] = cast(Any, y)  # Any\n"
        "z: typing.Any = 'Any'\n"
    )
    assert count_any(source) == 3


def test_it_reports_per_package() -> None:
    bot = ROOT / "bot"
    assert package_of(bot / "cli.py", bot) == "bot"
    assert package_of(bot / "db" / "uow.py", bot) == "bot.db"
    found = counts(bot)
    assert set(found) <= {"bot", *(f"bot.{p.name}" for p in bot.iterdir() if p.is_dir())}
    assert {"bot", "bot.db", "bot.domain"} <= set(found)  # zero counts are listed too
