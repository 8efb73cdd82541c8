"""Settings as a person writes them: PEERBOARD_* variables, read in-process."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import SettingsError, load_settings

TOKEN = "MTIz.secret-part.never-shown-anywhere-at-all"


@pytest.mark.parametrize(
    ("raw", "ids"),
    [
        ("0,1", [0, 1]),
        ("[0,1]", [0, 1]),
        (" 2, 3 ", [2, 3]),
        ("[0, 1]", [0, 1]),
        ("4", [4]),
        ("", None),
    ],
)
def test_shard_ids_as_a_list_or_json(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, raw: str, ids: list[int] | None
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env or config/peerboard.toml but the test's
    monkeypatch.setenv("PEERBOARD_SHARD_IDS", raw)
    monkeypatch.setenv("PEERBOARD_DISCORD_TOKEN", TOKEN)
    settings = load_settings()
    assert settings.shard_ids == ids
    assert TOKEN not in repr(settings) and TOKEN not in str(settings)


@pytest.mark.parametrize("raw", ["a,b", "0;1", "[0,", "-1", "[-1]", "1,,2", "①"])
def test_bad_shard_ids_are_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, raw: str) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PEERBOARD_SHARD_IDS", raw)
    monkeypatch.setenv("PEERBOARD_DISCORD_TOKEN", TOKEN)
    with pytest.raises(SettingsError, match="PEERBOARD_SHARD_IDS") as caught:
        load_settings()
    assert TOKEN not in str(caught.value)


@pytest.mark.parametrize(("raw", "pragma"), [(None, 2), ("normal", 1), ("FULL", 2)])
async def test_sqlite_synchronous_setting_reaches_the_pragma(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    sqlite_url: str,
    raw: str | None,
    pragma: int,
) -> None:
    """PEERBOARD_SQLITE_SYNCHRONOUS (default full: every acknowledged commit survives a
    power loss) is what the bot's connections run with (2: FULL, 1: NORMAL)."""
    from bot.bootstrap import build

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PEERBOARD_DATABASE_URL", sqlite_url)
    if raw is not None:
        monkeypatch.setenv("PEERBOARD_SQLITE_SYNCHRONOUS", raw)
    runtime, bot = build(load_settings())
    try:
        async with runtime.engine.connect() as conn:
            assert (await conn.exec_driver_sql("PRAGMA synchronous")).scalar() == pragma
    finally:
        await bot.close()
        await runtime.close()


def test_a_bad_sqlite_synchronous_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PEERBOARD_SQLITE_SYNCHRONOUS", "off")
    with pytest.raises(SettingsError, match="SQLITE_SYNCHRONOUS"):
        load_settings()


@pytest.mark.parametrize(("raw", "seconds"), [(None, 300), ("5", 5), ("3600", 3600)])
def test_the_delivery_lease_is_a_setting(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, raw: str | None, seconds: int
) -> None:
    monkeypatch.chdir(tmp_path)
    if raw is not None:
        monkeypatch.setenv("PEERBOARD_DELIVERY_LEASE_SECONDS", raw)
    assert load_settings().delivery_lease_seconds == seconds


@pytest.mark.parametrize("raw", ["0", "4", "3601", "five"])
def test_a_bad_delivery_lease_is_named(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, raw: str
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PEERBOARD_DELIVERY_LEASE_SECONDS", raw)
    with pytest.raises(SettingsError, match="DELIVERY_LEASE_SECONDS"):
        load_settings()
