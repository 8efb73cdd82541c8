"""One way to tell a member that something did not work: always ephemeral, a follow-up
when the interaction was already answered.

Commands, buttons, modals and views all end here. A refusal (`DomainError`) is caught
where it happens with `refusals(...)`, so it never reaches the tree's `on_error`: it is
an answer, not a failure (SimCord fails a test for every error that reaches the tree or
a view's `on_error`). Anything else goes to `on_error`, and `report` logs it with a
reference the member can quote.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import AsyncIterator
from typing import Final

import aiohttp
import discord
from discord import app_commands

from bot import i18n
from bot.domain.errors import DomainError, Lines, Number, Phrase, Plural
from bot.ops.metrics import Metrics
from bot.services.config import ConfigService
from bot.ui.text import MESSAGE_MAX

log = logging.getLogger("peerboard.errors")

# Keys of `interaction.extras`, for the metrics: when the interaction arrived, and how it
# ended when it did not end well ("refused" or "error"; absent: "ok").
STARTED: Final = "peerboard.started"
OUTCOME: Final = "peerboard.outcome"
# What a call to Discord can raise besides discord.py's HTTPException: a dropped connection
# (aiohttp.ServerDisconnectedError, a ClientError), a timeout, a socket error.
NETWORK_ERRORS: Final = (aiohttp.ClientError, asyncio.TimeoutError, OSError)
REFUSED_ERRORS = (
    app_commands.NoPrivateMessage,
    app_commands.MissingPermissions,
    app_commands.MissingRole,
    app_commands.CheckFailure,
    app_commands.CommandOnCooldown,
)


def reader(interaction: discord.Interaction) -> i18n.Texts:
    """The language of a reply only the caller sees: their Discord locale, then the
    guild's `/config language` (from the settings this process holds: no database read,
    which may be what failed), then the server's Discord locale, then English."""
    guild = interaction.guild_locale
    language = None
    tree = getattr(interaction.client, "tree", None)
    if isinstance(tree, PeerTree) and tree.configs is not None and interaction.guild_id:
        config = tree.configs.cached(interaction.guild_id)
        language = config.language if config is not None else None
    return i18n.texts(str(interaction.locale), language, str(guild) if guild is not None else None)


def said(tr: i18n.Texts, value: object) -> object:
    """A refusal's value in the reader's language: a phrase or a counted noun translated,
    anything else (a task number, a name someone typed) as it is."""
    if isinstance(value, Plural):
        return tr.plural(value.one, value.other, value.n)
    if isinstance(value, Phrase):
        return tr(value)
    if isinstance(value, Number):
        return tr.number(value.n)
    if isinstance(value, DomainError):  # a refusal quoted inside another (an import's row)
        return tr(value.template, **{k: said(tr, v) for k, v in value.values.items()})
    if isinstance(value, Lines):
        return "\n".join(str(said(tr, item)) for item in value.items)
    return value


def message_for(error: BaseException, tr: i18n.Texts | None = None) -> str:
    tr = tr or i18n.texts()
    original = getattr(error, "original", None) or error
    if isinstance(original, DomainError):
        return tr(original.template, **{k: said(tr, v) for k, v in original.values.items()})
    if isinstance(error, app_commands.NoPrivateMessage):
        return tr("Peerboard works inside a server, not in direct messages.")
    if isinstance(
        error,
        app_commands.MissingPermissions | app_commands.MissingRole | app_commands.CheckFailure,
    ):
        return tr("You don't have permission to do that here.")
    if isinstance(error, app_commands.CommandOnCooldown):
        return tr(
            "Slow down a little — try again in {seconds} s.", seconds=f"{error.retry_after:.0f}"
        )
    ref = secrets.token_hex(3).upper()
    log.error(
        "unexpected error (ref %s)",
        ref,
        exc_info=(type(original), original, original.__traceback__),
    )
    return tr(
        "Something went wrong on our side (ref {ref}). Please try again; if it keeps happening, tell a maintainer.",
        ref=ref,
    )


async def tell(interaction: discord.Interaction, text: str, keep: str | None = None) -> None:
    """Ephemeral reply, or follow-up if the interaction was already answered or deferred.
    `keep`: what the member typed, given back with it (in a message of its own when the
    two don't fit in one)."""
    texts = [text] if not keep else [f"{text}\n\n{keep}"]
    if keep and len(texts[0]) > MESSAGE_MAX:
        texts = [text, keep[:MESSAGE_MAX]]
    try:
        for part in texts:
            if interaction.response.is_done():
                await interaction.followup.send(part, ephemeral=True)
            else:
                await interaction.response.send_message(part, ephemeral=True)
    except discord.HTTPException:
        # The interaction expired (10062) or is gone: nobody is left to tell.
        log.warning("could not deliver an error message to %s", interaction.user.id)


async def report(
    interaction: discord.Interaction, error: BaseException, keep: str | None = None
) -> None:
    """The one error handler: the tree's, every view's, form's and button's. `keep`: what
    the member typed into a form, given back so that it is not lost."""
    if keep is None and isinstance(error, ComponentError):
        keep = error.keep
    await tell(interaction, message_for(error, reader(interaction)), keep)


@contextlib.asynccontextmanager
async def refusals(
    interaction: discord.Interaction, keep: str | None = None
) -> AsyncIterator[None]:
    """A `DomainError` raised inside is a refusal: the member is told its message (and
    given back `keep`, what they typed) and the rest of the block does not run. Other
    errors pass on to the `on_error` in charge."""
    try:
        yield
    except DomainError as err:
        interaction.extras[OUTCOME] = "refused"
        await report(interaction, err, keep)


class ComponentError(app_commands.AppCommandError):
    """An unexpected error in a button's or a form's callback, handed to the tree's
    `on_error` as a command's error would be (discord.py would only log it; the member
    would hear nothing). `keep`: what the member typed into the form, if any."""

    def __init__(self, original: Exception, keep: str | None = None) -> None:
        super().__init__(str(original))
        self.original = original
        self.keep = keep


def outcome_of(error: BaseException) -> str:
    original = getattr(error, "original", None) or error
    return "refused" if isinstance(original, (DomainError, *REFUSED_ERRORS)) else "error"


class PeerTree(app_commands.CommandTree[discord.Client]):
    metrics: Metrics | None = None  # set by the client
    configs: ConfigService | None = None  # set by the client: the guilds' languages

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        interaction.extras.setdefault(STARTED, time.perf_counter())
        return True

    async def on_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        interaction.extras[OUTCOME] = outcome_of(error)
        try:
            await report(interaction, error)
        finally:
            if interaction.type is discord.InteractionType.application_command:
                self.record(interaction)  # a failed command has no completion event

    def record(self, interaction: discord.Interaction, name: str | None = None) -> None:
        """Count one handled interaction: a command's (by its full name) or a component's."""
        if self.metrics is None:
            return
        if name is None:
            command = interaction.command
            name = command.qualified_name if command is not None else "unknown"
        started = interaction.extras.get(STARTED)
        seconds = time.perf_counter() - started if isinstance(started, float) else None
        self.metrics.interaction(name, interaction.extras.get(OUTCOME, "ok"), seconds)

    @contextlib.asynccontextmanager
    async def observed(self, interaction: discord.Interaction, name: str) -> AsyncIterator[None]:
        """Count a button's or a form's handling (they do not pass through the tree)."""
        interaction.extras.setdefault(STARTED, time.perf_counter())
        try:
            yield
        except BaseException:
            interaction.extras.setdefault(OUTCOME, "error")
            raise
        finally:
            self.record(interaction, name)
