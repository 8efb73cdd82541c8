"""/task: thin handlers. Parse options, call one service method, show the result."""

from __future__ import annotations

import logging
from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot import i18n
from bot.cogs import github as handlers
from bot.cogs.common import (
    POINT_CHOICES,
    any_task_autocomplete,
    due,
    finished_task_autocomplete,
    number,
    task_autocomplete,
)
from bot.domain.errors import InvalidInput
from bot.domain.model import (
    CAPACITY_MAX,
    CAPACITY_MIN,
    CLAIM_DAYS,
    DESCRIPTION_MAX,
    LINK_MAX,
    NOTE_MAX,
    REASON_MAX,
    TITLE_MAX,
    Action,
)
from bot.ui import language, listing, messages
from bot.ui.actions import TaskActions
from bot.ui.cards import card_view, task_embed
from bot.ui.client import PeerClient, PeerInteraction
from bot.ui.context import actor_of
from bot.ui.errors import NETWORK_ERRORS, refusals, tell
from bot.ui.ids import ButtonId, CardAction
from bot.ui.publish import post_card
from bot.ui.requests import Edit, TaskRequest

log = logging.getLogger("peerboard.tasks")

Status = Literal["open", "claimed", "in_review", "done", "cancelled", "proposed", "all"]


@app_commands.guild_only()
class TasksCog(commands.GroupCog, group_name="task", group_description="Work on the task board"):
    def __init__(self, bot: PeerClient, actions: TaskActions) -> None:
        self.bot = bot
        self.services = bot.services
        self.actions = actions

    async def _act(
        self,
        interaction: discord.Interaction,
        raw_task: str,
        action: Action,
        *,
        text: str | None = None,
        link: str | None = None,
        notes: str | None = None,
        member_id: int | None = None,
        member_is_bot: bool = False,
        edit: Edit | None = None,
    ) -> None:
        async with refusals(interaction):
            request = TaskRequest(
                action, number(raw_task), text, link, notes, member_id, member_is_bot, edit
            )
            await self.actions.perform(interaction, request)

    async def _reader(self, interaction: discord.Interaction) -> i18n.Texts:
        """The language of an answer only the caller sees."""
        config = await self.services.config.get(_guild(interaction))
        return language.caller(interaction, config)

    # -- posting ---------------------------------------------------------------------------

    @app_commands.command(name="create", description="Put a task on the board (maintainers)")
    @app_commands.describe(
        title="What needs doing, in a line",
        description="Details, links, how to know it's done",
        points="Size: 1 (an hour) … 13 (weeks)",
        tags="Comma-separated, e.g. docs, good first",
        due='A date (2026-12-01) or "in 3 days", "next friday"',
        capacity="How many people can work on it at once",
        blocked_by="A task that must be done first",
        claim_days="Days a claim on this task lasts (default: the server's window)",
    )
    @app_commands.choices(points=POINT_CHOICES)
    @app_commands.autocomplete(blocked_by=task_autocomplete)
    async def create(
        self,
        interaction: PeerInteraction,
        title: app_commands.Range[str, 1, TITLE_MAX],
        description: app_commands.Range[str, 0, DESCRIPTION_MAX] | None = None,
        points: int = 1,
        tags: str | None = None,
        due: str | None = None,
        capacity: app_commands.Range[int, CAPACITY_MIN, CAPACITY_MAX] = 1,
        blocked_by: str | None = None,
        claim_days: app_commands.Range[int, CLAIM_DAYS.min, CLAIM_DAYS.max] | None = None,
    ) -> None:
        await _create(
            interaction,
            title,
            description,
            points,
            tags,
            due,
            capacity,
            blocked_by,
            propose=False,
            claim_days=claim_days,
        )

    @app_commands.command(
        name="propose", description="Suggest a task; it opens when others endorse it"
    )
    @app_commands.choices(points=POINT_CHOICES)
    async def propose(
        self,
        interaction: PeerInteraction,
        title: app_commands.Range[str, 1, TITLE_MAX],
        description: app_commands.Range[str, 0, DESCRIPTION_MAX] | None = None,
        points: int = 1,
        tags: str | None = None,
    ) -> None:
        await _create(interaction, title, description, points, tags, None, 1, None, propose=True)

    @app_commands.command(
        name="import", description="Create many tasks from a CSV file (maintainers)"
    )
    @app_commands.describe(file="CSV with columns: title,description,points,tags,due,capacity")
    async def import_(self, interaction: PeerInteraction, file: discord.Attachment) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        async with refusals(interaction):
            actor, config = await actor_of(self.services, interaction)
            if file.size > 256 * 1024:
                raise InvalidInput("The file is larger than 256 KB; split it into smaller files.")
            views = await self.services.tasks.import_csv(actor, await file.read(), config.timezone)
            posted = 0
            for view in views:
                if await post_card(self.bot, view, config) is not None:
                    posted += 1
            numbers = [v.number for v in views]
            tr = language.caller(interaction, config)
            await tell(interaction, messages.imported(tr, numbers, posted, config.tasks_channel_id))

    @app_commands.command(
        name="import-github",
        description="Create tasks from a GitHub repository's open issues with a label (maintainers)",
    )
    @app_commands.describe(repo="owner/name", label="Issues with this label become tasks")
    async def import_github(
        self, interaction: PeerInteraction, repo: str, label: app_commands.Range[str, 1, 50]
    ) -> None:
        await handlers.import_issues(interaction, repo, label)

    @app_commands.command(name="link", description="Link a task to a GitHub issue or pull request")
    @app_commands.autocomplete(task=any_task_autocomplete)
    @app_commands.describe(url="The issue's or pull request's address on github.com")
    async def link(
        self, interaction: PeerInteraction, task: str, url: app_commands.Range[str, 1, 300]
    ) -> None:
        await handlers.link(interaction, task, url, add=True)

    @app_commands.command(name="unlink", description="Remove a task's GitHub link")
    @app_commands.autocomplete(task=any_task_autocomplete)
    @app_commands.describe(url="The link to remove (leave empty to remove every one)")
    async def unlink(
        self,
        interaction: PeerInteraction,
        task: str,
        url: app_commands.Range[str, 1, 300] | None = None,
    ) -> None:
        await handlers.link(interaction, task, url, add=False)

    # -- reading ---------------------------------------------------------------------------

    @app_commands.command(name="show", description="Show a task's card")
    @app_commands.autocomplete(task=any_task_autocomplete)
    async def show(self, interaction: PeerInteraction, task: str) -> None:
        async with refusals(interaction):
            view = await self.services.tasks.show(_guild(interaction), number(task))
            tr = await self._reader(interaction)
            await interaction.response.send_message(
                embed=task_embed(tr, view, full=True), view=card_view(tr, view), ephemeral=True
            )

    @app_commands.command(name="list", description="Browse the board, 10 tasks a page")
    @app_commands.describe(status="Which tasks (default: open)", mine="Only tasks I hold")
    async def list_(
        self,
        interaction: PeerInteraction,
        status: Status | None = None,
        tag: str | None = None,
        member: discord.Member | None = None,
        mine: bool = False,
    ) -> None:
        who = interaction.user if mine else member
        config = (
            await self.services.config.get(interaction.guild_id) if interaction.guild_id else None
        )
        tr = language.caller(interaction, config)
        await listing.show_list(tr, self.services, interaction, status=status, tag=tag, member=who)

    @app_commands.command(name="history", description="Everything that happened to a task")
    @app_commands.autocomplete(task=any_task_autocomplete)
    async def history(self, interaction: PeerInteraction, task: str) -> None:
        async with refusals(interaction):
            view, rows = await self.services.tasks.history(_guild(interaction), number(task))
            tr = await self._reader(interaction)
            await interaction.response.send_message(
                embed=listing.history_embed(tr, view, rows), ephemeral=True
            )

    # -- working ---------------------------------------------------------------------------

    @app_commands.command(name="claim", description="Take a task on")
    @app_commands.autocomplete(task=task_autocomplete)
    async def claim(self, interaction: PeerInteraction, task: str) -> None:
        await self._act(interaction, task, Action.CLAIM)

    @app_commands.command(name="release", description="Give a task back, with an optional note")
    @app_commands.autocomplete(task=task_autocomplete)
    async def release(
        self,
        interaction: PeerInteraction,
        task: str,
        note: app_commands.Range[str, 0, NOTE_MAX] | None = None,
    ) -> None:
        await self._act(interaction, task, Action.RELEASE, text=note)

    @app_commands.command(name="extend", description="Renew your claim window")
    @app_commands.autocomplete(task=task_autocomplete)
    async def extend(self, interaction: PeerInteraction, task: str) -> None:
        await self._act(interaction, task, Action.EXTEND)

    @app_commands.command(name="submit", description="Send your work for review")
    @app_commands.autocomplete(task=task_autocomplete)
    async def submit(
        self,
        interaction: PeerInteraction,
        task: str,
        link: app_commands.Range[str, 0, LINK_MAX] | None = None,
        notes: app_commands.Range[str, 0, NOTE_MAX] | None = None,
    ) -> None:
        if link is None and notes is None:
            async with refusals(interaction):  # no evidence given: ask for it in a form
                button = ButtonId(_guild(interaction), number(task), CardAction.SUBMIT)
                await self.actions.ask(interaction, button)  # checked first, as the button is
            return
        await self._act(interaction, task, Action.SUBMIT, link=link, notes=notes)

    @app_commands.command(name="approve", description="Approve submitted work")
    @app_commands.autocomplete(task=task_autocomplete)
    async def approve(
        self,
        interaction: PeerInteraction,
        task: str,
        comment: app_commands.Range[str, 0, NOTE_MAX] | None = None,
    ) -> None:
        await self._act(interaction, task, Action.APPROVE, text=comment)

    @app_commands.command(name="request-changes", description="Send work back with what to change")
    @app_commands.autocomplete(task=task_autocomplete)
    async def request_changes(
        self,
        interaction: PeerInteraction,
        task: str,
        reason: app_commands.Range[str, 1, REASON_MAX],
    ) -> None:
        await self._act(interaction, task, Action.REQUEST_CHANGES, text=reason)

    # -- proposals -------------------------------------------------------------------------

    @app_commands.command(name="endorse", description="Support a proposal")
    @app_commands.autocomplete(task=task_autocomplete)
    async def endorse(self, interaction: PeerInteraction, task: str) -> None:
        await self._act(interaction, task, Action.ENDORSE)

    @app_commands.command(name="object", description="Object to a proposal, with a reason")
    @app_commands.autocomplete(task=task_autocomplete)
    async def object_(
        self,
        interaction: PeerInteraction,
        task: str,
        reason: app_commands.Range[str, 1, REASON_MAX],
    ) -> None:
        await self._act(interaction, task, Action.OBJECT, text=reason)

    # -- maintaining -----------------------------------------------------------------------

    @app_commands.command(
        name="assign", description="Claim a task on someone's behalf (maintainers)"
    )
    @app_commands.autocomplete(task=task_autocomplete)
    async def assign(self, interaction: PeerInteraction, task: str, member: discord.Member) -> None:
        await self._act(
            interaction, task, Action.ASSIGN, member_id=member.id, member_is_bot=member.bot
        )

    @app_commands.command(name="edit", description="Change a task (maintainers)")
    @app_commands.describe(
        description='New details, or "none" to clear them',
        tags='Comma-separated tags that replace the old ones, or "none" to clear them',
        due='A new date, or "none" to clear it',
        blocked_by='A task number, or "none"',
        claim_days="Days a claim on this task lasts; 0: the server's window again",
    )
    @app_commands.choices(points=POINT_CHOICES)
    @app_commands.autocomplete(task=task_autocomplete, blocked_by=task_autocomplete)
    async def edit(
        self,
        interaction: PeerInteraction,
        task: str,
        title: app_commands.Range[str, 1, TITLE_MAX] | None = None,
        description: app_commands.Range[str, 0, DESCRIPTION_MAX] | None = None,
        points: int | None = None,
        tags: str | None = None,
        due: str | None = None,
        capacity: app_commands.Range[int, CAPACITY_MIN, CAPACITY_MAX] | None = None,
        blocked_by: str | None = None,
        claim_days: app_commands.Range[int, CLAIM_DAYS.min - 1, CLAIM_DAYS.max] | None = None,
    ) -> None:
        changes = Edit(title, description, points, tags, due, capacity, blocked_by, claim_days)
        await self._act(interaction, task, Action.EDIT, edit=changes)

    @app_commands.command(name="cancel", description="Take a task off the board, with a reason")
    @app_commands.autocomplete(task=task_autocomplete)
    async def cancel(
        self,
        interaction: PeerInteraction,
        task: str,
        reason: app_commands.Range[str, 1, REASON_MAX],
    ) -> None:
        await self._act(interaction, task, Action.CANCEL, text=reason)

    @app_commands.command(
        name="reopen", description="Put a done or cancelled task back on the board"
    )
    @app_commands.autocomplete(task=finished_task_autocomplete)
    async def reopen(self, interaction: PeerInteraction, task: str) -> None:
        await self._act(interaction, task, Action.REOPEN)


