"""The Burst benchmark: many members claim at once in one #tasks channel.

N cards of capacity 2 in #tasks, each with its thread. Within `spread` seconds, member
A_n presses Claim on card n and member B_n runs `/task claim task:n`, at random moments
(one seed for both bots). The real `PeerBot` runs against the loopback Discord of
tests/support/ratelimit_fake.py, which rate-limits as Discord does (5 edits per 5 s in a
channel, 50 requests/s globally) and delivers the interactions over its gateway. Measured
on the fake's clock:

- time to each member's answer (delivered → the callback's message, or the follow-up
  after a card's UPDATE_MESSAGE), p50/p99;
- time until every card shows the truth (both its claimants), from the first delivery;
- REST calls and 429s.

Compared with the physical limit: the card edits that no interaction can carry (a
/task claim after the press on the same card: the press's UPDATE_MESSAGE showed an
older state), sent greedily in Discord's fixed windows of 5 per 5 s from their moments;
and with a naive bot — the same bot whose every change edits its card at once, in the
handler (what Peerboard did before the pacer).
"""

from __future__ import annotations

import asyncio
import json
import random
from typing import Any

from bot.app import INVITE_PERMISSIONS, PeerBot, point_discord_at
from bot.bootstrap import build_bot, build_services
from bot.domain.model import Actor
from bot.services.views import TaskView
from bot.ui.ids import ButtonId, CardAction
from bot.ui.pacer import CardPacer
from tests.perf.stats import percentiles
from tests.support.fake_discord import TOKEN, serving
from tests.support.ratelimit_fake import CHANNEL_LIMIT, RateLimitedDiscord, snowflake

PRESSER, TYPER = 3_000_000, 4_000_000
WAIT = 300.0  # a run that takes longer than this is broken, not slow


class NaivePacer(CardPacer):
    """The bot before the pacer: every change edits its card at once, in the handler,
    with the state that change made (discord.py queues the requests on its bucket)."""

    async def update(self, task: TaskView) -> bool:
        return await self._send(task)


def floor(needed: list[float]) -> float:
    """When the last of these edits could be done at best: greedily, in Discord's fixed
    windows (each opens with its first request) of CHANNEL_LIMIT."""
    limit, per = CHANNEL_LIMIT
    opened, used, done = -1.0, 0, 0.0
    for at in sorted(needed):
        t = max(at, done)
        if opened < 0 or t >= opened + per:
            opened, used = t, 0
        elif used >= limit:
            t = opened + per
            opened, used = t, 0
        used += 1
        done = t
    return done


def online_floor(slash: dict[int, float], press: dict[int, float]) -> tuple[float, int]:
    """The best a bot can do that does not know which presses will come: every /task
    claim's edit queued at its moment and sent as soon as the channel's windows allow, in
    order, except one whose card's press came before its turn (the press's own
    UPDATE_MESSAGE shows it). (When the last edit is done, the edits sent.)"""
    limit, per = CHANNEL_LIMIT
    opened, used, done, sent = -1.0, 0, 0.0, 0
    for n in sorted(slash, key=slash.__getitem__):
        t = max(slash[n], done)
        if opened >= 0 and t < opened + per and used >= limit:
            t = opened + per
        if slash[n] < press[n] <= t:
            continue  # shown by the press before this edit's turn
        if opened < 0 or t >= opened + per:
            opened, used = t, 0
        used += 1
        done, sent = t, sent + 1
    return done, sent


