"""Self-test of the throwaway PostgreSQL cluster support (tests/support/postgres.py)."""

from __future__ import annotations

import asyncpg
import pytest

from tests.support.postgres import PostgresCluster, unique_db_name

pytestmark = pytest.mark.postgres


def _asyncpg_dsn(url: str) -> str:
    # asyncpg takes a libpq-style URL; SQLAlchemy's carries the driver name.
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def test_url_shape(pg_cluster: PostgresCluster) -> None:
    assert pg_cluster.url("x") == f"postgresql+asyncpg://peerboard@127.0.0.1:{pg_cluster.port}/x"


async def test_two_databases_work_and_are_distinct(pg_cluster: PostgresCluster) -> None:
    names = [unique_db_name("a"), unique_db_name("b")]
    urls = [pg_cluster.create_database(name) for name in names]
    try:
        conns = [await asyncpg.connect(_asyncpg_dsn(url)) for url in urls]
        try:
            for conn, name in zip(conns, names, strict=True):
                assert await conn.fetchval("select 1") == 1
                assert await conn.fetchval("select current_database()") == name
            # Separate databases, not just separate names: a table made in one
            # is invisible in the other.
            await conns[0].execute("create table only_in_a (x int)")
            assert await conns[0].fetchval("select to_regclass('only_in_a')::text") == "only_in_a"
            assert await conns[1].fetchval("select to_regclass('only_in_a')::text") is None
        finally:
            for conn in conns:
                await conn.close()
    finally:
        for name in names:
            pg_cluster.drop_database(name)
    listed = pg_cluster.execute("select datname from pg_database").split()
    assert not set(names) & set(listed)


async def test_pg_url_is_own_and_writable(pg_url: str) -> None:
    # Only what holds whether pg_url is empty or a migrated copy of a template.
    conn = await asyncpg.connect(_asyncpg_dsn(pg_url))
    try:
        assert await conn.fetchval("select current_database()") == pg_url.rsplit("/", 1)[1]
        await conn.execute(
            "create table cluster_selftest (x int); insert into cluster_selftest values (1)"
        )
        assert await conn.fetchval("select x from cluster_selftest") == 1
    finally:
        await conn.close()


async def test_drop_terminates_open_connections(pg_cluster: PostgresCluster) -> None:
    name = unique_db_name("leak")
    conn = await asyncpg.connect(_asyncpg_dsn(pg_cluster.create_database(name)))
    try:
        pg_cluster.drop_database(name)  # must not fail although conn is open
        assert name not in pg_cluster.execute("select datname from pg_database").split()
    finally:
        conn.terminate()


def test_rejects_unsafe_database_names(pg_cluster: PostgresCluster) -> None:
    with pytest.raises(ValueError):
        pg_cluster.create_database('x"; drop database postgres; --')
