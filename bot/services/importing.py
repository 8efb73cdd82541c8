"""Reading a CSV of tasks for /task import: title,description,points,tags,due,capacity."""

from __future__ import annotations

import csv
import io
from datetime import datetime, tzinfo
from typing import Any

from bot.domain.dates import parse_due
from bot.domain.errors import DomainError, InvalidInput

COLUMNS = ("title", "description", "points", "tags", "due", "capacity")
MAX_ROWS = 200
MAX_BYTES = 256 * 1024


def parse_csv(data: bytes, now: datetime, tz: tzinfo) -> list[dict[str, Any]]:
    """Rows ready for TaskService.import_tasks; every problem is reported with its row number."""
    if len(data) > MAX_BYTES:
        raise InvalidInput(
            f"The file is larger than {MAX_BYTES // 1024} KB; split it into smaller files."
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
        raise InvalidInput(f"The file is not valid CSV: {err}.") from None
    rows = [r for r in rows if any(cell.strip() for cell in r)]
    if not rows:
        raise InvalidInput("The file is empty. The first line should be: " + ",".join(COLUMNS))
    header = [h.strip().lower() for h in rows[0]]
    unknown = [h for h in header if h not in COLUMNS]
    if "title" not in header or unknown:
        extra = f" Unknown columns: {', '.join(unknown)}." if unknown else ""
        raise InvalidInput(
            "The first line must name the columns: " + ",".join(COLUMNS) + "." + extra
        )
    body = rows[1:]
    if not body:
        raise InvalidInput("The file has a header but no tasks.")
    if len(body) > MAX_ROWS:
        raise InvalidInput(f"The file has {len(body)} tasks; import at most {MAX_ROWS} at a time.")
    parsed: list[dict[str, Any]] = []
    problems: list[str] = []
    for number, cells in enumerate(body, start=2):
        if len(cells) > len(header):
            problems.append(
                f"row {number}: {len(cells)} cells but {len(header)} columns (quote cells with commas)"
            )
            continue
        row: dict[str, Any] = {
            name: cells[i].strip() if i < len(cells) else "" for i, name in enumerate(header)
        }
        due_text = row.pop("due", "")
        try:
            row["due_at"] = parse_due(due_text, now, tz) if due_text else None
        except DomainError as err:
            problems.append(f"row {number}: {err.message}")
            continue
        parsed.append(row)
    if problems:
        raise InvalidInput(
            "Nothing was imported. Fix these rows and try again:\n" + "\n".join(problems[:10])
        )
    return parsed
