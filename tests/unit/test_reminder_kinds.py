"""The reminder registry (bot/services/reminders/kinds.py) is the one list of kinds: every
kind the domain names has an entry, every entry a text where its notices go, and the
sweep's phases and the has-work check follow from it."""

from __future__ import annotations

from bot.db.queries import sweep
from bot.domain.model import Reminder
from bot.services.reminders import EVERYTHING
from bot.services.reminders.kinds import KINDS, READS, SCHEDULES, Audience
from bot.ui import messages


def test_every_kind_the_domain_names_has_an_entry() -> None:
    assert {*Reminder} <= set(KINDS)
    assert all(kind.name == name for name, kind in KINDS.items())


def test_every_kind_has_a_text_where_it_goes() -> None:
    tables = {
        Audience.MEMBER: messages.MEMBER_TEXTS,
        Audience.BOARD: messages.BOARD_TEXTS,
        Audience.REVIEWERS: messages.REVIEW_TEXTS,
        Audience.MAINTAINERS: messages.REVIEW_TEXTS,
    }
    missing = [
        (kind.name, audience.value)
        for kind in KINDS.values()
        for audience in kind.audience
        if kind.text not in tables[audience]
    ]
    assert not missing


def test_the_has_work_check_names_each_phase_once() -> None:
    names = [name for name, _read in READS]
    assert names == [s.name for s in SCHEDULES]
    assert len(set(names)) == len(names) and sweep.DELIVERIES not in names
    assert EVERYTHING.found == {*names, sweep.DELIVERIES}


def test_claimant_notices_name_their_own_kind() -> None:
    for s in SCHEDULES:
        if isinstance(s.read, sweep.ClaimantNotices):
            assert s.read.kind in KINDS and KINDS[s.read.kind].due == s
            assert s.read.at in sweep.NOTICE_TIMES
