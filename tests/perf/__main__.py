"""Peerboard benchmarks: `python -m tests.perf [--quick]`.

Runs each measurement in its own process (tests/perf/worker.py), on SQLite and on a
throwaway PostgreSQL server, and writes docs/performance.md. Not part of the test suite:
the figures are benchmarks, compared with a baseline measured in the same run, never
pass/fail timings.

    --quick         the small sizes only (1,000 tasks, 10,000 claims), fewer rounds: < 2 min
    --runs N        repeated runs per figure; the report gives their median (default 3)
    --rounds N      member visits per interaction run (8 interactions each)
    --no-postgres   SQLite only
    --only PHASES   comma-separated: interactions,sweep,digest,burst,guilds (burst and
                    guilds write only their own sections of the report; alone, they leave
                    the others as they are)
    --guilds N      guilds for the many-guilds benchmark (default 10,000; --quick: 200)
    --out PATH      where to write the report (default docs/performance.md)
    --json PATH     also write the raw results
    --render PATH   only write the report again, from raw results saved with --json
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.perf.guilds_report import render, section, splice
from tests.perf.report import final_line, machine_info, write_report

ROOT = Path(__file__).resolve().parents[2]


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m tests.perf", description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--rounds", type=int, default=None)
    p.add_argument("--no-postgres", action="store_true")
    p.add_argument("--only", default="interactions,sweep,digest,burst,guilds")
    p.add_argument("--guilds", type=int, default=None, help="guilds of the many-guilds run")
    p.add_argument("--out", default=str(ROOT / "docs" / "performance.md"))
    p.add_argument("--json", default=None)
    p.add_argument("--render", default=None)
    p.add_argument("--sizes", default=None, help="interaction board sizes, e.g. 1000,100000")
    p.add_argument("--claims", default=None, help="sweep sizes, e.g. 10000,100000,1000000")
    return p.parse_args(argv)


class Databases:
    """Fresh migrated databases for each worker: SQLite files copied from a template,
    PostgreSQL databases created from a template database."""

    def __init__(self, with_postgres: bool) -> None:
        from bot.db.migrate import upgrade

        self.tmp = Path(tempfile.mkdtemp(prefix="peerboard-perf-"))
        self.sqlite_template = self.tmp / "template.db"
        upgrade(f"sqlite+aiosqlite:///{self.sqlite_template}")
        self.cluster: Any = None
        self.pg_version = ""
        self.pg_problem = ""
        self.count = 0
        if with_postgres:
            from tests.support.postgres import PostgresCluster, available

            ok, reason = available()
            if not ok:
                self.pg_problem = reason
                return
            self.cluster = PostgresCluster()
            self.cluster.start()
            url = self.cluster.create_database("perf_template")
            upgrade(url)
            self.pg_version = self.cluster.execute("SHOW server_version").strip()

    @property
    def backends(self) -> list[str]:
        return ["sqlite", "postgresql"] if self.cluster is not None else ["sqlite"]

    def create(self, backend: str) -> str:
        self.count += 1
        if backend == "sqlite":
            target = self.tmp / f"db{self.count}.db"
            shutil.copyfile(self.sqlite_template, target)
            return f"sqlite+aiosqlite:///{target}"
        return str(self.cluster.create_database(f"perf{self.count}", template="perf_template"))

    def drop(self, url: str) -> None:
        if url.startswith("sqlite"):
            path = url.split("///", 1)[1]
            for suffix in ("", "-wal", "-shm"):
                Path(path + suffix).unlink(missing_ok=True)
        else:
            self.cluster.drop_database(url.rsplit("/", 1)[1])

    def close(self) -> None:
        if self.cluster is not None:
            self.cluster.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)


def run_worker(job: dict[str, Any], timeout: float) -> dict[str, Any]:
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "tests.perf.worker", json.dumps(job)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
        return {"failed": f"exit {proc.returncode}: {tail}", "job": job}
    last = proc.stdout.strip().splitlines()[-1]
    result: dict[str, Any] = json.loads(last)
    result["job"] = {k: v for k, v in job.items() if k != "url"}
    result["process_seconds"] = time.perf_counter() - started
    return result


def say(text: str) -> None:
    print(text, flush=True)


def _stop(signum: int, _frame: Any) -> None:
    raise SystemExit(128 + signum)  # so the finally blocks stop PostgreSQL and clean up


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _stop)
    args = parse(sys.argv[1:] if argv is None else argv)
    if args.render:
        saved = json.loads(Path(args.render).read_text())
        info = saved.pop("machine")
        saved_burst = saved.pop("burst", None)
        write_report(Path(args.out), info, saved)
        if saved_burst is not None:
            from tests.perf.burst import section as burst_section
            from tests.perf.burst import write_section

            write_section(Path(args.out), burst_section(saved_burst))
        say(f"wrote {args.out} from {args.render}")
        line = final_line(saved)
        if line:
            say(line)
        return 0
    quick = args.quick
    phases = {p.strip() for p in args.only.split(",") if p.strip()}
    sizes = (
        [int(s) for s in args.sizes.split(",")]
        if args.sizes
        else ([1_000] if quick else [1_000, 100_000])
    )
    claim_sizes = (
        [int(s) for s in args.claims.split(",")]
        if args.claims
        else ([10_000] if quick else [10_000, 100_000, 1_000_000])
    )
    rounds = args.rounds or (20 if quick else 60)
    runs = args.runs
    started = time.perf_counter()
    info = machine_info()
    say(
        f"peerboard perf: {'quick' if quick else 'full'} run on {info['cores']} cores, "
        f"load {info['load_start']}"
    )
    dbs = Databases(with_postgres=not args.no_postgres)
    info["postgres"] = dbs.pg_version or (f"skipped: {dbs.pg_problem}" if dbs.pg_problem else "")
    results: dict[str, Any] = {"interactions": [], "sweep": [], "digest": []}
    burst: dict[str, Any] | None = None
    out = Path(args.out)
    kept = section(out.read_text()) if out.exists() else None  # the Many guilds section
    try:
        if "interactions" in phases:
            for backend in dbs.backends:
                for tasks in sizes:
                    url = dbs.create(backend)
                    say(f"- interactions, {backend}, {tasks:,} tasks, {runs}×{rounds} rounds …")
                    job = {
                        "kind": "interactions",
                        "url": url,
                        "backend": backend,
                        "tasks": tasks,
                        "members": 10_000,
                        "runs": runs,
                        "rounds": rounds,
                        "warmup": 5,
                    }
                    try:
                        result = run_worker(job, timeout=1800)
                    finally:
                        dbs.drop(url)
                    results["interactions"].append(result)
                    say(f"  {summary_interactions(result)}")
        if "sweep" in phases:
            for backend in dbs.backends:
                for claims in claim_sizes:
                    url = dbs.create(backend)
                    say(f"- sweep, {backend}, {claims:,} active claims …")
                    job = {
                        "kind": "sweep",
                        "url": url,
                        "backend": backend,
                        "claims": claims,
                        "due_runs": runs if claims <= 100_000 else max(1, runs - 1),
                    }
                    try:
                        result = run_worker(job, timeout=3600)
                    finally:
                        dbs.drop(url)
                    results["sweep"].append(result)
                    say(f"  {summary_sweep(result)}")
        if "digest" in phases:
            for backend in dbs.backends:
                url = dbs.create(backend)
                board = 20_000 if quick else 100_000
                say(f"- digest, {backend}, board of {board:,} tasks …")
                job = {
                    "kind": "digest",
                    "url": url,
                    "backend": backend,
                    "board": board,
                    "runs": 3 if quick else 10,
                }
                try:
                    result = run_worker(job, timeout=1800)
                finally:
                    dbs.drop(url)
                results["digest"].append(result)
                say(f"  {summary_digest(result)}")
        if "burst" in phases:
            burst = run_burst(dbs, quick)
        if "guilds" in phases and dbs.cluster is not None:
            guilds = args.guilds or (200 if quick else 10_000)
            url = dbs.create("postgresql")
            say(f"- many guilds, {guilds:,} guilds × 100 tasks, 2 processes of 2 shards …")
            try:
                result = run_worker(
                    {"kind": "guilds", "url": url, "guilds": guilds, "tasks": 100}, 7200
                )
            finally:
                dbs.drop(url)
            results["guilds"] = result
            say(f"  {summary_guilds(result)}")
    finally:
        dbs.close()
    info["load_end"] = machine_info()["load_start"]
    info["wall_seconds"] = time.perf_counter() - started
    info["mode"] = "quick" if quick else "full"
    info["runs"] = runs
    info["rounds"] = rounds
    if args.json:
        saved = {"machine": info, **results, **({"burst": burst} if burst else {})}
        Path(args.json).write_text(json.dumps(saved, indent=1, default=str))
    if phases - {"burst", "guilds"}:
        write_report(out, info, results)
    guilds_text = render(results["guilds"], info) if "guilds" in results else kept
    if guilds_text is not None:
        splice(out, guilds_text)  # alone, the many-guilds run rewrites only its section
    if burst is not None:
        from tests.perf.burst import section as burst_section
        from tests.perf.burst import write_section

        write_section(out, burst_section(burst))
    say(f"wrote {args.out} in {info['wall_seconds']:.0f} s")
    line = final_line(results)
    if line:
        say(line)
    return 0


def run_burst(dbs: Databases, quick: bool) -> dict[str, Any]:
    """Peerboard and the naive bot, each on a fresh SQLite database (tests/perf/burst.py)."""
    members, spread = (20, 2.0) if quick else (100, 10.0)
    urls = [dbs.create("sqlite"), dbs.create("sqlite")]
    say(f"- burst, {members} presses + {members} /task claim within {spread:g} s …")
    job = {"kind": "burst", "urls": urls, "members": members, "spread": spread, "seed": 7}
    try:
        result = run_worker(job, timeout=1800)
    finally:
        for url in urls:
            dbs.drop(url)
    if "failed" in result:
        say(f"  FAILED {result['failed']}")
    else:
        for r in result["runs"]:
            say(
                f"  {r['variant']}: answer p99 {r['answer']['all']['p99'] * 1000:.0f} ms, "
                f"cards true after {r['converged']:.1f} s (floor {r['floor']:.1f} s), "
                f"{r['channel_edits']} channel edits, {sum(r['limited'].values())} 429s"
            )
    return result


def summary_interactions(r: dict[str, Any]) -> str:
    if "failed" in r:
        return f"FAILED {r['failed']}"
    from tests.perf.report import interaction_rows

    rows = interaction_rows(r)
    all_row = next(x for x in rows if x["command"] == "all")
    return (
        f"p50 {all_row['p50'] * 1000:.1f} ms ({all_row['ratio50']:.2f}× floor "
        f"{all_row['floor50'] * 1000:.1f} ms), p99 {all_row['p99'] * 1000:.1f} ms, "
        f"peak RSS {r['peak_rss_mb']:.0f} MB, {r['process_seconds']:.0f} s"
    )


def summary_sweep(r: dict[str, Any]) -> str:
    if "failed" in r:
        return f"FAILED {r['failed']}"
    idle = r["idle"]
    due = r["due_runs"][0] if r["due_runs"] else {}
    return (
        f"idle {idle['median'] * 1000:.1f} ms / {idle['queries']:.0f} queries; "
        f"1% due ({r['due']:,}): {due.get('seconds', 0):.2f} s / {due.get('queries', 0)} queries; "
        f"{r['process_seconds']:.0f} s"
    )


def summary_guilds(r: dict[str, Any]) -> str:
    if "failed" in r:
        return f"FAILED {r['failed']}"
    procs = "; ".join(
        f"shards {p['shards']}: ready {p['ready_seconds']:.1f} s, RSS {p['rss_mb']:.0f} MB, "
        f"idle sweep {i['median'] * 1000:.1f} ms"
        for p, i in zip(r["processes"], r["idle"], strict=True)
    )
    return f"{procs}; {r['twice']} twice, {r['lost']} lost; {r['process_seconds']:.0f} s"


def summary_digest(r: dict[str, Any]) -> str:
    if "failed" in r:
        return f"FAILED {r['failed']}"
    if "todo" in r:
        return f"TODO: {r['todo']}"
    return (
        f"{r['median'] * 1000:.0f} ms median, {r['queries']:.0f} queries, "
        f"{r['history_in_week']:,} history rows in the week; {r['process_seconds']:.0f} s"
    )


if __name__ == "__main__":
    raise SystemExit(main())
