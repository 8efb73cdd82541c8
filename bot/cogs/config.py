"""/config: maintainers set up channels, roles, claim rules, the digest and milestones.

Hidden from members by default (Manage Server) and checked again in the service,
because server admins can change who sees a command.
"""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot import i18n
from bot.cogs import github as handlers
from bot.domain.errors import DomainError, InvalidInput
from bot.domain.model import (
    CLAIM_DAYS,
    CLAIM_LIMIT,
    KUDOS_WEEKLY_BUDGET,
    MAX_EXTENSIONS,
    MILESTONE_POINTS,
    PROPOSAL_ENDORSEMENTS,
    PROPOSAL_LIMIT,
    PROPOSAL_WINDOW_HOURS,
    REGULAR_THRESHOLD,
    REQUIRED_APPROVALS,
    REVIEW_NUDGE_HOURS,
    REVIEW_POINTS,
    REWORK_LIMIT,
)
from bot.jobs.background import BackgroundJobs
from bot.services.config import WEEKDAY_NAMES, GuildConfig, timezone_suggestions
from bot.ui import github as github_text
from bot.ui import upkeep
from bot.ui.client import PeerClient, PeerInteraction
from bot.ui.context import actor_of
from bot.ui.errors import refusals
from bot.ui.language import caller, public
from bot.ui.pings import ping_warning
from bot.ui.settings import config_embed

