"""The interaction mix, through the real discord.py client on SimCord.

One round is what a member does on a visit: type a task into autocomplete, browse the
board (and its next page), filter it, look at a card, claim one task with /task claim
and another with the Claim button on its card in #tasks, and look at their profile.
The same rounds run against Peerboard and against the baseline bot (constant replies),
so each figure can be given as a ratio to that floor.

Claims are real: each target task is open and has its card (with a thread) in #tasks,
so a claim edits the card and posts in the thread as it does in production. After each
run the claims are released through the service, and the cards refreshed, so every run
sees the same board.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import random
import statistics
import time
import types
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import discord
import simcord
import simcord.env
import simcord.http.router

from bot.app import PeerBot
from bot.bootstrap import Runtime, build_bot, build_services
from bot.domain.model import Actor
from bot.services.clock import FunctionClock
from bot.ui import publish
from tests.perf.baseline import BaselineBot
from tests.perf.stats import QueryCounter, percentiles
from tests.support.bulk import BoardSpec, numbers_with_status, seed_board

GUILD_ID = 424_242_424_242_424_242
ACTORS = 100
TITLE_WORDS = ("transl", "docs", "login", "release", "foot")
COMMANDS = (
    "autocomplete",
    "/task list",
    "click Next",
    "/task list (filter)",
    "/task show",
    "/task claim",
    "click Claim",
    "/profile",
)

CARDS = 12  # open tasks with a card (and thread) in #tasks, claimed in turn
VIEW_TIMEOUT = 600  # ListView's timeout: virtual time moves past it after each round
POLL = 0.0005

log = logging.getLogger("peerboard.perf")


class _ShortSleeps(types.ModuleType):
    """`asyncio` as simcord.env sees it, without its 50 ms polling stalls.

    SimCord's settle loop waits in steps of 50 ms: when only call_soon callbacks are
    left (a finished task's done-callbacks, which run on the next loop turn) it sleeps
    that long, and when a pending task has not started yet, or is a view's timeout task
    (parked in virtual time, though SimCord may take a turn to see it), it waits that
    long for it to finish. So a 3 ms interaction took 55 ms, burying the work being
    measured. Here those sleeps and waits last POLL seconds; a wait that also includes
    real work (a handler waiting on the database) waits for that work only, as SimCord
    does: asyncio.wait returns as soon as it completes. It never spins: a loop busy
    while a handler waits on aiosqlite starves the driver's thread of the GIL (10× slower
    queries). Installed for the baseline and for Peerboard alike.
    """

    def __getattr__(self, name: str) -> Any:
        return getattr(asyncio, name)

    @staticmethod
    async def sleep(delay: float, result: Any = None) -> Any:
        return await asyncio.sleep(min(delay, POLL), result)

    @staticmethod
    async def wait(
        fs: Any,
        *,
        timeout: float | None = None,  # noqa: ASYNC109  (asyncio.wait's own signature)
        return_when: str = asyncio.ALL_COMPLETED,
    ) -> Any:
        if return_when == asyncio.FIRST_COMPLETED:
            live = [f for f in fs if not f.done()]
            rest = [f for f in live if not _stalls(f)]
            if rest and len(rest) < len(live):
                # Wait for the real work only (event-driven, as SimCord does); the others
                # start or get parked meanwhile. Never poll: a loop that spins while a
                # handler waits on the database starves the driver's thread of the GIL.
                fs = rest
            elif not rest and live:
                timeout = POLL if timeout is None else min(timeout, POLL)
        return await asyncio.wait(fs, timeout=timeout, return_when=return_when)


def _stalls(f: Any) -> bool:
    """A pending task SimCord would wait 50 ms for although it is about to be parked: one
    not started yet, or a view's timeout task (it waits in virtual time)."""
    if not isinstance(f, asyncio.Task) or f.done():
        return False
    if getattr(f, "_fut_waiter", 0) is None:
        return True
    return "timeout_task_impl" in getattr(f.get_coro(), "__qualname__", "")


_SHORT = _ShortSleeps("asyncio")


