"""GitHub's webhook signature: `X-Hub-Signature-256: sha256=<hex>`, the HMAC-SHA256 of the
raw request body keyed with the webhook's secret. Checked on the exact bytes received,
before anything parses them, with a constant-time comparison."""

from __future__ import annotations

import hashlib
import hmac
from typing import Final

PREFIX: Final = "sha256="
HEADER: Final = "X-Hub-Signature-256"


def sign(secret: bytes, body: bytes) -> str:
    """The header GitHub sends for `body` signed with `secret`."""
    return PREFIX + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify_signature(secret: bytes, body: bytes, header: str | None) -> bool:
    """Whether `header` is GitHub's signature of `body` with `secret`. A missing or
    malformed header, or an empty secret, is never valid."""
    if not secret or not header or not header.startswith(PREFIX):
        return False
    given = header[len(PREFIX) :].strip()
    if not given.isascii():  # compare_digest takes ASCII strings only
        return False
    expected = hmac.new(secret, body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, given.lower())
