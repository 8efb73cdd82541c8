"""/digest preview and /digest post (maintainers)."""

from __future__ import annotations

from discord import app_commands
from discord.ext import commands


@app_commands.guild_only()
class DigestCog(
    commands.GroupCog, group_name="digest", group_description="The weekly recognition digest"
):
    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot
