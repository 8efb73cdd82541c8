"""Card edits paced per channel, within Discord's rate limits.

Discord lets a bot edit (or post) about 5 messages per 5 s in one channel. A burst — a
hundred members claiming at once — changes more cards than that, so every card edit
that does not ride on an interaction response goes through `CardPacer`:

- With the channel idle (no edit in flight, nothing waiting, budget left) an edit is
  sent at once, by the caller, exactly as before (SimCord has no limits: tests never wait).
- Otherwise the card joins its channel's queue: one entry per card, so a card changed
  five times while waiting is edited once. One worker per channel sends the queue in
  order, one edit at a time, and renders each card from the task *as it stands* when it
  is sent; a card whose mark was cleared meanwhile (a click's own edit showed it) is not
  sent at all. The truth is in the database (the card's mark, set with the change): a
  crash loses nothing, the sweep's card repair sends what is still marked.
- The budget is Discord's own word: discord.py's `http_trace` (a public option) lets the
  pacer read each answer's `X-RateLimit-Remaining`/`-Reset-After`; a channel with none
  left waits for the reset *before* rendering its next card. discord.py's own bucket
  handling stays the backstop; nothing here retries a 429.

The member's answer never waits here: the interaction's reply is sent first
(`publish.py`), and a card that must wait is queued, not awaited.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Final

import aiohttp
import discord

from bot import i18n
from bot.domain.errors import DomainError
from bot.services.registry import Services
from bot.services.views import TaskView
from bot.ui import language
from bot.ui.cards import card_view, task_embed
from bot.ui.publish import CardChannel

log = logging.getLogger("peerboard.pacer")

# Network failures beside discord.HTTPException (as publish.TRANSIENT).
_TRANSIENT: Final = (aiohttp.ClientError, TimeoutError, OSError)
# A message edit or post in a channel: the routes whose budget is per channel.
_MESSAGES: Final = re.compile(r"/channels/(\d+)/messages(?:/\d+)?$")
# How long a bot's close waits for queued cards before leaving them to the sweep.
DRAIN_ON_CLOSE: Final = 10.0

CardKey = tuple[int, int]  # (guild id, task number)


@dataclass(slots=True)
class Budget:
    """What Discord said of a channel's bucket in its last answer."""

    remaining: int
    reset_at: float  # loop time


class Budgets:
    """Per channel and method, the rate-limit headers of Discord's last answer, read
    through an aiohttp `TraceConfig` (discord.py's `http_trace` option)."""

    def __init__(self, clock: Callable[[], float] | None = None) -> None:
        self._clock = clock
        self._known: dict[tuple[str, int], Budget] = {}

    def now(self) -> float:
        return self._clock() if self._clock else asyncio.get_running_loop().time()

    def trace_config(self) -> aiohttp.TraceConfig:
        trace = aiohttp.TraceConfig()
        trace.on_request_end.append(self._on_request_end)
        return trace

    async def _on_request_end(
        self,
        _session: aiohttp.ClientSession,
        _ctx: SimpleNamespace,
        params: aiohttp.TraceRequestEndParams,
    ) -> None:
        self.record(params.method, params.url.path, params.response.headers)

    def record(self, method: str, path: str, headers: Mapping[str, str]) -> None:
        found = _MESSAGES.search(path)
        if found is None:
            return
        remaining = headers.get("X-RateLimit-Remaining")
        reset_after = headers.get("X-RateLimit-Reset-After")
        if remaining is None or reset_after is None:
            return  # no word on this bucket (SimCord, or a route without one)
        try:
            budget = Budget(int(remaining), self.now() + float(reset_after))
        except ValueError:
            return
        self._known[(method.upper(), int(found.group(1)))] = budget

    def scarce(self, method: str, channel_id: int) -> bool:
        """One request or none left before the reset: discord.py holds the request that
        takes the last one until the bucket resets, so it is the pacer's worker's to send."""
        budget = self._known.get((method, channel_id))
        return budget is not None and budget.remaining <= 1 and budget.reset_at > self.now()

    def wait_for(self, method: str, channel_id: int) -> float:
        """Seconds until the channel's bucket has room (0: send now)."""
        budget = self._known.get((method, channel_id))
        if budget is None or budget.remaining > 0:
            return 0.0
        return max(budget.reset_at - self.now(), 0.0)


