"""A webhook delivery from GitHub: checked, recorded and answered (`receive`, within
GitHub's 10 seconds), then handled (`handle`, after the answer; `events.py` does the
work). Each delivery is handled once, by its `X-GitHub-Delivery`: a redelivery of one
already recorded is answered 200 and changes nothing.

The signature comes first. The secret is per repository and the repository is named only
in the body, so the body is not read for it: each of the guild's repositories' secrets
is tried against `X-Hub-Signature-256` (HMAC-SHA256 of the raw body, compared in
constant time, every one tried). Only when none matches is the body parsed — for the
answer's status alone (404 for a repository not connected here, 403 for a bad
signature), never to act on it."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any, Final

from bot.db.errors import Duplicate
from bot.db.github_models import GitHubDelivery
from bot.db.uow import Database
from bot.domain.errors import DomainError
from bot.github.signature import verify_signature
from bot.services.clock import Clock
from bot.services.github.events import Effect, Events
from bot.services.tasks import TaskService

log = logging.getLogger("peerboard.github")

MAX_BODY: Final = 1024 * 1024  # GitHub caps payloads at 25 MB; ours are far smaller
DELIVERY_MAX: Final = 64


@dataclass(frozen=True, slots=True)
class Receipt:
    """The answer to GitHub, and the delivery to handle after it (None: nothing to do)."""

    status: int
    reason: str
    delivery: str | None = None


def _repo_of(payload: object) -> str | None:
    if not isinstance(payload, dict):
        return None
    repository = payload.get("repository")
    if not isinstance(repository, dict):
        return None
    name = repository.get("full_name")
    return name.lower() if isinstance(name, str) else None


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return None


class WebhookService:
    def __init__(self, db: Database, clock: Clock, tasks: TaskService) -> None:
        self._db = db
        self._clock = clock
        self.events = Events(db, clock, tasks)

    async def receive(
        self,
        guild_id: int,
        *,
        event: str | None,
        delivery: str | None,
        signature: str | None,
        body: bytes,
    ) -> Receipt:
        async with self._db.read() as uow:
            repos = list(await uow.github.repos(guild_id))
        if not repos:
            return Receipt(404, "no repository is connected to this guild")
        if not signature:
            return Receipt(401, "X-Hub-Signature-256 is missing")
        matched = [r for r in repos if verify_signature(r.webhook_secret.encode(), body, signature)]
        if not matched:
            named = _repo_of(_json(body))
            if named is not None and named not in {r.full_name for r in repos}:
                return Receipt(404, "this repository is not connected to this guild")
            return Receipt(403, "the signature does not match")
        payload = _json(body)
        if not isinstance(payload, dict):
            return Receipt(400, "the body is not a JSON object")
        named = _repo_of(payload)
        repo = next((r for r in matched if r.full_name == named), None)
        if repo is None:
            return Receipt(404, "this repository is not connected to this guild")
        if not event or not delivery or len(delivery) > DELIVERY_MAX or len(event) > 32:
            return Receipt(400, "X-GitHub-Event and X-GitHub-Delivery are needed")
        action = payload.get("action")
        row = GitHubDelivery(
            guild_id=guild_id,
            delivery=delivery,
            full_name=repo.full_name,
            event=event,
            action=action[:32] if isinstance(action, str) else "",
            payload=body.decode("utf-8"),
            received_at=self._clock.now(),
        )
        try:
            async with self._db.unit() as uow:
                if await uow.github.delivery(delivery) is not None:
                    return Receipt(200, "already handled")
                uow.github.add_delivery(row)
                await uow.commit()
        except Duplicate:  # the same delivery, twice at once: one of them records it
            return Receipt(200, "already handled")
        if event == "ping":  # GitHub's check that the hook works: 200, as it expects
            return Receipt(200, "pong", delivery)
        return Receipt(202, "accepted", delivery)

    async def handle(self, delivery: str, bot_id: int) -> list[Effect]:
        """Do what a recorded delivery asks; its row says how it ended (done, ignored, or
        failed with what went wrong — logged with the delivery's id too)."""
        async with self._db.read() as uow:
            row = await uow.github.delivery(delivery)
        if row is None or row.status != "pending" or row.payload is None:
            return []
        try:
            effects, outcome = await self.events.handle(row, json.loads(row.payload), bot_id)
        except DomainError as err:
            await self._finish(delivery, "ignored", err.message)
            return []
        except Exception as err:
            log.exception("GitHub delivery %s (%s) failed", delivery, row.event)
            await self._finish(delivery, "failed", f"{type(err).__name__}: {err}")
            return []
        await self._finish(delivery, "done" if effects else "ignored", outcome)
        return effects

    async def pending(self) -> list[str]:
        """Deliveries recorded and never handled (the process stopped in between)."""
        async with self._db.read() as uow:
            return list(await uow.github.pending_deliveries(self._clock.now()))

    async def _finish(self, delivery: str, status: str, outcome: str) -> None:
        async with self._db.unit() as uow:
            await uow.github.finish_delivery(delivery, status, outcome, self._clock.now())
            await uow.commit()
