"""docs/performance.md from the workers' results."""

from __future__ import annotations

import datetime as dt
import math
import os
import platform
import sqlite3
import statistics
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from tests.perf.mix import COMMANDS

PACKAGES = ("discord.py", "simcord", "sqlalchemy", "sqlmodel", "aiosqlite", "asyncpg", "alembic")

# Targets (issue 7): ratios and times the report checks.
P50_RATIO_MAX = 3.0
P99_MAX = 0.050
GROWTH_MAX = 1.5
IDLE_SWEEP_MAX = 0.005
DIGEST_MAX = 0.200


def machine_info() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        cpu = platform.processor()
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kb / 1024 / 1024:.0f} GB"
    except (OSError, ValueError, IndexError):
        pass
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = "-"
    load = os.getloadavg() if hasattr(os, "getloadavg") else (math.nan,) * 3
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cores": os.cpu_count(),
        "cpu": cpu,
        "memory": mem,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "sqlite": sqlite3.sqlite_version,
        "versions": versions,
        "load_start": " ".join(f"{x:.2f}" for x in load),
    }


# -- interactions ------------------------------------------------------------------------------


def _median(runs: list[dict[str, Any]], command: str, key: str) -> float:
    values = [r[command][key] for r in runs if command in r and key in r[command]]
    return statistics.median(values) if values else math.nan


def _answer(runs: list[dict[str, Any]], command: str, key: str) -> float:
    values = [r["answer"][command][key] for r in runs if command in r.get("answer", {})]
    return statistics.median(values) if values else math.nan


def interaction_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Per command: medians over the runs of p50/p95/p99, the floor's, and ratios."""
    base = result["baseline"]["runs"]
    peer = result["peerboard"]["runs"]
    rows = []
    for command in (*COMMANDS, "all"):
        row: dict[str, Any] = {"command": command}
        for key in ("p50", "p95", "p99"):
            row[key] = _median(peer, command, key)
            row["floor" + key[1:]] = _median(base, command, key)
            row["ratio" + key[1:]] = row[key] / row["floor" + key[1:]]
        row["queries"] = _median(peer, command, "queries") if command != "all" else math.nan
        row["db"] = _median(peer, command, "db") if command != "all" else math.nan
        rows.append(row)
    ips = statistics.median(r["ips"] for r in peer)
    floor_ips = statistics.median(r["ips"] for r in base)
    rows.append({"command": "interactions/s", "ips": ips, "floor_ips": floor_ips})
    return rows


def _ms(seconds: float) -> str:
    return "–" if seconds != seconds else f"{seconds * 1000:.1f}"


def _x(ratio: float) -> str:
    return "–" if ratio != ratio else f"{ratio:.2f}×"


def final_line(results: dict[str, Any]) -> str | None:
    """`interaction p50 ratio vs baseline: X.XX at N tasks` (SQLite, the largest size)."""
    done = [
        r
        for r in results.get("interactions", [])
        if "failed" not in r and r["job"]["backend"] == "sqlite"
    ]
    if not done:
        return None
    largest = max(done, key=lambda r: r["job"]["tasks"])
    row = next(x for x in interaction_rows(largest) if x["command"] == "all")
    return f"interaction p50 ratio vs baseline: {row['ratio50']:.2f} at {largest['job']['tasks']} tasks"


