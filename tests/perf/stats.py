"""Small statistics and measuring helpers shared by the benchmarks."""

from __future__ import annotations

import resource
import statistics
import sys
import time
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine


def percentiles(samples: Sequence[float]) -> dict[str, float]:
    """p50/p95/p99 (inclusive method: linear interpolation between order statistics)."""
    data = sorted(samples)
    if not data:
        return {"p50": float("nan"), "p95": float("nan"), "p99": float("nan"), "n": 0}
    if len(data) == 1:
        return {"p50": data[0], "p95": data[0], "p99": data[0], "n": 1}
    cuts = statistics.quantiles(data, n=100, method="inclusive")
    return {"p50": cuts[49], "p95": cuts[94], "p99": cuts[98], "n": len(data)}


def median_of(runs: Iterable[dict[str, Any]], key: str) -> float:
    values = [float(r[key]) for r in runs if key in r]
    return statistics.median(values) if values else float("nan")


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far (ru_maxrss: KiB on Linux)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


class QueryCounter:
    """Counts statements sent to the database (SQLAlchemy's before_cursor_execute), apart
    from transaction control (SQLite's BEGIN IMMEDIATE is sent as a statement), and the
    transactions begun (the engine's begin event, on every backend)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.count = 0
        self.transactions = 0
        self.seconds = 0.0  # time spent in the driver's execute, all statements
        self._started = 0.0
        self._engine = engine
        event.listen(engine.sync_engine, "before_cursor_execute", self._on_execute)
        event.listen(engine.sync_engine, "after_cursor_execute", self._on_done)
        event.listen(engine.sync_engine, "begin", self._on_begin)

    def _on_execute(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        self._started = time.perf_counter()
        if statement.lstrip()[:5].upper() != "BEGIN":
            self.count += 1

    def _on_done(self, *_args: Any) -> None:
        self.seconds += time.perf_counter() - self._started

    def _on_begin(self, _conn: Any) -> None:
        self.transactions += 1

    def reset(self) -> None:
        self.count = 0
        self.transactions = 0
        self.seconds = 0.0

    def close(self) -> None:
        event.remove(self._engine.sync_engine, "before_cursor_execute", self._on_execute)
        event.remove(self._engine.sync_engine, "after_cursor_execute", self._on_done)
        event.remove(self._engine.sync_engine, "begin", self._on_begin)


async def unit_of_work_floor(engine: AsyncEngine, n: int = 200) -> float:
    """Median time of the cheapest unit of work (begin, SELECT 1, end) on this engine: the
    floor a sweep or a digest build is compared with."""
    import sqlalchemy as sa

    from bot.db.engine import create_session_factory
    from bot.db.uow import Database

    db = Database(create_session_factory(engine))
    times: list[float] = []
    for k in range(n + 10):
        t0 = time.perf_counter()
        async with db.unit() as uow:
            await uow.session.execute(sa.select(1))
        if k >= 10:
            times.append(time.perf_counter() - t0)
    return statistics.median(times)
