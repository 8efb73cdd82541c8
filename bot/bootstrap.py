"""The composition root: settings → engine → services → bot, built here and passed
down; nothing is built at import time. `peerboard run`, the demo and the tests all
build the bot with these functions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import event
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import PeerBot, ShardedPeerBot
from bot.db.dialect import DEFAULT_SYNCHRONOUS
from bot.db.engine import create_engine, create_session_factory
from bot.db.uow import Database
from bot.domain.shards import Shards
from bot.github.rest import GitHubClient
from bot.jobs.background import JobOptions
from bot.ops.metrics import Metrics
from bot.ops.server import HttpOptions
from bot.services.cards import CardService
from bot.services.clock import Clock, SystemClock
from bot.services.config import ConfigService
from bot.services.digest import DigestService
from bot.services.export import ExportService
from bot.services.github import GitHubService, IssueSource, WebhookService
from bot.services.health import HealthService
from bot.services.languages import LanguageService
from bot.services.recognition import RecognitionService
from bot.services.registry import Services
from bot.services.reminders import ReminderService
from bot.services.reminders.service import LEASE
from bot.services.tasks import TaskService
from bot.settings import Settings


@dataclass
class Runtime:
    engine: AsyncEngine
    services: Services
    github: GitHubClient | None = None  # closed with the runtime

    async def close(self) -> None:
        if self.github is not None:
            await self.github.close()
        await self.engine.dispose()

    def count_errors(self, metrics: Metrics) -> None:
        """Count every error the database driver raises (peerboard_database_errors)."""

        def counted(_context: ExceptionContext) -> None:
            metrics.database_errors.inc()

        event.listen(self.engine.sync_engine, "handle_error", counted)


def build_services(
    database_url: str,
    clock: Clock | None = None,
    *,
    synchronous: str = DEFAULT_SYNCHRONOUS,
    delivery_lease: timedelta = LEASE,
    public_url: str | None = None,
    github: IssueSource | None = None,
) -> Runtime:
    """`github`: GitHub's REST API for /task import-github (a `GitHubClient`, which the
    runtime closes); `public_url`: the base of the webhook URLs shown."""
    engine = create_engine(database_url, synchronous=synchronous)
    db = Database(create_session_factory(engine))
    clock = clock or SystemClock()
    config = ConfigService(db, clock)
    tasks = TaskService(db, clock, config=config)
    services = Services(
        tasks=tasks,
        config=config,
        reminders=ReminderService(db, clock, tasks, lease=delivery_lease),
        recognition=RecognitionService(db, clock, config=config),
        digest=DigestService(db, clock),
        clock=clock,
        health=HealthService(db),
        export=ExportService(db, clock),
        cards=CardService(db, clock, tasks),
        github=GitHubService(db, clock, tasks, public_url=public_url, source=github),
        webhooks=WebhookService(db, clock, tasks),
        languages=LanguageService(db, clock),
    )
    return Runtime(engine, services, github if isinstance(github, GitHubClient) else None)


def build_bot(
    services: Services,
    *,
    dev_guild_id: int | None = None,
    sweep_interval: int = 60,
    dm_per_minute: int = 20,
    scheduler: bool = True,
    freeze_heap: bool = False,
    http: HttpOptions | None = None,
    shards: Shards | None = None,
    guild_ready_timeout: float | None = None,
) -> PeerBot:
    """`shards`: run as an AutoShardedBot for those shards, and work only for their guilds;
    None: one unsharded process for every guild, as before sharding.
    `guild_ready_timeout`: discord.py's wait after READY for the guilds' GUILD_CREATEs
    (None: its default, 2 s)."""
    jobs = JobOptions(
        sweep_interval=sweep_interval, dm_per_minute=dm_per_minute, scheduler=scheduler
    )
    cls = PeerBot if shards is None else ShardedPeerBot
    return cls(
        services,
        jobs,
        dev_guild_id=dev_guild_id,
        freeze_heap=freeze_heap,
        http=http,
        shards=shards,
        guild_ready_timeout=guild_ready_timeout,
    )


def build(settings: Settings) -> tuple[Runtime, PeerBot]:
    """What `peerboard run` serves: the services on the configured database, and the bot."""
    runtime = build_services(
        settings.database_url_value(),
        synchronous=settings.sqlite_synchronous,
        delivery_lease=timedelta(seconds=settings.delivery_lease_seconds),
        public_url=settings.public_url,
        github=GitHubClient(settings.github_api_base, settings.github_token),
    )
    bot = build_bot(
        runtime.services,
        dev_guild_id=settings.dev_guild_id,
        sweep_interval=settings.sweep_interval_seconds,
        dm_per_minute=settings.dm_per_minute,
        freeze_heap=True,
        shards=settings.shards(),
        http=(
            HttpOptions(settings.http_host, settings.http_port)
            if settings.http_port is not None
            else None
        ),
    )
    runtime.count_errors(bot.metrics)
    return runtime, bot
