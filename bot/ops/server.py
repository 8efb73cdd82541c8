"""The operator's HTTP server, beside the bot in its process and event loop (aiohttp):

- `GET /healthz`: 200 while the process and the database answer; 503 with a JSON reason
  when the database does not.
- `GET /readyz`: 200 only while the bot is connected to the gateway and ready; 503 with a
  JSON reason otherwise (starting, disconnected, shutting down).
- `GET /metrics`: Prometheus' text format (bot/ops/metrics.py), the delivery counts read
  from the database at each scrape.

- `POST /webhooks/github/<guild id>`: GitHub's deliveries (bot/ops/webhooks.py).

Started by `PeerBot` when PEERBOARD_HTTP_PORT is set (port 0: any free port, see `port`)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Final

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from bot.ops.metrics import Metrics

log = logging.getLogger("peerboard.ops")

# A health check that waits longer than this is a failed one (probes time out too).
PING_TIMEOUT: Final = 2.0


class CannotListen(Exception):
    """The operator's server cannot bind its address: said in one line at start."""


@dataclass(frozen=True, slots=True)
class HttpOptions:
    host: str = "127.0.0.1"
    port: int = 0


@dataclass(frozen=True, slots=True)
class Probes:
    """What the server asks the bot: why it is not ready (None: ready), whether the
    database answers (raises if not), and the figures read at scrape time."""

    not_ready: Callable[[], str | None]
    ping: Callable[[], Awaitable[None]]
    refresh: Callable[[], Awaitable[None]]


# A route more (GitHub's webhook, bot/ops/webhooks.py): method, path, handler.
Route = tuple[str, str, Callable[[web.Request], Awaitable[web.StreamResponse]]]
MAX_BODY: Final = 1024 * 1024  # no request body is larger (aiohttp answers 413)


class OpsServer:
    def __init__(
        self,
        options: HttpOptions,
        metrics: Metrics,
        probes: Probes,
        routes: Sequence[Route] = (),
    ) -> None:
        self.options = options
        self.routes = tuple(routes)
        self.metrics = metrics
        self.probes = probes
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

    @property
    def port(self) -> int:
        """The bound port (the one asked for, or the one the system chose for port 0)."""
        assert self._port is not None, "the server is not started"
        return self._port

    @property
    def url(self) -> str:
        return f"http://{self.options.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._runner is not None

    async def start(self) -> None:
        if self._runner is not None:
            return
        app = web.Application(client_max_size=MAX_BODY)
        for method, path, handler in self.routes:
            app.router.add_route(method, path, handler)
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/readyz", self._readyz)
        app.router.add_get("/metrics", self._metrics)
        runner = web.AppRunner(app, access_log=None)  # a scrape every 15 s is not news
        await runner.setup()
        site = web.TCPSite(runner, self.options.host, self.options.port)
        try:
            await site.start()
        except OSError as err:  # the port is taken, the host is not this machine's
            await runner.cleanup()
            where = f"{self.options.host}:{self.options.port}"
            raise CannotListen(
                f"PEERBOARD_HTTP_PORT: cannot listen on {where} ({err.strerror or err})"
            ) from err
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self._port = int(runner.addresses[0][1])
        log.info("operator's view on %s (/healthz, /readyz, /metrics)", self.url)

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def _healthz(self, _request: web.Request) -> web.Response:
        try:
            async with asyncio.timeout(PING_TIMEOUT):
                await self.probes.ping()
        except Exception as err:
            # The details go to the log, not to whoever can reach the port.
            log.warning("health check: the database did not answer: %r", err)
            reason = f"the database did not answer ({type(err).__name__})"
            return web.json_response({"status": "unhealthy", "reason": reason}, status=503)
        return web.json_response({"status": "ok"})

    async def _readyz(self, _request: web.Request) -> web.Response:
        reason = self.probes.not_ready()
        if reason is not None:
            return web.json_response({"status": "not ready", "reason": reason}, status=503)
        return web.json_response({"status": "ready"})

    async def _metrics(self, _request: web.Request) -> web.Response:
        try:
            async with asyncio.timeout(PING_TIMEOUT):
                await self.probes.refresh()
        except Exception as err:  # the rest of the figures are still worth a scrape
            log.warning("metrics: could not read the delivery counts: %r", err)
        return web.Response(
            body=self.metrics.exposition(), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )
