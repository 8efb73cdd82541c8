"""/export (maintainers): this server's board as a file, in an ephemeral reply.

Hidden from members by default (Manage Server) and checked again in the service,
because server admins can change who sees a command.
"""

from __future__ import annotations

import contextlib
import io
from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.domain.rules import check_maintainer
from bot.services.export import ATTACHMENT_LIMIT, ExportFormat, fit, spool
from bot.services.tasks.importing import MAX_ROWS as IMPORT_MAX_ROWS
from bot.ui import language, upkeep
from bot.ui.client import PeerClient, PeerInteraction
from bot.ui.context import actor_of
from bot.ui.errors import refusals


class ExportCog(commands.Cog):
    def __init__(self, bot: PeerClient) -> None:
        self.bot = bot
        self.services = bot.services

    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.command(
        name="export", description="Download everything of this server's board (maintainers)"
    )
    @app_commands.describe(format="json: everything (default); csv: the tasks, for /task import")
    async def export(
        self, interaction: PeerInteraction, format: Literal["json", "csv"] = "json"
    ) -> None:
        async with refusals(interaction):
            actor, config = await actor_of(self.services, interaction)
            tr = language.caller(interaction, config)
            fmt = ExportFormat(format)
            # Refused at once (the service checks again); then take the time it needs.
            check_maintainer(actor, "export the board")
            with contextlib.ExitStack() as files:
                data = files.enter_context(spool())
                await interaction.response.defer(ephemeral=True, thinking=True)
                summary = await self.services.export.export_for(actor, fmt, data)
                limit = ATTACHMENT_LIMIT
                if interaction.guild is not None:
                    limit = min(limit, interaction.guild.filesize_limit)
                name = f"peerboard-{actor.guild_id}-{self.services.clock.now():%Y%m%d}.{fmt}"
                packed = fit(data, name, summary.size, limit)
                if packed.file is None:
                    await interaction.followup.send(
                        upkeep.export_too_large(
                            tr, fmt, summary.tasks, packed.size, actor.guild_id
                        ),
                        ephemeral=True,
                    )
                    return
                with packed.file:  # at most the attachment limit: in memory is fine
                    attached = io.BytesIO(packed.file.read())
                await interaction.followup.send(
                    upkeep.export_reply(
                        tr,
                        fmt,
                        summary.tasks,
                        summary.size,
                        packed.size,
                        packed.compressed,
                        IMPORT_MAX_ROWS,
                    ),
                    file=discord.File(attached, filename=packed.filename),
                    ephemeral=True,
                )
