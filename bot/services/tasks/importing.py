"""/task import: reading a CSV of tasks (title,description,points,tags,due,capacity) and
checking its rows, every bad row reported at once.

A CSV from /export reads back: its extra columns (status, number) are known and left
aside (imported tasks start open; a due date of theirs that has passed is dropped,
where a hand-written file's past date is refused), and the quote that neutralises a cell starting with
=, +, -, @, a tab or a carriage return (CSV formula injection, OWASP's advice) is taken
off again."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from datetime import datetime, tzinfo

from bot.domain.dates import parse_due
from bot.domain.errors import DomainError, InvalidInput, Lines, Plural
from bot.domain.inputs import clean_line
from bot.services.tasks.common import TaskFields, check_due, clean_fields

COLUMNS = ("title", "description", "points", "tags", "due", "capacity")
# Written by /export beside COLUMNS; read and left aside.
EXPORT_ONLY = ("status", "number")
# A cell starting with one of these is a formula to a spreadsheet.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
MAX_ROWS = 200
MAX_BYTES = 256 * 1024
ROW = "_row"  # the row's number in the file (1 is the header), blank rows counted
PROBLEM = "_problem"  # what is wrong with the row (a DomainError), reported with all the others
NOTE = "_note"  # the new task's history note, if not its title (the issue it came from)


def parse_csv(data: bytes, now: datetime, tz: tzinfo) -> list[dict[str, object]]:
    """Rows for TaskService.import_tasks, each with its number in the file. A problem with the
    file as a whole raises here; a problem with one row travels with it, so that
    import_tasks can report every bad row at once."""
    if len(data) > MAX_BYTES:
        raise InvalidInput(
            "The file is larger than {kb} KB; split it into smaller files.", kb=MAX_BYTES // 1024
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(
            "The file is not UTF-8 text; save it as CSV (UTF-8) and try again."
        ) from None
    try:
        rows = list(csv.reader(io.StringIO(text)))
    except csv.Error as err:
        raise InvalidInput("The file is not valid CSV: {err}.", err=err) from None
    numbered = [(n, r) for n, r in enumerate(rows, start=1) if any(cell.strip() for cell in r)]
    if not numbered:
        raise InvalidInput(
            "The file is empty. The first line should be: {columns}", columns=",".join(COLUMNS)
        )
    header = [clean_line(h).lower() for h in numbered[0][1]]
    unknown = [h for h in header if h not in COLUMNS and h not in EXPORT_ONLY]
    if unknown:
        raise InvalidInput(
            "The first line must name the columns: {columns}. Unknown columns: {unknown}.",
            columns=",".join(COLUMNS),
            unknown=", ".join(unknown),
        )
    if "title" not in header:
        raise InvalidInput(
            "The first line must name the columns: {columns}.", columns=",".join(COLUMNS)
        )
    body = numbered[1:]
    if not body:
        raise InvalidInput("The file has a header but no tasks.")
    if len(body) > MAX_ROWS:
        raise InvalidInput(
            "The file has {count} tasks; import at most {most} at a time.",
            count=len(body),
            most=MAX_ROWS,
        )
    parsed: list[dict[str, object]] = []
    for number, cells in body:
        if len(cells) > len(header):
            parsed.append(
                {
                    ROW: number,
                    PROBLEM: InvalidInput(
                        "{cells} but {columns} (quote cells that contain commas).",
                        cells=Plural("{n} cell", "{n} cells", len(cells)),
                        columns=Plural("{n} column", "{n} columns", len(header)),
                    ),
                }
            )
            continue
        texts = {
            name: unneutralised(cells[i].strip()) if i < len(cells) else ""
            for i, name in enumerate(header)
            if name not in EXPORT_ONLY
        }
        due_text = texts.pop("due", "")
        row: dict[str, object] = {**texts, ROW: number}
        try:
            row["due_at"] = None
            if due_text and not ("status" in header and _passed(due_text, now)):
                row["due_at"] = parse_due(due_text, now, tz)
        except DomainError as err:
            row[PROBLEM] = err
        parsed.append(row)
    return parsed


def _passed(text: str, now: datetime) -> bool:
    """Whether an export's due date (ISO, with its offset) lies before `now`: a new open
    task made from it has none."""
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return False  # not an export's date: parse_due judges it
    return when.tzinfo is not None and when <= now


def neutralised(cell: str) -> str:
    """A cell a spreadsheet shows as text, never runs as a formula."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


def unneutralised(cell: str) -> str:
    """The cell as it was before `neutralised`."""
    return cell[1:] if cell.startswith("'") and cell[1:].startswith(FORMULA_STARTS) else cell


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def clean_rows(
    rows: Sequence[Mapping[str, object]], now: datetime
) -> list[tuple[TaskFields, datetime | None]]:
    """Each row's fields and due date, checked; any bad row refuses them all, listing the
    first ten. Each row: title, description, points, tags, due_at, capacity."""
    if not rows:
        raise InvalidInput("The file has no tasks in it.")
    problems: list[DomainError] = []
    cleaned: list[tuple[TaskFields, datetime | None]] = []
    for index, row in enumerate(rows, start=2):  # row 1 is the header
        try:
            problem = row.get(PROBLEM)
            if isinstance(problem, DomainError):  # found while reading the file
                raise InvalidInput(problem.template, **problem.values)
            if problem:
                raise InvalidInput(str(problem))
            fields = clean_fields(
                str(row.get("title") or ""),
                _text(row.get("description")),
                row.get("points", 1),
                _text(row.get("tags")),
                row.get("capacity", 1),
            )
            due = row.get("due_at")
            assert due is None or isinstance(due, datetime)
            check_due(due, now)
            cleaned.append((fields, due))
        except InvalidInput as err:
            problems.append(
                DomainError("row {row}: {problem}", row=row.get(ROW, index), problem=err)
            )
    if problems:
        shown: list[object] = list(problems[:10])
        if len(problems) > 10:
            more = len(problems) - 10
            shown.append(Plural("…and {n} more.", "…and {n} more.", more))
        raise InvalidInput(
            "Nothing was imported. Fix these rows and try again:\n{rows}", rows=Lines(tuple(shown))
        )
    return cleaned
