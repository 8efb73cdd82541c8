"""EXPLAIN a statement exactly as the bot sends it, on SQLite and on PostgreSQL: the
helpers of the query-plan tests (tests/services/test_query_plans.py for the hot paths
and the digest, tests/services/test_sweep_plan.py for the reminder sweep)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

# PostgreSQL plans a prepared statement's first executions with its values (custom
# plans) and may then switch to one generic plan for any values: both are checked.
PG_PLAN_MODES = ("force_custom_plan", "force_generic_plan")


def bound(stmt: Any, dialect: Any, params: dict[str, Any] | None = None) -> tuple[str, list[Any]]:
    """The SQL text SQLAlchemy sends for `stmt` on this dialect, and its positional
    parameters as the driver gets them (after the column types' bind processing).
    `params`: the values of a statement built with named parameters (else its own)."""
    state = stmt.compile(dialect=dialect).construct_expanded_state(params)
    values = []
    for name in state.positiontup or ():
        value = state.parameters[name]
        process = state.processors.get(name)
        values.append(process(value) if process else value)
    return state.statement, values


async def sqlite_plan(
    conn: AsyncConnection, stmt: Any, params: dict[str, Any] | None = None
) -> list[str]:
    """The lines of SQLite's EXPLAIN QUERY PLAN."""
    sql, values = bound(stmt, conn.dialect, params)
    rows = (await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, tuple(values))).all()
    return [str(row[-1]) for row in rows]


def pg_nodes(node: dict[str, Any], parent: str = "") -> list[dict[str, Any]]:
    """The plan's nodes, depth first, each with its parent's node type under "Parent"."""
    found = [{**node, "Parent": parent}]
    for child in node.get("Plans", []):
        found.extend(pg_nodes(child, node["Node Type"]))
    return found


def pg_literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, datetime):
        return f"'{value.isoformat()}'"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, bool):
        return "true" if value else "false"
    assert isinstance(value, int), value
    return str(value)


async def pg_plan(
    conn: AsyncConnection, stmt: Any, mode: str, params: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """The plan PostgreSQL uses for the statement as asyncpg runs it, a prepared statement
    (`$1::TIMESTAMP WITH TIME ZONE`, …), in `mode` (one of PG_PLAN_MODES)."""
    sql, values = bound(stmt, conn.dialect, params)
    await conn.exec_driver_sql(f"SET plan_cache_mode = {mode}")
    await conn.exec_driver_sql(f"PREPARE planned AS {sql}")
    try:
        args = ", ".join(pg_literal(v) for v in values)
        execute = f"EXECUTE planned({args})" if values else "EXECUTE planned"
        raw = (await conn.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {execute}")).scalar_one()
    finally:
        await conn.exec_driver_sql("DEALLOCATE planned")
        await conn.exec_driver_sql("RESET plan_cache_mode")
    doc = json.loads(raw) if isinstance(raw, str) else raw
    return pg_nodes(doc[0]["Plan"])


def describe_pg(nodes: list[dict[str, Any]]) -> list[str]:
    """One short line per node: type, join type when not inner, index, table."""
    return [
        " ".join(
            str(part)
            for part in (
                n["Node Type"],
                f"({n['Join Type']})" if n.get("Join Type", "Inner") != "Inner" else "",
                n.get("Index Name", ""),
                f"on {n['Relation Name']}" if "Relation Name" in n else "",
            )
            if part
        )
        for n in nodes
    ]
