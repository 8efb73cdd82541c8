"""The Discord client and how it is put together. The CLI (composition root) calls
`build_services` and `build_bot`; tests and the demo call the same functions."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from dataclasses import dataclass
from typing import Any

import discord
import yarl
from discord.ext import commands
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.cogs.config import ConfigCog
from bot.cogs.digest import DigestCog
from bot.cogs.me import MeCog
from bot.cogs.recognition import RecognitionCog
from bot.cogs.tasks import TasksCog
from bot.db.engine import create_engine, create_session_factory
from bot.db.uow import Database
from bot.jobs.digest import DigestReport, post_due_digests, reschedule, schedule_all
from bot.jobs.scheduler import build_scheduler
from bot.jobs.sweep import SweepReport, deliver_pending, sweep
from bot.services.clock import Clock, SystemClock
from bot.services.config import ConfigService
from bot.services.digest import DigestService
from bot.services.recognition import RecognitionService
from bot.services.registry import Services
from bot.services.reminders import ReminderService
from bot.services.tasks import TaskService
from bot.ui.components import TaskButton
from bot.ui.errors import PeerTree

log = logging.getLogger("peerboard")

COGS = (TasksCog, ConfigCog, MeCog, RecognitionCog, DigestCog)
# How long close() lets background work (a delivery round, a digest check) finish.
SHUTDOWN_GRACE = 5.0


@dataclass
class Runtime:
    engine: AsyncEngine
    services: Services

    async def close(self) -> None:
        await self.engine.dispose()


def build_services(database_url: str, clock: Clock | None = None) -> Runtime:
    engine = create_engine(database_url)
    db = Database(create_session_factory(engine))
    clock = clock or SystemClock()
    config = ConfigService(db, clock)
    tasks = TaskService(db, clock, config=config)
    services = Services(
        tasks=tasks,
        config=config,
        reminders=ReminderService(db, clock, tasks),
        recognition=RecognitionService(db, clock, config=config),
        digest=DigestService(db, clock),
        clock=clock,
    )
    return Runtime(engine, services)


class PeerBot(commands.Bot):
    def __init__(
        self,
        services: Services,
        *,
        dev_guild_id: int | None = None,
        sweep_interval: int = 60,
        dm_per_minute: int = 20,
        scheduler: bool = True,
        freeze_heap: bool = False,
    ) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=discord.Intents.default(),  # no privileged intents
            allowed_mentions=discord.AllowedMentions.none(),  # opt in per message
            tree_cls=PeerTree,
            help_command=None,
        )
        self.services = services
        self.dev_guild_id = dev_guild_id
        self.synced: bool | None = None  # whether the last start pushed commands to Discord
        self.sweep_interval = sweep_interval
        # DMs are paced to respect Discord's rules on opening DMs: a budget per sweep.
        self.dm_budget = max(1, dm_per_minute * sweep_interval // 60)
        self.use_scheduler = scheduler
        self.scheduler: Any = None
        self._delivering = asyncio.Lock()
        self._background: set[asyncio.Task[Any]] = set()
        self._freeze_heap = freeze_heap  # `peerboard run`; not in tests, which start many bots
        self._heap_frozen = False
        # -- weekly digest (bot/jobs/digest.py) --
        self._digesting = asyncio.Lock()
        self.digest_publisher: Any = None

    async def setup_hook(self) -> None:
        for cog in COGS:
            await self.add_cog(cog(self))
        self.add_dynamic_items(TaskButton)
        self.synced = await sync_if_changed(self.tree, self.dev_guild_id)
        from bot.ui.notifier import DiscordNotifier

        self.notifier = DiscordNotifier(self)
        # -- weekly digest: the publisher, and its check on every sweep --
        from bot.ui.digest import DiscordDigestPublisher

        self.digest_publisher = DiscordDigestPublisher(self)
        if self.use_scheduler:
            self.scheduler = build_scheduler(self._scheduled_sweep, self.sweep_interval)
            self.scheduler.start()
            # -- weekly digest: one cron job per guild, and a late digest posted at start-up --
            await schedule_all(self.scheduler, self.services, self._run_guild_digest)
            self._spawn(self._digests_quietly())

    async def on_ready(self) -> None:
        if self._freeze_heap and not self._heap_frozen:
            self.freeze_startup_heap()

    def freeze_startup_heap(self) -> None:
        """Keep full garbage collections short. What the client cached at login (guilds,
        channels, tens of thousands of members) lives as long as the process, yet every
        full collection walked all of it: 100 ms pauses at 10,000 members, each landing on
        some member's interaction. Frozen once, after the caches fill, the collector leaves
        it alone (gc.freeze; cyclic garbage made later is still collected)."""
        gc.collect()
        gc.freeze()
        self._heap_frozen = True
        log.debug("froze %d startup objects out of the garbage collector", gc.get_freeze_count())

    async def close(self) -> None:
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)  # also cancels a sweep in flight
        background = [t for t in self._background if t is not asyncio.current_task()]
        # Background work (a delivery round, the start-up digest check) is short: let it
        # finish rather than cut a transaction in half, which leaves the pool rolling
        # back a connection inside a cancelled task (an error in the log at every stop).
        # What is still running after the grace period is cancelled.
        _done, pending = (
            await asyncio.wait(background, timeout=SHUTDOWN_GRACE) if background else ((), ())
        )
        for task in pending:
            task.cancel()
        # Let cancelled work unwind (roll back, give its connection back) before the caller
        # disposes the engine: a task cancelled mid-query after that waits forever, and the
        # process never exits.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(10):
                await asyncio.gather(*pending, return_exceptions=True)
                async with self._delivering, self._digesting:
                    pass
        await super().close()

    async def run_sweep(self) -> SweepReport:
        """Enqueue what is due and deliver it. Also what APScheduler runs."""
        assert self.user is not None
        async with self._delivering:
            return await sweep(
                self.services, self.notifier, bot_id=self.user.id, dm_budget=self.dm_budget
            )

    # -- weekly digest ---------------------------------------------------------------------------

    async def run_digests(self, guild_ids: frozenset[int] | None = None) -> DigestReport:
        """Post every digest that is due now (at most a day late), each once."""
        async with self._digesting:
            return await post_due_digests(self.services, self.digest_publisher, guild_ids=guild_ids)

    async def reschedule_digest(self, guild_id: int) -> None:
        """Rebuild the guild's digest job after /config digest. Without a scheduler (tests,
        the demo) the check on every sweep reads the new settings anyway."""
        if self.scheduler is None:
            return
        try:
            await reschedule(self.scheduler, self.services, guild_id, self._run_guild_digest)
        except Exception:  # the settings are saved; the sweep's check still covers the digest
            log.exception("could not reschedule the digest of guild %s", guild_id)

    async def _run_guild_digest(self, guild_id: int) -> DigestReport:
        return await self.run_digests(frozenset({guild_id}))

    async def _digests_quietly(self) -> None:
        try:
            await self.run_digests()
        except asyncio.CancelledError:
            raise
        except Exception:  # a failed check must not stop the sweep; the next one retries
            log.exception("digest check failed")

    async def _scheduled_sweep(self) -> SweepReport:
        """What APScheduler runs every interval: reminders, then the digest check."""
        try:
            return await self.run_sweep()
        finally:
            await self._digests_quietly()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # -- end weekly digest -----------------------------------------------------------------------

    def kick_deliveries(self) -> None:
        """Deliver what an interaction just enqueued, without waiting for the next sweep."""

        async def run() -> None:
            async with self._delivering:
                await deliver_pending(self.services, self.notifier, dm_budget=self.dm_budget)

        task = asyncio.create_task(run())
        self._background.add(task)
        task.add_done_callback(self._background.discard)


def build_bot(services: Services, **options: Any) -> PeerBot:
    return PeerBot(services, **options)


# -- command sync ----------------------------------------------------------------------------

_OPTION_KEYS = (
    "type",
    "name",
    "description",
    "required",
    "autocomplete",
    "min_value",
    "max_value",
    "min_length",
    "max_length",
)


def _given(value: Any) -> Any:
    """Absent, null, false and "" mean the same to Discord; 0 (e.g. min_value=0) does not."""
    return None if value is None or value is False or value == "" else value


def _norm_option(option: dict[str, Any]) -> dict[str, Any]:
    out = {k: _given(option.get(k)) for k in _OPTION_KEYS}
    out["choices"] = (
        sorted((c["name"], str(c["value"])) for c in option.get("choices") or []) or None
    )
    out["channel_types"] = sorted(option.get("channel_types") or []) or None
    out["options"] = [_norm_option(o) for o in option.get("options") or []] or None
    return out


def normalise_commands(payload: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What Discord keeps of a command, in a form that compares equal across fetch and build."""
    result = []
    for cmd in payload:
        perms = cmd.get("default_member_permissions")
        result.append(
            {
                "name": cmd["name"],
                "type": cmd.get("type", 1),
                "description": cmd.get("description", ""),
                "default_member_permissions": str(perms) if perms not in (None, "") else None,
                "options": [_norm_option(o) for o in cmd.get("options") or []] or None,
            }
        )
    return sorted(result, key=lambda c: (c["type"], c["name"]))


