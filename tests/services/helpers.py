"""Small builders for service tests."""

from __future__ import annotations

from bot.domain.model import Actor

GUILD = 1001
OTHER_GUILD = 2002


def maint(member_id: int = 1, guild: int = GUILD) -> Actor:
    return Actor(guild, member_id, is_maintainer=True)


def member(member_id: int, guild: int = GUILD, *, reviewer: bool = False) -> Actor:
    return Actor(guild, member_id, has_reviewer_role=reviewer)
