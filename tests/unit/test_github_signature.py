"""bot/github/signature.py: GitHub's HMAC-SHA256 webhook signature."""

from __future__ import annotations

import hashlib
import hmac

from hypothesis import given
from hypothesis import strategies as st

from bot.github.signature import sign, verify_signature

# GitHub's documented example ("Validating webhook deliveries").
SECRET = b"It's a Secret to Everybody"
PAYLOAD = b"Hello, World!"
SIGNATURE = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"


def test_githubs_own_example_verifies() -> None:
    assert sign(SECRET, PAYLOAD) == SIGNATURE
    assert verify_signature(SECRET, PAYLOAD, SIGNATURE)


def test_anything_else_is_refused() -> None:
    assert not verify_signature(b"another secret", PAYLOAD, SIGNATURE)
    assert not verify_signature(SECRET, b"Hello, World?", SIGNATURE)
    assert not verify_signature(SECRET, PAYLOAD, None)
    assert not verify_signature(SECRET, PAYLOAD, "")
    assert not verify_signature(SECRET, PAYLOAD, SIGNATURE.removeprefix("sha256="))
    assert not verify_signature(SECRET, PAYLOAD, "sha256=")
    legacy = "sha1=" + hmac.new(SECRET, PAYLOAD, hashlib.sha1).hexdigest()
    assert not verify_signature(SECRET, PAYLOAD, legacy)
    assert not verify_signature(SECRET, PAYLOAD, SIGNATURE[:-1] + "é")  # not ASCII: no error
    assert not verify_signature(b"", PAYLOAD, sign(b"", PAYLOAD))  # no secret, no trust


@given(st.binary(min_size=1, max_size=64), st.binary(max_size=512), st.binary(max_size=512))
def test_a_signature_fits_its_body_and_secret_only(
    secret: bytes, body: bytes, other: bytes
) -> None:
    header = sign(secret, body)
    assert verify_signature(secret, body, header)
    assert verify_signature(secret, other, header) == (other == body)
