"""Trust, permissions, limits and windows (SPEC §2–§4)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from bot.domain.errors import (
    InvalidInput,
    LimitReached,
    Number,
    PermissionDenied,
    Phrase,
    Plural,
)
from bot.domain.inputs import clean_line, clean_text
from bot.domain.model import (
    CAPACITY_MAX,
    CAPACITY_MIN,
    CLAIM_DAYS,
    DESCRIPTION_MAX,
    MILESTONE_POINTS,
    POINT_CHOICES,
    RULE_BOUNDS,
    TAG_MAX,
    TAGS_MAX,
    TITLE_MAX,
    Actor,
    Rules,
    TrustLevel,
)

# A level's name inside a refusal ("as a newcomer"), translated with it.
LEVEL_NAMES: dict[TrustLevel, Phrase] = {
    TrustLevel.NEWCOMER: Phrase("newcomer"),
    TrustLevel.CONTRIBUTOR: Phrase("contributor"),
    TrustLevel.REGULAR: Phrase("regular"),
}


def trust_level(done_tasks: int, rules: Rules) -> TrustLevel:
    """Trust comes from accepted work only: tasks done, never activity."""
    if done_tasks >= rules.regular_threshold:
        return TrustLevel.REGULAR
    if done_tasks >= 1:
        return TrustLevel.CONTRIBUTOR
    return TrustLevel.NEWCOMER


def claim_limit(level: TrustLevel, rules: Rules) -> int:
    return {
        TrustLevel.NEWCOMER: rules.limit_newcomer,
        TrustLevel.CONTRIBUTOR: rules.limit_contributor,
        TrustLevel.REGULAR: rules.limit_regular,
    }[level]


def check_claim_limit(actor: Actor, level: TrustLevel, active_claims: int, rules: Rules) -> None:
    if actor.is_maintainer:
        return
    limit = claim_limit(level, rules)
    if active_claims >= limit:
        raise LimitReached(
            "You can hold {tasks} at a time as a {level}, and you hold {active_claims}. Finish or release one first — the limit grows as your work is accepted.",
            tasks=Plural("{n} task", "{n} tasks", limit),
            level=LEVEL_NAMES[level],
            active_claims=active_claims,
        )


def proposal_limit(level: TrustLevel, rules: Rules) -> int:
    return {
        TrustLevel.NEWCOMER: rules.proposal_limit_newcomer,
        TrustLevel.CONTRIBUTOR: rules.proposal_limit_contributor,
        TrustLevel.REGULAR: rules.proposal_limit_regular,
    }[level]


def check_proposal_limit(
    actor: Actor, level: TrustLevel, open_proposals: int, rules: Rules
) -> None:
    """A member's proposals still waiting to open, at most their level's limit at a time."""
    if actor.is_maintainer:
        return
    limit = proposal_limit(level, rules)
    if open_proposals >= limit:
        raise LimitReached(
            "You have {held} waiting to open, the most a {level} can have at a time. Once one of them opens (or you withdraw one with /task cancel), you can propose another.",
            held=Plural("{n} proposal", "{n} proposals", open_proposals),
            level=LEVEL_NAMES[level],
        )


def can_review(actor: Actor, level: TrustLevel) -> bool:
    return (
        actor.is_maintainer or actor.has_reviewer_role or level.rank >= TrustLevel.CONTRIBUTOR.rank
    )


def check_can_create(actor: Actor, level: TrustLevel, rules: Rules) -> None:
    if actor.is_maintainer:
        return
    if rules.regulars_can_create and level is TrustLevel.REGULAR:
        return
    if rules.regulars_can_create:
        raise PermissionDenied(
            "Only maintainers can put tasks straight on the board. Regulars may create tasks here too."
        )
    raise PermissionDenied(
        "Only maintainers can put tasks straight on the board. You can suggest one with /task propose."
    )


def check_maintainer(actor: Actor, what: str) -> None:
    """`what`: the action, in English and in the catalogs ("export the board")."""
    if not actor.is_maintainer:
        raise PermissionDenied("Only maintainers can {what}.", what=Phrase(what))


def can_extend(extensions: int, rules: Rules) -> bool:
    """A claim extended `extensions` times may be extended again (SPEC §2: `max_extensions`)."""
    return extensions < rules.max_extensions


def claim_window(points: int, rules: Rules, task_claim_days: int | None = None) -> timedelta:
    """Per task size (1–2: 3 days, 3–5: 7, 8–13: 14), overridable per guild, then per task."""
    if task_claim_days is not None:
        return timedelta(days=task_claim_days)
    if rules.claim_days is not None:
        return timedelta(days=rules.claim_days)
    if points <= 2:
        return timedelta(days=3)
    if points <= 5:
        return timedelta(days=7)
    return timedelta(days=14)


# -- input validation -------------------------------------------------------------------


def clean_title(title: str) -> str:
    cleaned = clean_line(title)
    if not cleaned:
        raise InvalidInput("A task needs a title.")
    if len(cleaned) > TITLE_MAX:
        raise InvalidInput(
            "The title is {count} characters; keep it to {most} and put the details in the description.",
            count=len(cleaned),
            most=TITLE_MAX,
        )
    return cleaned


def clean_description(description: str | None) -> str:
    text = clean_text(description)
    if len(text) > DESCRIPTION_MAX:
        raise InvalidInput(
            "The description is {count} characters; the limit is {most}.",
            count=len(text),
            most=DESCRIPTION_MAX,
        )
    return text


def check_points(points: int) -> int:
    if points not in POINT_CHOICES:
        choices = ", ".join(str(p) for p in POINT_CHOICES)
        raise InvalidInput(
            "Points must be one of {choices} (you gave {points}).", choices=choices, points=points
        )
    return points


def check_capacity(capacity: int) -> int:
    if not CAPACITY_MIN <= capacity <= CAPACITY_MAX:
        raise InvalidInput(
            "Capacity must be between {least} and {most} people (you gave {capacity}).",
            least=CAPACITY_MIN,
            most=CAPACITY_MAX,
            capacity=capacity,
        )
    return capacity


def parse_tags(raw: str | None) -> tuple[str, ...]:
    """Comma-separated, trimmed, lower-cased, de-duplicated, order kept."""
    if not raw:
        return ()
    tags: list[str] = []
    for part in raw.split(","):
        tag = clean_line(part).lower()
        if not tag or tag in tags:
            continue
        if len(tag) > TAG_MAX:
            raise InvalidInput(
                "The tag “{tag}…” is too long; keep tags to {most} characters.",
                tag=tag[:40],
                most=TAG_MAX,
            )
        tags.append(tag)
    if len(tags) > TAGS_MAX:
        raise InvalidInput(
            "A task can have at most {most} tags (you gave {count}).",
            most=TAGS_MAX,
            count=len(tags),
        )
    return tuple(tags)


def check_text(value: str | None, limit: int, what: str, *, required: bool = False) -> str:
    text = clean_text(value)
    if required and not text:
        raise InvalidInput("Please give a {what}.", what=Phrase(what))
    if len(text) > limit:
        raise InvalidInput(
            "The {what} is {count} characters; the limit is {limit}.",
            what=Phrase(what),
            count=len(text),
            limit=limit,
        )
    return text


# -- settings ---------------------------------------------------------------------------


# Each rule setting's name at the start of a refusal ("Claim days must be between …"),
# translated with it; the English is the option's name, spaced and capitalised.
SETTING_NAMES: Mapping[str, Phrase] = {
    "claim_days": Phrase("Claim days"),
    "max_extensions": Phrase("Max extensions"),
    "limit_newcomer": Phrase("Limit newcomer"),
    "limit_contributor": Phrase("Limit contributor"),
    "limit_regular": Phrase("Limit regular"),
    "required_approvals": Phrase("Required approvals"),
    "regular_threshold": Phrase("Regular threshold"),
    "proposal_endorsements": Phrase("Proposal endorsements"),
    "proposal_window_hours": Phrase("Proposal window hours"),
    "review_points": Phrase("Review points"),
    "rework_limit": Phrase("Rework limit"),
    "review_nudge_hours": Phrase("Review nudge hours"),
    "kudos_weekly_budget": Phrase("Kudos weekly budget"),
    "proposal_limit_newcomer": Phrase("Proposal limit newcomer"),
    "proposal_limit_contributor": Phrase("Proposal limit contributor"),
    "proposal_limit_regular": Phrase("Proposal limit regular"),
}


def check_rule_values(changes: Mapping[str, object]) -> None:
    """The rule settings in `changes` (by field name; None: not given) lie in their bounds."""
    for name, bound in RULE_BOUNDS.items():
        value = changes.get(name)
        if value is not None and value not in bound:
            raise InvalidInput(
                "{setting} must be between {min} and {max}.",
                setting=SETTING_NAMES.get(name) or Phrase(name.replace("_", " ").capitalize()),
                min=bound.min,
                max=bound.max,
            )


def check_claim_days(days: int | None) -> int | None:
    """A task's own claim window (None: the guild's), in the bounds of the guild's."""
    if days is not None and days not in CLAIM_DAYS:
        raise InvalidInput(
            "A claim window must be between {min} and {max} days.",
            min=CLAIM_DAYS.min,
            max=CLAIM_DAYS.max,
        )
    return days


def check_milestone_points(points: int) -> int:
    if points not in MILESTONE_POINTS:
        raise InvalidInput(
            "Milestone points must be between {least} and {most}.",
            least=Number(MILESTONE_POINTS.min),
            most=Number(MILESTONE_POINTS.max),
        )
    return points
