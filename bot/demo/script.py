"""The community week the demo plays, as data: one step per thing a member does.

Times are virtual, in the community's timezone (UTC), in the week of Monday 5 January
2026. Parts ("newcomer", "ghost", …) are played by whoever the seed cast for them
(bot/demo/cast.py). Task references are keys (`Task("big")`) that become numbers
when the bot creates the tasks; text may name them as "{#big}" and people as
"{reviewer}".

The steps keep claim windows in mind: 1–2 point tasks are claimed for 3 days and
warned about at 36 hours; 5 point tasks for 7 days.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.demo.cast import Community

# -- what a step can refer to ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Task:
    key: str  # a key of Community.tasks


@dataclass(frozen=True, slots=True)
class Member:
    part: str  # "lead", "co-lead" or a part in Community.parts


@dataclass(frozen=True, slots=True)
class Channel:
    name: str  # tasks, review, digest, general


@dataclass(frozen=True, slots=True)
class Role:
    name: str  # maintainers, reviewers, milestone


@dataclass(frozen=True, slots=True)
class File:
    name: str  # the CSV of Community.csv()


# -- steps --------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Step:
    at: str  # "Mon 09:00"; "next Mon 09:00" for the Monday after


@dataclass(frozen=True, kw_only=True)
class Slash(Step):
    """A member runs a slash command (in #general unless `where` says otherwise)."""

    who: str
    command: str
    options: Mapping[str, Any] = field(default_factory=dict)
    expect: str  # the bot's answer must say this, or the demo stops: the story must be true
    creates: tuple[str, ...] = ()  # task keys the answer numbers, in order
    where: str = "general"
    brief: bool = False  # show only the first line of embeds in the answer


@dataclass(frozen=True, kw_only=True)
class Click(Step):
    """A member presses a button on a task's newest card in a channel, or in their DMs."""

    who: str
    label: str
    task: str
    where: str  # a channel name, or "dm"
    expect: str
    form: Mapping[str, str] | None = None  # fills the form the button opens, if any


@dataclass(frozen=True, kw_only=True)
class Wait(Step):
    """Time passes, and the bot's reminder sweep runs at `at`. The demo also runs the sweep
    before the first step of each day; put a Wait wherever a reminder falls due (claim
    warnings at half the claim window, expiry at its end) so it is sent on time."""

    note: str = ""


Script = list[Step]


def week(c: Community) -> Script:
    t = c.tasks
    big, idea = t["big"], t["idea"]
    return [
        # -- Monday: set up, post the week's tasks, first claims, a proposal ------------
        Slash(
            at="Mon 09:00",
            who="lead",
            command="config channels",
            options={
                "tasks": Channel("tasks"),
                "review": Channel("review"),
                "digest": Channel("digest"),
            },
            expect="Saved.",
            brief=True,
        ),
        Slash(
            at="Mon 09:01",
            who="lead",
            command="config roles",
            options={"maintainer": Role("maintainers"), "reviewer": Role("reviewers")},
            expect="Saved.",
            brief=True,
        ),
        Slash(
            at="Mon 09:02",
            who="lead",
            command="config milestone",
            options={"points": 5, "role": Role("milestone")},
            expect="At 5 points",
            brief=True,
        ),
        Slash(
            at="Mon 09:10",
            who="lead",
            command="task import",
            options={"file": File("this-week.csv")},
            expect="Imported 6 tasks",
            creates=c.csv_keys,
        ),
        Slash(
            at="Mon 09:30",
            who="co-lead",
            command="task create",
            options={
                "title": big.title,
                "description": big.description,
                "points": big.points,
                "tags": big.tags,
            },
            expect="Created",
            creates=("big",),
        ),
        Slash(
            at="Mon 10:00",
            who="newcomer",
            command="task claim",
            options={"task": Task("first")},
            expect="You claimed",
        ),
        Click(
            at="Mon 10:05",
            who="newcomer",
            label="Claim",
            task="second",
            where="tasks",
            expect="You can hold 1 task at a time",
        ),
        Click(
            at="Mon 11:00",
            who="ghost",
            label="Claim",
            task="ghost",
            where="tasks",
            expect="You claimed",
        ),
        Slash(
            at="Mon 12:00",
            who="worker",
            command="task claim",
            options={"task": Task("big")},
            expect="You claimed",
        ),
        Slash(
            at="Mon 14:00",
            who="sleeper",
            command="task claim",
            options={"task": Task("sleeper")},
            expect="You claimed",
        ),
        Slash(
            at="Mon 15:00",
            who="proposer",
            command="task propose",
            options={"title": idea.title, "points": idea.points, "tags": idea.tags},
            expect="Proposed",
            creates=("idea",),
        ),
        Slash(
            at="Mon 16:00",
            who="endorser",
            command="task endorse",
            options={"task": Task("idea")},
            expect="Endorsed",
        ),
        # -- Tuesday: the proposal opens, a first contribution lands ----------------------
        Click(
            at="Tue 09:00",
            who="backer",
            label="Endorse",
            task="idea",
            where="tasks",
            expect="now open",
        ),
        Slash(
            at="Tue 11:00",
            who="newcomer",
            command="task submit",
            options={
                "task": Task("first"),
                "link": "https://example.org/pr/101",
                "notes": "My first contribution here, happy to fix anything!",
            },
            expect="Submitted",
        ),
        Slash(
            at="Tue 14:00",
            who="reviewer",
            command="task approve",
            options={"task": Task("first"), "comment": "Spot on. Welcome aboard, {newcomer}!"},
            expect="it's done",
        ),
        Slash(
            at="Tue 16:00",
            who="worker",
            command="task submit",
            options={"task": Task("big"), "link": "https://example.org/pr/102"},
            expect="Submitted",
        ),
        Wait(at="Tue 23:00", note="{ghost} got busy and forgot about {#ghost}."),
        # -- Wednesday: a reminder answered, a review asks for changes ---------------------
        Wait(at="Wed 02:00"),
        Click(
            at="Wed 08:30",
            who="sleeper",
            label="Still on it",
            task="sleeper",
            where="dm",
            expect="Extended",
        ),
        Click(
            at="Wed 10:00",
            who="reviewer",
            label="Request changes",
            task="big",
            where="review",
            form={"reason": c.change_request},
            expect="Asked for changes",
        ),
        Slash(
            at="Wed 17:00",
            who="worker",
            command="task submit",
            options={
                "task": Task("big"),
                "link": "https://example.org/pr/102",
                "notes": "Done, thanks for the careful read!",
            },
            expect="Submitted",
        ),
        # -- Thursday: second round approved, a claim runs out and is picked up -----------
        Click(
            at="Thu 10:00",
            who="reviewer",
            label="Approve",
            task="big",
            where="review",
            expect="it's done",
        ),
        Wait(at="Thu 11:00"),
        Click(
            at="Thu 15:00",
            who="picker",
            label="Claim",
            task="ghost",
            where="tasks",
            expect="You claimed",
        ),
        Slash(
            at="Thu 16:00",
            who="sleeper",
            command="task submit",
            options={"task": Task("sleeper"), "link": "https://example.org/pr/103"},
            expect="Submitted",
        ),
        # -- Friday: more reviews, kudos ----------------------------------------------------
        Slash(
            at="Fri 10:00",
            who="co-lead",
            command="task approve",
            options={"task": Task("sleeper")},
            expect="it's done",
        ),
        Slash(
            at="Fri 11:00",
            who="fan",
            command="kudos",
            options={
                "member": Member("reviewer"),
                "reason": "Kind, careful reviews on {#first} and {#big}. You make this place friendly.",
            },
            expect="kudos from",
        ),
        Slash(
            at="Fri 12:00",
            who="worker",
            command="kudos",
            options={
                "member": Member("newcomer"),
                "reason": "Great first task, {newcomer}! Hope to see you again.",
            },
            expect="kudos from",
        ),
        Slash(
            at="Fri 18:00",
            who="picker",
            command="task submit",
            options={"task": Task("ghost"), "link": "https://example.org/pr/104"},
            expect="Submitted",
        ),
        # -- The weekend ---------------------------------------------------------------------
        Slash(
            at="Sat 10:00",
            who="backer",
            command="task claim",
            options={"task": Task("idea")},
            expect="You claimed",
        ),
        Slash(
            at="Sat 11:00",
            who="co-lead",
            command="task approve",
            options={"task": Task("ghost"), "comment": "Thanks for picking this up!"},
            expect="it's done",
        ),
        Slash(
            at="Sun 16:00",
            who="backer",
            command="task submit",
            options={"task": Task("idea"), "link": "https://example.org/pr/105"},
            expect="Submitted",
        ),
        # -- Monday: the week in review ------------------------------------------------------
        Wait(
            at="next Mon 09:00",
            note="{lead} posts the weekly digest now rather than wait for its scheduled time.",
        ),
        Slash(at="next Mon 09:00", who="lead", command="digest post", expect="Posted the digest"),
    ]
