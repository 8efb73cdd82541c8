"""`peerboard demo --locale de`: the week in a German server, run as a person runs it (a
subprocess in an empty folder). The server is created with Discord's preferred locale
`de` and its lead sets `/config language de` first; SimCord's members all use Discord in
en-US, so their own replies stay English and the transcript's header says so.

The process imports this checkout's `bot` (PYTHONPATH), not whichever one the console
script was installed from."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot import i18n
from bot.demo import missing_simcord

PEERBOARD = Path(sys.executable).with_name("peerboard")
ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(missing_simcord() is not None, reason=str(missing_simcord()))


def demo(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "NO_COLOR": "1",
        "PYTHONPATH": str(ROOT),
    }
    return subprocess.run(
        [str(PEERBOARD), "demo", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
def german(tmp_path_factory: pytest.TempPathFactory) -> str:
    result = demo(tmp_path_factory.mktemp("demo-de"), "--locale", "de")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    return result.stdout


def test_the_german_week_runs_in_a_german_server(german: str) -> None:
    header = german.split("── Monday", 1)[0]
    assert "The server's language is Deutsch (de)" in header
    assert "Discord's preferred locale de, and /config language de." in header
    assert "SimCord's members all use Discord in en-US" in header  # said, not hidden
    # The lead's first act sets the guild's language; the reply is theirs (en-US).
    assert "→ /config language language:de" in german
    assert "Saved. Public posts (cards, threads, the digest) are now in Deutsch." in german
    assert german.rstrip().endswith("peerboard demo --seed 2 --locale de")


def test_the_german_week_shows_german_public_text(german: str) -> None:
    de = i18n.texts("de")
    for english in ("Claim", "Points", "Claimed by"):
        assert de(english) != english, f"the German catalog has no {english!r}"
        assert de(english) in german


def test_an_unknown_locale_is_refused_in_one_line(tmp_path: Path) -> None:
    result = demo(tmp_path, "--locale", "xx")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip() == "--locale xx: the demo speaks en, es, fr, de, pt_BR."
