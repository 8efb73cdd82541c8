"""Recognition tied to verified work (SPEC §3): every number comes from the ledger."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from bot.db.models import GuildSettings
from bot.db.repos.ledger import Credit
from bot.db.uow import Database
from bot.domain import rules as r
from bot.domain.errors import InvalidInput, LimitReached, PermissionDenied, Plural
from bot.domain.inputs import clean_line
from bot.domain.model import Actor, LedgerKind, Rules, TrustLevel
from bot.domain.scoring import KUDOS_REASON_MAX, NextLevel, next_level, weekly_streak
from bot.services.clock import Clock
from bot.services.config import ConfigService, GuildConfig

PERIODS: Final = {"week": timedelta(days=7), "month": timedelta(days=30), "all": None}
BOARD_BY: Final = ("points", "tasks", "reviews", "kudos")
KUDOS_WINDOW: Final = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class Profile:
    member_id: int
    points: int
    tasks_done: int
    reviews_given: int
    kudos_received: int
    streak_weeks: int
    level: TrustLevel
    next_level: NextLevel | None
    held_claims: int
    claim_limit: int | None
    ranking_visible: bool


@dataclass(frozen=True, slots=True)
class KudosResult:
    giver_id: int
    receiver_id: int
    reason: str
    left_this_week: int


@dataclass(frozen=True, slots=True)
class MilestoneDue:
    points: int
    role_id: int


class RecognitionService:
    def __init__(self, db: Database, clock: Clock, *, config: ConfigService | None = None) -> None:
        self._db = db
        self._clock = clock
        self._config = config  # the guild's rules and timezone, from its cache

    async def profile(
        self,
        actor_or_guild: int,
        member_id: int,
        *,
        is_maintainer: bool = False,
        has_reviewer_role: bool = False,
    ) -> Profile:
        guild_id = actor_or_guild
        now = self._clock.now()
        settings: GuildSettings | GuildConfig | None = None
        if self._config is not None:
            settings = await self._config.get(guild_id)
        async with self._db.read() as uow:
            if settings is None:
                settings = await uow.guilds.get_guild(guild_id)
            # The totals as member_scores keeps them (the ledger's sums, written with it),
            # the claims held and the ranking choice: one statement.
            points, done, reviews, kudos, held, visible = await uow.ledger.profile_figures(
                guild_id, member_id
            )
            times = await uow.ledger.credit_times(guild_id, member_id, now - timedelta(days=400))
        rules = settings.rules if settings else Rules()
        tz = ZoneInfo(settings.digest_timezone) if settings else ZoneInfo("UTC")
        level = r.trust_level(done, rules)
        return Profile(
            member_id=member_id,
            points=points,
            tasks_done=done,
            reviews_given=reviews,
            kudos_received=kudos,
            streak_weeks=weekly_streak(times, now, tz),
            level=level,
            next_level=next_level(
                level, done, rules, reviews_already=is_maintainer or has_reviewer_role
            ),
            held_claims=held,
            claim_limit=None if is_maintainer else r.claim_limit(level, rules),
            ranking_visible=visible,
        )

    async def leaderboard(
        self, guild_id: int, period: str = "week", by: str = "points", limit: int = 10
    ) -> list[tuple[int, int]]:
        if period not in PERIODS or by not in BOARD_BY:
            raise InvalidInput(
                "Pick a period (week, month, all) and a ranking (points, tasks, reviews, kudos)."
            )
        span = PERIODS[period]
        now = self._clock.now()
        since = now - span if span is not None else None
        async with self._db.read() as uow:
            return list(await uow.ledger.leaderboard(guild_id, since, by, limit, until=now))

    async def give_kudos(
        self, actor: Actor, receiver_id: int, receiver_is_bot: bool, reason: str
    ) -> KudosResult:
        if receiver_id == actor.member_id:
            raise PermissionDenied(
                "Kudos are for thanking others — you can't give them to yourself."
            )
        if receiver_is_bot:
            raise InvalidInput("Kudos are for people, not bots.")
        text = clean_line(reason)
        if not text:
            raise InvalidInput("Say what you're thanking them for (1–200 characters).")
        if len(text) > KUDOS_REASON_MAX:
            raise InvalidInput(
                "Keep the reason to {limit} characters (it has {length}).",
                limit=KUDOS_REASON_MAX,
                length=len(text),
            )
        now = self._clock.now()
        async with self._db.unit() as uow:
            settings = await uow.guilds.ensure_guild(actor.guild_id, now)
            # Writing the giver's row first serialises one giver's kudos (PostgreSQL row lock).
            await uow.guilds.touch_member(actor.guild_id, actor.member_id, now)
            given = await uow.ledger.kudos_given_since(
                actor.guild_id, actor.member_id, now - KUDOS_WINDOW
            )
            budget = settings.kudos_weekly_budget
            if given >= budget:
                raise LimitReached(
                    "You've given {given} in the last 7 days, and the budget is {budget} in "
                    "any 7 days. It refills as those get older — thank you for noticing "
                    "people's work!",
                    given=Plural("{n} kudos", "{n} kudos", given),
                    budget=budget,
                )
            await uow.ledger.add_credits(
                [
                    Credit(
                        guild_id=actor.guild_id,
                        member_id=receiver_id,
                        kind=LedgerKind.KUDOS.value,
                        points=0,  # kudos are counted apart from points
                        giver_id=actor.member_id,
                        reason=text,
                        created_at=now,
                    )
                ]
            )
            await uow.commit()
        return KudosResult(actor.member_id, receiver_id, text, budget - given - 1)

    async def set_ranking_visible(self, actor: Actor, visible: bool) -> None:
        async with self._db.unit() as uow:
            await uow.guilds.set_preferences(
                actor.guild_id, actor.member_id, self._clock.now(), ranking_visible=visible
            )
            await uow.commit()

    # -- milestone roles -------------------------------------------------------------------------

    async def milestones_due(self, guild_id: int, member_id: int) -> list[MilestoneDue]:
        """Milestones whose threshold the member has reached and never got (or was refused)."""
        async with self._db.unit() as uow:
            milestones = await uow.ledger.milestones(guild_id)
            if not milestones:
                return []
            points, *_ = await uow.ledger.member_totals(guild_id, member_id)
            had = await uow.ledger.milestone_grants(guild_id, member_id)
        return [
            MilestoneDue(m.points, m.role_id)
            for m in milestones
            if m.points <= points and m.points not in had
        ]

    async def record_grant(
        self, guild_id: int, member_id: int, due: MilestoneDue, *, granted: bool
    ) -> bool:
        """Remember the outcome. Returns True when a refusal is the first for that milestone,
        so maintainers are told once what to fix."""
        now = self._clock.now()
        async with self._db.unit() as uow:
            uow.ledger.add_grant(
                guild_id=guild_id,
                member_id=member_id,
                points=due.points,
                role_id=due.role_id,
                granted=granted,
                created_at=now,
            )
            first_problem = False
            if not granted:
                milestone = next(
                    (m for m in await uow.ledger.milestones(guild_id) if m.points == due.points),
                    None,
                )
                if milestone is not None:
                    first_problem = uow.ledger.note_milestone_problem(milestone, now)
            await uow.commit()
        return first_problem


def since_for(period: str, now: datetime) -> datetime | None:
    span = PERIODS.get(period)
    return now - span if span is not None else None
