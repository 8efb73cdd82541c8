"""Buttons and forms (modals) on task cards.

Buttons are DynamicItems: their custom_id carries guild, task and action (the grammar
is in `ids.py`), so a card posted last month still works after any number of restarts.
Forms work the same way: a form's custom_id carries guild, task and kind, and `on_form`
answers it whenever it arrives — an hour after it opened, or after a restart — from
the custom_id and the values in the interaction, not from an object kept in memory.
Every click and form goes through the service, which checks permission again: a button
is no proof of right. What a click or a form does is the controller's (`actions.py`);
this module only draws them and hands them over.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final

import discord

from bot import i18n
from bot.domain.errors import DomainError
from bot.domain.model import LINK_MAX, NOTE_MAX, REASON_MAX, Action
from bot.ui import ids, language, messages
from bot.ui.client import client_of
from bot.ui.errors import ComponentError, refusals
from bot.ui.ids import ButtonId, CardAction, FormId
from bot.ui.requests import TaskRequest

# Each button's label (in the language of those who see it: a card's, the guild's; a
# reminder's, its reader's) and style.
BUTTONS: Final[dict[CardAction, tuple[Callable[[i18n.Texts], str], discord.ButtonStyle]]] = {
    CardAction.CLAIM: (lambda tr: tr("Claim"), discord.ButtonStyle.success),
    CardAction.RELEASE: (lambda tr: tr("Release"), discord.ButtonStyle.secondary),
    CardAction.SUBMIT: (lambda tr: tr("Submit"), discord.ButtonStyle.primary),
    CardAction.APPROVE: (lambda tr: tr("Approve"), discord.ButtonStyle.success),
    CardAction.CHANGES: (lambda tr: tr("Request changes"), discord.ButtonStyle.secondary),
    CardAction.ENDORSE: (lambda tr: tr("Endorse"), discord.ButtonStyle.primary),
    CardAction.OBJECT: (lambda tr: tr("Object"), discord.ButtonStyle.secondary),
    CardAction.EXTEND: (lambda tr: tr("Still on it"), discord.ButtonStyle.success),
}


def button_label(tr: i18n.Texts, action: CardAction) -> str:
    return BUTTONS[action][0](tr)


class TaskButton(discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]], template=ids.TEMPLATE):
    def __init__(self, tr: i18n.Texts, button: ButtonId) -> None:
        label = button_label(tr, button.action)
        style = BUTTONS[button.action][1]
        super().__init__(discord.ui.Button(label=label, style=style, custom_id=str(button)))
        self.button = button

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction,
        item: discord.ui.Item[discord.ui.View],
        match: re.Match[str],
        /,
    ) -> TaskButton:
        # Made again only to run its callback: its label is never sent, so any language
        # does. An unknown action: ValueError, logged by discord.py.
        return cls(i18n.texts(), ids.from_match(match))

    async def callback(self, interaction: discord.Interaction) -> None:
        # discord.py only logs what a DynamicItem raises: answer the member here, and hand
        # the unexpected to the tree's handler, as a command's error would be.
        client = client_of(interaction)
        async with client.error_handler.observed(interaction, f"button {self.button.action.value}"):
            try:
                async with refusals(interaction):
                    if interaction.guild_id not in (None, self.button.guild_id):
                        raise DomainError("This button belongs to another server.")
                    await client.controller.on_button(interaction, self.button)
            except Exception as err:
                await client.error_handler.on_error(interaction, ComponentError(err))


# -- forms ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Field:
    custom_id: str
    label: Callable[[i18n.Texts], str]  # in the language of the member who opened the form
    required: bool
    limit: int
    paragraph: bool = True
    placeholder: str | None = None


@dataclass(frozen=True, slots=True)
class Form:
    title: Callable[[i18n.Texts, int], str]  # (reader's texts, task number)
    action: Action
    fields: tuple[Field, ...]


FORMS: Final[dict[CardAction, Form]] = {
    CardAction.SUBMIT: Form(
        lambda tr, n: tr("Submit #{number} for review", number=n),
        Action.SUBMIT,
        (
            Field("link", lambda tr: tr("Link to your work"), False, LINK_MAX, False, "https://…"),
            Field("notes", lambda tr: tr("Notes for reviewers"), False, NOTE_MAX),
        ),
    ),
    CardAction.CHANGES: Form(
        lambda tr, n: tr("Request changes on #{number}", number=n),
        Action.REQUEST_CHANGES,
        (Field("reason", lambda tr: tr("What needs to change?"), True, REASON_MAX),),
    ),
    CardAction.OBJECT: Form(
        lambda tr, n: tr("Object to proposal #{number}", number=n),
        Action.OBJECT,
        (Field("reason", lambda tr: tr("Why should this not open?"), True, REASON_MAX),),
    ),
    CardAction.RELEASE: Form(
        lambda tr, n: tr("Release #{number}", number=n),
        Action.RELEASE,
        (
            Field(
                "reason",
                lambda tr: tr("A note for the next person (optional)"),
                False,
                NOTE_MAX,
            ),
        ),
    ),
}

# Discord's limits on a form's title and an input's label.
TITLE_MAX: Final = 45
LABEL_MAX: Final = 45


def form_modal(tr: i18n.Texts, form_id: FormId) -> discord.ui.Modal:
    """The form to show, in the language of the member who opens it. Everything its
    answer needs is in its custom_id, so it is never kept in discord.py's view store
    (stopped before it is sent: `send_modal` keeps only unfinished modals), and `on_form`
    is the one place that answers it."""
    form = FORMS[form_id.kind]
    modal = discord.ui.Modal(
        title=form.title(tr, form_id.number)[:TITLE_MAX], timeout=None, custom_id=str(form_id)
    )
    for f in form.fields:
        modal.add_item(
            discord.ui.TextInput[discord.ui.Modal](
                label=f.label(tr)[:LABEL_MAX],
                custom_id=f.custom_id,
                required=f.required,
                max_length=f.limit,
                style=discord.TextStyle.paragraph if f.paragraph else discord.TextStyle.short,
                placeholder=f.placeholder,
            )
        )
    modal.stop()
    return modal


def form_values(data: object) -> dict[str, str]:
    """The text inputs of a submitted form, by custom_id, from the interaction's raw data
    (inputs sit in action rows, or in labels, depending on how the form was drawn)."""
    found: dict[str, str] = {}
    if isinstance(data, Mapping):
        value = data.get("value")
        custom_id = data.get("custom_id")
        if isinstance(custom_id, str) and isinstance(value, str):
            found[custom_id] = value
        for key in ("components", "component"):
            child = data.get(key)
            for node in child if isinstance(child, list) else [child]:
                found.update(form_values(node))
    return found


def request_of(form_id: FormId, values: Mapping[str, str]) -> TaskRequest:
    action = FORMS[form_id.kind].action
    if action is Action.SUBMIT:
        link, notes = values.get("link", ""), values.get("notes", "")
        return TaskRequest(action, form_id.number, link=link or None, notes=notes or None)
    text: str | None = values.get("reason", "")
    if action is Action.RELEASE:
        text = text or None  # an empty note is no note
    return TaskRequest(action, form_id.number, text=text)


def typed(tr: i18n.Texts, form_id: FormId, values: Mapping[str, str]) -> list[tuple[str, str]]:
    """What the member typed, field by field (by its label), in the form's order."""
    fields = FORMS[form_id.kind].fields
    return [
        (f.label(tr), values[f.custom_id]) for f in fields if values.get(f.custom_id, "").strip()
    ]


