"""The log handler Peerboard installs (`peerboard run`, `migrate`): one line per record, with
secrets and SQL parameters redacted.

At DEBUG, libraries log what they handle: discord.py the gateway's event payloads (an
interaction's `token` among them) and every request URL (an interaction's webhook URL
carries its token), aiosqlite each call with its SQL parameters (what members typed),
SQLAlchemy — when its logger is on — the parameters and rows of statements. A filter on
Peerboard's handler rewrites each record before it is written: the bot token and the
database password by value, interaction tokens, `user:password@` in URLs, Discord bot
tokens and GitHub tokens by their shape, and SQL parameters, wherever they appear
(message, arguments, traceback). Records are rewritten in place, so any handler that
formats them after this one sees the redacted text too.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import re
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING, Final

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

if TYPE_CHECKING:
    from bot.settings import Settings

REDACTED: Final = "[redacted]"
HIDDEN_PARAMETERS: Final = "[parameters hidden]"
FORMAT: Final = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"

_PATTERNS: Final[tuple[tuple[re.Pattern[str], str], ...]] = (
    # 'token': '…' in a gateway payload (repr of a dict) or "token": "…" in JSON.
    (re.compile(r"""(['"]token['"]\s*:\s*['"])[^'"]+"""), rf"\1{REDACTED}"),
    # An interaction's token in its webhook and callback URLs.
    (re.compile(r"(/(?:webhooks|interactions)/\d+/)[A-Za-z0-9_.\-]+"), rf"\1{REDACTED}"),
    # A password in a URL: scheme://user:password@host.
    (re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*://[^:/?#@\s'\"]*:)[^@\s/'\"]+@"), rf"\1{REDACTED}@"),
    # A Discord bot token by its shape: three base64url parts.
    (re.compile(r"[A-Za-z0-9_\-]{23,}\.[A-Za-z0-9_\-]{6}\.[A-Za-z0-9_\-]{27,}"), REDACTED),
    # A GitHub token by its shape: a classic or OAuth token (ghp_, gho_, ghu_, ghs_, ghr_)
    # or a fine-grained one (github_pat_).
    (re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})"), REDACTED),
    # SQLAlchemy's statement errors: "[parameters: (…)]".
    (re.compile(r"\[parameters: [^\n]*\]"), f"[parameters: {HIDDEN_PARAMETERS}]"),
)


def secrets_of(settings: Settings) -> list[str]:
    """The values no log line may show: the bot token and the database password."""
    found = [settings.token_value() or ""]
    with contextlib.suppress(ArgumentError):  # not a URL: no password to find in it
        found.append(make_url(settings.database_url_value()).password or "")
    return [value for value in found if len(value) >= 4]


class RedactingFilter(logging.Filter):
    """Rewrites each record with its secrets and SQL parameters redacted; never drops one."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets = sorted(set(secrets), key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        for pattern, replacement in _PATTERNS:
            text = pattern.sub(replacement, text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        _hide_parameters(record)
        record.msg = self.redact(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


def _hide_parameters(record: logging.LogRecord) -> None:
    """The parameters of SQL statements, by the shape their loggers give them."""
    args = record.args
    if not isinstance(args, tuple) or not args:
        return
    if record.name == "aiosqlite":
        # "executing %s" with functools.partial(<execute>, sql, parameters)
        record.args = tuple(
            _call(arg) if isinstance(arg, functools.partial) else arg for arg in args
        )
    elif record.name.startswith("sqlalchemy.engine"):
        message = str(record.msg)
        if message == "[%s] %r" and len(args) == 2:  # a statement's parameters
            record.args = (args[0], HIDDEN_PARAMETERS)
        elif message.startswith("Row "):  # a result row, at DEBUG
            record.args = tuple(HIDDEN_PARAMETERS for _ in args)


def _call(call: functools.partial[object]) -> str:
    name = getattr(call.func, "__name__", type(call.func).__name__)
    shown = [repr(arg) for arg in call.args[:1] if isinstance(arg, str)]
    if len(call.args) > len(shown) or call.keywords:
        shown.append(HIDDEN_PARAMETERS)
    return f"{name}({', '.join(shown)})"


def configure_logging(settings: Settings) -> None:
    """Peerboard's handler on the root logger (stderr), at the configured level; as
    `logging.basicConfig`, nothing changes when the root logger has handlers already."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactingFilter(secrets_of(settings)))
    if settings.log_format == "json":  # PEERBOARD_LOG_FORMAT=json: one JSON object a line
        from bot.ops.logs import JsonFormatter

        handler.setFormatter(JsonFormatter())
    logging.basicConfig(level=settings.log_level, format=FORMAT, handlers=[handler])
