"""What makes a catalog complete (tests/unit/test_catalogs.py, docs/translating.md): every
message of the template translated, none fuzzy or empty, the same placeholders, and within
Discord's limits where Discord shows it."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages import pofile
from babel.messages.catalog import Catalog

from bot import i18n

PLACEHOLDER = re.compile(r"\{[^{}]*\}|%\(\w+\)[sdif]")
DISCORD_LIMIT = 100  # characters of a command, option or choice description or name


def read(path: Path, code: str | None = None) -> Catalog:
    with path.open("rb") as source:
        return pofile.read_po(source, locale=code, domain=i18n.DOMAIN)


def template() -> Catalog:
    return read(i18n.LOCALE_DIR / f"{i18n.DOMAIN}.pot")


def problems(template: Catalog, catalog: Catalog) -> list[str]:
    """Each thing wrong with `catalog` against `template`, as a line a translator can act on."""
    found: list[str] = []
    wanted = {(m.id, m.context) for m in template if m.id}
    for message in template:
        if not message.id:
            continue
        shown = f"{message.id!r}" + (f" ({message.context})" if message.context else "")
        translated = catalog.get(message.id, context=message.context)
        if translated is None:
            found.append(f"missing: {shown}")
            continue
        if translated.fuzzy:
            found.append(f"fuzzy (not used until reviewed): {shown}")
        raw = translated.string
        strings = [str(s) for s in raw] if isinstance(raw, list | tuple) else [str(raw or "")]
        if not all(s.strip() for s in strings):
            found.append(f"empty: {shown}")
            continue
        # A plural's forms each say the number once: compare with the English plural form.
        source = message.id[-1] if isinstance(message.id, list | tuple) else message.id
        english = sorted(PLACEHOLDER.findall(str(source)))
        for text in strings:
            if sorted(PLACEHOLDER.findall(text)) != english:
                found.append(f"placeholders differ: {shown} -> {text!r}")
            if message.context == i18n.COMMAND and len(text) > DISCORD_LIMIT:
                found.append(f"over Discord's {DISCORD_LIMIT} characters: {text!r}")
    for message in catalog:
        if message.id and (message.id, message.context) not in wanted:
            found.append(f"not in the template (left over): {message.id!r}")
    return found


def main(argv: list[str]) -> int:
    """`python -m bot.i18n.check es`: what is still to do in a language's catalog."""
    code = argv[0] if argv else ""
    if code not in i18n.LANGUAGES or code == i18n.SOURCE:
        print(f"usage: python -m bot.i18n.check {{{','.join(sorted(i18n.LANGUAGES))}}}")
        return 2
    found = problems(template(), read(i18n.catalog_path(code), code))
    for line in found:
        print(line)
    print(f"{code}: {len(found)} to do" if found else f"{code}: complete")
    return 1 if found else 0


if __name__ == "__main__":
    import sys

    raise SystemExit(main(sys.argv[1:]))
