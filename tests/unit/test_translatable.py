"""Every member-facing text can be translated: the catalog template holds what the code
says today (`python -m bot.catalogs` was run), and no refusal or `tr(...)` is given a
text the extractor can't read — an f-string, a concatenation, a variable — which would
reach every member in English whatever their language."""

from __future__ import annotations

import ast
from pathlib import Path

from bot import i18n
from bot.catalogs import KEYWORDS, command_texts, source_texts, template
from bot.i18n.check import template as shipped

BOT = Path(__file__).resolve().parents[2] / "bot"
# Calls whose first argument is a message: a refusal class or a reader's texts.
MESSAGE_CALLS = {name for name, spec in KEYWORDS.items() if spec is None} | {"plural"}
# Places that pass a message made elsewhere (already a literal where it was written).
PASSING_ON = {
    ("domain/errors.py", "DomainError"),
}


def _name(call: ast.Call) -> str | None:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def built_messages(source: str, where: str) -> list[str]:
    """Each call in `source` whose message is an f-string or a concatenation."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        name = _name(node)
        if name not in MESSAGE_CALLS or (where, name) in PASSING_ON:
            continue
        if isinstance(node.args[0], ast.JoinedStr | ast.BinOp):
            found.append(f"bot/{where}:{node.lineno} {name}(…) is given an f-string or +")
    return found


def test_no_message_is_built_where_the_extractor_cannot_see_it() -> None:
    found = [
        problem
        for path in sorted(BOT.rglob("*.py"))
        for problem in built_messages(path.read_text(encoding="utf-8"), str(path.relative_to(BOT)))
    ]
    assert found == []


def test_a_built_message_is_named() -> None:
    source = """
raise InvalidInput(f"#{number} is gone.")
raise NotFound("Nothing here: " + name)
text = tr.plural(f"{n} task", "{n} tasks", n)
fine = tr("You claimed **{name}**.", name=name)
also = PermissionDenied("Only maintainers can {what}.", what=Phrase("assign tasks"))
"""
    assert [line.split(" ", 1)[0] for line in built_messages(source, "x.py")] == [
        "bot/x.py:2",
        "bot/x.py:3",
        "bot/x.py:4",
    ]


async def test_the_template_holds_every_text_the_code_says() -> None:
    wanted = template(await command_texts(), source_texts())
    held = {(m.id, m.context) for m in shipped() if m.id}
    said = {(m.id, m.context) for m in wanted if m.id}
    assert said - held == set(), "run `python -m bot.catalogs`, then translate what it added"
    assert held - said == set(), "run `python -m bot.catalogs`: the template has gone texts"
    assert len(said) > 600 and i18n.SOURCE == "en"
