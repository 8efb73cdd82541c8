"""The Discord client: `PeerBot` wires the cogs, the card buttons, command sync and the
background jobs around itself. It is built by the composition root (`bot/bootstrap.py`),
which `peerboard run`, the demo and the tests share."""

from __future__ import annotations

import asyncio
import gc
import logging
from typing import Any, Final

import discord
import yarl
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from discord.ext import commands

from bot.cogs.config import ConfigCog
from bot.cogs.digest import DigestCog
from bot.cogs.export import ExportCog
from bot.cogs.me import MeCog
from bot.cogs.recognition import RecognitionCog
from bot.cogs.tasks import TasksCog
from bot.domain.shards import Shards
from bot.jobs.background import BackgroundJobs, JobOptions
from bot.jobs.digest import DigestReport
from bot.jobs.sweep import SweepReport
from bot.ops.server import HttpOptions, OpsServer, Probes
from bot.ops.webhooks import PATH, GitHubHook
from bot.services.registry import Services
from bot.sync import sync_if_changed
from bot.ui.actions import TaskActions
from bot.ui.cardsync import DiscordCards
from bot.ui.client import PeerClient
from bot.ui.commandtext import CommandTranslator
from bot.ui.components import TaskButton, on_form
from bot.ui.digest import DiscordDigestPublisher
from bot.ui.forge import ForgeWorker
from bot.ui.notifier import DiscordNotifier
from bot.ui.pacer import Budgets, CardPacer

log = logging.getLogger("peerboard")

# Members' locales being stored at once, at most: past it, a member's is stored at their
# next interaction instead (a burst of new members must not grow tasks without bound).
LOCALE_WRITES_MAX: Final = 256


class PeerBot(PeerClient):
    def __init__(
        self,
        services: Services,
        jobs: JobOptions,
        *,
        dev_guild_id: int | None = None,
        freeze_heap: bool = False,
        http: HttpOptions | None = None,
        shards: Shards | None = None,
        guild_ready_timeout: float | None = None,
    ) -> None:
        # Sharded (ShardedPeerBot): IDENTIFY carries each shard of `shards`; the jobs work
        # only for the guilds of those shards.
        options: dict[str, Any] = (
            {"shard_count": shards.count, "shard_ids": sorted(shards.ids)} if shards else {}
        )
        if guild_ready_timeout is not None:  # discord.py's own default (2 s) otherwise
            options["guild_ready_timeout"] = guild_ready_timeout
        budgets = Budgets()  # Discord's rate-limit headers, read through http_trace
        super().__init__(services, http_trace=budgets.trace_config(), **options)
        self.pacer: CardPacer = CardPacer(self, services, budgets)
        self.served = shards  # (not `shards`: AutoShardedClient has that)
        self.dev_guild_id = dev_guild_id
        self.synced: bool | None = None  # whether the last start pushed commands to Discord
        self.notifier = DiscordNotifier(self)
        self.jobs = BackgroundJobs(
            services,
            self.notifier,
            DiscordDigestPublisher(self),
            self._bot_id,
            jobs,
            self.metrics,
            cards=DiscordCards(self),
            shards=shards,
        )
        # The operator's view (PEERBOARD_HTTP_PORT): started at login, stopped at close.
        self.metrics.watch_latency(lambda: self.latency)
        probes = Probes(self.not_ready, services.health.ping, self._refresh_metrics)
        # GitHub's deliveries: answered by the server, handled after, in the background.
        self.forge = ForgeWorker(self)
        hook = GitHubHook(services.webhooks, self.forge.accept)
        routes = [("POST", PATH, hook.post)]
        self.ops: OpsServer | None = OpsServer(http, self.metrics, probes, routes) if http else None
        self._resumed = False
        self._gateway_up = False  # READY or RESUMED seen, and no disconnect since
        self._closing = False
        self.deliveries = self.jobs
        self.actions = TaskActions(self)
        self.controller = self.actions
        self._freeze_heap = freeze_heap  # `peerboard run`; not in tests, which start many bots
        self._heap_frozen = False
        # (guild, member) -> the task storing the Discord locale they last interacted in.
        self._locale_writes: dict[tuple[int, int], asyncio.Task[None]] = {}

    def cogs_to_load(self) -> list[commands.Cog]:
        return [
            TasksCog(self, self.actions),
            ConfigCog(self, self.jobs),
            MeCog(self),
            RecognitionCog(self),
            DigestCog(self, self.jobs),
            ExportCog(self),
        ]

    async def setup_hook(self) -> None:
        if self.ops is not None:
            await self.ops.start()  # /healthz answers while the bot connects
        for cog in self.cogs_to_load():
            await self.add_cog(cog)
        self.add_dynamic_items(TaskButton)
        self.add_listener(on_form, "on_interaction")  # forms, answered from their custom_id
        self.add_listener(self.note_locale, "on_interaction")  # their DMs' language
        await self.tree.set_translator(CommandTranslator())  # the picker in every language
        self.synced = await sync_if_changed(self.tree, self.dev_guild_id)
        await self.jobs.start()

    async def on_ready(self) -> None:
        self._gateway_up = True
        self.metrics.gateway("ready")
        if self._freeze_heap and not self._heap_frozen:
            self.freeze_startup_heap()
        # Said before anything this handler awaits: the gateway has sent every guild now,
        # whatever the resumed deliveries below take.
        log.info("%s", ready_line(len(self.guilds), self.served))
        if not self._resumed:  # deliveries a stopped process recorded and never handled
            self._resumed = True
            await self.forge.resume()

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

    # -- the operator's view ------------------------------------------------------------

    async def on_connect(self) -> None:
        self.metrics.gateway("connect")

    async def on_resumed(self) -> None:
        self._gateway_up = True
        self.metrics.gateway("resume")

    async def on_disconnect(self) -> None:
        self._gateway_up = False
        self.metrics.gateway("disconnect")

    # -- members' languages ----------------------------------------------------------------

    async def note_locale(self, interaction: discord.Interaction) -> None:
        """Every interaction in a guild (a command, a button, a form, an autocomplete):
        remember the member's Discord locale for their DMs. Nearly always the locale is the
        one already known and nothing happens; else it is stored in the background, never
        in the way of the member's answer."""
        guild_id = interaction.guild_id
        if guild_id is None:
            return
        key = (guild_id, interaction.user.id)
        locale = str(interaction.locale)
        if key in self._locale_writes or self.services.languages.known(*key, locale):
            return
        if len(self._locale_writes) >= LOCALE_WRITES_MAX:
            log.debug(
                "locale of member %s not stored now: %d writes pending",
                key[1],
                len(self._locale_writes),
            )
            return
        task = asyncio.create_task(self._store_locale(key, locale))
        self._locale_writes[key] = task
        task.add_done_callback(lambda _done: self._locale_writes.pop(key, None))

    async def _store_locale(self, key: tuple[int, int], locale: str) -> None:
        try:
            await self.services.languages.seen(*key, locale)
        except Exception:  # a lost locale costs a DM's language, never an answer
            log.warning(
                "could not store the locale of member %s in guild %s", key[1], key[0], exc_info=True
            )

    async def locales_stored(self) -> None:
        """Wait for the members' locales being stored (at close; and for tests)."""
        if self._locale_writes:
            await asyncio.gather(*self._locale_writes.values(), return_exceptions=True)

    async def on_app_command_completion(
        self, interaction: discord.Interaction, _command: object
    ) -> None:
        self.error_handler.record(interaction)  # ok, or refused (a refusal is an answer)

    def not_ready(self) -> str | None:
        """Why the bot cannot serve members now (/readyz), or None when it can."""
        if self._closing or self.is_closed():
            return "shutting down"
        if not self.is_ready():
            return "not connected to the Discord gateway yet"
        if not self._gateway_up:
            return "disconnected from the Discord gateway; reconnecting"
        return None

    async def _refresh_metrics(self) -> None:
        # Of this process's guilds only: each process of a sharded bot has its own /metrics.
        health, cards = self.services.health, self.services.cards
        self.metrics.set_deliveries(await health.delivery_counts(self.served))
        self.metrics.card_edits_pending.set(await cards.pending(self.served))

    async def close(self) -> None:
        self._closing = True
        try:
            if self.ops is not None:
                await self.ops.stop()  # no more deliveries; those accepted are finished
            await self.forge.drain()
            await self.locales_stored()
            await self.pacer.close()  # queued cards drained; what is left stays marked
            await self.jobs.close()
            await super().close()
        finally:
            if self.ops is not None:
                await self.ops.stop()

    def _bot_id(self) -> int:
        assert self.user is not None  # the jobs run once the bot has logged in
        return self.user.id

    # What tests and the demo drive by hand, as the scheduler would.

    @property
    def scheduler(self) -> AsyncIOScheduler | None:
        return self.jobs.scheduler

    async def run_sweep(self) -> SweepReport:
        return await self.jobs.run_sweep()

    async def run_digests(self, guild_ids: frozenset[int] | None = None) -> DigestReport:
        return await self.jobs.run_digests(guild_ids)


