"""`peerboard …` as a person runs it: a real subprocess, a clean environment, an empty folder."""

from __future__ import annotations

import base64
import os
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from bot.app import INVITE_PERMISSIONS

PEERBOARD = Path(sys.executable).with_name("peerboard")
# The shape of a real bot token, made up: base64(user id) . timestamp . HMAC.
CLIENT_ID = 1234567890123456789
GOOD_TOKEN = (
    base64.b64encode(str(CLIENT_ID).encode()).decode().rstrip("=")
    + ".GhJkLm."
    + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8s9T0"
)


def peerboard(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        **env,
    }
    return subprocess.run(
        [str(PEERBOARD), *args],
        cwd=tmp_path,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def assert_no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stderr, result.stderr
    assert "Traceback" not in result.stdout, result.stdout


def test_the_console_script_is_installed() -> None:
    assert PEERBOARD.exists(), "pip install -e . (the peerboard console script is missing)"


def test_run_without_a_token_says_so_in_one_line(tmp_path: Path) -> None:
    result = peerboard(tmp_path, "run")
    assert result.returncode == 2
    assert_no_traceback(result)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "PEERBOARD_DISCORD_TOKEN" in lines[0]
    assert result.stdout == ""
    # It gave up before touching anything: no database was created.
    assert not (tmp_path / "data").exists()


def test_an_invalid_setting_is_named(tmp_path: Path) -> None:
    result = peerboard(tmp_path, "run", PEERBOARD_LOG_LEVEL="loud")
    assert result.returncode == 2
    assert_no_traceback(result)
    assert "PEERBOARD_LOG_LEVEL" in result.stderr
    assert result.stdout == ""


def test_invalid_settings_from_the_toml_file_are_named_too(tmp_path: Path) -> None:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "peerboard.toml").write_text(
        'database_url = "mysql://nope"\nsweep_interval_seconds = 1\n'
    )
    result = peerboard(tmp_path, "migrate")
    assert result.returncode == 2
    assert_no_traceback(result)
    assert "PEERBOARD_DATABASE_URL" in result.stderr
    assert "PEERBOARD_SWEEP_INTERVAL_SECONDS" in result.stderr


def test_invite_url_with_a_client_id(tmp_path: Path) -> None:
    result = peerboard(tmp_path, "invite-url", "--client-id", "123")
    assert result.returncode == 0, result.stderr
    [line] = result.stdout.strip().splitlines()
    url = urlsplit(line)
    assert (url.scheme, url.netloc, url.path) == ("https", "discord.com", "/oauth2/authorize")
    query = parse_qs(url.query)
    assert query["client_id"] == ["123"]
    assert query["scope"] == ["bot applications.commands"]
    assert query["permissions"] == [str(INVITE_PERMISSIONS.value)]


def test_invite_url_reads_the_client_id_from_the_token(tmp_path: Path) -> None:
    result = peerboard(tmp_path, "invite-url", PEERBOARD_DISCORD_TOKEN=GOOD_TOKEN)
    assert result.returncode == 0, result.stderr
    query = parse_qs(urlsplit(result.stdout.strip()).query)
    assert query["client_id"] == [str(CLIENT_ID)]
    assert GOOD_TOKEN not in result.stdout + result.stderr


def test_invite_url_without_any_id(tmp_path: Path) -> None:
    result = peerboard(tmp_path, "invite-url")
    assert result.returncode == 2
    assert_no_traceback(result)
    assert "--client-id" in result.stderr and "PEERBOARD_DISCORD_TOKEN" in result.stderr


def test_check_reports_a_bad_token_shape(tmp_path: Path) -> None:
    bad = "not-a-token"
    url = f"sqlite+aiosqlite:///{tmp_path / 'db' / 'peerboard.db'}"
    assert peerboard(tmp_path, "migrate", PEERBOARD_DATABASE_URL=url).returncode == 0
    result = peerboard(tmp_path, "check", PEERBOARD_DISCORD_TOKEN=bad, PEERBOARD_DATABASE_URL=url)
    assert result.returncode == 1
    assert_no_traceback(result)
    assert result.stderr.strip().splitlines() == [
        "PEERBOARD_DISCORD_TOKEN does not look like a bot token (three parts separated by dots)."
    ]
    assert bad not in result.stdout + result.stderr  # a secret is never echoed


def test_check_reports_a_missing_token(tmp_path: Path) -> None:
    result = peerboard(tmp_path, "check")
    assert result.returncode == 1
    assert_no_traceback(result)
    assert "PEERBOARD_DISCORD_TOKEN is not set" in result.stderr


