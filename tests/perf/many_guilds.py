"""Many guilds: 10,000 guilds of 100 tasks each on one PostgreSQL, served by 2 processes
of 2 shards each (PEERBOARD_SHARD_COUNT=4, ids 0,1 and 2,3).

1. The board: tests/support/bulk_guilds.py (one bulk board copied to every guild, each
   guild with its own settings). Guild ids take turns over the shards (2,500 each).
2. Start-up: two real `peerboard run` processes, started together, against a loopback
   Discord (tests/support/guild_gateway.py) that answers each shard's IDENTIFY with READY
   and that shard's guilds' GUILD_CREATE (Discord's formula). Timed from the spawn to the
   process's "ready: serving … guilds" line; RSS (VmRSS) read then. Then SIGTERM.
3. Sweeps, driven in-process (the bot's own `bot.jobs.sweep.sweep`, as the scheduler
   runs it, with each process's shard settings, on the same database): a separate
   process's sweep is not observable without waiting for its timer. The notifier and
   the card port answer at once (the sweep's own cost, not Discord's). Idle: nothing due.
   1 % due: one task of each guild's 100 (a claim warning in half of the guilds, a claim
   that ran out in the other half): one sweep per process, with the bot's DM budget.
4. Nothing twice, nothing lost: both processes' sweeps run together, round after round
   (no DM budget, so it ends soon), until neither finds work; every delivery is counted
   at the notifier and in the delivery log.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.bootstrap import build_services
from bot.db.engine import create_engine
from bot.domain.shards import Shards
from bot.jobs.sweep import SweepReport, sweep
from bot.services.cards import CardOutcome
from bot.services.clock import ManualClock
from bot.services.config import GuildConfig
from bot.services.notify import Notice
from bot.services.views import TaskView
from tests.perf.stats import QueryCounter, percentiles, unit_of_work_floor
from tests.support.bulk import analyze
from tests.support.bulk_guilds import seed_guilds
from tests.support.fake_discord import serving, start_peerboard_run
from tests.support.guild_gateway import GuildGateway, balanced_guild_ids, numbered

SHARD_COUNT = 4
PROCESSES: tuple[tuple[int, ...], ...] = ((0, 1), (2, 3))
BOT = 999
DM_BUDGET = 20  # PeerBot's default: dm_per_minute=20 with a 60 s sweep interval
IDLE_SWEEPS = 30
MEMBERS = 60  # per guild
READY_TIMEOUT = 900.0
DRAIN_ROUNDS = 200


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


class CountingNotifier:
    """The Notifier port, answering at once; it keeps every delivery it was asked for."""

    def __init__(self) -> None:
        self.sent: list[tuple[int, int, str]] = []  # (delivery id, guild, kind)

    async def deliver(self, notice: Notice, config: GuildConfig) -> str:
        self.sent.append((notice.delivery_id, notice.task.guild_id, notice.kind.name))
        return "dm" if notice.member_id else "channel"


class InstantCards:
    """The CardPublisher port: every card edit and thread line succeeds at once."""

    def __init__(self) -> None:
        self.repaired = 0

    async def repair(self, task: TaskView, config: GuildConfig) -> CardOutcome:
        self.repaired += 1
        return CardOutcome.SHOWN

    async def post_line(self, line: Any) -> CardOutcome:
        return CardOutcome.SHOWN

    async def tell_blocked(self, task: TaskView, config: GuildConfig) -> bool:
        return True


@dataclass
class Worker:
    """One process's sweep, in this process: its services on its own engine."""

    shards: Shards
    url: str
    at: datetime
    notifier: CountingNotifier = field(default_factory=CountingNotifier)
    cards: InstantCards = field(default_factory=InstantCards)

    def __post_init__(self) -> None:
        self.runtime = build_services(self.url, clock=ManualClock(self.at))
        self.counter = QueryCounter(self.runtime.engine)

    async def sweep(self, dm_budget: int = DM_BUDGET) -> tuple[float, SweepReport]:
        t0 = time.perf_counter()
        report = await sweep(
            self.runtime.services,
            self.notifier,
            bot_id=BOT,
            dm_budget=dm_budget,
            shards=self.shards,
            cards=self.cards,
        )
        return time.perf_counter() - t0, report

    async def close(self) -> None:
        self.counter.close()
        await self.runtime.close()


# -- start-up: real processes ------------------------------------------------------------------


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def _until_ready(proc: asyncio.subprocess.Process, lines: list[str]) -> float:
    """Read the process's output until its ready line; the time it came (monotonic)."""
    assert proc.stdout is not None
    while True:
        raw = await proc.stdout.readline()
        if not raw:
            raise RuntimeError("peerboard run stopped before ready:\n" + "".join(lines[-20:]))
        line = raw.decode(errors="replace")
        lines.append(line)
        if "ready: serving" in line:
            return time.monotonic()


