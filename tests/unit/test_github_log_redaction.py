"""GitHub tokens never reach a log line through Peerboard's handler: the redacting filter
knows them by their shape, whatever setting or library they come from."""

from __future__ import annotations

import logging

import pytest

from bot.logs import REDACTED, RedactingFilter

TOKENS = [
    "ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8",  # classic personal access token
    "gho_16C7e42F292c6912E7710c838347Ae178B4a",  # OAuth
    "ghs_16C7e42F292c6912E7710c838347Ae178B4a",  # an app installation's
    "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ012",
]


@pytest.mark.parametrize("token", TOKENS)
def test_a_github_token_is_redacted_wherever_it_appears(token: str) -> None:
    record = logging.LogRecord(
        "aiohttp.client",
        logging.DEBUG,
        __file__,
        1,
        "headers %s",
        ({"Authorization": f"Bearer {token}"},),
        None,
    )
    assert RedactingFilter().filter(record)
    assert token not in record.getMessage()
    assert f"Bearer {REDACTED}" in record.getMessage()


def test_words_that_only_start_alike_are_kept() -> None:
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "ghp_short and github_pat_", (), None
    )
    RedactingFilter().filter(record)
    assert record.getMessage() == "ghp_short and github_pat_"
