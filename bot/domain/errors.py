"""Errors whose message is safe to show to a member as it is."""

from __future__ import annotations

from dataclasses import dataclass


class Phrase(str):
    """A piece of a refusal that is a text of its own, translated with it: a verb ("claim"),
    a thing named ("title"). The catalog holds it as a message of its own."""

    __slots__ = ()


@dataclass(frozen=True)
class Plural:
    """A count in a refusal with its noun, in the plural form its language's rules pick
    (CLDR's, through gettext's ngettext): `Plural("{n} task", "{n} tasks", 3)`."""

    one: str
    other: str
    n: int

    def __str__(self) -> str:  # English
        return (self.one if self.n == 1 else self.other).format(n=self.n)


@dataclass(frozen=True)
class Number:
    """A number in a refusal, written the reader's way (`1,000` / `1.000` / `1 000`)."""

    n: int

    def __str__(self) -> str:  # English
        return f"{self.n:,}"


@dataclass(frozen=True)
class Lines:
    """Refusals (or other values) shown one a line inside a refusal, each in the reader's
    language: the rows an import found wrong."""

    items: tuple[object, ...]

    def __str__(self) -> str:  # English
        return "\n".join(str(item) for item in self.items)


class DomainError(Exception):
    """A rule refused an action. `str(err)` is written for the member who tried it.

    The message is a template (`"You already claimed #{number}."`) and its values, so that
    the member is told it in their own language: the template is the catalog's message
    (bot/locale), and `message` is it in English."""

    def __init__(self, template: str, /, **values: object) -> None:
        self.template = template
        self.values = values
        self.message = template.format(**values) if values else template
        super().__init__(self.message)


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

    def __init__(self, template: str = "The board is busy — try again in a moment.") -> None:
        super().__init__(template)
