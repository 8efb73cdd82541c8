"""The controller: from a command, a button or a form to one service call, and on to
`publish` with the result.

Every action on an existing task is a `TaskRequest` run through `HANDLERS`, a table
from the domain's `Action` to the one service method that performs it. The actor (and
the guild's config) is read from the interaction first; permission is the service's
to decide, so nothing here checks it, except the pre-check before a form is shown.
Nothing here is worded: `publish` tells the actor (in their language) and everyone else
(in the guild's); a form is in the language of the member who opens it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Final

import discord

from bot.domain.dates import parse_due
from bot.domain.model import Action, Actor
from bot.services.config import GuildConfig
from bot.services.registry import Services
from bot.services.tasks import UNSET, parse_task_number
from bot.services.views import ActionResult
from bot.ui import language
from bot.ui.client import PeerClient
from bot.ui.components import FORMS, form_modal
from bot.ui.context import actor_of
from bot.ui.errors import refusals
from bot.ui.ids import ButtonId, CardAction, FormId
from bot.ui.publish import publish
from bot.ui.requests import Edit, TaskRequest

NONE_WORDS: Final = frozenset({"none", "clear", "-", "no"})

Handler = Callable[[Services, Actor, GuildConfig, TaskRequest], Awaitable[ActionResult]]


async def _claim(s: Services, a: Actor, _c: GuildConfig, r: TaskRequest) -> ActionResult:
    return await s.tasks.claim(a, r.number)


async def _release(s: Services, a: Actor, _c: GuildConfig, r: TaskRequest) -> ActionResult:
    return await s.tasks.release(a, r.number, r.text)


async def _extend(s: Services, a: Actor, _c: GuildConfig, r: TaskRequest) -> ActionResult:
    return await s.tasks.extend(a, r.number)


async def _submit(s: Services, a: Actor, _c: GuildConfig, r: TaskRequest) -> ActionResult:
    return await s.tasks.submit(a, r.number, r.link, r.notes)


async def _approve(s: Services, a: Actor, _c: GuildConfig, r: TaskRequest) -> ActionResult:
    return await s.tasks.approve(a, r.number, r.text)


async def _request_changes(s: Services, a: Actor, _c: GuildConfig, r: TaskRequest) -> ActionResult:
    return await s.tasks.request_changes(a, r.number, r.text or "")


async def _endorse(s: Services, a: Actor, _c: GuildConfig, r: TaskRequest) -> ActionResult:
    return await s.tasks.endorse(a, r.number)


async def _object(s: Services, a: Actor, _c: GuildConfig, r: TaskRequest) -> ActionResult:
    return await s.tasks.object(a, r.number, r.text or "")


async def _assign(s: Services, a: Actor, _c: GuildConfig, r: TaskRequest) -> ActionResult:
    return await s.tasks.assign(a, r.number, r.member_id or 0, member_is_bot=r.member_is_bot)


async def _cancel(s: Services, a: Actor, _c: GuildConfig, r: TaskRequest) -> ActionResult:
    return await s.tasks.cancel(a, r.number, r.text or "")


async def _reopen(s: Services, a: Actor, _c: GuildConfig, r: TaskRequest) -> ActionResult:
    return await s.tasks.reopen(a, r.number)


async def _edit(s: Services, a: Actor, c: GuildConfig, r: TaskRequest) -> ActionResult:
    e = r.edit or Edit()
    due_at = UNSET if e.due is None else _due_or_none(e.due, c, s)
    blocked_by = UNSET if e.blocked_by is None else _number_or_none(e.blocked_by)
    return await s.tasks.edit(
        a,
        r.number,
        title=UNSET if e.title is None else e.title,
        description=UNSET if e.description is None else _text_or_empty(e.description),
        points=UNSET if e.points is None else e.points,
        tags=UNSET if e.tags is None else _text_or_empty(e.tags),
        capacity=UNSET if e.capacity is None else e.capacity,
        due_at=due_at,
        blocked_by=blocked_by,
        claim_days=UNSET if e.claim_days is None else (e.claim_days or None),
    )


def _due_or_none(raw: str, config: GuildConfig, services: Services) -> datetime | None:
    if not raw or raw.strip().lower() in NONE_WORDS:
        return None
    return parse_due(raw, services.clock.now(), config.timezone)


def _text_or_empty(raw: str) -> str:
    """/task edit's description and tags: "none" (or "clear", "-", "no") clears them."""
    return "" if raw.strip().lower() in NONE_WORDS else raw


def _number_or_none(raw: str) -> int | None:
    return None if raw.strip().lower() in NONE_WORDS else parse_task_number(raw)


HANDLERS: Final[Mapping[Action, Handler]] = MappingProxyType(
    {
        Action.CLAIM: _claim,
        Action.RELEASE: _release,
        Action.EXTEND: _extend,
        Action.SUBMIT: _submit,
        Action.APPROVE: _approve,
        Action.REQUEST_CHANGES: _request_changes,
        Action.ENDORSE: _endorse,
        Action.OBJECT: _object,
        Action.ASSIGN: _assign,
        Action.EDIT: _edit,
        Action.CANCEL: _cancel,
        Action.REOPEN: _reopen,
    }
)

# The buttons that act at once; the others open a form first.
AT_ONCE: Final[Mapping[CardAction, Action]] = MappingProxyType(
    {
        CardAction.CLAIM: Action.CLAIM,
        CardAction.APPROVE: Action.APPROVE,
        CardAction.ENDORSE: Action.ENDORSE,
        CardAction.EXTEND: Action.EXTEND,
    }
)


class TaskActions:
    """The `Controller` of cards and forms, and what the /task commands call."""

    def __init__(self, client: PeerClient) -> None:
        self.client = client

    async def perform(
        self,
        interaction: discord.Interaction,
        request: TaskRequest,
        guild_id: int | None = None,
        *,
        keep: str | None = None,
    ) -> None:
        async with refusals(interaction, keep):
            actor, config = await actor_of(self.client.services, interaction, guild_id)
            result = await HANDLERS[request.action](self.client.services, actor, config, request)
            await publish(self.client, interaction, result, config)

    async def on_button(self, interaction: discord.Interaction, button: ButtonId) -> None:
        action = AT_ONCE.get(button.action)
        if action is None:
            await self.ask(interaction, button)
            return
        await self.perform(interaction, TaskRequest(action, button.number), button.guild_id)

    async def ask(self, interaction: discord.Interaction, button: ButtonId) -> None:
        """Show the form a button (or /task submit without evidence) needs. A pre-check,
        so that nobody fills a form they can't send; the service decides again on submit.
        A refusal is raised, for the caller's `refusals` to answer."""
        guild_id, number, action = button.guild_id, button.number, button.action
        actor, config = await actor_of(self.client.services, interaction, guild_id)
        await self.client.services.tasks.may(actor, number, FORMS[action].action)
        # Only the member who pressed sees the form: in their language.
        tr = language.caller(interaction, config)
        await interaction.response.send_modal(form_modal(tr, FormId(guild_id, number, action)))