async def on_form(interaction: discord.Interaction) -> None:
    """Every form that arrives (discord.py's `interaction` event), whenever it arrives.
    Anything but one of our forms is left alone. If the form is refused or fails, the
    member gets back what they typed, so that nothing they wrote is lost."""
    if interaction.type is not discord.InteractionType.modal_submit:
        return
    data: object = interaction.data
    custom_id = data.get("custom_id") if isinstance(data, Mapping) else None
    form_id = ids.parse_form(custom_id) if isinstance(custom_id, str) else None
    if form_id is None:
        return
    values = form_values(data)
    client = client_of(interaction)
    async with client.error_handler.observed(interaction, f"form {form_id.kind.value}"):
        keep: str | None = None
        try:
            # What they typed comes back in their language (as the form was shown to them);
            # a form from another server reads no config of that server.
            foreign = interaction.guild_id not in (None, form_id.guild_id)
            config = None if foreign else await client.services.config.get(form_id.guild_id)
            tr = language.caller(interaction, config)
            keep = messages.typed_back(tr, typed(tr, form_id, values))
            async with refusals(interaction, keep):
                if foreign:
                    raise DomainError("This form belongs to another server.")
                request = request_of(form_id, values)
                await client.controller.perform(interaction, request, form_id.guild_id, keep=keep)
        except Exception as err:
            await client.error_handler.on_error(interaction, ComponentError(err, keep))