def _interactions(out: list[str], results: list[dict[str, Any]], checks: list[str]) -> None:
    out.append("## 1. Interactions through the real client (SimCord)\n")
    out.append(
        "Each cell: the median over the runs of that percentile, in ms, and (×) its ratio to "
        "the baseline bot's same percentile for the same command, measured in the same "
        "process just before. *Growth* is the p50 at the large size over the p50 at the "
        "small size. *Queries*: statements per interaction, and *DB*: the time spent in "
        "the driver executing them (medians; on SQLite each statement also waits for "
        "aiosqlite's thread).\n"
    )
    by_backend: dict[str, list[dict[str, Any]]] = {}
    for r in results:
        if "failed" in r:
            out.append(f"- **failed**: {r['job']} — `{r['failed'][-300:]}`\n")
            continue
        by_backend.setdefault(r["job"]["backend"], []).append(r)
    for backend, rs in by_backend.items():
        rs.sort(key=lambda r: r["job"]["tasks"])
        tables = [(r["job"]["tasks"], interaction_rows(r), r) for r in rs]
        out.append(f"### {backend}\n")
        header = "| command | floor p50 |"
        sep = "|---|---:|"
        for size, _rows, _r in tables:
            header += f" {size:,}: p50 | p95 | p99 | queries | DB |"
            sep += "---:|---:|---:|---:|---:|"
        if len(tables) > 1:
            header += " growth p50 |"
            sep += "---:|"
        out += [header, sep]
        for i, command in enumerate((*COMMANDS, "all")):
            first = tables[0][1][i]
            line = f"| {command} | {_ms(first['floor50'])} |"
            for _size, rows, _r in tables:
                row = rows[i]
                q = "" if row["queries"] != row["queries"] else f"{row['queries']:.0f}"
                line += (
                    f" {_ms(row['p50'])} ({_x(row['ratio50'])}) | {_ms(row['p95'])} "
                    f"({_x(row['ratio95'])}) | {_ms(row['p99'])} ({_x(row['ratio99'])}) | {q} "
                    f"| {_ms(row['db']) if q else ''} |"
                )
            if len(tables) > 1:
                line += f" {_x(tables[-1][1][i]['p50'] / first['p50'])} |"
            out.append(line)
        line = "| interactions/s | "
        line += f"{tables[0][1][-1]['floor_ips']:.0f} |"
        for _size, rows, _r in tables:
            ips = rows[-1]
            line += f" {ips['ips']:.0f} ({_x(ips['ips'] / ips['floor_ips'])} of floor) | | | | |"
        if len(tables) > 1:
            line += f" {_x(tables[-1][1][-1]['ips'] / tables[0][1][-1]['ips'])} |"
        out.append(line)
        out.append("")
        for size, _rows, r in tables:
            p = r["peerboard"]
            out.append(
                f"- {size:,} tasks: seeded {describe_rows(p['rows'])} in {p['seed_seconds']:.1f} s; "
                f"peak RSS {r['peak_rss_mb']:.0f} MB (baseline alone: "
                f"{r['rss_after_baseline']:.0f} MB); {p['unexpected_count']} unexpected "
                f"replies, {len(p['errors'])} bot errors, {p['warnings']} warnings logged."
            )
            for text in p.get("unexpected", [])[:3]:
                out.append(f"  - unexpected: `{text}`")
            for text in p.get("errors", [])[:3]:
                out.append(f"  - error: `{text}`")
        out.append("")
        # Targets at the largest size.
        size, rows, _r = tables[-1]
        for row in rows[:-1]:
            if row["command"] == "all":
                continue
            ok50 = row["ratio50"] <= P50_RATIO_MAX
            ok99 = row["p99"] <= P99_MAX
            checks.append(
                f"{'✅' if ok50 else '❌'} {backend}, {size:,} tasks, {row['command']}: p50 "
                f"{row['ratio50']:.2f}× floor (target ≤ {P50_RATIO_MAX:.0f}×)"
            )
            checks.append(
                f"{'✅' if ok99 else '❌'} {backend}, {size:,} tasks, {row['command']}: p99 "
                f"{row['p99'] * 1000:.1f} ms (target < {P99_MAX * 1000:.0f} ms)"
            )
        if len(tables) > 1:
            for i, row in enumerate(tables[-1][1][:-1]):
                if row["command"] == "all":
                    continue
                growth = row["p50"] / tables[0][1][i]["p50"]
                checks.append(
                    f"{'✅' if growth <= GROWTH_MAX else '❌'} {backend}, {row['command']}: p50 "
                    f"grew {growth:.2f}× from {tables[0][0]:,} to {size:,} tasks "
                    f"(target ≤ {GROWTH_MAX}×)"
                )
    answered = [r for r in results if "failed" not in r]
    if answered:
        out.append("### Time to the answer\n")
        out.append(
            "From the member's action to the bot's answer reaching Discord (its first "
            "interaction callback: the reply, the card edited in reply, the autocomplete "
            "choices). What the member waits for; the tables above also count what follows "
            "the answer (a claim edits the card in #tasks and posts in its thread). p50 and "
            "p99 in ms, (×) to the baseline's.\n"
        )
        out.append("| worker | " + " | ".join(COMMANDS) + " |")
        out.append("|---|" + "---:|" * len(COMMANDS))
        for r in answered:
            peer, base = r["peerboard"]["runs"], r["baseline"]["runs"]
            cells = []
            for c in COMMANDS:
                p50, p99 = _answer(peer, c, "p50"), _answer(peer, c, "p99")
                f50 = _answer(base, c, "p50")
                cells.append(f"{_ms(p50)} ({_x(p50 / f50)}) · {_ms(p99)}")
            out.append(
                f"| {r['job']['backend']}, {r['job']['tasks']:,} | " + " | ".join(cells) + " |"
            )
        out.append("")
    floors = [r for r in results if "failed" not in r]
    if floors:
        out.append("### The floor (baseline bot: same commands, constant replies)\n")
        out.append("| worker | " + " | ".join(COMMANDS) + " | all p50 | all p99 |")
        out.append("|---|" + "---:|" * (len(COMMANDS) + 2))
        for r in floors:
            runs = r["baseline"]["runs"]
            cells = [_ms(_median(runs, c, "p50")) for c in COMMANDS]
            out.append(
                f"| {r['job']['backend']}, {r['job']['tasks']:,} | "
                + " | ".join(cells)
                + f" | {_ms(_median(runs, 'all', 'p50'))} | {_ms(_median(runs, 'all', 'p99'))} |"
            )
        out.append("")


