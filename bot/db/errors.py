"""What the database layer raises of its own, so services need not know SQLAlchemy's."""

from __future__ import annotations


class Duplicate(Exception):
    """A constraint (a unique index, usually) refused a write: a concurrent transaction
    wrote the same thing first. The unit of work raises it in place of SQLAlchemy's
    `IntegrityError`; a writer that reads again sees the other transaction's row."""
