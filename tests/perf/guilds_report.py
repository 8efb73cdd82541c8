"""The "Many guilds" section of docs/performance.md (tests/perf/many_guilds.py's result).

A run of that benchmark alone rewrites only this section (`splice`); a run of the other
phases keeps the section the document had."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

HEADING = "## Many guilds"
IDLE_MAX = 0.005  # issue 15: the idle sweep per process under 5 ms
RSS_MAX_MB = 250.0  # and RSS per process under 250 MB


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def _ok(good: bool) -> str:
    return "✅" if good else "❌"


def render(r: dict[str, Any], info: dict[str, Any]) -> str:
    out = [f"{HEADING}\n"]
    if "failed" in r:
        out.append(f"The run failed: `{r['failed'][-600:]}`\n")
        return "\n".join(out)
    n, per = r["guilds"], r["tasks_per_guild"]
    rows = r["rows"]
    floor = r["uow_floor"]
    out.append(
        f"Written by `python -m tests.perf --only guilds` ({info.get('mode', 'full')} run, "
        f"{info.get('date', '')}, load {info.get('load_start', '–')} at the start of the run). "
        f"{n:,} guilds of {per} tasks ({rows['tasks']:,} tasks) on one throwaway PostgreSQL, "
        f"served by {len(r['processes'])} processes of 2 shards each "
        f"(`PEERBOARD_SHARD_COUNT={r['shard_count']}`, ids 0,1 and 2,3).\n"
    )
    out.append(
        "- **Board**: `tests/support/bulk_guilds.py` seeds one board with "
        "`tests/support/bulk.py` (the mix of the interaction benchmark, with history, "
        "claims, submissions, reviews, ledger, sent deliveries) and copies it to every guild "
        "with INSERT … SELECT, then VACUUM ANALYZE; each guild has its own settings "
        "(channels, roles, claim windows, approvals, digest day, time and zone; digest off in "
        f"one of ten) and {r['members_per_guild']} members. Guild ids take turns over the "
        f"shards, so each shard has {n // r['shard_count']:,} guilds. Seeded "
        + ", ".join(f"{v:,} {k}" for k, v in rows.items())
        + f" in {r['seed_seconds']:.0f} s.\n"
        "- **Start-up**: both `peerboard run` processes spawned together (2 cores, shared "
        "with the stand-in and PostgreSQL), against a loopback Discord "
        "(`tests/support/guild_gateway.py`) that answers each shard's IDENTIFY with READY "
        "and one GUILD_CREATE per guild of that shard by `(guild_id >> 22) % 4` (payloads "
        "made before the start). *Ready*: from the spawn to the process's `ready: serving "
        "… guilds` log line; *identify*: to its first shard's IDENTIFY (settings, migration "
        "check, login, command sync) and to its second's (discord.py identifies a process's "
        "shards one after the other, about 5 s apart, as Discord's identify limit asks); "
        "*guilds sent*: to its last GUILD_CREATE. discord.py waits `guild_ready_timeout` "
        "(2 s) after a shard's last GUILD_CREATE before it is ready. RSS: the process's "
        "VmRSS at its ready line.\n"
        "- **Sweeps**: driven in-process, not in the `peerboard run` processes (whose "
        "sweep runs on its timer, which a benchmark cannot observe without waiting): "
        "the bot's own job (`bot.jobs.sweep.sweep`, with card repair) on the same "
        "database, with each process's shard settings, a notifier and card port that "
        f"answer at once. *Idle*: nothing due, median of 30. *UoW floor* "
        f"({_ms(floor)} ms): the cheapest unit of work (BEGIN; SELECT 1; COMMIT); (×) are "
        "ratios to it. *1 % due*: one task in each guild's 100 — a claim warning in half "
        "of the guilds, a claim that ran out in the other half (a DM and a post in "
        "#tasks) — one sweep per process with the bot's DM budget (20), which handles "
        "at most 500 of each kind.\n"
        "- **Nothing twice, nothing lost**: then both processes' sweeps run together, "
        "round after round without a DM budget, until neither finds work; every notice is "
        "counted at the notifier (by delivery id) and in the delivery log.\n"
    )
    out.append(
        "| process | shards | guilds | identify s (shard 1 / 2) | guilds sent s | ready s | RSS MB | "
        "idle sweep ms | (×) | p95 ms | queries | 1 % due | one sweep ms | queries | sent | "
        "drained: notices | sweep time s |"
    )
    out.append(
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    )
    checks = []
    for k, p in enumerate(r["processes"]):
        idle = r["idle"][k]
        first = r["due_first"][k]
        out.append(
            f"| {k + 1} | {', '.join(map(str, p['shards']))} | {p['guilds']:,} | "
            f"{' / '.join(f'{t:.1f}' for t in p['identified'])} | "
            f"{p['guilds_sent_seconds']:.1f} | "
            f"{p['ready_seconds']:.1f} | {p['rss_mb']:.0f} | {_ms(idle['median'])} | "
            f"{idle['median'] / floor:.2f}× | {_ms(idle['times']['p95'])} | "
            f"{idle['queries']:.0f} | {r['own_due'][k]:,} | {_ms(first['seconds'])} | "
            f"{first['queries']} | {first['sent']} | {r['delivered'][k]:,} | "
            f"{r['drain']['seconds'][k]:.1f} |"
        )
        checks.append(
            f"{_ok(idle['median'] < IDLE_MAX)} process {k + 1}: idle sweep "
            f"{_ms(idle['median'])} ms (target < 5 ms)"
        )
        checks.append(
            f"{_ok(p['rss_mb'] < RSS_MAX_MB)} process {k + 1}: RSS {p['rss_mb']:.0f} MB once "
            "ready (target < 250 MB)"
        )
    one = r["idle_one_process"]
    out.append("")
    a, b = r["delivered"][0], r["delivered"][1]
    ta, tb = r["drain"]["seconds"]
    out.append(
        f"- Work follows the guilds: process 1 delivered {a:,} notices and process 2 {b:,} "
        f"({a / max(b, 1):.2f}×) for {r['processes'][0]['guilds']:,} and "
        f"{r['processes'][1]['guilds']:,} guilds; their sweeps took {ta:.1f} s and "
        f"{tb:.1f} s ({ta / max(tb, 1e-9):.2f}×) over {r['drain']['rounds']} rounds, and "
        f"repaired {r['cards_repaired'][0]:,} and {r['cards_repaired'][1]:,} cards. Every "
        "delivery was to a guild of the process's own shards "
        f"(not: {r['not_own_guild'][0]} and {r['not_own_guild'][1]}).\n"
        f"- An idle sweep of all four shards in one process: {_ms(one['median'])} ms, "
        f"{one['queries']:.0f} queries; one process of two shards: "
        f"{_ms(r['idle'][0]['median'])} ms ({r['idle'][0]['median'] / one['median']:.2f}×).\n"
        f"- Due: {r['due']['warnings']:,} warnings and {r['due']['expiries']:,} claims run "
        f"out, so {r['expected']:,} notices owed; delivered {sum(r['delivered']):,}, "
        f"{r['distinct']:,} distinct: {r['twice']} twice, {r['lost']} lost. The delivery log "
        "of the run: " + ", ".join(f"{v:,} {s}" for s, v in sorted(r["log"].items())) + ".\n"
        f"- Both processes stopped on SIGTERM with exit codes "
        f"{', '.join(str(p['exit']) for p in r['processes'])} and "
        f"{', '.join(str(p['warnings']) for p in r['processes'])} warnings or errors logged.\n"
    )
    checks.append(
        f"{_ok(r['twice'] == 0 and r['lost'] == 0 and r['log'].get('sent', 0) == r['expected'])}"
        f" nothing sent twice or lost: {r['twice']} twice, {r['lost']} lost of "
        f"{r['expected']:,}"
    )
    out.append("Targets:\n")
    out += [f"- {c}" for c in checks]
    out.append("")
    return "\n".join(out)


def section(text: str) -> str | None:
    """The Many guilds section of a document, up to the next section, or None."""
    match = re.search(rf"^{re.escape(HEADING)}\n.*?(?=^## |\Z)", text, re.M | re.S)
    return match.group(0) if match else None


def splice(path: Path, new: str) -> None:
    """Put `new` in place of the document's Many guilds section, or before its Targets."""
    text = path.read_text() if path.exists() else "# Performance\n\n"
    new = new.rstrip("\n") + "\n\n"
    old = section(text)
    if old is not None:
        text = text.replace(old, new)
    elif "\n## Targets\n" in text:
        text = text.replace("\n## Targets\n", "\n" + new + "## Targets\n", 1)
    else:
        text = text.rstrip("\n") + "\n\n" + new
    path.write_text(text)
