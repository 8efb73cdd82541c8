"""What every repository holds: the unit of work's session and its database's dialect."""

from __future__ import annotations

from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession


class Repo:
    __slots__ = ("dialect", "session")

    def __init__(self, session: AsyncSession, dialect: str) -> None:
        self.session = session
        self.dialect = dialect  # bot.db.dialect's name for the backend


def rowcount(result: object) -> int:
    """The rows an UPDATE or DELETE matched."""
    assert isinstance(result, CursorResult)
    return int(result.rowcount)