class _Counter(logging.Handler):
    """Counts warnings the bot logs during a measurement (a card it could not edit …)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0
        self.first: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1
        if len(self.first) < 5:
            self.first.append(record.getMessage())


class _Answers:
    """When the bot answered the interaction being timed: its first interaction callback
    (the reply, a card edited in reply, autocomplete choices) reaching SimCord. That is
    what the member waits for; the rest of the interaction's work (a card edited
    elsewhere, a thread line) follows it."""

    def __init__(self) -> None:
        self.at: float | None = None
        self.original: Any = None

    def dispatch(self, backend: Any, method: str, path: str, **kwargs: Any) -> Any:
        if self.at is None and method == "POST" and path.endswith("/callback"):
            self.at = time.perf_counter()
        return self.original(backend, method, path, **kwargs)


ANSWERS = _Answers()


def fast_settle() -> None:
    if simcord.env.asyncio is _SHORT:  # type: ignore[attr-defined]
        return
    simcord.env.asyncio = _SHORT  # type: ignore[attr-defined]
    ANSWERS.original = simcord.http.router.dispatch
    simcord.http.router.dispatch = ANSWERS.dispatch


@dataclass
class World:
    env: Any
    guild: Any
    tasks: Any
    review: Any
    general: Any
    maint: Any
    actors: list[Any]
    cards: dict[int, discord.Message] = field(default_factory=dict)
    numbers: int = 0  # board size: show picks any of 1..numbers


def said(result: Any) -> str:
    parts = [result.response.content if result.response is not None else ""]
    parts += [m.content for m in result.followups]
    return "\n".join(p for p in parts if p)


def make_world(env: Any) -> World:
    guild = env.create_guild("Commons", id=GUILD_ID)
    tasks = guild.create_text_channel("tasks")
    review = guild.create_text_channel("review")
    general = guild.create_text_channel("general")
    maintainers = guild.create_role(
        "Maintainers", permissions=discord.Permissions(manage_guild=True)
    )
    maint = guild.add_member(env.create_user("mara"), roles=[maintainers])
    actors = [guild.add_member(env.create_user(f"member{k}")) for k in range(ACTORS)]
    return World(env, guild, tasks, review, general, maint, actors)


@dataclass
class Target:
    """What the mix needs from the bot under test."""

    name: str
    world: World
    targets: list[int]  # open tasks with a card, claimed during a run
    check: bool  # whether replies are checked (Peerboard) or constant (baseline)
    release: Callable[[dict[int, int]], Awaitable[None]]
    counter: QueryCounter | None = None


@dataclass
class RunResult:
    samples: dict[str, list[float]]
    queries: dict[str, list[int]]
    db: dict[str, list[float]]
    wall: float
    interactions: int
    unexpected: list[str]
    answers: dict[str, list[float]] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            name: percentiles(values) for name, values in self.samples.items() if values
        }
        out["answer"] = {
            name: percentiles(values) for name, values in self.answers.items() if values
        }
        for name, counts in self.queries.items():
            if counts and name in out:
                out[name]["queries"] = statistics.median(counts)
                out[name]["db"] = statistics.median(self.db[name])
        out["all"] = percentiles([v for values in self.samples.values() for v in values])
        out["ips"] = self.interactions / self.wall if self.wall else 0.0
        out["unexpected"] = len(self.unexpected)
        return out


async def run_rounds(t: Target, rounds: int, seed: int) -> RunResult:
    w = t.world
    rng = random.Random(seed)
    samples: dict[str, list[float]] = {name: [] for name in COMMANDS}
    queries: dict[str, list[int]] = {name: [] for name in COMMANDS}
    db: dict[str, list[float]] = {name: [] for name in COMMANDS}
    answers: dict[str, list[float]] = {name: [] for name in COMMANDS}
    unexpected: list[str] = []
    claimed: dict[int, int] = {}  # task number -> member id
    pool = list(t.targets)
    rng.shuffle(pool)
    started = time.perf_counter()
    count = 0

    async def timed(name: str, call: Awaitable[Any]) -> Any:
        nonlocal count
        before = t.counter.count if t.counter else 0
        before_db = t.counter.seconds if t.counter else 0.0
        ANSWERS.at = None
        t0 = time.perf_counter()
        result = await call
        samples[name].append(time.perf_counter() - t0)
        if ANSWERS.at is not None:
            answers[name].append(ANSWERS.at - t0)
        if t.counter:
            queries[name].append(t.counter.count - before)
            db[name].append(t.counter.seconds - before_db)
        count += 1
        return result

    def expect(name: str, ok: bool, result: Any) -> None:
        if t.check and not ok and len(unexpected) < 1000:
            unexpected.append(f"{name}: {said(result)[:160] if result is not None else None}")

    for j in range(rounds):
        actor = w.actors[j % len(w.actors)]
        if j % 2:
            typed = rng.choice(TITLE_WORDS)
        else:
            typed = str(rng.randint(1, w.numbers))[: rng.randint(1, 3)]
        choices = await timed(
            "autocomplete", actor.autocomplete(w.general, "task claim", "task", typed)
        )
        expect("autocomplete", isinstance(choices, list), None)

        listed = await timed("/task list", actor.slash(w.general, "task list"))
        expect("/task list", listed.response is not None and bool(listed.response.embeds), listed)
        nxt = await timed("click Next", actor.click(listed.response, label="Next"))
        expect("click Next", nxt.acknowledged, nxt)

        variant = j % 3
        if variant == 0:
            filtered = actor.slash(w.general, "task list", tag="docs")
        elif variant == 1:
            filtered = actor.slash(w.general, "task list", status="claimed")
        else:
            filtered = actor.slash(w.general, "task list", mine=True)
        r = await timed("/task list (filter)", filtered)
        expect("/task list (filter)", r.response is not None, r)

        shown = await timed(
            "/task show", actor.slash(w.general, "task show", task=str(rng.randint(1, w.numbers)))
        )
        expect("/task show", shown.response is not None and bool(shown.response.embeds), shown)

        number = pool[(2 * j) % len(pool)]
        r = await timed("/task claim", actor.slash(w.general, "task claim", task=str(number)))
        expect("/task claim", "You claimed" in said(r), r)
        claimed[number] = actor.id

        number = pool[(2 * j + 1) % len(pool)]
        r = await timed("click Claim", actor.click(w.cards[number], label="Claim"))
        expect("click Claim", "You claimed" in said(r), r)
        claimed[number] = actor.id

        r = await timed("/profile", actor.slash(w.general, "profile"))
        expect("/profile", r.response is not None, r)
        # Let the round's list views time out, as they do 10 minutes after use: SimCord
        # checks every live view on each settle, so piling them up would slow the harness.
        await w.env.advance_time(VIEW_TIMEOUT + 1)
        # Give the round's tasks back (not timed), so a small pool of cards serves every
        # round: SimCord keeps a timer per thread (auto-archive) and checks them all on
        # each settle, so hundreds of card threads would slow the harness, not the bot.
        await t.release(claimed)
        claimed.clear()
    wall = time.perf_counter() - started
    await t.release(claimed)
    return RunResult(samples, queries, db, wall, count, unexpected, answers)


# -- the two bots -----------------------------------------------------------------------------


def virtual_clock() -> FunctionClock:
    return FunctionClock(lambda: discord.utils.utcnow())


async def measure_baseline(runs: int, rounds: int, warmup: int) -> dict[str, Any]:
    fast_settle()
    bot = BaselineBot()
    results: list[dict[str, Any]] = []
    async with simcord.run(bot, check_errors=False) as env:
        w = make_world(env)
        w.numbers = 1000
        numbers = list(range(1, CARDS + 1))
        for n in numbers:
            w.cards[n] = await bot.post_card(w.tasks.id, GUILD_ID, n)

        async def release(_claimed: dict[int, int]) -> None:
            return None

        target = Target("baseline", w, numbers, False, release)
        gc.collect()
        gc.freeze()  # as Peerboard's run does after its setup (see measure_peerboard)
        if warmup:
            await run_rounds(target, warmup, seed=0)
        for k in range(runs):
            results.append((await run_rounds(target, rounds, seed=k + 1)).summary())
        errors = len(env.errors)
    await bot.close()
    gc.unfreeze()
    return {"runs": results, "errors": errors}


async def measure_peerboard(
    url: str, tasks: int, members: int, runs: int, rounds: int, warmup: int
) -> dict[str, Any]:
    fast_settle()
    runtime: Runtime = build_services(url, clock=virtual_clock())
    bot: PeerBot = build_bot(runtime.services, scheduler=False)
    counter = _Counter()
    logging.getLogger("peerboard").addHandler(counter)
    results: list[dict[str, Any]] = []
    unexpected: list[str] = []
    try:
        async with simcord.run(bot, check_errors=False) as env:
            w = make_world(env)
            w.numbers = tasks
            t0 = time.perf_counter()
            counts = await seed_board(
                runtime.engine,
                BoardSpec(
                    guild_id=GUILD_ID,
                    tasks=tasks,
                    members=members,
                    now=env.now(),
                    actors=tuple(a.id for a in w.actors),
                ),
            )
            seeded = time.perf_counter() - t0
            async with runtime.engine.begin() as conn:
                await conn.exec_driver_sql(
                    f"UPDATE guild_settings SET tasks_channel_id = {w.tasks.id}, "
                    f"review_channel_id = {w.review.id} WHERE guild_id = {GUILD_ID}"
                )
                open_numbers = await numbers_with_status(conn, GUILD_ID, "open")
            # Targets spread over the whole board, old and new.
            step = len(open_numbers) / CARDS
            targets = [open_numbers[int(k * step)] for k in range(CARDS)]
            services = runtime.services
            services.config.forget(GUILD_ID)  # the channels were set with SQL, just above
            config = await services.config.get(GUILD_ID)
            for n in targets:
                view = await services.tasks.show(GUILD_ID, n)
                message = await publish.post_card(bot, view, config)
                assert message is not None
                w.cards[n] = message

            async def release(claimed: dict[int, int]) -> None:
                for n, member in claimed.items():
                    try:
                        result = await services.tasks.release(Actor(GUILD_ID, member), n)
                    except Exception as err:  # a claim that did not happen: nothing to undo
                        log.debug("release #%s: %s", n, err)
                        continue
                    await publish.refresh_card(bot, result.task)

            # What production does once the login caches are full (`peerboard run` freezes
            # them on ready); here the world is built after ready, so do it now.
            bot.freeze_startup_heap()
            target = Target("peerboard", w, targets, True, release, QueryCounter(runtime.engine))
            if warmup:
                await run_rounds(target, warmup, seed=0)
            for k in range(runs):
                result = await run_rounds(target, rounds, seed=k + 1)
                unexpected += result.unexpected
                results.append(result.summary())
            errors = [repr(e)[:200] for e in env.errors]
    finally:
        logging.getLogger("peerboard").removeHandler(counter)
        await bot.close()
        await runtime.close()
    return {
        "runs": results,
        "seed_seconds": seeded,
        "rows": counts,
        "errors": errors,
        "unexpected": unexpected[:10],
        "unexpected_count": len(unexpected),
        "warnings": counter.count,
        "first_warnings": counter.first,
    }
