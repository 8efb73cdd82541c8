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
