"""PEERBOARD_LOG_FORMAT=json: one JSON object a line, a traceback inside it, not after it."""

from __future__ import annotations

import json
import logging
import sys

from bot.ops.logs import JsonFormatter


def record(msg: str, *args: object, exc: bool = False) -> logging.LogRecord:
    info = None
    if exc:
        try:
            raise ValueError("boom")
        except ValueError:
            info = sys.exc_info()
    return logging.LogRecord("peerboard.sweep", logging.WARNING, __file__, 1, msg, args, info)


def test_a_line_is_one_json_object_with_the_formatted_message() -> None:
    line = JsonFormatter().format(record("%s for #%s failed", "claim_warning", 12))
    assert "\n" not in line
    parsed = json.loads(line)
    assert parsed["message"] == "claim_warning for #12 failed"
    assert (parsed["level"], parsed["logger"]) == ("WARNING", "peerboard.sweep")
    assert parsed["time"].endswith("+00:00")


def test_a_traceback_stays_inside_the_line() -> None:
    line = JsonFormatter().format(record("giving up\nnext line", exc=True))
    assert "\n" not in line
    parsed = json.loads(line)
    assert parsed["message"] == "giving up\nnext line"
    assert "ValueError: boom" in parsed["exc"]
