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
    monkeypatch.setenv("PEERBOARD_SHARD_COUNT", "5")
    monkeypatch.setenv("PEERBOARD_DISCORD_TOKEN", TOKEN)
    settings = load_settings()
    assert settings.shard_ids == ids
    shards = settings.shards()
    assert shards is not None and shards.ids == frozenset(ids if ids is not None else range(5))
    assert TOKEN not in repr(settings) and TOKEN not in str(settings)


@pytest.mark.parametrize("raw", ["a,b", "0;1", "[0,", "-1", "[-1]", "1,,2", "①"])
def test_bad_shard_ids_are_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, raw: str) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PEERBOARD_SHARD_IDS", raw)
    monkeypatch.setenv("PEERBOARD_DISCORD_TOKEN", TOKEN)
    with pytest.raises(SettingsError, match="PEERBOARD_SHARD_IDS") as caught:
        load_settings()
    assert TOKEN not in str(caught.value)


@pytest.mark.parametrize(
    ("ids", "count", "named"),
    [
        ("2", "2", "PEERBOARD_SHARD_IDS: 2 is not a shard of PEERBOARD_SHARD_COUNT=2"),
        ("0,3,5", "3", "PEERBOARD_SHARD_IDS: 3, 5 is not a shard of PEERBOARD_SHARD_COUNT=3"),
        ("0,1", None, "PEERBOARD_SHARD_IDS needs PEERBOARD_SHARD_COUNT"),
        ("[]", "2", "PEERBOARD_SHARD_IDS names no shard: give at least one, like 0"),
    ],
)
def test_shard_ids_outside_the_count_are_refused_by_name(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, ids: str, count: str | None, named: str
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PEERBOARD_SHARD_IDS", ids)
    if count is not None:
        monkeypatch.setenv("PEERBOARD_SHARD_COUNT", count)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert named in str(caught.value)
    assert "Value error" not in str(caught.value)


def test_without_shard_settings_one_process_serves_every_guild(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    assert load_settings().shards() is None
    monkeypatch.setenv("PEERBOARD_SHARD_COUNT", "3")
    shards = load_settings().shards()
    assert shards is not None and shards.every and shards.ids == {0, 1, 2}


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


async def test_the_shard_settings_reach_the_bot_and_its_jobs(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, sqlite_url: str
) -> None:
    """What `peerboard run` builds: an AutoShardedBot for shard 1 of 2, whose background
    jobs work for shard 1's guilds only; without the settings, a plain Bot for all."""
    from discord.ext import commands

    from bot.bootstrap import build
    from bot.domain.shards import Shards

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PEERBOARD_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("PEERBOARD_SHARD_COUNT", "2")
    monkeypatch.setenv("PEERBOARD_SHARD_IDS", "1")
    runtime, bot = build(load_settings())
    try:
        async with bot:  # as `peerboard run` holds it (AutoShardedClient closes only so)
            assert isinstance(bot, commands.AutoShardedBot)
            assert (bot.shard_count, bot.shard_ids) == (2, [1])
            assert bot.jobs.shards == Shards.only(2, 1)
    finally:
        await runtime.close()
    monkeypatch.delenv("PEERBOARD_SHARD_COUNT")
    monkeypatch.delenv("PEERBOARD_SHARD_IDS")
    runtime, bot = build(load_settings())
    try:
        assert not isinstance(bot, commands.AutoShardedBot)
        assert bot.jobs.shards is None
    finally:
        await bot.close()
        await runtime.close()


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