async def one_run(url: str, members: int, spread: float, seed: int, naive: bool) -> dict[str, Any]:
    fake = RateLimitedDiscord(bot_permissions=INVITE_PERMISSIONS.value)
    runtime = build_services(url)
    services = runtime.services
    guild = fake.guild_id
    boss = Actor(guild, 1, is_maintainer=True)
    await services.config.update(boss, tasks_channel_id=fake.tasks_channel_id)
    cards: dict[int, int] = {}
    for n in range(1, members + 1):
        await services.tasks.create(boss, f"Task {n}", capacity=2)
        thread = snowflake()
        card = fake.card(n, thread, str(ButtonId(guild, n, CardAction.CLAIM)))
        cards[n] = int(card["id"])
        await services.tasks.set_card(guild, n, fake.tasks_channel_id, cards[n], thread)
    bot: PeerBot = build_bot(services, scheduler=False)
    if naive:
        bot.pacer = NaivePacer(bot, services, bot.pacer.budgets)
    rng = random.Random(seed)
    plan = sorted(
        [(rng.uniform(0, spread), "press", n) for n in range(1, members + 1)]
        + [(rng.uniform(0, spread), "slash", n) for n in range(1, members + 1)]
    )
    try:
        async with serving(fake):
            point_discord_at(f"http://127.0.0.1:{fake.port}/api/v10", f"ws://127.0.0.1:{fake.port}")
            running = asyncio.create_task(bot.start(TOKEN))
            await asyncio.wait_for(fake.guild_ready.wait(), WAIT)
            await asyncio.wait_for(bot.wait_until_ready(), WAIT)
            await asyncio.wait_for(fake.synced.wait(), WAIT)
            before = len(fake.calls)
            loop = asyncio.get_running_loop()
            start = loop.time()
            t0 = fake.clock()
            delivered: list[asyncio.Task[int]] = []
            all_sent = asyncio.Event()

            def deliver(kind: str, n: int) -> None:
                if kind == "press":
                    custom_id = str(ButtonId(guild, n, CardAction.CLAIM))
                    call = fake.press(PRESSER + n, cards[n], custom_id)
                else:
                    call = fake.slash(TYPER + n, "task", "claim", task=n)
                delivered.append(asyncio.ensure_future(call))
                if len(delivered) == len(plan):
                    all_sent.set()

            for at, kind, n in plan:  # on the loop's timer: no sleeping in between
                loop.call_at(start + at, deliver, kind, n)
            await asyncio.wait_for(all_sent.wait(), WAIT)
            await asyncio.gather(*delivered)

            def true(n: int, shown: str) -> bool:
                return f"<@{PRESSER + n}>" in shown and f"<@{TYPER + n}>" in shown

            def channel_edits() -> int:
                return sum(1 for c in fake.calls[before:] if c.bucket.startswith("PATCH"))

            def done() -> bool:
                if any(a.answer is None for a in fake.interactions.values()):
                    return False
                if naive:  # one edit per /task claim, whatever it shows at the end
                    return channel_edits() >= members
                return all(
                    true(n, json.dumps(fake.messages[m]["embeds"])) for n, m in cards.items()
                )

            async def settled() -> None:
                while not done():
                    fake.answered.clear()
                    fake.edited.clear()
                    await asyncio.wait(
                        [
                            asyncio.ensure_future(fake.answered.wait()),
                            asyncio.ensure_future(fake.edited.wait()),
                        ],
                        return_when=asyncio.FIRST_COMPLETED,
                    )

            await asyncio.wait_for(settled(), WAIT)
            await asyncio.wait_for(bot.pacer.idle(), WAIT)  # nothing left in flight
            await bot.close()
            await running
    finally:
        if not bot.is_closed():
            await bot.close()
        pending = await services.cards.pending()
        await runtime.close()
    answers: dict[str, list[float]] = {"press": [], "slash": []}
    for a in fake.interactions.values():
        assert a.answer is not None
        answers[a.kind].append(a.answer - a.delivered)
    # When each card came to show the truth for good (its last state, from the moment it
    # was first shown), from the first delivery.
    correct_at = []
    stale = 0
    for n, m in cards.items():
        states = fake.history.get(m, [])
        at = None
        for when, shown in reversed(states):
            if not true(n, shown):
                break
            at = when
        if at is None:
            stale += 1
        correct_at.append((at if at is not None else float("inf")) - t0)
    moments = {(kind, n): at for at, kind, n in plan}
    needed = [moments[("slash", n)] for n in cards if moments[("slash", n)] > moments[("press", n)]]
    calls = fake.calls[before:]
    edits = [c for c in calls if c.method == "PATCH" and c.bucket.startswith("PATCH messages")]
    online, online_edits = online_floor(
        {n: moments[("slash", n)] for n in cards}, {n: moments[("press", n)] for n in cards}
    )
    return {
        "variant": "naive" if naive else "peerboard",
        "online_floor": max(online, max(moments.values())),
        "online_edits": online_edits,
        "answer": {k: percentiles(v) for k, v in answers.items()}
        | {"all": percentiles(answers["press"] + answers["slash"])},
        "late": fake.late(),
        "stale_cards": stale,  # cards that did not show the truth at the end
        "converged": max(correct_at),
        "needed_edits": len(needed),
        "floor": floor(needed) if needed else 0.0,
        "rest_calls": len(calls),
        "channel_edits": len(edits),
        "interaction_calls": sum(
            1 for c in calls if c.bucket.startswith(("callback:", "webhook:"))
        ),
        "limited": dict(fake.limited),
        "repeated_429": fake.repeated_429s(),
        "pending_cards": pending,
    }


