"""One measurement in its own process: `python -m tests.perf.worker '<json>'`.

Each phase runs in a fresh process so that its peak RSS (resource.getrusage) is its own,
and one phase's caches and garbage do not slow the next. The result is printed as one
JSON line at the end of stdout; the orchestrator (tests/perf/__main__.py) reads it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
from typing import Any

from tests.perf.stats import peak_rss_mb


async def run(job: dict[str, Any]) -> dict[str, Any]:
    kind = job["kind"]
    if kind == "interactions":
        from tests.perf.mix import measure_baseline, measure_peerboard

        baseline = await measure_baseline(job["runs"], job["rounds"], job["warmup"])
        rss_baseline = peak_rss_mb()
        peerboard = await measure_peerboard(
            job["url"], job["tasks"], job["members"], job["runs"], job["rounds"], job["warmup"]
        )
        return {"baseline": baseline, "peerboard": peerboard, "rss_after_baseline": rss_baseline}
    if kind == "sweep":
        from tests.perf.sweep import measure_sweep

        return await measure_sweep(job["url"], job["claims"], job["due_runs"])
    if kind == "digest":
        from tests.perf.digest import measure_digest

        return await measure_digest(job["url"], job["board"], job["runs"])
    if kind == "burst":
        from tests.perf.burst import measure_burst

        return await measure_burst(job["urls"], job["members"], job["spread"], job["seed"])
    if kind == "guilds":
        from tests.perf.many_guilds import measure_many_guilds

        return await measure_many_guilds(job["url"], job["guilds"], job["tasks"])
    raise SystemExit(f"unknown job {kind!r}")


def main() -> None:
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
    job = json.loads(sys.argv[1])
    started = time.perf_counter()
    result = asyncio.run(run(job))
    result["wall_seconds"] = time.perf_counter() - started
    result["peak_rss_mb"] = peak_rss_mb()
    sys.stdout.write("\n" + json.dumps(result, default=str) + "\n")


if __name__ == "__main__":
    main()
