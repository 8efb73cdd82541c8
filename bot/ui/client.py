"""The client as cogs and the UI know it.

`PeerBot` (bot/app.py) is the one concrete client; it sits above the UI, so the UI
cannot name it. What the UI needs from it is declared here instead: the services, a
way to deliver at once what an action just queued, and the controller behind the card
buttons and forms. Commands type their interaction as `PeerInteraction` (`Interaction[PeerClient]`); the callbacks
whose signature discord.py fixes (a DynamicItem's) narrow with `client_of`.
"""

from __future__ import annotations

from collections.abc import Awaitable
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

import discord
from discord.ext import commands

from bot.ops.metrics import Metrics
from bot.services.registry import Services
from bot.services.views import TaskView
from bot.ui.errors import PeerTree
from bot.ui.ids import ButtonId
from bot.ui.requests import TaskRequest


class Deliveries(Protocol):
    def kick(self) -> Awaitable[None]:
        """Deliver what an interaction just enqueued, without waiting for the next sweep
        (in the background; awaiting what it returns waits for that round)."""


class Pacer(Protocol):
    """Card edits paced per channel (`pacer.CardPacer`, built by the bot)."""

    async def update(self, task: TaskView) -> bool:
        """Show `task` on its card now if its channel is idle (whether Discord took it);
        else queue it (False: the pacer shows it later and clears its mark)."""

    def shown_by_interaction(self, task: TaskView) -> None:
        """A click's own response showed `task` on its card."""

    def turn(self, task: TaskView) -> AbstractAsyncContextManager[None]:
        """The card's channel's turn, for an edit made by the caller (card repair)."""


class Controller(Protocol):
    """What a button or a form hands its interaction to (`actions.TaskActions`)."""

    async def on_button(self, interaction: discord.Interaction, button: ButtonId) -> None:
        """A click on a card's (or a reminder's) button."""

    async def perform(
        self,
        interaction: discord.Interaction,
        request: TaskRequest,
        guild_id: int | None = None,
        *,
        keep: str | None = None,
    ) -> None:
        """Run one action for the member behind `interaction` and show the result; `keep`:
        what they typed into a form, given back with a refusal."""


class PeerClient(commands.Bot):
    services: Services
    deliveries: Deliveries
    controller: Controller
    pacer: Pacer  # every card edit not made through an interaction (bot/ui/pacer.py)

    def __init__(self, services: Services, **options: Any) -> None:
        """`options`: discord.py's own constructor options (shard_count and shard_ids, for
        an AutoShardedBot; guild_ready_timeout)."""
        super().__init__(
            **options,
            command_prefix=commands.when_mentioned,
            intents=discord.Intents.default(),  # no privileged intents
            allowed_mentions=discord.AllowedMentions.none(),  # opt in per message
            tree_cls=PeerTree,
            help_command=None,
        )
        self.services = services
        self.metrics = Metrics()  # one registry per bot, not the process-wide one
        tree = self.tree
        assert isinstance(tree, PeerTree)
        tree.metrics = self.metrics
        tree.configs = services.config
        self.error_handler: PeerTree = tree  # the tree, typed as the one error handler it is


PeerInteraction = discord.Interaction[PeerClient]


def client_of(interaction: discord.Interaction) -> PeerClient:
    client = interaction.client
    if not isinstance(client, PeerClient):
        raise TypeError(f"Peerboard's UI runs on a PeerClient, not {type(client).__name__}")
    return client