def describe_rows(rows: dict[str, int]) -> str:
    return ", ".join(f"{v:,} {k}" for k, v in rows.items())


# -- sweep ---------------------------------------------------------------------------------------


def _sweep(out: list[str], results: list[dict[str, Any]], checks: list[str]) -> None:
    out.append("## 2. Reminder sweep\n")
    out.append(
        "One sweep = `enqueue_due` + `deliver_pending`, as the bot runs it every minute "
        "(notifier answering at once, DM budget 20). *Idle*: nothing due (median of "
        "30 sweeps). *1 % due*: half warnings due, half claims run out; one sweep on a "
        "fresh copy of the board, median over the copies; the sweep handles at most 500 "
        "of each kind (BATCH), and sends at most 20 DMs (the rest wait for the next "
        "sweep). *UoW floor*: the cheapest unit of work (BEGIN; SELECT 1; END) on the "
        "same engine; the (×) figures are ratios to it. Queries exclude BEGIN.\n"
    )
    out.append(
        "| backend | active claims | UoW floor | idle: ms | (×) | queries | transactions | "
        "1 % due | handled | due: ms | queries | ms / item | queries / item |"
    )
    out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    by_backend: dict[str, list[dict[str, Any]]] = {}
    for r in results:
        if "failed" in r:
            out.append(f"| **failed** {r['job']} | `{r['failed'][-200:]}` |")
            continue
        by_backend.setdefault(r["job"]["backend"], []).append(r)
        idle = r["idle"]
        due = r["due_runs"]
        secs = statistics.median(x["seconds"] for x in due) if due else math.nan
        queries = statistics.median(x["queries"] for x in due) if due else math.nan
        handled = (
            statistics.median(x["warnings"] + x["expired"] + x["sent"] + x["skipped"] for x in due)
            if due
            else 0
        )
        floor = r["uow_floor"]
        out.append(
            f"| {r['job']['backend']} | {r['claims']:,} | {_ms(floor)} | {_ms(idle['median'])} | "
            f"{_x(idle['median'] / floor)} | {idle['queries']:.0f} | {idle['transactions']:.0f} | "
            f"{r['due']:,} | {handled:,.0f} | {_ms(secs)} | {queries:,.0f} | "
            f"{_ms(secs / handled if handled else math.nan)} | "
            f"{(queries / handled if handled else math.nan):.1f} |"
        )
    out.append("")
    for backend, rs in by_backend.items():
        rs.sort(key=lambda r: r["claims"])
        for r in rs:
            due = r["due_runs"][0] if r["due_runs"] else {}
            out.append(
                f"- {backend}, {r['claims']:,} claims: board {describe_rows(r['rows'])}, seeded in "
                f"{r['seed_seconds']:.0f} s; idle p95 {_ms(r['idle']['times']['p95'])} ms; first due "
                f"sweep: {due.get('warnings', 0)} warnings, {due.get('expired', 0)} expiries, "
                f"{due.get('sent', 0)} sent, {due.get('deferred', 0)} deferred "
                f"(enqueue {_ms(due.get('enqueue_seconds', math.nan))} ms, deliver "
                f"{_ms(due.get('deliver_seconds', math.nan))} ms); peak RSS {r['peak_rss_mb']:.0f} MB."
            )
        largest = rs[-1]
        idle_ms = largest["idle"]["median"]
        checks.append(
            f"{'✅' if idle_ms < IDLE_SWEEP_MAX else '❌'} {backend}: idle sweep at "
            f"{largest['claims']:,} active claims {idle_ms * 1000:.1f} ms (target < "
            f"{IDLE_SWEEP_MAX * 1000:.0f} ms)"
        )
        if len(rs) > 1:
            first, last = rs[0], rs[-1]
            growth_idle = last["idle"]["median"] / first["idle"]["median"]
            q_first = first["idle"]["queries"]
            q_last = last["idle"]["queries"]
            out.append(
                f"- {backend}: idle sweep grew {growth_idle:.2f}× from {first['claims']:,} to "
                f"{last['claims']:,} claims ({q_first:.0f} → {q_last:.0f} queries)."
            )

            def per_item(r: dict[str, Any]) -> float:
                due = r["due_runs"]
                if not due:
                    return math.nan
                x = due[0]
                handled = x["warnings"] + x["expired"] + x["sent"] + x["skipped"]
                return x["queries"] / handled if handled else math.nan

            a, b = per_item(first), per_item(last)
            checks.append(
                f"{'✅' if b <= a * 1.2 else '❌'} {backend}: work proportional to what is due: "
                f"{a:.1f} → {b:.1f} queries per handled item from {first['claims']:,} to "
                f"{last['claims']:,} claims"
            )
    out.append("")