async def measure_burst(urls: list[str], members: int, spread: float, seed: int) -> dict[str, Any]:
    peer = await one_run(urls[0], members, spread, seed, naive=False)
    naive = await one_run(urls[1], members, spread, seed, naive=True)
    return {"members": members, "spread": spread, "runs": [peer, naive]}


# -- the report's section ---------------------------------------------------------------


def section(result: dict[str, Any]) -> list[str]:
    """docs/performance.md's "Burst" section, from measure_burst's result."""
    out = ["## Burst\n"]
    if "failed" in result:
        return [*out, f"FAILED: {result['failed']}\n"]
    m, spread = result["members"], result["spread"]
    out.append(
        f"{m} members press Claim on {m} cards in #tasks and {m} others run `/task claim` "
        f"on the same cards (capacity 2), at random moments within {spread:g} s, through "
        "the real discord.py client against a loopback Discord that rate-limits as "
        "Discord does (`tests/support/ratelimit_fake.py`: 5 edits per 5 s per channel, "
        "50 requests/s globally, real headers and 429s; SQLite). Times are the fake's: "
        "from an interaction's delivery to the member's answer; from the first delivery "
        "until every card shows both claimants. The floor is the per-channel budget for "
        "the edits no interaction can carry (a `/task claim` after the press on the same "
        "card), sent in Discord's fixed windows from their moments, as if the bot knew "
        "which presses were still to come; the *online* floor is the best a bot can do "
        "that does not: every `/task claim`'s edit sent in its turn at the channel's "
        "budget, except where the press came first (`online_floor`). *Naive*: the same "
        "bot, every change editing its card at once in its handler (before the pacer).\n"
    )
    out.append(
        "| bot | answer p50 | answer p99 | press p99 | /task claim p99 | late | "
        "cards true after | floor (online) | over online floor | channel edits "
        "(needed; online) | REST calls | 429s |"
    )
    out.append("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in result["runs"]:
        a = r["answer"]
        out.append(
            f"| {r['variant']} | {a['all']['p50'] * 1000:.0f} ms | {a['all']['p99'] * 1000:.0f} ms "
            f"| {a['press']['p99'] * 1000:.0f} ms | {a['slash']['p99'] * 1000:.0f} ms "
            f"| {r['late']} | {_converged(r)} | {r['floor']:.1f} s ({r['online_floor']:.1f} s) "
            f"| {_over(r)} | {r['channel_edits']} ({r['needed_edits']}; {r['online_edits']}) "
            f"| {r['rest_calls']} | {sum(r['limited'].values())} |"
        )
    out.append("")
    peer = result["runs"][0]
    checks = [
        ("every member answered within 1 s (p99)", peer["answer"]["all"]["p99"] <= 1.0),
        (
            "every card correct within 2 s of the per-channel floor (online)",
            not peer["stale_cards"] and peer["converged"] - peer["online_floor"] <= 2.0,
        ),
        (
            "… and of the offline floor (the needed edits only, as if every press were "
            "known in advance)",
            not peer["stale_cards"] and peer["converged"] - peer["floor"] <= 2.0,
        ),
        ("0 repeated 429s", not peer["repeated_429"]),
    ]
    out.append(
        "Targets (Peerboard): "
        + "; ".join(f"{name}: {'met' if ok else '**not met**'}" for name, ok in checks)
        + f". Cards left owed an update at the end: {peer['pending_cards']}.\n"
    )
    return out


def _converged(r: dict[str, Any]) -> str:
    if r["stale_cards"]:
        return f"never: {r['stale_cards']} cards left stale (until the sweep)"
    return f"{r['converged']:.1f} s"


def _over(r: dict[str, Any]) -> str:
    return "–" if r["stale_cards"] else f"{r['converged'] - r['online_floor']:+.1f} s"


def write_section(path: Any, lines: list[str]) -> None:
    """Put the Burst section into the report, leaving the other sections as they are."""
    text = path.read_text() if path.exists() else "# Performance\n"
    block = "\n".join(lines) + "\n"
    start = text.find("\n## Burst\n")
    if start < 0:
        text = text.rstrip("\n") + "\n\n" + block
    else:
        end = text.find("\n## ", start + 1)
        text = text[: start + 1] + block + (text[end + 1 :] if end >= 0 else "")
    path.write_text(text)
