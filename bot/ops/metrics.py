"""Peerboard's metrics, in one registry per bot (tests run several bots in one process;
the process-wide default registry would mix them). Exposed by bot/ops/server.py."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Final

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

# Discord wants an answer within 3 s: the buckets around that deadline are the ones to see.
LATENCY_BUCKETS: Final = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0)
SWEEP_BUCKETS: Final = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.interactions = Counter(
            "peerboard_interactions",
            "Interactions answered, by command (or button/form) and outcome: ok, refused, error.",
            ["command", "outcome"],
            registry=r,
        )
        self.interaction_seconds = Histogram(
            "peerboard_interaction_duration_seconds",
            "Time from an interaction's arrival to the end of its handling.",
            ["command"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.deliveries = Gauge(
            "peerboard_deliveries",
            "Notices in the delivery log, by kind and state (pending, sent, skipped, dead), "
            "read from the database at scrape time.",
            ["kind", "state"],
            registry=r,
        )
        self.card_edits_pending = Gauge(
            "peerboard_card_edits_pending",
            "Task cards owed an update Discord has not taken yet (repaired by the sweep), "
            "read from the database at scrape time.",
            registry=r,
        )
        self.sweep_seconds = Histogram(
            "peerboard_sweep_duration_seconds",
            "How long a reminder sweep (enqueue and deliver) took.",
            buckets=SWEEP_BUCKETS,
            registry=r,
        )
        self.digest_posts = Counter(
            "peerboard_digest_posts",
            "Weekly digests handled, by outcome: posted, failed, skipped (no channel).",
            ["outcome"],
            registry=r,
        )
        self.gateway_latency = Gauge(
            "peerboard_gateway_latency_seconds",
            "Latency of the gateway's heartbeat (NaN while not connected).",
            registry=r,
        )
        self.gateway_events = Counter(
            "peerboard_gateway_events",
            "Gateway connection events: connect, ready, resume, disconnect.",
            ["event"],
            registry=r,
        )
        self.gateway_reconnects = Counter(
            "peerboard_gateway_reconnects",
            "Connections after the first one: resumed sessions and new ones.",
            registry=r,
        )
        self.database_errors = Counter(
            "peerboard_database_errors",
            "Errors the database driver raised (any statement, any caller).",
            registry=r,
        )
        for outcome in ("posted", "failed", "skipped"):
            self.digest_posts.labels(outcome)
        for event in ("connect", "ready", "resume", "disconnect"):
            self.gateway_events.labels(event)
        self._connected_once = False

    def interaction(self, command: str, outcome: str, seconds: float | None) -> None:
        self.interactions.labels(command, outcome).inc()
        if seconds is not None:
            self.interaction_seconds.labels(command).observe(seconds)

    def gateway(self, event: str) -> None:
        """A connection event from discord.py (on_connect, on_ready, on_resumed,
        on_disconnect)."""
        self.gateway_events.labels(event).inc()
        if event == "resume" or (event == "connect" and self._connected_once):
            self.gateway_reconnects.inc()
        if event == "connect":
            self._connected_once = True

    def watch_latency(self, latency: Callable[[], float]) -> None:
        self.gateway_latency.set_function(latency)

    def set_deliveries(self, counts: Mapping[tuple[str, str], int]) -> None:
        self.deliveries.clear()
        for (kind, state), n in counts.items():
            self.deliveries.labels(kind, state).set(n)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