class CardPacer:
    def __init__(
        self,
        client: discord.Client,
        services: Services,
        budgets: Budgets | None = None,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.client = client
        self.services = services
        self.budgets = budgets or Budgets()
        self._sleep = sleep
        self._queues: dict[int, dict[CardKey, bool]] = {}  # channel → card → forced
        self._locks: dict[int, asyncio.Lock] = {}
        self._workers: dict[int, asyncio.Task[None]] = {}
        self._sent: dict[CardKey, int] = {}  # the version the pacer last showed
        self._in_flight: dict[CardKey, int] = {}
        self.edits = 0  # card edits sent (the operator's and the benchmark's count)
        self.skipped = 0  # queued edits not needed when their turn came

    # -- what publish, the notifier and card repair call --------------------------------

    async def update(self, task: TaskView) -> bool:
        """Show `task` on its card: at once when its channel is idle (whether Discord took
        it), else queued behind the channel's other cards (False: the worker shows it and
        clears its mark)."""
        channel_id = task.card_channel_id
        if not (channel_id and task.card_message_id):
            return False
        lock = self._lock(channel_id)
        if lock.locked() or self._queues.get(channel_id) or self._waiting(channel_id):
            self._enqueue(channel_id, (task.guild_id, task.number))
            return False
        async with lock:
            return await self._send(task)

    @asynccontextmanager
    async def turn(self, task: TaskView) -> AsyncIterator[None]:
        """The sweep's repair edits (or re-posts) the card inside this block: in its
        channel's turn, after the budget's reset if Discord said there is none left. A
        queued copy of the card is not sent again."""
        channel_id = task.card_channel_id or 0
        self._queues.get(channel_id, {}).pop((task.guild_id, task.number), None)
        async with self._lock(channel_id):
            await self._pause(channel_id)
            yield
            self.edits += 1

    def shown_by_interaction(self, task: TaskView) -> None:
        """A click edited the card through its interaction, showing `task`. Were a newer
        state sent (or being sent) by the pacer meanwhile, the click's older one may have
        landed last: send the card again, as it stands."""
        key = (task.guild_id, task.number)
        newer = max(self._sent.get(key, -1), self._in_flight.get(key, -1))
        if newer > task.version and task.card_channel_id:
            self._enqueue(task.card_channel_id, key, force=True)

    def queued(self) -> int:
        return sum(len(q) for q in self._queues.values())

    async def idle(self) -> None:
        """Wait until every queued card was sent (or given up to the sweep)."""
        while self._workers:
            await asyncio.gather(*self._workers.values(), return_exceptions=True)

    async def close(self) -> None:
        """Drain what is queued for a while; what is left stays marked for the sweep."""
        try:
            async with asyncio.timeout(DRAIN_ON_CLOSE):
                await self.idle()
        except TimeoutError:
            log.warning("%d card edits left to the sweep at shutdown", self.queued())
        for worker in list(self._workers.values()):
            worker.cancel()
        await asyncio.gather(*self._workers.values(), return_exceptions=True)
        self._queues.clear()

    # -- inside -------------------------------------------------------------------------

    def _lock(self, channel_id: int) -> asyncio.Lock:
        lock = self._locks.get(channel_id)
        if lock is None:
            lock = self._locks[channel_id] = asyncio.Lock()
        return lock

    def _waiting(self, channel_id: int) -> bool:
        return self.budgets.scarce("PATCH", channel_id)

    def _enqueue(self, channel_id: int, key: CardKey, *, force: bool = False) -> None:
        queue = self._queues.setdefault(channel_id, {})
        queue[key] = queue.get(key, False) or force
        if channel_id not in self._workers:
            worker = asyncio.create_task(self._drain(channel_id), name=f"pacer-{channel_id}")
            self._workers[channel_id] = worker

    async def _drain(self, channel_id: int) -> None:
        try:
            await self._drain_queue(channel_id)
        finally:  # before the task ends: a card queued later starts a new worker
            self._queues.pop(channel_id, None)
            if self._workers.get(channel_id) is asyncio.current_task():
                del self._workers[channel_id]

    async def _drain_queue(self, channel_id: int) -> None:
        queue = self._queues.setdefault(channel_id, {})
        lock = self._lock(channel_id)
        while queue:
            async with lock:
                await self._pause(channel_id)
                if not queue:
                    break
                key = next(iter(queue))
                forced = queue.pop(key)
                try:
                    task = await self._current(key, forced=forced)
                except Exception:  # the card stays marked for the sweep
                    log.warning("could not read #%s for its card", key[1], exc_info=True)
                    continue
                if task is None:
                    self.skipped += 1
                    continue
                if await self._send(task):
                    await self._shown(task)

    async def _pause(self, channel_id: int) -> None:
        wait = self.budgets.wait_for("PATCH", channel_id)
        if wait > 0:  # Discord said so: wait for the bucket's reset, once
            await self._sleep(wait)

    async def _current(self, key: CardKey, *, forced: bool) -> TaskView | None:
        """The task as it stands, if its card still needs it (its mark is set)."""
        if forced:
            try:
                return await self.services.tasks.show(*key)
            except DomainError:
                return None  # deleted since
        return await self.services.cards.owed(*key)

    async def _shown(self, task: TaskView) -> None:
        try:
            await self.services.cards.shown(task)
        except Exception:  # the mark stays; the sweep edits it once more
            log.warning("could not clear the card mark of #%s", task.number, exc_info=True)

    async def _send(self, task: TaskView) -> bool:
        assert task.card_channel_id
        where = await self._channel(task.card_channel_id)
        if not isinstance(where, CardChannel):
            return False
        try:
            # The guild's language (its config is cached: no trip to the database).
            config = await self.services.config.get(task.guild_id)
        except Exception:  # the card stays marked for the sweep
            log.warning(
                "could not read the settings for the card of #%s", task.number, exc_info=True
            )
            return False
        tr = language.public(config, self.client.get_guild(task.guild_id))
        try:
            await self._edit(tr, where, task)
        except (discord.HTTPException, *_TRANSIENT):
            log.warning("could not edit the card of #%s", task.number, exc_info=True)
            return False
        return True

    async def _edit(self, tr: i18n.Texts, where: CardChannel, task: TaskView) -> None:
        assert task.card_message_id
        key = (task.guild_id, task.number)
        self._in_flight[key] = task.version
        try:
            await where.get_partial_message(task.card_message_id).edit(
                embed=task_embed(tr, task), view=card_view(tr, task)
            )
            self.edits += 1
            self._sent[key] = max(self._sent.get(key, -1), task.version)
        finally:
            self._in_flight.pop(key, None)

    async def _channel(self, channel_id: int) -> object:
        found = self.client.get_channel(channel_id)
        if found is None:
            try:
                return await self.client.fetch_channel(channel_id)
            except (discord.HTTPException, *_TRANSIENT):
                return None
        return found
