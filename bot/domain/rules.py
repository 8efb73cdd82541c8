"""Trust, permissions, limits and windows (SPEC §2–§4)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from bot.domain.errors import InvalidInput, LimitReached, PermissionDenied
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
        plural = "task" if limit == 1 else "tasks"
        raise LimitReached(
            f"You can hold {limit} {plural} at a time as a {level.value}, and you hold "
            f"{active_claims}. Finish or release one first — the limit grows as your work "
            "is accepted."
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
        held = f"{open_proposals} proposal{'' if open_proposals == 1 else 's'}"
        raise LimitReached(
            f"You have {held} waiting to open, the most a {level.value} can have at a time. "
            "Once one of them opens (or you withdraw one with /task cancel), you can propose "
            "another."
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
    hint = (
        " Regulars may create tasks here too."
        if rules.regulars_can_create
        else " You can suggest one with /task propose."
    )
    raise PermissionDenied("Only maintainers can put tasks straight on the board." + hint)


def check_maintainer(actor: Actor, what: str) -> None:
    if not actor.is_maintainer:
        raise PermissionDenied(f"Only maintainers can {what}.")


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
            f"The title is {len(cleaned)} characters; keep it to {TITLE_MAX} "
            "and put the details in the description."
        )
    return cleaned


def clean_description(description: str | None) -> str:
    text = clean_text(description)
    if len(text) > DESCRIPTION_MAX:
        raise InvalidInput(
            f"The description is {len(text)} characters; the limit is {DESCRIPTION_MAX}."
        )
    return text


def check_points(points: int) -> int:
    if points not in POINT_CHOICES:
        choices = ", ".join(str(p) for p in POINT_CHOICES)
        raise InvalidInput(f"Points must be one of {choices} (you gave {points}).")
    return points


def check_capacity(capacity: int) -> int:
    if not CAPACITY_MIN <= capacity <= CAPACITY_MAX:
        raise InvalidInput(
            f"Capacity must be between {CAPACITY_MIN} and {CAPACITY_MAX} people "
            f"(you gave {capacity})."
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
                f"The tag “{tag[:40]}…” is too long; keep tags to {TAG_MAX} characters."
            )
        tags.append(tag)
    if len(tags) > TAGS_MAX:
        raise InvalidInput(f"A task can have at most {TAGS_MAX} tags (you gave {len(tags)}).")
    return tuple(tags)


def check_text(value: str | None, limit: int, what: str, *, required: bool = False) -> str:
    text = clean_text(value)
    if required and not text:
        raise InvalidInput(f"Please give a {what}.")
    if len(text) > limit:
        raise InvalidInput(f"The {what} is {len(text)} characters; the limit is {limit}.")
    return text


# -- settings ---------------------------------------------------------------------------


def check_rule_values(changes: Mapping[str, object]) -> None:
    """The rule settings in `changes` (by field name; None: not given) lie in their bounds."""
    for name, bound in RULE_BOUNDS.items():
        value = changes.get(name)
        if value is not None and value not in bound:
            raise InvalidInput(
                f"{name.replace('_', ' ').capitalize()} must be between {bound.min} and {bound.max}."
            )


def check_claim_days(days: int | None) -> int | None:
    """A task's own claim window (None: the guild's), in the bounds of the guild's."""
    if days is not None and days not in CLAIM_DAYS:
        raise InvalidInput(
            f"A claim window must be between {CLAIM_DAYS.min} and {CLAIM_DAYS.max} days."
        )
    return days


def check_milestone_points(points: int) -> int:
    if points not in MILESTONE_POINTS:
        raise InvalidInput(
            f"Milestone points must be between {MILESTONE_POINTS.min:,} and "
            f"{MILESTONE_POINTS.max:,}."
        )
    return points