async def _drain_output(proc: asyncio.subprocess.Process, lines: list[str]) -> None:
    assert proc.stdout is not None
    while raw := await proc.stdout.readline():
        lines.append(raw.decode(errors="replace"))


async def start_processes(url: str, guild_ids: Sequence[int]) -> list[dict[str, Any]]:
    gateway = GuildGateway(shard_count=SHARD_COUNT, guilds=numbered(guild_ids))
    gateway.prepare()
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="peerboard-guilds-") as tmp:
        async with serving(gateway):
            procs, outputs = [], []
            spawned = time.monotonic()
            for k, ids in enumerate(PROCESSES):
                cwd = Path(tmp) / f"p{k}"
                cwd.mkdir()
                procs.append(
                    await start_peerboard_run(
                        gateway,
                        cwd,
                        asyncio.subprocess.PIPE,
                        PEERBOARD_DATABASE_URL=url,
                        PEERBOARD_SHARD_COUNT=str(SHARD_COUNT),
                        PEERBOARD_SHARD_IDS=",".join(map(str, ids)),
                        PEERBOARD_LOG_LEVEL="INFO",
                    )
                )
                outputs.append([])
            try:
                readies = await asyncio.wait_for(
                    asyncio.gather(
                        *(_until_ready(p, o) for p, o in zip(procs, outputs, strict=True))
                    ),
                    timeout=READY_TIMEOUT,
                )
                rss = [rss_mb(p.pid) for p in procs]
                for k, (ids, proc) in enumerate(zip(PROCESSES, procs, strict=True)):
                    starts = [gateway.starts[s] for s in ids]
                    results.append(
                        {
                            "shards": list(ids),
                            "guilds": sum(s.guilds for s in starts),
                            "ready_seconds": readies[k] - spawned,
                            "identify_seconds": min(s.identified for s in starts) - spawned,
                            "identified": [s.identified - spawned for s in starts],
                            "sent": [s.guilds_sent - spawned for s in starts],
                            "guilds_sent_seconds": max(s.guilds_sent for s in starts) - spawned,
                            "rss_mb": rss[k],
                            "pid": proc.pid,
                        }
                    )
            finally:
                drains = [
                    asyncio.ensure_future(_drain_output(p, o))
                    for p, o in zip(procs, outputs, strict=True)
                ]
                for proc in procs:
                    with contextlib.suppress(ProcessLookupError):
                        proc.send_signal(signal.SIGTERM)
                codes = await asyncio.wait_for(
                    asyncio.gather(*(p.wait() for p in procs)), timeout=120
                )
                await asyncio.gather(*drains)
    for result, code, output in zip(results, codes, outputs, strict=True):
        result["exit"] = code
        noted = [line for line in output if " WARNING " in line or " ERROR " in line]
        # discord.py's note that voice needs PyNaCl and davey: the bot has no voice.
        noted = [line for line in noted if "voice will NOT be supported" not in line]
        result["warnings"] = len(noted) + sum(1 for line in output if "Traceback" in line)
        result["warning_lines"] = [line.strip()[:300] for line in noted][:10]
    identified = sorted(tuple(i["shard"]) for i in gateway.identifies)
    assert identified == [(s, SHARD_COUNT) for s in range(SHARD_COUNT)], identified
    return results


# -- sweeps, in-process ----------------------------------------------------------------------


async def idle_sweeps(worker: Worker, n: int = IDLE_SWEEPS) -> dict[str, Any]:
    times, queries, transactions = [], [], []
    for k in range(n + 3):  # three to warm the pool and statement caches
        worker.counter.reset()
        seconds, report = await worker.sweep()
        assert (report.sent, report.skipped, report.deferred) == (0, 0, 0), report
        assert not report.cards, report.cards
        if k >= 3:
            times.append(seconds)
            queries.append(worker.counter.count)
            transactions.append(worker.counter.transactions)
    return {
        "times": percentiles(times),
        "median": statistics.median(times),
        "queries": statistics.median(queries),
        "transactions": statistics.median(transactions),
    }


async def make_due(url: str, now: datetime) -> dict[str, int]:
    """In every guild, its first claimed task (by number) falls due a minute before `now`:
    its warning in guilds with an even id, its claim running out in the others."""
    before = (now - timedelta(minutes=1)).isoformat()
    engine = create_engine(url)
    firsts = (
        "SELECT DISTINCT ON (guild_id) id, guild_id FROM tasks WHERE status = 'claimed' "
        "ORDER BY guild_id, number"
    )
    try:
        async with engine.begin() as conn:
            warn = await conn.exec_driver_sql(
                f"UPDATE claims c SET warn_at = '{before}' FROM ({firsts}) f "
                "WHERE c.task_id = f.id AND c.ended_at IS NULL AND f.guild_id % 2 = 0"
            )
            gone = await conn.exec_driver_sql(
                f"UPDATE claims c SET expires_at = '{before}', warn_at = NULL FROM ({firsts}) f "
                "WHERE c.task_id = f.id AND c.ended_at IS NULL AND f.guild_id % 2 = 1"
            )
        await analyze(engine)
    finally:
        await engine.dispose()
    return {"warnings": warn.rowcount, "expiries": gone.rowcount}


