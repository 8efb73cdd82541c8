"""/export and `peerboard export`: everything of one guild, as JSON or as CSV.

JSON holds all of it — settings, tasks with their claims, submissions, reviews,
endorsements, objections, history and GitHub links, the ledger, kudos, milestones (and the roles
granted), members' preferences, scores, digest posts, connected GitHub repositories
(never their webhook secrets), logins and webhook deliveries — under a format name and
version. CSV holds the tasks in the columns `/task import` reads plus their status and
number, so one server's board can be imported into another.

Both are written to a binary stream a page of rows at a time (bot.db.repos.export): a
large guild never sits in memory. For Discord, `fit` compresses a file over the
attachment limit with gzip, and says when even that is too large.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import IO, Any, Final

from bot.db.repos.export import GUILD_SECTIONS, TASKS, Row
from bot.db.uow import Database
from bot.domain.model import Actor
from bot.domain.rules import check_maintainer
from bot.services.clock import Clock
from bot.services.tasks.importing import COLUMNS, EXPORT_ONLY, neutralised

FORMAT_NAME: Final = "peerboard-export"
FORMAT_VERSION: Final = 1
CSV_COLUMNS: Final = (*COLUMNS, *EXPORT_ONLY)
# Discord's attachment limit for a bot in a server without boosts.
ATTACHMENT_LIMIT: Final = 8 * 1024 * 1024
SPOOL: Final = 1024 * 1024  # in memory up to this, then in a temporary file


class ExportFormat(StrEnum):
    JSON = "json"
    CSV = "csv"


@dataclass(frozen=True, slots=True)
class ExportSummary:
    guild_id: int
    format: ExportFormat
    tasks: int
    size: int  # bytes written


@dataclass(frozen=True, slots=True)
class Packed:
    """A file ready to attach: its bytes (from the start), its name, and how it was made."""

    file: IO[bytes] | None  # None: too large even compressed
    filename: str
    size: int
    compressed: bool


def spool() -> IO[bytes]:
    return tempfile.SpooledTemporaryFile(max_size=SPOOL)


def fit(data: IO[bytes], filename: str, size: int, limit: int = ATTACHMENT_LIMIT) -> Packed:
    """The export as it can be attached: as it is, gzip-compressed, or not at all."""
    data.seek(0)
    if size <= limit:
        return Packed(data, filename, size, compressed=False)
    packed = spool()
    with gzip.GzipFile(filename=filename, mode="wb", fileobj=packed, mtime=0) as zipped:
        shutil.copyfileobj(data, zipped)
    packed_size = packed.tell()
    packed.seek(0)
    if packed_size > limit:
        packed.close()
        return Packed(None, filename + ".gz", packed_size, compressed=True)
    return Packed(packed, filename + ".gz", packed_size, compressed=True)


def _tags(stored: str) -> list[str]:
    """Tags as a list (stored comma-joined with commas around, for exact matching)."""
    return [tag for tag in stored.split(",") if tag]


def _votes(rows: Iterable[Row], kind: str) -> list[Row]:
    return [row for row in rows if row["kind"] == kind]


class _Counted(io.RawIOBase):
    """Passes bytes on to a stream and counts them (a pipe cannot say where it is)."""

    def __init__(self, out: IO[bytes]) -> None:
        self.out = out
        self.count = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        view = memoryview(data)
        self.out.write(view)
        self.count += len(view)
        return len(view)


class ExportService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def knows(self, guild_id: int) -> bool:
        """Whether Peerboard holds anything of this guild (its settings row comes first)."""
        async with self.db.read() as uow:
            return await uow.export.settings(guild_id) is not None

    async def export_for(self, actor: Actor, fmt: ExportFormat, out: IO[bytes]) -> ExportSummary:
        """What /export writes: only maintainers may take a guild's data."""
        check_maintainer(actor, "export the board")
        return await self.write(actor.guild_id, fmt, out)

    async def write(self, guild_id: int, fmt: ExportFormat, out: IO[bytes]) -> ExportSummary:
        """Write the export to `out` (any binary stream, a pipe too); `out` stays open."""
        counted = _Counted(out)
        text = io.TextIOWrapper(io.BufferedWriter(counted), encoding="utf-8", newline="")
        try:
            if fmt is ExportFormat.CSV:
                tasks = await self._csv(guild_id, text)
            else:
                tasks = await self._json(guild_id, text)
        finally:
            text.flush()
        return ExportSummary(guild_id, fmt, tasks, counted.count)

    async def _csv(self, guild_id: int, text: IO[str]) -> int:
        writer = csv.writer(text)
        writer.writerow(CSV_COLUMNS)
        count = 0
        async with self.db.snapshot() as uow:  # one moment, from the first row to the last
            async for page in uow.export.pages(TASKS, guild_id):
                for task in page:
                    cells = {
                        "title": task["title"],
                        "description": task["description"],
                        "points": str(task["points"]),
                        "tags": ",".join(_tags(task["tags"])),
                        "due": task["due_at"] or "",
                        "capacity": str(task["capacity"]),
                        "status": task["status"],
                        "number": str(task["number"]),
                    }
                    writer.writerow([neutralised(cells[name]) for name in CSV_COLUMNS])
                    count += 1
        return count

    async def _json(self, guild_id: int, text: IO[str]) -> int:
        def put(value: Any) -> None:
            text.write(json.dumps(value, ensure_ascii=False, sort_keys=True))

        count = 0
        async with self.db.snapshot() as uow:  # one moment, from the first row to the last
            text.write("{")
            put("format")
            text.write(": ")
            put(FORMAT_NAME)
            for key, value in (
                ("format_version", FORMAT_VERSION),
                ("guild_id", str(guild_id)),
                ("exported_at", self.clock.now().isoformat()),
                ("settings", await uow.export.settings(guild_id)),
            ):
                text.write(", ")
                put(key)
                text.write(": ")
                put(value)
            text.write(', "tasks": [')
            async for page in uow.export.pages(TASKS, guild_id):
                parts = await uow.export.parts_of([int(task["id"]) for task in page])
                for task in page:
                    tid = int(task["id"])
                    votes = parts["votes"].get(tid, [])
                    task = {
                        **task,
                        "tags": _tags(task["tags"]),
                        "claims": parts["claims"].get(tid, []),
                        "submissions": parts["submissions"].get(tid, []),
                        "reviews": parts["reviews"].get(tid, []),
                        "endorsements": _votes(votes, "endorse"),
                        "objections": _votes(votes, "object"),
                        "history": parts["history"].get(tid, []),
                        "github_links": parts["github_links"].get(tid, []),
                    }
                    text.write(",\n" if count else "\n")
                    put(task)
                    count += 1
            text.write("]")
            for name, (table, where) in sorted(GUILD_SECTIONS.items()):
                text.write(", ")
                put(name)
                text.write(": [")
                first = True
                async for rows in uow.export.pages(table, guild_id, where=where):
                    for row in rows:
                        text.write("\n" if first else ",\n")
                        put(row)
                        first = False
                text.write("]")
            text.write("}\n")
        return count