# -- digest --------------------------------------------------------------------------------------


def _digest(out: list[str], results: list[dict[str, Any]], checks: list[str]) -> None:
    out.append("## 3. Weekly digest\n")
    out.append(
        "`DigestService.build(guild, week)` for a week with 10,000 history rows (2,500 tasks "
        "claimed, submitted and approved, 2,500 more claimed) and 5,500 ledger rows, on a "
        "bulk-seeded board; median of the runs after two warm-ups. (×): ratio to the "
        "unit-of-work floor.\n"
    )
    out.append(
        "| backend | board | history rows in week | UoW floor | median ms | (×) | p95 ms | queries |"
    )
    out.append("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        if "failed" in r:
            out.append(f"| **failed** {r['job']} | `{r['failed'][-200:]}` |")
            continue
        if "todo" in r:
            out.append(f"| {r['job']['backend']} | TODO: {r['todo']} | | | | | | |")
            continue
        out.append(
            f"| {r['job']['backend']} | {r['board']:,} tasks | {r['history_in_week']:,} | "
            f"{_ms(r['uow_floor'])} | {_ms(r['median'])} | {_x(r['median'] / r['uow_floor'])} | "
            f"{_ms(r['times']['p95'])} | {r['queries']:.0f} |"
        )
        checks.append(
            f"{'✅' if r['median'] < DIGEST_MAX else '❌'} {r['job']['backend']}: digest "
            f"{r['median'] * 1000:.0f} ms for {r['history_in_week']:,} history rows in the week "
            f"(target < {DIGEST_MAX * 1000:.0f} ms)"
        )
    out.append("")


# -- the document ----------------------------------------------------------------------------------


def write_report(path: Path, info: dict[str, Any], results: dict[str, Any]) -> None:
    out: list[str] = []
    checks: list[str] = []
    out.append("# Performance\n")
    out.append(
        "Written by `python -m tests.perf` "
        f"({'`--quick`' if info['mode'] == 'quick' else 'full run'}; "
        f"{info['runs']} runs per figure, {info['rounds']} member visits of 8 interactions "
        "per interaction run). Benchmarks, not pass/fail timings: this machine is shared and "
        "noisy, so read the ratios to the baseline measured in the same run, and the growth "
        "from the small to the large size, rather than the absolute times.\n"
    )
    out.append("## Machine\n")
    v = info["versions"]
    out.append(
        f"- {info['date']}; {info['cores']} cores ({info['cpu'] or 'unknown CPU'}), "
        f"{info['memory']} RAM; {info['platform']}\n"
        f"- Python {info['python']}; "
        + ", ".join(f"{k} {v[k]}" for k in v)
        + f"; SQLite {info['sqlite']}; PostgreSQL {info.get('postgres') or '–'}\n"
        f"- load average at start {info['load_start']}, at end {info.get('load_end', '–')}; "
        f"the whole run took {info.get('wall_seconds', 0) / 60:.1f} min\n"
    )
    out.append("## Method\n")
    out.append(
        "- **Board**: seeded in bulk with SQL (`tests/support/bulk.py`: INSERT … SELECT over "
        "a recursive CTE on SQLite, generate_series on PostgreSQL), 10,000 members; per 100 "
        "tasks 45 done, 5 cancelled, 35 open, 10 claimed, 3 in review, 2 proposed, with "
        "their history, claims, submissions, reviews, ledger credit and sent deliveries. "
        "Then ANALYZE (VACUUM ANALYZE on PostgreSQL).\n"
        "- **Interactions**: the real `PeerBot` (discord.py 2.7.1) on SimCord, 100 member "
        "actors with some credit (regulars, claim limit 5). A visit: autocomplete on "
        "/task claim (a number prefix or a title word), /task list, its Next button, "
        "/task list with a filter (tag, status, mine), /task show of a random task, "
        "/task claim of an open task, the Claim button on another open task's card in "
        "#tasks (each claim edits the card and posts in its thread), /profile. Claims are "
        "released through the service after each run. Latency = wall time of SimCord's "
        "call (dispatch, the bot's handler, its background work, settling).\n"
        "- **Baseline**: `tests/perf/baseline.py`, a discord.py bot with the same command "
        "names, options and buttons, answering with constant text, through the same mix.\n"
        "- **Harness**: SimCord's settle loop waits in steps of 50 ms, which alone made "
        "each interaction take ≥ 50 ms; `tests/perf/mix.py` caps those steps at 0.5 ms for "
        "both bots, while a wait on a running handler stays event-driven (never a busy "
        "loop, which would starve aiosqlite's thread). List views time out after 10 "
        "minutes of virtual time: the clock moves on after each visit, so they do, as in "
        "production. A pool of 12 cards (with their threads) in #tasks is claimed in turn, "
        "released after each visit (not timed): SimCord checks a timer per thread on every "
        "settle, so hundreds of threads would slow the harness, not the bot.\n"
        "- What the floor does not do: a Peerboard interaction reads or writes the "
        "database (the guild's config comes from the process's cache). Reads (autocomplete, "
        "lists, /task show, /profile) run one or two statements, outside any transaction. "
        "A claim is a write transaction (read the task with its claims, check the member's "
        "standing, update the task, insert the claim and its history row: 5 statements, 6 "
        "on PostgreSQL, where the member's row is locked first), and it makes 3 Discord "
        "calls (the reply, the card in #tasks edited, a line in the card's thread) against "
        "the baseline's 1: the *Time to the answer* table shows what the member waits for. "
        "The *DB* column shows how much of the time is the database driver.\n"
        "- Both bots freeze the heap they built before measuring (`gc.freeze`, as "
        "`peerboard run` does on ready): a full collection otherwise walks every cached "
        "object and pauses one interaction for up to 100 ms.\n"
        "- Each phase runs in its own process; peak RSS is that process's `ru_maxrss`.\n"
    )
    _interactions(out, results.get("interactions", []), checks)
    _sweep(out, results.get("sweep", []), checks)
    _digest(out, results.get("digest", []), checks)
    out.append("## 4. Memory\n")
    for r in results.get("interactions", []):
        if "failed" in r:
            continue
        out.append(
            f"- interactions, {r['job']['backend']}, {r['job']['tasks']:,} tasks: peak RSS "
            f"{r['peak_rss_mb']:.0f} MB (of which the baseline run alone reached "
            f"{r['rss_after_baseline']:.0f} MB)"
        )
    out.append("")
    out.append("## Targets\n")
    out += [f"- {c}" for c in checks] or ["- (no figures)"]
    out.append("")
    line = final_line(results)
    if line:
        out.append(f"`{line}`\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(out))
