"""/task: thin handlers. Parse options, call one service method, show the result."""

from __future__ import annotations

from typing import Any, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.cogs.common import (
    NONE_WORDS,
    POINT_CHOICES,
    any_task_autocomplete,
    due,
    finished_task_autocomplete,
    number,
    task_autocomplete,
)
from bot.domain.errors import DomainError, InvalidInput
from bot.domain.model import (
    CAPACITY_MAX,
    CAPACITY_MIN,
    DESCRIPTION_MAX,
    LINK_MAX,
    NOTE_MAX,
    TITLE_MAX,
)
from bot.ui import board, listing
from bot.ui.cards import card_view, task_embed
from bot.ui.context import actor_of, services_of
from bot.ui.errors import report, tell

Status = Literal["open", "claimed", "in_review", "done", "cancelled", "proposed", "all"]


@app_commands.guild_only()
class TasksCog(commands.GroupCog, group_name="task", group_description="Work on the task board"):
    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot

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
    )
    @app_commands.choices(points=POINT_CHOICES)
    @app_commands.autocomplete(blocked_by=task_autocomplete)
    async def create(
        self,
        interaction: discord.Interaction,
        title: app_commands.Range[str, 1, TITLE_MAX],
        description: app_commands.Range[str, 0, DESCRIPTION_MAX] | None = None,
        points: int = 1,
        tags: str | None = None,
        due: str | None = None,
        capacity: app_commands.Range[int, CAPACITY_MIN, CAPACITY_MAX] = 1,
        blocked_by: str | None = None,
    ) -> None:
        await _create(
            interaction, title, description, points, tags, due, capacity, blocked_by, propose=False
        )

    @app_commands.command(
        name="propose", description="Suggest a task; it opens when others endorse it"
    )
    @app_commands.choices(points=POINT_CHOICES)
    async def propose(
        self,
        interaction: discord.Interaction,
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
    async def import_(self, interaction: discord.Interaction, file: discord.Attachment) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            actor, config = await actor_of(interaction)
            if file.size > 256 * 1024:
                raise InvalidInput("The file is larger than 256 KB; split it into smaller files.")
            services = services_of(interaction)
            views = await services.tasks.import_csv(actor, await file.read(), config.timezone)
        except DomainError as err:
            await report(interaction, err)
            return
        posted = 0
        for view in views:
            if await board.post_card(self.bot, services, view, config) is not None:
                posted += 1
        numbers = ", ".join(f"#{v.number}" for v in views[:20]) + (" …" if len(views) > 20 else "")
        where = f" and posted them in <#{config.tasks_channel_id}>" if posted else ""
        await tell(interaction, f"Imported {len(views)} tasks ({numbers}){where}.")

    # -- reading ---------------------------------------------------------------------------

    @app_commands.command(name="show", description="Show a task's card")
    @app_commands.autocomplete(task=any_task_autocomplete)
    async def show(self, interaction: discord.Interaction, task: str) -> None:
        try:
            view = await services_of(interaction).tasks.show(_guild(interaction), number(task))
        except DomainError as err:
            await report(interaction, err)
            return
        await interaction.response.send_message(
            embed=task_embed(view), view=card_view(view), ephemeral=True
        )

    @app_commands.command(name="list", description="Browse the board, 10 tasks a page")
    @app_commands.describe(status="Which tasks (default: open)", mine="Only tasks I hold")
    async def list_(
        self,
        interaction: discord.Interaction,
        status: Status | None = None,
        tag: str | None = None,
        member: discord.Member | None = None,
        mine: bool = False,
    ) -> None:
        who = interaction.user if mine else member
        await listing.show_list(interaction, status=status, tag=tag, member=who)

    @app_commands.command(name="history", description="Everything that happened to a task")
    @app_commands.autocomplete(task=any_task_autocomplete)
    async def history(self, interaction: discord.Interaction, task: str) -> None:
        try:
            view, rows = await services_of(interaction).tasks.history(
                _guild(interaction), number(task)
            )
        except DomainError as err:
            await report(interaction, err)
            return
        await interaction.response.send_message(
            embed=listing.history_embed(view, rows), ephemeral=True
        )

    # -- working ---------------------------------------------------------------------------

    @app_commands.command(name="claim", description="Take a task on")
    @app_commands.autocomplete(task=task_autocomplete)
    async def claim(self, interaction: discord.Interaction, task: str) -> None:
        await _act(interaction, task, lambda s, a, n: s.tasks.claim(a, n))

    @app_commands.command(name="release", description="Give a task back, with an optional note")
    @app_commands.autocomplete(task=task_autocomplete)
    async def release(
        self,
        interaction: discord.Interaction,
        task: str,
        note: app_commands.Range[str, 0, NOTE_MAX] | None = None,
    ) -> None:
        await _act(interaction, task, lambda s, a, n: s.tasks.release(a, n, note))

    @app_commands.command(name="extend", description="Renew your claim window")
    @app_commands.autocomplete(task=task_autocomplete)
    async def extend(self, interaction: discord.Interaction, task: str) -> None:
        await _act(interaction, task, lambda s, a, n: s.tasks.extend(a, n))

    @app_commands.command(name="submit", description="Send your work for review")
    @app_commands.autocomplete(task=task_autocomplete)
    async def submit(
        self,
        interaction: discord.Interaction,
        task: str,
        link: app_commands.Range[str, 0, LINK_MAX] | None = None,
        notes: app_commands.Range[str, 0, NOTE_MAX] | None = None,
    ) -> None:
        if link is None and notes is None:
            try:  # no evidence given: ask for it in a form (checked first, as the button is)
                await board.on_button(interaction, _guild(interaction), number(task), "submit")
            except DomainError as err:
                await report(interaction, err)
            return
        await _act(interaction, task, lambda s, a, n: s.tasks.submit(a, n, link, notes))

    @app_commands.command(name="approve", description="Approve submitted work")
    @app_commands.autocomplete(task=task_autocomplete)
    async def approve(
        self,
        interaction: discord.Interaction,
        task: str,
        comment: app_commands.Range[str, 0, NOTE_MAX] | None = None,
    ) -> None:
        await _act(interaction, task, lambda s, a, n: s.tasks.approve(a, n, comment))

    @app_commands.command(name="request-changes", description="Send work back with what to change")
    @app_commands.autocomplete(task=task_autocomplete)
    async def request_changes(
        self, interaction: discord.Interaction, task: str, reason: app_commands.Range[str, 1, 500]
    ) -> None:
        await _act(interaction, task, lambda s, a, n: s.tasks.request_changes(a, n, reason))

    # -- proposals -------------------------------------------------------------------------

    @app_commands.command(name="endorse", description="Support a proposal")
    @app_commands.autocomplete(task=task_autocomplete)
    async def endorse(self, interaction: discord.Interaction, task: str) -> None:
        await _act(interaction, task, lambda s, a, n: s.tasks.endorse(a, n))

    @app_commands.command(name="object", description="Object to a proposal, with a reason")
    @app_commands.autocomplete(task=task_autocomplete)
    async def object_(
        self, interaction: discord.Interaction, task: str, reason: app_commands.Range[str, 1, 500]
    ) -> None:
        await _act(interaction, task, lambda s, a, n: s.tasks.object(a, n, reason))

    # -- maintaining -----------------------------------------------------------------------

    @app_commands.command(
        name="assign", description="Claim a task on someone's behalf (maintainers)"
    )
    @app_commands.autocomplete(task=task_autocomplete)
    async def assign(
        self, interaction: discord.Interaction, task: str, member: discord.Member
    ) -> None:
        await _act(
            interaction,
            task,
            lambda s, a, n: s.tasks.assign(a, n, member.id, member_is_bot=member.bot),
        )

    @app_commands.command(name="edit", description="Change a task (maintainers)")
    @app_commands.describe(
        due='A new date, or "none" to clear it', blocked_by='A task number, or "none"'
    )
    @app_commands.choices(points=POINT_CHOICES)
    @app_commands.autocomplete(task=task_autocomplete, blocked_by=task_autocomplete)
    async def edit(
        self,
        interaction: discord.Interaction,
        task: str,
        title: app_commands.Range[str, 1, TITLE_MAX] | None = None,
        description: app_commands.Range[str, 0, DESCRIPTION_MAX] | None = None,
        points: int | None = None,
        tags: str | None = None,
        due: str | None = None,
        capacity: app_commands.Range[int, CAPACITY_MIN, CAPACITY_MAX] | None = None,
        blocked_by: str | None = None,
    ) -> None:
        async def call(services: Any, actor: Any, n: int) -> Any:
            config = await services.config.get(actor.guild_id)
            changes: dict[str, Any] = {
                k: v
                for k, v in {
                    "title": title,
                    "description": description,
                    "points": points,
                    "tags": tags,
                    "capacity": capacity,
                }.items()
                if v is not None
            }
            if due is not None:
                changes["due_at"] = (
                    None if due.strip().lower() in NONE_WORDS else _due(due, config, services)
                )
            if blocked_by is not None:
                changes["blocked_by"] = (
                    None if blocked_by.strip().lower() in NONE_WORDS else number(blocked_by)
                )
            return await services.tasks.edit(actor, n, **changes)

        await _act(interaction, task, call)

    @app_commands.command(name="cancel", description="Take a task off the board, with a reason")
    @app_commands.autocomplete(task=task_autocomplete)
    async def cancel(
        self, interaction: discord.Interaction, task: str, reason: app_commands.Range[str, 1, 500]
    ) -> None:
        await _act(interaction, task, lambda s, a, n: s.tasks.cancel(a, n, reason))

    @app_commands.command(
        name="reopen", description="Put a done or cancelled task back on the board"
    )
    @app_commands.autocomplete(task=finished_task_autocomplete)
    async def reopen(self, interaction: discord.Interaction, task: str) -> None:
        await _act(interaction, task, lambda s, a, n: s.tasks.reopen(a, n))


def _guild(interaction: discord.Interaction) -> int:
    assert interaction.guild_id is not None  # commands are guild_only
    return interaction.guild_id


def _due(raw: str, config: Any, services: Any) -> Any:
    return due(raw, config, services.clock.now())


async def _act(interaction: discord.Interaction, raw_task: str, call: Any) -> None:
    try:
        n = number(raw_task)
    except DomainError as err:
        await report(interaction, err)
        return
    await board.run_action(interaction, lambda s, a: call(s, a, n))


async def _create(
    interaction: discord.Interaction,
    title: str,
    description: str | None,
    points: int,
    tags: str | None,
    due_text: str | None,
    capacity: int,
    blocked_by: str | None,
    *,
    propose: bool,
) -> None:
    try:
        actor, config = await actor_of(interaction)
        services = services_of(interaction)
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
            )
    except DomainError as err:
        await report(interaction, err)
        return
    message = await board.post_card(interaction.client, services, result.task, config)
    text = board.confirmation(result)
    if message is not None:
        await tell(interaction, f"{text} Its card is in {message.jump_url}")
    else:
        # No tasks channel: the card lives right here, in public.
        await interaction.response.send_message(
            text, embed=task_embed(result.task), view=card_view(result.task)
        )
        sent = await interaction.original_response()
        await services.tasks.set_card(
            result.task.guild_id, result.task.number, sent.channel.id, sent.id
        )


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(TasksCog(bot))
