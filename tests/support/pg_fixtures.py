"""PostgreSQL fixtures: one throwaway server per session, a migrated template database,
and a fresh copy of it for each test (CREATE DATABASE … TEMPLATE is much faster than
migrating every time)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from bot.db.migrate import upgrade
from tests.support.postgres import PostgresCluster, available, unique_db_name

TEMPLATE = "peerboard_template"


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PostgresCluster]:
    ok, reason = available()
    if not ok:
        if _in_ci():
            # CI must run the PostgreSQL tier: a silent skip would let PostgreSQL-only bugs land.
            pytest.fail(
                f"PostgreSQL tests cannot run in CI: {reason}. "
                "The CI script must install the server binaries (apt-get install postgresql).",
                pytrace=False,
            )
        pytest.skip(f"PostgreSQL tests skipped: {reason}")
    cluster = PostgresCluster()
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def pg_template(pg_cluster: PostgresCluster) -> str:
    url = pg_cluster.create_database(TEMPLATE)
    upgrade(url)
    return TEMPLATE


@pytest.fixture
def pg_empty_url(pg_cluster: PostgresCluster, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh, empty database (for migration tests)."""
    name = unique_db_name(request.node.name)
    url = pg_cluster.create_database(name)
    try:
        yield url
    finally:
        pg_cluster.drop_database(name)


@pytest.fixture
def pg_url(
    pg_cluster: PostgresCluster, pg_template: str, request: pytest.FixtureRequest
) -> Iterator[str]:
    """A fresh database with the migrated schema."""
    name = unique_db_name(request.node.name)
    url = pg_cluster.create_database(name, template=pg_template)
    try:
        yield url
    finally:
        pg_cluster.drop_database(name)