def _fetched_payload(cmd: discord.app_commands.AppCommand) -> dict[str, Any]:
    # AppCommand.to_dict() leaves default_member_permissions out; without it a command
    # hidden behind Manage Server (/config) never compares equal, and every start re-syncs.
    payload: dict[str, Any] = dict(cmd.to_dict())
    perms = cmd.default_member_permissions
    payload["default_member_permissions"] = perms.value if perms is not None else None
    return payload


async def sync_if_changed(
    tree: discord.app_commands.CommandTree[Any], dev_guild_id: int | None
) -> bool:
    """Sync only when the command set differs from what Discord has: syncing is rate
    limited, and a global sync takes a while to reach every client."""
    guild = discord.Object(dev_guild_id) if dev_guild_id else None
    if guild is not None:
        tree.copy_global_to(guild=guild)
    local = normalise_commands([c.to_dict(tree) for c in tree.get_commands(guild=guild)])
    try:
        remote_cmds = await tree.fetch_commands(guild=guild)
        remote = normalise_commands([_fetched_payload(c) for c in remote_cmds])
    except discord.HTTPException:
        remote = None
    if remote == local:
        log.info("commands unchanged; not syncing")
        return False
    await tree.sync(guild=guild)
    log.info(
        "synced %d commands %s", len(local), f"to guild {dev_guild_id}" if guild else "globally"
    )
    return True


# -- where Discord is ------------------------------------------------------------------------


def point_discord_at(api_base: str, gateway: str) -> None:
    """discord.py has no constructor option for these; both are read from class attributes
    when a request or a connection is made."""
    discord.http.Route.BASE = api_base.rstrip("/")
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway.rstrip("/") + "/")


# Exactly what the bot uses (SPEC §7): reading and posting in channels and threads,
# embeds, threads for task discussion, attachments for exports, and roles for milestones.
INVITE_PERMISSIONS = discord.Permissions(
    view_channel=True,
    send_messages=True,
    send_messages_in_threads=True,
    create_public_threads=True,
    embed_links=True,
    attach_files=True,
    read_message_history=True,
    manage_roles=True,
)


def invite_url(client_id: int) -> str:
    return discord.utils.oauth_url(
        client_id, permissions=INVITE_PERMISSIONS, scopes=("bot", "applications.commands")
    )
