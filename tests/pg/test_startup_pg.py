"""On PostgreSQL too, `peerboard check`, `migrate` and `run` refuse a database written by a
newer Peerboard, in one line, and leave it as it was."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest

from tests.cli.test_cli import GOOD_TOKEN, assert_no_traceback, free_port, peerboard

pytestmark = pytest.mark.postgres

NEWER = "ffffffff9999"


def libpq(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def revisions(url: str) -> list[str]:
    conn = await asyncpg.connect(libpq(url))
    try:
        return [row[0] for row in await conn.fetch("SELECT version_num FROM alembic_version")]
    finally:
        await conn.close()


@pytest.mark.parametrize("command", ["check", "migrate", "run"])
async def test_a_database_from_a_newer_peerboard_is_refused_on_postgres(
    pg_url: str, tmp_path: Path, command: str
) -> None:
    conn = await asyncpg.connect(libpq(pg_url))
    try:
        await conn.execute("UPDATE alembic_version SET version_num = $1", NEWER)
    finally:
        await conn.close()
    port = free_port()  # should `run` get past the database, Discord is not there
    result = peerboard(
        tmp_path,
        command,
        PEERBOARD_DISCORD_TOKEN=GOOD_TOKEN,
        PEERBOARD_DATABASE_URL=pg_url,
        PEERBOARD_DISCORD_API_BASE=f"http://127.0.0.1:{port}",
        PEERBOARD_DISCORD_GATEWAY=f"ws://127.0.0.1:{port}",
        PEERBOARD_LOG_LEVEL="WARNING",
    )
    assert result.returncode != 0, result.stdout + result.stderr
    assert_no_traceback(result)
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        f"PEERBOARD_DATABASE_URL: this database was written by a newer Peerboard "
        f"(revision {NEWER}): upgrade Peerboard, or point PEERBOARD_DATABASE_URL "
        "at another database."
    ]
    assert await revisions(pg_url) == [NEWER]


@pytest.mark.parametrize("command", ["check", "migrate", "run"])
async def test_a_database_that_only_reads_is_refused_on_postgres(
    pg_url: str, tmp_path: Path, command: str
) -> None:
    name = pg_url.rsplit("/", 1)[1]
    conn = await asyncpg.connect(libpq(pg_url))
    try:
        await conn.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
    finally:
        await conn.close()
    port = free_port()
    result = peerboard(
        tmp_path,
        command,
        PEERBOARD_DISCORD_TOKEN=GOOD_TOKEN,
        PEERBOARD_DATABASE_URL=pg_url,
        PEERBOARD_DISCORD_API_BASE=f"http://127.0.0.1:{port}",
        PEERBOARD_DISCORD_GATEWAY=f"ws://127.0.0.1:{port}",
        PEERBOARD_LOG_LEVEL="WARNING",
    )
    assert result.returncode != 0, result.stdout + result.stderr
    assert_no_traceback(result)
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        "PEERBOARD_DATABASE_URL: the database only reads (default_transaction_read_only "
        "is on): turn it off for Peerboard's database or user."
    ]
