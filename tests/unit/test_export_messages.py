"""The /export reply: plurals, the gzip note, and the split hint for a CSV too long to import."""

from __future__ import annotations

from bot import i18n
from bot.ui.upkeep import export_reply, export_too_large

EN = i18n.texts()


def test_export_reply_plurals_and_notes() -> None:
    one = export_reply(EN, "json", 1, 2048, 2048, False, 200)
    assert one.startswith("📦 Here is this server's board: 1 task as JSON (2 KB).")
    assert "gzip" not in one and "split" not in one
    packed = export_reply(EN, "csv", 250, 9 * 1024 * 1024, 1024 * 1024, True, 200)
    assert "250 tasks as CSV" in packed and "9.0 MB" in packed and "gzip (1.0 MB)" in packed
    assert "`/task import` reads up to 200 tasks a file: split this one" in packed
    assert "split" not in export_reply(EN, "json", 250, 10, 10, False, 200)


def test_export_too_large_points_to_the_cli() -> None:
    text = export_too_large(EN, "json", 3, 12 * 1024 * 1024, 42)
    assert "3 tasks as JSON" in text and "12.0 MB even compressed" in text
    assert "`peerboard export --guild 42 --format json`" in text
