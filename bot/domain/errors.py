"""Errors whose message is safe to show to a member as it is."""

from __future__ import annotations


class DomainError(Exception):
    """A rule refused an action. `str(err)` is written for the member who tried it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    """The thing named does not exist in this server."""


class PermissionDenied(DomainError):
    """The actor may not do this."""


class InvalidState(DomainError):
    """The task is not in a state that allows this action."""


class LimitReached(DomainError):
    """A quota or limit stops the action (claim limit, capacity, extensions)."""


class InvalidInput(DomainError):
    """A value the member typed is out of range or malformed."""


class AlreadyDone(DomainError):
    """The same action was already applied; nothing changed."""


class Conflict(DomainError):
    """Someone else changed the task at the same moment."""


class Busy(DomainError):
    """Another writer held the database past the busy timeout: nothing changed, and the
    same action a moment later will work."""

    def __init__(self, message: str = "The board is busy — try again in a moment.") -> None:
        super().__init__(message)
