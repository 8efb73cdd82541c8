"""How a refusal names an action and a status: phrases put into the refusal's sentence,
translated with it (the catalog has each as a message of its own)."""

from __future__ import annotations

from bot.domain.errors import Phrase
from bot.domain.model import Action, Status

WHY_NOT: dict[Status, Phrase] = {
    Status.PROPOSED: Phrase("it is still a proposal — it opens once endorsed"),
    Status.OPEN: Phrase("it is open and waiting for someone to claim it"),
    Status.CLAIMED: Phrase("every spot is taken"),
    Status.IN_REVIEW: Phrase("it is in review"),
    Status.DONE: Phrase("it is already done"),
    Status.CANCELLED: Phrase("it was cancelled"),
}

VERB: dict[Action, Phrase] = {
    Action.ENDORSE: Phrase("endorse"),
    Action.OBJECT: Phrase("object to"),
    Action.ACCEPT: Phrase("accept"),
    Action.CLAIM: Phrase("claim"),
    Action.RELEASE: Phrase("release"),
    Action.EXTEND: Phrase("extend"),
    Action.EXPIRE: Phrase("expire"),
    Action.SUBMIT: Phrase("submit"),
    Action.APPROVE: Phrase("approve"),
    Action.REQUEST_CHANGES: Phrase("request changes on"),
    Action.ASSIGN: Phrase("assign"),
    Action.EDIT: Phrase("edit"),
    Action.CANCEL: Phrase("cancel"),
    Action.REOPEN: Phrase("reopen"),
}
