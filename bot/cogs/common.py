"""Shared option handling for the cogs: task numbers, due dates, autocomplete."""

from __future__ import annotations

from datetime import datetime

from discord import app_commands

from bot.domain.dates import parse_due
from bot.services.config import GuildConfig
from bot.services.tasks import parse_task_number
from bot.ui import language
from bot.ui.cards import status_name
from bot.ui.client import PeerInteraction
from bot.ui.text import clip

POINT_CHOICES = [app_commands.Choice(name=str(p), value=p) for p in (1, 2, 3, 5, 8, 13)]


def number(raw: str) -> int:
    return parse_task_number(raw)


def due(raw: str | None, config: GuildConfig, now: datetime) -> datetime | None:
    return parse_due(raw, now, config.timezone) if raw else None


async def task_autocomplete(
    interaction: PeerInteraction, current: str
) -> list[app_commands.Choice[str]]:
    """Tasks still in play: what claim, submit, review and the rest can act on."""
    return await _suggest(interaction, current, "unfinished")


async def finished_task_autocomplete(
    interaction: PeerInteraction, current: str
) -> list[app_commands.Choice[str]]:
    """Done and cancelled tasks: what /task reopen can act on."""
    return await _suggest(interaction, current, "finished")


async def any_task_autocomplete(
    interaction: PeerInteraction, current: str
) -> list[app_commands.Choice[str]]:
    """Every task, finished or not: for /task show and /task history."""
    return await _suggest(interaction, current, "any")


async def _suggest(
    interaction: PeerInteraction, current: str, which: str
) -> list[app_commands.Choice[str]]:
    if interaction.guild_id is None:
        return []
    services = interaction.client.services
    found = await services.tasks.suggest(interaction.guild_id, current, which=which)
    # Only the member typing sees the choices: in their language.
    tr = language.caller(interaction, await services.config.get(interaction.guild_id))
    return [
        app_commands.Choice(
            name=clip(
                tr(
                    "#{number} · {title} ({status})",
                    number=t.number,
                    title=t.title,
                    status=status_name(tr, t.status),
                ),
                100,
            ),
            value=str(t.number),
        )
        for t in found
    ]
