"""Reads of the ledger and the scores kept from it: /profile, /leaderboard, kudos."""

from __future__ import annotations

import functools
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped
from sqlmodel import col

from bot.db.models import GuildMember, LedgerEntry, MemberScore
from bot.db.queries.board import GUILD, MEMBER, held_claims_subquery
from bot.db.queries.common import MAX_TIME, Bound
from bot.db.types import UTCDateTime

SINCE = sa.bindparam("since", type_=UTCDateTime())


@functools.cache
def _member_totals() -> sa.Select[int, int, int, int]:
    kind = col(LedgerEntry.kind)
    return sa.select(
        sa.func.coalesce(
            sa.func.sum(sa.case((kind.in_(("task", "review")), col(LedgerEntry.points)), else_=0)),
            0,
        ),
        sa.func.count(sa.distinct(sa.case((kind == "task", col(LedgerEntry.task_id)), else_=None))),
        sa.func.coalesce(sa.func.sum(sa.case((kind == "review", 1), else_=0)), 0),
        sa.func.coalesce(sa.func.sum(sa.case((kind == "kudos", 1), else_=0)), 0),
    ).where(col(LedgerEntry.guild_id) == GUILD, col(LedgerEntry.member_id) == MEMBER)


def member_totals_query(guild_id: int, member_id: int) -> Bound[sa.Select[int, int, int, int]]:
    """(points, tasks done, reviews given, kudos received), from the member's ledger rows."""
    return _member_totals(), {"guild_id": guild_id, "member_id": member_id}


@functools.cache
def _profile_figures() -> sa.Select[int, int, int, int, int, bool]:
    def score(column: Mapped[int]) -> sa.ColumnElement[int]:
        found = sa.select(column).where(
            col(MemberScore.guild_id) == GUILD, col(MemberScore.member_id) == MEMBER
        )
        return sa.func.coalesce(found.scalar_subquery(), 0)

    visible = sa.select(col(GuildMember.ranking_visible)).where(
        col(GuildMember.guild_id) == GUILD, col(GuildMember.member_id) == MEMBER
    )
    return sa.select(
        score(col(MemberScore.points)),
        score(col(MemberScore.tasks)),
        score(col(MemberScore.reviews)),
        score(col(MemberScore.kudos)),
        held_claims_subquery(),
        sa.func.coalesce(visible.scalar_subquery(), sa.true()),
    )


def profile_figures_query(
    guild_id: int, member_id: int
) -> Bound[sa.Select[int, int, int, int, int, bool]]:
    """(points, tasks done, reviews given, kudos received, claims held, ranking visible):
    the totals from member_scores (the ledger's sums, kept with it), zeros without a row."""
    return _profile_figures(), {"guild_id": guild_id, "member_id": member_id}


@functools.cache
def _credit_times() -> sa.Select[datetime]:
    return sa.select(col(LedgerEntry.created_at)).where(
        col(LedgerEntry.guild_id) == GUILD,
        col(LedgerEntry.member_id) == MEMBER,
        col(LedgerEntry.kind).in_(("task", "review")),
        col(LedgerEntry.created_at) >= SINCE,
    )


def credit_times_query(
    guild_id: int, member_id: int, since: datetime
) -> Bound[sa.Select[datetime]]:
    return _credit_times(), {"guild_id": guild_id, "member_id": member_id, "since": since}


@functools.cache
def _kudos_given_since() -> sa.Select[int]:
    return sa.select(sa.func.count()).where(
        col(LedgerEntry.guild_id) == GUILD,
        col(LedgerEntry.giver_id) == sa.bindparam("giver_id", type_=sa.BigInteger()),
        col(LedgerEntry.kind) == "kudos",
        col(LedgerEntry.created_at) >= SINCE,
    )


def kudos_given_since_query(guild_id: int, giver_id: int, since: datetime) -> Bound[sa.Select[int]]:
    return _kudos_given_since(), {"guild_id": guild_id, "giver_id": giver_id, "since": since}


def hidden_members_query(guild_id: int) -> sa.Select[int]:
    return sa.select(col(GuildMember.member_id)).where(
        col(GuildMember.guild_id) == guild_id, col(GuildMember.ranking_visible) == sa.false()
    )


def leaderboard_query(
    guild_id: int, since: datetime | None, by: str, limit: int, until: datetime | None = None
) -> Bound[sa.Select[int, int]]:
    """(member, score) best first, members who hid themselves left out. A period sums the
    ledger rows of that period (an index range on time: `until`, now, bounds it on both
    sides, so SQLite's planner, which has no histograms, sees a narrow range rather than
    a quarter of the ledger); all time reads member_scores, the ledger's sums kept per
    member, from the top of its index for that score."""
    hidden = hidden_members_query(guild_id)
    if since is None:
        score_col: Mapped[int] = col(getattr(MemberScore, by))
        stmt: sa.Select[int, int] = (
            sa.select(col(MemberScore.member_id), score_col.label("score"))
            .where(
                col(MemberScore.guild_id) == guild_id,
                score_col > 0,
                col(MemberScore.member_id).not_in(hidden),
            )
            .order_by(score_col.desc(), col(MemberScore.member_id))
            .limit(limit)
        )
        return stmt, {}
    kind = col(LedgerEntry.kind)
    score = {
        "points": sa.func.sum(
            sa.case((kind.in_(("task", "review")), col(LedgerEntry.points)), else_=0)
        ),
        "tasks": sa.func.count(
            sa.distinct(sa.case((kind == "task", col(LedgerEntry.task_id)), else_=None))
        ),
        "reviews": sa.func.sum(sa.case((kind == "review", 1), else_=0)),
        "kudos": sa.func.sum(sa.case((kind == "kudos", 1), else_=0)),
    }[by]
    stmt = (
        sa.select(col(LedgerEntry.member_id), score.label("score"))
        .where(
            col(LedgerEntry.guild_id) == guild_id,
            col(LedgerEntry.created_at) >= since,
            col(LedgerEntry.created_at) <= (until or MAX_TIME),
            col(LedgerEntry.member_id).not_in(hidden),
        )
        .group_by(col(LedgerEntry.member_id))
        .having(score > 0)
        .order_by(sa.desc("score"), col(LedgerEntry.member_id))
        .limit(limit)
    )
    return stmt, {}


@functools.cache
def score_totals_select() -> sa.Select[int, int, int, int, int, int]:
    """member_totals_query's totals and then the member's keys (guild_id, member_id): the
    rows an upsert into member_scores takes."""
    return _member_totals().add_columns(GUILD, MEMBER)