class ShardedPeerBot(PeerBot, commands.AutoShardedBot):  # type: ignore[misc]
    """PeerBot as discord.py's AutoShardedBot, for the shards of PEERBOARD_SHARD_IDS of
    PEERBOARD_SHARD_COUNT (docs/scaling.md). commands.Bot adds nothing of its own to
    BotBase and Client, so AutoShardedClient's connection, shards and latency are what
    this class runs."""


def ready_line(guilds: int, shards: Shards | None) -> str:
    """What `peerboard run` logs once the gateway has sent every guild: the operator's (and
    the benchmark's) sign that the process serves its guilds."""
    served = f"{guilds:,} guild{'' if guilds == 1 else 's'}"
    if shards is None:
        return f"ready: serving {served}"
    ids = ", ".join(map(str, sorted(shards.ids)))
    return f"ready: serving {served} on shard{'' if len(shards.ids) == 1 else 's'} {ids} of {shards.count}"


# -- where Discord is ------------------------------------------------------------------------


def point_discord_at(api_base: str, gateway: str) -> None:
    """discord.py has no constructor option for these; both are read from class attributes
    when a request or a connection is made."""
    discord.http.Route.BASE = api_base.rstrip("/")
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway.rstrip("/") + "/")


# Exactly what the bot uses (SPEC §7): reading and posting in channels and threads,
# embeds, threads for task discussion, attachments for exports, roles for milestones, and
# Mention Everyone: without it Discord drops the bot's pings of roles that are not
# mentionable (its default), so "ready for review" and the escalation to maintainers
# would reach nobody. The bot never lets member text ping (allowed_mentions is none by
# default and names only the role it means); it never pings @everyone or @here.
INVITE_PERMISSIONS = discord.Permissions(
    view_channel=True,
    send_messages=True,
    send_messages_in_threads=True,
    create_public_threads=True,
    embed_links=True,
    attach_files=True,
    read_message_history=True,
    manage_roles=True,
    mention_everyone=True,
)


def invite_url(client_id: int) -> str:
    return discord.utils.oauth_url(
        client_id, permissions=INVITE_PERMISSIONS, scopes=("bot", "applications.commands")
    )