def _guild(interaction: discord.Interaction) -> int:
    assert interaction.guild_id is not None  # commands are guild_only
    return interaction.guild_id


async def _create(
    interaction: PeerInteraction,
    title: str,
    description: str | None,
    points: int,
    tags: str | None,
    due_text: str | None,
    capacity: int,
    blocked_by: str | None,
    *,
    propose: bool,
    claim_days: int | None = None,
) -> None:
    services = interaction.client.services
    async with refusals(interaction):
        actor, config = await actor_of(services, interaction)
        if propose:
            result = await services.tasks.propose(actor, title, description, points, tags)
        else:
            result = await services.tasks.create(
                actor,
                title,
                description,
                points,
                tags,
                due(due_text, config, services.clock.now()),
                capacity,
                number(blocked_by) if blocked_by else None,
                claim_days,
            )
        if config.tasks_channel_id:
            tr = language.caller(interaction, config)  # the answer is the caller's alone
            text = messages.confirmation(tr, result)
            # Answer first: posting the card and opening its thread may wait on Discord's
            # per-channel limit, past the 3 seconds an interaction has for its answer.
            try:
                await interaction.response.send_message(text, ephemeral=True)
            except discord.HTTPException:  # expired: the task exists, so its card goes out
                log.warning("could not answer the creation of #%s", result.task.number)
            try:
                message = await post_card(interaction.client, result.task, config)
            except NETWORK_ERRORS:  # the task exists: say so, or a retry makes a second one
                log.warning("lost the connection posting the card of #%s", result.task.number)
                message = None
            final = (
                messages.card_posted(tr, text, message.jump_url)
                if message is not None
                else messages.card_not_posted(tr, text, result.task, config.tasks_channel_id)
            )
            try:
                await interaction.edit_original_response(content=final)
            except discord.HTTPException:
                log.warning("could not update the answer to #%s", result.task.number)
            return
        # No tasks channel: the card lives right here, in public — in the guild's language.
        tr = language.public(config, interaction.guild)
        await interaction.response.send_message(
            messages.confirmation(tr, result),
            embed=task_embed(tr, result.task),
            view=card_view(tr, result.task),
        )
        sent = await interaction.original_response()
        await services.tasks.set_card(
            result.task.guild_id,
            result.task.number,
            sent.channel.id,
            sent.id,
            shows=result.task.version,
        )
