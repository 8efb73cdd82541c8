"""How often bot/ says `Any`: a reporter, per package, to watch it go down.

    python -m tests.support.any_count [FOLDER]      (default: bot, from the repository root)

Counts each use of the name in code (`Any`, `typing.Any`, in annotations, casts and
type arguments), read from the syntax tree: imports of it, comments and strings do not count.
"""

from __future__ import annotations

import ast
import sys
from collections import Counter
from pathlib import Path


def count_any(source: str) -> int:
    return sum(
        (isinstance(node, ast.Name) and node.id == "Any")
        or (isinstance(node, ast.Attribute) and node.attr == "Any")
        for node in ast.walk(ast.parse(source))
    )


def package_of(path: Path, root: Path) -> str:
    """bot/db/uow.py -> bot.db; bot/cli.py -> bot (its top-level modules)."""
    parts = path.relative_to(root.parent).parts
    return ".".join(parts[:2]) if len(parts) > 2 else parts[0]


def counts(root: Path) -> Counter[str]:
    found: Counter[str] = Counter()
    for path in sorted(root.rglob("*.py")):
        found[package_of(path, root)] += count_any(path.read_text(encoding="utf-8"))
    return found


def report(root: Path) -> str:
    found = counts(root)
    width = max(len(p) for p in found) if found else 0
    lines = [f"{package:<{width}}  {n:>4}" for package, n in sorted(found.items())]
    lines.append(f"{'total':<{width}}  {sum(found.values()):>4}")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    root = Path(argv[0] if argv else "bot").resolve()
    print(f"`Any` in {root.name}/, per package:")
    print(report(root))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