DAY_CHOICES = [
    app_commands.Choice(name=d.capitalize(), value=i) for i, d in enumerate(WEEKDAY_NAMES)
]
# /config language's value for "no language of its own: follow the server's Discord
# language" (stored as NULL).
FOLLOW_SERVER = "server"


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class ConfigCog(
    commands.GroupCog, group_name="config", group_description="Set Peerboard up (maintainers)"
):
    def __init__(self, bot: PeerClient, jobs: BackgroundJobs) -> None:
        self.bot = bot
        self.services = bot.services
        self.jobs = jobs

    async def _update(
        self, interaction: PeerInteraction, **changes: int | str | bool | None
    ) -> None:
        await self._save(interaction, changes)

    @staticmethod
    def _embed(tr: i18n.Texts, interaction: PeerInteraction, config: GuildConfig) -> discord.Embed:
        return config_embed(tr, config, interaction.guild)

    async def _save(
        self,
        interaction: PeerInteraction,
        changes: dict[str, int | str | bool | None],
        *,
        pings: bool = False,
    ) -> None:
        """Save the changes; with `pings`, also say if review pings would reach nobody."""
        async with refusals(interaction):
            actor, _config = await actor_of(self.services, interaction)
            if not changes:
                raise InvalidInput("Nothing to change: pick at least one option.")
            config = await self.services.config.update(actor, **changes)
            tr = caller(interaction, config)
            warning = ping_warning(tr, interaction.guild, config) if pings else None
            text = tr("Saved.") if warning is None else tr("Saved.") + "\n" + warning
            await interaction.response.send_message(
                text, embed=self._embed(tr, interaction, config), ephemeral=True
            )

    @app_commands.command(name="show", description="Show the current settings")
    async def show(self, interaction: PeerInteraction) -> None:
        async with refusals(interaction):
            actor, config = await actor_of(self.services, interaction)
            if not actor.is_maintainer:
                raise DomainError("Only maintainers can see the settings.")
            dead = await self.services.reminders.dead_letters(actor.guild_id)
            stuck = await self.services.cards.stuck(actor.guild_id)
            repos = await self.services.github.repos(actor.guild_id)
            failed = await self.services.github.failed_deliveries(actor.guild_id)
            tr = caller(interaction, config)
            notes = [
                ping_warning(tr, interaction.guild, config),
                upkeep.undelivered(tr, dead) if dead else None,
                upkeep.cards_stuck(tr, stuck) if stuck else None,
                github_text.repos_line(tr, repos),
                github_text.failed_deliveries(tr, failed),
            ]
            await interaction.response.send_message(
                "\n".join(n for n in notes if n) or None,
                embed=self._embed(tr, interaction, config),
                ephemeral=True,
            )

    @app_commands.command(name="channels", description="Where cards, reviews and the digest go")
    async def channels(
        self,
        interaction: PeerInteraction,
        tasks: discord.TextChannel | None = None,
        review: discord.TextChannel | None = None,
        digest: discord.TextChannel | None = None,
    ) -> None:
        chosen = {
            "tasks_channel_id": tasks,
            "review_channel_id": review,
            "digest_channel_id": digest,
        }
        await self._save(
            interaction, {k: v.id for k, v in chosen.items() if v is not None}, pings=True
        )

    @app_commands.command(name="roles", description="Who maintains and who reviews")
    async def roles(
        self,
        interaction: PeerInteraction,
        maintainer: discord.Role | None = None,
        reviewer: discord.Role | None = None,
    ) -> None:
        chosen = {"maintainer_role_id": maintainer, "reviewer_role_id": reviewer}
        await self._save(
            interaction, {k: v.id for k, v in chosen.items() if v is not None}, pings=True
        )

    @app_commands.command(name="claims", description="Claim windows, limits and approvals")
    @app_commands.describe(
        claim_days="Days a claim lasts, for every task size",
        window_by_size="Go back to a window by task size (3, 7 or 14 days)",
    )
    async def claims(
        self,
        interaction: PeerInteraction,
        claim_days: app_commands.Range[int, CLAIM_DAYS.min, CLAIM_DAYS.max] | None = None,
        max_extensions: app_commands.Range[int, MAX_EXTENSIONS.min, MAX_EXTENSIONS.max]
        | None = None,
        limit_newcomer: app_commands.Range[int, CLAIM_LIMIT.min, CLAIM_LIMIT.max] | None = None,
        limit_contributor: app_commands.Range[int, CLAIM_LIMIT.min, CLAIM_LIMIT.max] | None = None,
        limit_regular: app_commands.Range[int, CLAIM_LIMIT.min, CLAIM_LIMIT.max] | None = None,
        required_approvals: app_commands.Range[int, REQUIRED_APPROVALS.min, REQUIRED_APPROVALS.max]
        | None = None,
        window_by_size: bool | None = None,
    ) -> None:
        values: dict[str, int | None] = {
            "claim_days": claim_days,
            "max_extensions": max_extensions,
            "limit_newcomer": limit_newcomer,
            "limit_contributor": limit_contributor,
            "limit_regular": limit_regular,
            "required_approvals": required_approvals,
        }
        chosen: dict[str, int | None] = {k: v for k, v in values.items() if v is not None}
        if window_by_size:
            if claim_days is not None:
                async with refusals(interaction):
                    raise InvalidInput(
                        "Pick one: a claim window in days, or the window by task size."
                    )
                return
            chosen["claim_days"] = None  # back to 3/7/14 days by size
        await self._update(interaction, **chosen)

    @app_commands.command(name="trust", description="Who counts as a regular, and what they may do")
    @app_commands.describe(
        regular_threshold="Tasks done to become a regular",
        regulars_can_create="Let regulars put tasks straight on the board",
    )
    async def trust(
        self,
        interaction: PeerInteraction,
        regular_threshold: app_commands.Range[int, REGULAR_THRESHOLD.min, REGULAR_THRESHOLD.max]
        | None = None,
        regulars_can_create: bool | None = None,
    ) -> None:
        values = {
            "regular_threshold": regular_threshold,
            "regulars_can_create": regulars_can_create,
        }
        await self._update(interaction, **{k: v for k, v in values.items() if v is not None})

    @app_commands.command(name="proposals", description="When a proposal opens by consensus")
    @app_commands.describe(
        proposal_endorsements="Endorsements that open a proposal (the proposer's not counted)",
        proposal_window_hours="Hours after which a proposal nobody objected to opens",
        proposal_limit_newcomer="Proposals a newcomer may have waiting at a time",
        proposal_limit_contributor="Proposals a contributor may have waiting at a time",
        proposal_limit_regular="Proposals a regular may have waiting at a time",
    )
    async def proposals(
        self,
        interaction: PeerInteraction,
        proposal_endorsements: app_commands.Range[
            int, PROPOSAL_ENDORSEMENTS.min, PROPOSAL_ENDORSEMENTS.max
        ]
        | None = None,
        proposal_window_hours: app_commands.Range[
            int, PROPOSAL_WINDOW_HOURS.min, PROPOSAL_WINDOW_HOURS.max
        ]
        | None = None,
        proposal_limit_newcomer: app_commands.Range[int, PROPOSAL_LIMIT.min, PROPOSAL_LIMIT.max]
        | None = None,
        proposal_limit_contributor: app_commands.Range[int, PROPOSAL_LIMIT.min, PROPOSAL_LIMIT.max]
        | None = None,
        proposal_limit_regular: app_commands.Range[int, PROPOSAL_LIMIT.min, PROPOSAL_LIMIT.max]
        | None = None,
    ) -> None:
        values = {
            "proposal_endorsements": proposal_endorsements,
            "proposal_window_hours": proposal_window_hours,
            "proposal_limit_newcomer": proposal_limit_newcomer,
            "proposal_limit_contributor": proposal_limit_contributor,
            "proposal_limit_regular": proposal_limit_regular,
        }
        await self._update(interaction, **{k: v for k, v in values.items() if v is not None})

    @app_commands.command(name="reviews", description="Review points, nudges and rounds of changes")
    @app_commands.describe(
        review_points="Points a reviewer earns per task reviewed (once, however many rounds)",
        review_nudge_hours="Hours in review before the review channel is nudged",
        rework_limit="Rounds of changes before maintainers are asked to step in",
    )
    async def reviews(
        self,
        interaction: PeerInteraction,
        review_points: app_commands.Range[int, REVIEW_POINTS.min, REVIEW_POINTS.max] | None = None,
        review_nudge_hours: app_commands.Range[int, REVIEW_NUDGE_HOURS.min, REVIEW_NUDGE_HOURS.max]
        | None = None,
        rework_limit: app_commands.Range[int, REWORK_LIMIT.min, REWORK_LIMIT.max] | None = None,
    ) -> None:
        values = {
            "review_points": review_points,
            "review_nudge_hours": review_nudge_hours,
            "rework_limit": rework_limit,
        }
        await self._update(interaction, **{k: v for k, v in values.items() if v is not None})

    @app_commands.command(name="kudos", description="How many kudos each member may give")
    @app_commands.describe(kudos_weekly_budget="Kudos a member may give in any 7 days")
    async def kudos(
        self,
        interaction: PeerInteraction,
        kudos_weekly_budget: app_commands.Range[
            int, KUDOS_WEEKLY_BUDGET.min, KUDOS_WEEKLY_BUDGET.max
        ],
    ) -> None:
        await self._update(interaction, kudos_weekly_budget=kudos_weekly_budget)

    @app_commands.command(name="digest", description="When the weekly recognition digest is posted")
    @app_commands.describe(time="HH:MM, 24-hour", timezone="IANA name, e.g. Europe/Berlin")
    @app_commands.choices(day=DAY_CHOICES)
    async def digest(
        self,
        interaction: PeerInteraction,
        day: int | None = None,
        time: str | None = None,
        timezone: str | None = None,
        enabled: bool | None = None,
    ) -> None:
        values = {
            "digest_day": day,
            "digest_time": time,
            "digest_timezone": timezone,
            "digest_enabled": enabled,
        }
        await self._update(interaction, **{k: v for k, v in values.items() if v is not None})
        # Weekly digest: rebuild this guild's scheduled job for the new day, time and timezone.
        if interaction.guild_id is not None:
            await self.jobs.reschedule_digest(interaction.guild_id)

    @digest.autocomplete("timezone")
    async def _timezones(
        self, interaction: PeerInteraction, current: str
    ) -> list[app_commands.Choice[str]]:
        setting = None
        if interaction.guild_id is not None:
            setting = (await self.services.config.get(interaction.guild_id)).digest_timezone
        return [
            app_commands.Choice(name=name, value=name)
            for name in timezone_suggestions(current, current=setting)
        ]

    @app_commands.command(name="language", description="The language of public posts")
    @app_commands.describe(
        language="A language Peerboard speaks, or the server's own Discord language"
    )
    async def language(self, interaction: PeerInteraction, language: str) -> None:
        """Cards, threads, review calls, notices and the digest; each member's own replies
        follow their Discord language still."""
        chosen = language.strip()
        code = None if chosen.lower() == FOLLOW_SERVER else _language_code(chosen)
        async with refusals(interaction):
            actor, _config = await actor_of(self.services, interaction)
            config = await self.services.config.update(actor, language=code)
            tr = caller(interaction, config)
            now = i18n.LANGUAGES[public(config, interaction.guild).code]
            if config.language is not None:
                text = tr(
                    "Saved. Public posts (cards, threads, the digest) are now in {language}.",
                    language=now,
                )
            elif i18n.language_of(_preferred(interaction)) is not None:
                text = tr(
                    "Saved. Public posts now follow the server's Discord language: {language}.",
                    language=now,
                )
            else:
                text = tr(
                    "Saved. Public posts now follow the server's Discord language; Peerboard doesn't speak it yet, so they are in {language}.",
                    language=now,
                )
            await interaction.response.send_message(
                text, embed=self._embed(tr, interaction, config), ephemeral=True
            )

    @language.autocomplete("language")
    async def _languages(
        self, interaction: PeerInteraction, current: str
    ) -> list[app_commands.Choice[str]]:
        config = None
        if interaction.guild_id is not None:
            config = await self.services.config.get(interaction.guild_id)
        tr = caller(interaction, config)
        return language_choices(tr, current)

    @app_commands.command(
        name="milestone", description="Grant a role when someone reaches a number of points"
    )
    @app_commands.describe(
        role="The role to grant (not needed to remove)",
        remove="Remove the milestone at these points instead",
    )
    async def milestone(
        self,
        interaction: PeerInteraction,
        points: app_commands.Range[int, MILESTONE_POINTS.min, MILESTONE_POINTS.max],
        role: discord.Role | None = None,
        remove: bool = False,
    ) -> None:
        async with refusals(interaction):
            actor, _config = await actor_of(self.services, interaction)
            if not remove:
                if role is None:
                    raise InvalidInput(
                        "Pick the role members get at these points (or set remove to True)."
                    )
                if role.is_default() or role.managed:
                    raise InvalidInput(
                        "Pick a regular role: not @everyone, and not one managed by an integration."
                    )
            config = await self.services.config.set_milestone(
                actor, points, None if remove or role is None else role.id
            )
            tr = caller(interaction, config)
            counted = tr.plural("{n} point", "{n} points", points)
            done = (
                tr("Removed the milestone at {points}.", points=counted)
                if remove or role is None
                else tr("At {points}, members get {role}.", points=counted, role=role.mention)
            )
            await interaction.response.send_message(
                done, embed=self._embed(tr, interaction, config), ephemeral=True
            )

    @app_commands.command(
        name="github", description="Connect a GitHub repository: its issues and PRs drive the board"
    )
    @app_commands.describe(
        repo="owner/name",
        remove="Disconnect the repository",
        label="Issues given this label on GitHub become tasks",
        rotate="Make a new webhook secret",
    )
    async def github(
        self,
        interaction: PeerInteraction,
        repo: app_commands.Range[str, 1, 140],
        remove: bool = False,
        label: app_commands.Range[str, 1, 50] | None = None,
        rotate: bool = False,
    ) -> None:
        await handlers.connect_repo(interaction, repo, remove, label, rotate)

    @app_commands.command(name="github-login", description="Clear a member's GitHub account")
    @app_commands.describe(member="Whose GitHub account to clear")
    async def github_login(self, interaction: PeerInteraction, member: discord.Member) -> None:
        await handlers.clear_member_login(interaction, member)


def _preferred(interaction: discord.Interaction) -> str | None:
    guild = interaction.guild
    return str(guild.preferred_locale) if guild is not None else None


def _language_code(typed: str) -> str:
    """A catalog code from what was picked or typed: the code itself (`de`, `pt_BR`,
    `pt-BR`) or a language's own name (`Deutsch`); anything else as typed, for the
    service to refuse."""
    wanted = typed.strip().casefold().replace("-", "_")
    for code, name in i18n.LANGUAGES.items():
        if wanted in (code.casefold(), name.casefold()):
            return code
    return typed.strip()


def language_choices(tr: i18n.Texts, current: str) -> list[app_commands.Choice[str]]:
    """Every language Peerboard speaks, named in itself, and "the server's language"."""
    follow = tr("Follow the server's Discord language")
    choices = [
        app_commands.Choice(name=f"{name} ({code})", value=code)
        for code, name in i18n.LANGUAGES.items()
    ]
    choices.append(app_commands.Choice(name=follow, value=FOLLOW_SERVER))
    typed = current.strip().casefold()
    return [c for c in choices if typed in c.name.casefold() or typed in c.value.casefold()]