async def due_sweep(worker: Worker) -> dict[str, Any]:
    worker.counter.reset()
    sent_before = len(worker.notifier.sent)
    seconds, report = await worker.sweep()
    return {
        "seconds": seconds,
        "queries": worker.counter.count,
        "transactions": worker.counter.transactions,
        "sent": report.sent,
        "deferred": report.deferred,
        "cards": sum(report.cards.values()),
        "notices": len(worker.notifier.sent) - sent_before,
    }


async def drain(workers: Sequence[Worker]) -> dict[str, Any]:
    """Both processes' sweeps together, round after round, until neither has work."""
    seconds = [0.0 for _ in workers]
    rounds = 0
    for rounds in range(1, DRAIN_ROUNDS + 1):  # noqa: B007  (the count is the result)

        async def one(k: int) -> SweepReport:
            took, report = await workers[k].sweep(dm_budget=10**9)
            seconds[k] += took
            return report

        reports = await asyncio.gather(*(one(k) for k in range(len(workers))))
        if all(r.sent == r.skipped == r.retried == r.dead == 0 and not r.cards for r in reports):
            break
    return {"rounds": rounds, "seconds": seconds}


async def delivery_log(url: str, since: datetime) -> dict[str, int]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            rows = await conn.exec_driver_sql(
                "SELECT status, count(*) FROM deliveries WHERE created_at >= "
                f"'{since.isoformat()}' GROUP BY status"
            )
            return {str(s): int(n) for s, n in rows.all()}
    finally:
        await engine.dispose()


async def measure_many_guilds(url: str, guilds: int, tasks: int) -> dict[str, Any]:
    now = datetime.now(UTC).replace(microsecond=0)
    ids = balanced_guild_ids(guilds, SHARD_COUNT)
    engine = create_engine(url)
    try:
        t0 = time.perf_counter()
        counts = await seed_guilds(
            engine,
            ids,
            tasks=tasks,
            members=MEMBERS,
            now=now,
            progress=lambda s: say(f"  seed: {s}"),
        )
        seeded = time.perf_counter() - t0
        floor = await unit_of_work_floor(engine)
    finally:
        await engine.dispose()
    say(f"  seeded {counts['tasks']:,} tasks in {seeded:.0f} s; starting 2 processes …")
    processes = await start_processes(url, ids)
    for p in processes:
        say(
            f"  shards {p['shards']}: ready in {p['ready_seconds']:.1f} s, RSS {p['rss_mb']:.0f} MB"
        )

    workers = [Worker(Shards(SHARD_COUNT, frozenset(s)), url, now) for s in PROCESSES]
    everyone = Worker(Shards(SHARD_COUNT, frozenset(range(SHARD_COUNT))), url, now)
    try:
        idle = [await idle_sweeps(w) for w in workers]
        idle_all = await idle_sweeps(everyone)
        due = await make_due(url, now)
        first = [await due_sweep(w) for w in workers]
        drained = await drain(workers)
        delivered = [w.notifier.sent for w in workers]
        cards = [w.cards.repaired for w in workers]
    finally:
        for w in (*workers, everyone):
            await w.close()
    log = await delivery_log(url, now - timedelta(seconds=1))
    flat = [d for sent in delivered for d in sent]
    expected = due["warnings"] + 2 * due["expiries"]  # an expiry: a DM and a channel post
    wrong = [
        sum(1 for _id, guild, _kind in sent if not w.shards.owns(guild))
        for w, sent in zip(workers, delivered, strict=True)
    ]
    return {
        "guilds": guilds,
        "tasks_per_guild": tasks,
        "members_per_guild": MEMBERS,
        "shard_count": SHARD_COUNT,
        "rows": counts,
        "seed_seconds": seeded,
        "uow_floor": floor,
        "processes": processes,
        "idle": idle,
        "idle_one_process": idle_all,
        "due": due,
        "due_first": first,
        "drain": drained,
        "delivered": [len(s) for s in delivered],
        "cards_repaired": cards,
        "distinct": len({d[0] for d in flat}),
        "twice": len(flat) - len({d[0] for d in flat}),
        "expected": expected,
        "lost": expected - len({d[0] for d in flat}),
        "not_own_guild": wrong,
        "log": log,
        "own_due": [
            sum(1 for g in ids if w.shards.owns(g)) for w in workers
        ],  # guilds, each with one due task
    }