def test_check_passes_with_a_good_token_and_a_database(tmp_path: Path) -> None:
    assert peerboard(tmp_path, "migrate").returncode == 0
    result = peerboard(tmp_path, "check", PEERBOARD_DISCORD_TOKEN=GOOD_TOKEN)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Settings, database and token look fine."
    assert GOOD_TOKEN not in result.stdout + result.stderr


def test_check_reports_an_unreachable_database(tmp_path: Path) -> None:
    result = peerboard(
        tmp_path,
        "check",
        PEERBOARD_DISCORD_TOKEN=GOOD_TOKEN,
        PEERBOARD_DATABASE_URL="postgresql+asyncpg://peerboard@127.0.0.1:9/nothing",
    )
    assert result.returncode == 1
    assert_no_traceback(result)
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("PEERBOARD_DATABASE_URL: cannot reach the database")


def test_migrate_creates_the_database_folder_and_file(tmp_path: Path) -> None:
    result = peerboard(tmp_path, "migrate")
    assert result.returncode == 0, result.stderr
    assert "Database is up to date." in result.stdout
    db = tmp_path / "data" / "peerboard.db"
    assert db.is_file()
    with sqlite3.connect(db) as conn:
        [(version,)] = conn.execute("SELECT version_num FROM alembic_version").fetchall()
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        [(mode,)] = conn.execute("PRAGMA journal_mode").fetchall()
    assert version
    assert {"tasks", "guild_settings"} <= tables
    assert mode == "wal"
    # Running it again is a no-op.
    again = peerboard(tmp_path, "migrate")
    assert again.returncode == 0, again.stderr


def test_check_says_an_unmigrated_database_is_not_ready(tmp_path: Path) -> None:
    result = peerboard(tmp_path, "check", PEERBOARD_DISCORD_TOKEN=GOOD_TOKEN)
    assert result.returncode == 1
    assert_no_traceback(result)
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        "PEERBOARD_DATABASE_URL: there is no database at data/peerboard.db yet: "
        "run `peerboard migrate`."
    ]
    assert not (tmp_path / "data").exists()  # `check` creates nothing
    # Once migrated, it is fine; a database from a newer Peerboard is not.
    assert peerboard(tmp_path, "migrate").returncode == 0
    assert peerboard(tmp_path, "check", PEERBOARD_DISCORD_TOKEN=GOOD_TOKEN).returncode == 0
    with sqlite3.connect(tmp_path / "data" / "peerboard.db") as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
    newer = peerboard(tmp_path, "check", PEERBOARD_DISCORD_TOKEN=GOOD_TOKEN)
    assert newer.returncode == 1
    assert "written by a newer Peerboard (revision 9999)" in newer.stderr


def unreadable_databases(tmp_path: Path) -> list[Path]:
    garbage = tmp_path / "garbage" / "peerboard.db"
    garbage.parent.mkdir()
    garbage.write_bytes(b"this is not a database " * 200)
    folder = tmp_path / "folder" / "peerboard.db"
    folder.mkdir(parents=True)
    return [garbage, folder]


def test_migrate_and_run_with_an_unreadable_database_say_so_in_one_line(tmp_path: Path) -> None:
    for path in unreadable_databases(tmp_path):
        for command in ("migrate", "run"):
            result = peerboard(
                tmp_path,
                command,
                PEERBOARD_DISCORD_TOKEN=GOOD_TOKEN,
                PEERBOARD_DATABASE_URL=f"sqlite+aiosqlite:///{path}",
                PEERBOARD_LOG_LEVEL="WARNING",
            )
            assert result.returncode == 1, (command, path, result.stderr)
            assert_no_traceback(result)
            [line] = result.stderr.strip().splitlines()
            assert line.startswith("PEERBOARD_DATABASE_URL: cannot open the database ("), line
            assert "point PEERBOARD_DATABASE_URL at another one" in line
            assert GOOD_TOKEN not in result.stdout + result.stderr


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_run_when_discord_is_unreachable_says_so_in_one_line(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there: the connection is refused at once
    result = peerboard(
        tmp_path,
        "run",
        PEERBOARD_DISCORD_TOKEN=GOOD_TOKEN,
        PEERBOARD_DISCORD_API_BASE=f"http://127.0.0.1:{port}",
        PEERBOARD_DISCORD_GATEWAY=f"ws://127.0.0.1:{port}",
        PEERBOARD_LOG_LEVEL="WARNING",
    )
    assert result.returncode == 1, result.stderr
    assert_no_traceback(result)
    problems = [line for line in result.stderr.splitlines() if " WARNING " not in line]
    assert len(problems) == 1, result.stderr
    assert problems[0].startswith(f"Cannot reach Discord at http://127.0.0.1:{port} ("), problems
    assert "network" in problems[0]
    assert GOOD_TOKEN not in result.stdout + result.stderr
