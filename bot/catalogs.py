"""`python -m bot.catalogs`: gather every translatable text into bot/locale/peerboard.pot
— what the command picker shows (descriptions, option descriptions, choice names; context
"command"), every refusal (a `DomainError`'s template) and every text said through
`tr(...)` — and bring every language's catalog up to date with it (new messages
untranslated, gone ones dropped). docs/translating.md says when to run it."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from babel.messages import pofile
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from discord import app_commands

from bot import i18n
from bot.bootstrap import build_bot, build_services

HEADER = "Peerboard's messages. Translations: docs/translating.md"
PACKAGE = Path(__file__).resolve().parent
# Calls whose first argument is a member-facing text: the refusals (bot/domain/errors.py
# and its subclasses elsewhere) and a reader's texts (`tr = i18n.texts(...)`).
KEYWORDS: dict[str, tuple[int, ...] | None] = {
    # The argument that is a text of its own: a phrase inside a refusal, a counted noun
    # (singular, plural), what only maintainers may do, the thing a length rule names.
    "Phrase": None,
    "Plural": (1, 2),
    "plural": (1, 2),  # tr.plural("{n} point", "{n} points", n)
    "check_maintainer": (2,),
    "check_text": (3,),
    **dict.fromkeys(
        (
            "DomainError",
            "NotFound",
            "PermissionDenied",
            "InvalidState",
            "LimitReached",
            "InvalidInput",
            "AlreadyDone",
            "Conflict",
            "Busy",
            "InvalidRepo",  # bot/github/errors.py
            "InvalidLabel",
            "GitHubError",
            "tr",
        )
    ),
}


def _walk(
    command: app_commands.Command[Any, ..., Any] | app_commands.Group, path: str
) -> Iterator[tuple[str, str]]:
    """(where, English text) for a command or group and everything under it."""
    where = f"{path} {command.name}".strip()
    yield f"/{where}", command.description
    if isinstance(command, app_commands.Group):
        for sub in command.commands:
            yield from _walk(sub, where)
        return
    for param in command.parameters:
        yield f"/{where} {param.name}", param.description
        for choice in param.choices:
            yield f"/{where} {param.name}", choice.name


async def command_texts() -> list[tuple[str, str]]:
    """Every picker text of the bot's slash commands, as the bot registers them."""
    with tempfile.TemporaryDirectory() as scratch:
        runtime = build_services(f"sqlite+aiosqlite:///{Path(scratch) / 'unused.db'}")
        try:
            bot = build_bot(runtime.services, scheduler=False)
            for cog in bot.cogs_to_load():
                await bot.add_cog(cog)
            found: list[tuple[str, str]] = []
            for command in bot.tree.get_commands():
                if isinstance(command, app_commands.Command | app_commands.Group):
                    found.extend(_walk(command, ""))
            return [(w, t) for w, t in found if any(c.isalpha() for c in t)]
        finally:
            await runtime.close()


Text = str | tuple[str, str]  # a message, or a counted noun's (singular, plural)


def source_texts() -> list[tuple[str, Text]]:
    """(file:line, English) of every refusal and `tr(...)` text in the package's code."""
    found = extract_from_dir(
        PACKAGE, method_map=[("**.py", "python")], keywords=KEYWORDS, comment_tags=()
    )
    return [
        (f"bot/{name}", message)
        for name, line, message, _, _ in found
        if message and (isinstance(message, str) or len(message) == 2)
    ]


def template(texts: list[tuple[str, str]], sources: Sequence[tuple[str, Text]] = ()) -> Catalog:
    catalog = Catalog(
        domain=i18n.DOMAIN,
        project="Peerboard",
        header_comment=f"# {HEADER}",
        creation_date=datetime(2026, 1, 1, tzinfo=UTC),  # stable: the file changes with its texts
        fuzzy=False,
    )
    for where, text in texts:
        known = catalog.get(text, context=i18n.COMMAND)
        if known is not None:
            known.auto_comments = sorted({*known.auto_comments, where})
            continue
        catalog.add(text, context=i18n.COMMAND, auto_comments=[where])
    for where, message in sources:
        found = catalog.get(message)
        if found is not None:
            found.auto_comments = sorted({*found.auto_comments, where})
            continue
        catalog.add(message, auto_comments=[where])
    return catalog


def write(catalog: Catalog, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as out:
        pofile.write_po(out, catalog, width=100, omit_header=False, sort_output=True)


def update() -> list[Path]:
    pot = template(asyncio.run(command_texts()), source_texts())
    written = [i18n.LOCALE_DIR / f"{i18n.DOMAIN}.pot"]
    write(pot, written[0])
    for code in i18n.LANGUAGES:
        if code == i18n.SOURCE:
            continue
        path = i18n.catalog_path(code)
        if path.exists():
            with path.open("rb") as source:
                catalog = pofile.read_po(source, locale=code, domain=i18n.DOMAIN)
        else:
            catalog = Catalog(locale=code, domain=i18n.DOMAIN, project="Peerboard", fuzzy=False)
        catalog.update(pot, no_fuzzy_matching=True)
        write(catalog, path)
        written.append(path)
    return written


if __name__ == "__main__":
    for path in update():
        print(path)
