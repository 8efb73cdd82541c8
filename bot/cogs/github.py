"""The GitHub commands' handlers (issue 16), called by the cogs that hold the commands:
/config github and /config github-login (ConfigCog), /me github (MeCog), /task
import-github, /task link and /task unlink (TasksCog)."""

from __future__ import annotations

import discord

from bot.cogs.common import number
from bot.ui import github, language
from bot.ui.client import PeerInteraction
from bot.ui.context import actor_of
from bot.ui.errors import refusals, tell
from bot.ui.publish import post_card, spread


async def connect_repo(
    interaction: PeerInteraction,
    repo: str,
    remove: bool,
    label: str | None,
    rotate: bool,
) -> None:
    services = interaction.client.services
    async with refusals(interaction):
        actor, config = await actor_of(services, interaction)
        setup = await services.github.connect(
            actor, repo, label=label, rotate=rotate, remove=remove
        )
        tr = language.caller(interaction, config)
        text = github.repo_setup(tr, setup, services.github.public_url_set)
        await interaction.response.send_message(text, ephemeral=True)


async def clear_member_login(interaction: PeerInteraction, member: discord.Member) -> None:
    services = interaction.client.services
    async with refusals(interaction):
        actor, config = await actor_of(services, interaction)
        login = await services.github.clear_login(actor, member.id)
        tr = language.caller(interaction, config)
        text = github.login_cleared(tr, login, mine=member.id == actor.member_id)
        await interaction.response.send_message(text, ephemeral=True)


async def my_login(interaction: PeerInteraction, login: str | None, remove: bool) -> None:
    services = interaction.client.services
    async with refusals(interaction):
        actor, config = await actor_of(services, interaction)
        if remove == (login is not None):
            raise github.login_remove_or_set()
        tr = language.caller(interaction, config)
        if login is None:
            cleared = await services.github.clear_login(actor, actor.member_id)
            text = github.login_cleared(tr, cleared, mine=True)
        else:
            text = github.login_set(tr, await services.github.set_login(actor, login))
        await interaction.response.send_message(text, ephemeral=True)


async def import_issues(interaction: PeerInteraction, repo: str, label: str) -> None:
    services = interaction.client.services
    await interaction.response.defer(ephemeral=True, thinking=True)  # GitHub takes a while
    async with refusals(interaction):
        actor, config = await actor_of(services, interaction)
        result = await services.github.import_issues(actor, repo, label)
        posted = 0
        for view in result.tasks:
            if await post_card(interaction.client, view, config) is not None:
                posted += 1
        numbers = [v.number for v in result.tasks]
        tr = language.caller(interaction, config)
        await tell(
            interaction,
            github.imported(tr, numbers, result.skipped, posted, config.tasks_channel_id),
        )


async def link(interaction: PeerInteraction, task: str, url: str | None, *, add: bool) -> None:
    services = interaction.client.services
    async with refusals(interaction):
        actor, config = await actor_of(services, interaction)
        tr = language.caller(interaction, config)
        if add:
            assert url is not None
            result = await services.github.link(actor, number(task), url)
            text = github.linked(tr, result, url)
        else:
            result = await services.github.unlink(actor, number(task), url)
            text = github.unlinked(tr, result, url)
        await interaction.response.send_message(text, ephemeral=True)
        await spread(interaction.client, result, config)
