"""What members see, as terminal text: messages, embeds and buttons in Discord's JSON
shapes, with mentions, timestamps and links turned into names and times.

Colour (ANSI) only when asked for; the CLI asks when stdout is a terminal and NO_COLOR
is unset. Without colour the output is plain text, with `**` and friends removed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from bot import i18n

if TYPE_CHECKING:
    from bot.demo.cast import Community

BOT_NAME = "Peerboard"  # the bot's name in the simulated server
INDENT = " " * 12  # under "[Mon 09:00] "
BAR = "┃"
# "Peerboard · task #12", "Peerboard · Aufgabe #12": a card's footer in any language.
CARD_FOOTER = re.compile(r"^Peerboard · [^#]+ #(\d+)$")


class Names(Protocol):
    """Who and what an id is, in the simulated server."""

    def user(self, user_id: int) -> str: ...
    def channel(self, channel_id: int) -> str: ...
    def role(self, role_id: int) -> str: ...


@dataclass(frozen=True, slots=True)
class Shown:
    """One message, as the demo collected it (Discord's JSON shapes for the rich parts)."""

    id: int
    channel_id: int
    author_id: int
    content: str
    embeds: Sequence[Mapping[str, Any]]
    components: Sequence[Mapping[str, Any]]
    created: datetime
    only_for: int | None  # an ephemeral reply: the one member who sees it


class Style:
    """ANSI styles; every method returns its text unchanged when colour is off."""

    def __init__(self, color: bool) -> None:
        self.color = color

    def _sgr(self, code: str, text: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.color and text else text

    def dim(self, text: str) -> str:
        return self._sgr("2", text)

    def bold(self, text: str) -> str:
        return self._sgr("1", text)

    def italic(self, text: str) -> str:
        return self._sgr("2;3", text)

    def person(self, text: str) -> str:
        return self._sgr("1;33", text)

    def bot(self, text: str) -> str:
        return self._sgr("1;34", text)

    def place(self, text: str) -> str:
        return self._sgr("36", text)

    def code(self, text: str) -> str:
        return self._sgr("35", text)

    def rgb(self, colour: int | None, text: str) -> str:
        if colour is None:
            return self._sgr("90", text)
        r, g, b = (colour >> 16) & 255, (colour >> 8) & 255, colour & 255
        return self._sgr(f"38;2;{r};{g};{b}", text)

    def button(self, style: int, text: str, *, disabled: bool = False) -> str:
        if disabled:
            return self._sgr("2", text)
        # Discord's button styles: 1 primary, 2 secondary, 3 success, 4 danger, 5 link.
        return self._sgr({1: "1;94", 3: "1;92", 4: "1;91"}.get(style, "1;37"), text)


# -- time ------------------------------------------------------------------------------------


def clock(moment: datetime) -> str:
    """[Mon 09:00], the prefix of every line."""
    return moment.astimezone(UTC).strftime("[%a %H:%M]")


def day_heading(moment: datetime) -> str:
    local = moment.astimezone(UTC)
    return f"{local.strftime('%A')} {local.day} {local.strftime('%B %Y')}"


def relative(moment: datetime, now: datetime) -> str:
    """Discord's relative timestamps ("in 3 days", "2 hours ago")."""
    seconds = (moment - now).total_seconds()
    ahead = seconds >= 0
    s = abs(seconds)
    if s < 45:
        text = "a few seconds"
    elif s < 90:
        text = "a minute"
    elif s < 45 * 60:
        text = f"{round(s / 60)} minutes"
    elif s < 90 * 60:
        text = "an hour"
    elif s < 22 * 3600:
        text = f"{round(s / 3600)} hours"
    elif s < 36 * 3600:
        text = "a day"
    elif s < 26 * 86400:
        text = f"{round(s / 86400)} days"
    elif s < 45 * 86400:
        text = "a month"
    else:
        text = f"{round(s / (30 * 86400))} months"
    return f"in {text}" if ahead else f"{text} ago"


def timestamp(unix: int, style: str, now: datetime) -> str:
    moment = datetime.fromtimestamp(unix, UTC)
    if style == "R":
        return relative(moment, now)
    formats = {
        "t": "%H:%M",
        "T": "%H:%M:%S",
        "d": "%d/%m/%Y",
        "D": f"{moment.day} %B %Y",
        "f": f"%a {moment.day} %b, %H:%M",
        "F": f"%A {moment.day} %B %Y, %H:%M",
    }
    return moment.strftime(formats.get(style, formats["f"]))


# -- text --------------------------------------------------------------------------------------

_MENTION = re.compile(r"<(@!?|@&|#)(\d{1,20})>")
_STAMP = re.compile(r"<t:(-?\d{1,13})(?::([tTdDfFR]))?>")
_JUMP = re.compile(r"https://(?:ptb\.|canary\.)?discord\.com/channels/(?:\d+|@me)/(\d+)(/\d+)?")
_LINK = re.compile(r"\[([^\]\n]+)\]\(<?(https?://[^)\s>]+)>?\)")
_ANGLE_URL = re.compile(r"<(https?://[^>\s]+)>")
_ESCAPE = re.compile(r"\\([\\*_`~|>#\[\]()\-.!:])")
_BOLD = re.compile(r"\*\*(.+?)\*\*", re.S)
_UNDERLINE = re.compile(r"__(.+?)__", re.S)
_ITALIC = re.compile(r"(?<![\w*])\*(?!\s)([^*\n]+?)\*(?![\w*])")
_CODE = re.compile(r"`([^`\n]+)`")


class Text:
    """Discord message markup to terminal text."""

    def __init__(self, names: Names, style: Style, now: Callable[[], datetime]) -> None:
        self.names = names
        self.style = style
        self.now = now

    def __call__(self, raw: str) -> str:
        text = raw.replace("\u200b", "")
        text = _LINK.sub(lambda m: m[1], text)
        # A link to a message shows as Discord shows it: "#channel › 💬".
        text = _JUMP.sub(lambda m: self.names.channel(int(m[1])) + (" › 💬" if m[2] else ""), text)
        text = _ANGLE_URL.sub(lambda m: m[1], text)
        text = _STAMP.sub(lambda m: timestamp(int(m[1]), m[2] or "f", self.now()), text)

        def mention(m: re.Match[str]) -> str:
            kind, ident = m[1], int(m[2])
            if kind == "#":
                return self.style.place(self.names.channel(ident))
            if kind == "@&":
                return self.style.bold("@" + self.names.role(ident))
            return self.style.person("@" + self.names.user(ident))

        text = _MENTION.sub(mention, text)
        # Markup last, escapes after it: an escaped \* is a star, not emphasis.
        parts = re.split(r"(\\.)", text)
        out = []
        for part in parts:
            if len(part) == 2 and part.startswith("\\"):
                out.append(part)
                continue
            part = _BOLD.sub(lambda m: self.style.bold(m[1]), part)
            part = _UNDERLINE.sub(lambda m: m[1], part)
            part = _ITALIC.sub(lambda m: self.style.italic(m[1]), part)
            part = _CODE.sub(lambda m: self.style.code(m[0]), part)
            out.append(part)
        return _ESCAPE.sub(r"\1", "".join(out))

    def lines(self, raw: str) -> list[str]:
        result = []
        for line in raw.split("\n"):
            if line.startswith("> "):
                line = "│ " + line[2:]
            elif line.startswith("-# "):
                line = line[3:]
            elif line.startswith(("## ", "### ", "# ")):
                line = self.style.bold(line.lstrip("# "))
                result.append(line)
                continue
            result.append(self(line))
        return result


# -- messages ----------------------------------------------------------------------------------


class Renderer:
    def __init__(
        self,
        names: Names,
        style: Style,
        now: Callable[[], datetime],
        tr: i18n.Texts | None = None,
    ) -> None:
        self.names = names
        self.s = style
        self.text = Text(names, style, now)
        self.now = now
        self.tr = tr or i18n.texts()  # the guild's language: a card's field names are in it

    def line(self, moment: datetime, body: str) -> str:
        return f"{self.s.dim(clock(moment))} {body}"

    def block(self, lines: Iterable[str]) -> list[str]:
        return [INDENT + line for line in lines]

    def where(self, channel_id: int) -> str:
        return self.s.place(self.names.channel(channel_id))

    def message(self, m: Shown, *, brief: bool = False) -> list[str]:
        """A message as its channel shows it: who said it, then what."""
        author = self.names.user(m.author_id)
        who = self.s.bot(author) if author == BOT_NAME else self.s.person(author)
        content = self.text.lines(m.content) if m.content else []
        if m.only_for is not None:
            head = self.s.dim(f"↳ only {self.names.user(m.only_for)} sees:")
            first = f"{head} {content[0]}" if content else head
            out = [INDENT + first, *self.block(content[1:])]
        else:
            first = f"{self.where(m.channel_id)} · {who}"
            first += f": {content[0]}" if content else ""
            out = [self.line(m.created, first), *self.block(content[1:])]
        for embed in m.embeds:
            out += self.block(self.embed(embed, brief=brief))
        out += self.block(self.components(m.components))
        return out

    def embed(self, e: Mapping[str, Any], *, brief: bool = False) -> list[str]:
        bar = self.s.rgb(e.get("color"), BAR)
        body: list[str] = []
        if e.get("title"):
            body.append(self.s.bold(self.text(str(e["title"]))))
        if brief:
            return [f"{bar} {line}" for line in body[:1]]
        if e.get("description"):
            body += self.text.lines(str(e["description"]))
        run: list[str] = []  # inline fields share a line, as they share a row in Discord

        def flush() -> None:
            if run:
                body.append(" · ".join(run))
                run.clear()

        for f in e.get("fields") or []:
            name = self.s.dim(self.text(str(f.get("name", ""))) + ":")
            value = self.text.lines(str(f.get("value", "")))
            if f.get("inline") and len(value) == 1:
                run.append(f"{name} {value[0]}")
                continue
            flush()
            if len(value) == 1:
                body.append(f"{name} {value[0]}")
            else:
                body.append(name)
                body += ["  " + v for v in value]
        flush()
        footer = str((e.get("footer") or {}).get("text") or "")
        if footer and not CARD_FOOTER.match(footer):
            body.append(self.s.dim(self.text(footer)))
        return [f"{bar} {line}" for line in body]

    def components(self, rows: Sequence[Mapping[str, Any]]) -> list[str]:
        out = []
        for row in rows:
            items = []
            for c in row.get("components") or []:
                if c.get("type") == 2:
                    items.append(
                        self.s.button(
                            int(c.get("style", 2)),
                            f"[{c.get('label') or c.get('emoji', {}).get('name', '?')}]",
                            disabled=bool(c.get("disabled")),
                        )
                    )
                elif c.get("placeholder"):
                    items.append(f"[▾ {c['placeholder']}]")
            if items:
                out.append(" ".join(items))
        return out

    def card_change(self, m: Shown) -> list[str]:
        """An edited task card, in one line: its number and where it stands now."""
        embed = m.embeds[0] if m.embeds else {}
        footer = CARD_FOOTER.match(str((embed.get("footer") or {}).get("text") or ""))
        if footer is None:
            text = self.text.lines(m.content)[0] if m.content else "a message"
            return [self.line(self.now(), f"{self.where(m.channel_id)} · ✎ {text} (edited)")]
        fields = {str(f.get("name")): str(f.get("value", "")) for f in embed.get("fields") or []}
        tr = self.tr
        state = [fields.get(tr("Status"), "?")]
        claimed = fields.get(tr("Claimed by"), "")
        if claimed and claimed != tr("Nobody yet"):
            state.append(self.text(claimed.split("\n")[0]))
        if tr("Approvals") in fields:
            state.append(f"{tr('Approvals')} {fields[tr('Approvals')]}")
        summary = " · ".join(state)
        return [
            self.line(
                self.now(),
                f"{self.where(m.channel_id)} · {self.s.dim('✎ card')} #{footer[1]} {self.s.dim('now')} {summary}",
            )
        ]


def header(c: Community, style: Style) -> list[str]:
    """The transcript's first lines: who is who, and where things happen."""
    return [
        style.bold(f"Peerboard demo · {c.theme.server} · seed {c.seed}"),
        style.dim(
            "The real bot against a simulated Discord on this machine (SimCord). Nothing leaves it;"
        ),
        style.dim("a week passes in seconds on a virtual clock; times are UTC."),
        "",
        f"Maintainers: {', '.join(p.name for p in c.maintainers)}",
        f"Volunteers:  {', '.join(p.name for p in c.volunteers)}",
        f"{c.parts['reviewer'].name} has the Reviewers role; maintainers review too.",
        "Channels: #general (where people type commands), #tasks, #review, #digest",
    ]
