"""A form's custom_id carries all it needs to be answered after a restart, and its
values are read from the interaction's raw data, however the form was drawn."""

from __future__ import annotations

import pytest

from bot.ui import ids
from bot.ui.components import FORMS, form_values, request_of
from bot.ui.ids import CardAction, FormId


@pytest.mark.parametrize("kind", sorted(ids.FORM_KINDS))
def test_a_form_id_reads_back_as_itself(kind: CardAction) -> None:
    form = FormId(1456074443980800009, 12, kind)
    assert ids.parse_form(str(form)) == form
    assert ids.parse(str(form)) is None  # not a button's id


@pytest.mark.parametrize(
    "custom_id",
    ["pb:f:1:2:claim", "pb:f:1:2:nope", "pb:t:1:2:submit", "pb:f:1:2:submit:x", "c843b124"],
)
def test_other_ids_are_not_forms(custom_id: str) -> None:
    assert ids.parse_form(custom_id) is None


def test_every_form_kind_has_a_form() -> None:
    assert set(FORMS) == ids.FORM_KINDS


def test_values_are_read_from_action_rows_and_labels() -> None:
    data = {
        "custom_id": "pb:f:1:12:submit",
        "components": [
            {"type": 1, "components": [{"type": 4, "custom_id": "link", "value": "https://x.org"}]},
            {"type": 18, "component": {"type": 4, "custom_id": "notes", "value": "Tested"}},
        ],
    }
    values = form_values(data)
    assert values == {"link": "https://x.org", "notes": "Tested"}
    request = request_of(FormId(1, 12, CardAction.SUBMIT), values)
    assert (request.number, request.link, request.notes) == (12, "https://x.org", "Tested")
