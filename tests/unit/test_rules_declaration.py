"""The guild's rules are declared once (`domain.Rules` with `RULE_BOUNDS`): the table has
a column for each with the same default, the config view carries them as one `Rules`,
and the /config options take their ranges from the same bounds."""

from __future__ import annotations

from dataclasses import MISSING, fields

from bot.cogs.config import ConfigCog
from bot.db.models import GuildSettings
from bot.domain.model import MILESTONE_POINTS, RULE_BOUNDS, Rules
from bot.services.config import GuildConfig


def test_the_table_has_each_rule_with_its_default() -> None:
    columns = GuildSettings.__table__.columns  # type: ignore[attr-defined]
    for f in fields(Rules):
        assert f.name in columns, f.name
        assert f.default is not MISSING
        column = GuildSettings.model_fields[f.name]
        assert column.default == f.default, f.name
    assert GuildSettings(guild_id=1).rules == Rules()


def test_the_table_reads_as_rules() -> None:
    row = GuildSettings(guild_id=1, claim_days=9, review_nudge_hours=12, kudos_weekly_budget=2)
    assert row.rules == Rules(claim_days=9, review_nudge_hours=12, kudos_weekly_budget=2)


def test_the_config_view_does_not_repeat_the_rules() -> None:
    own = {f.name for f in fields(GuildConfig)}
    assert "rules" in own
    assert not own & {f.name for f in fields(Rules)}


def test_the_config_options_take_their_ranges_from_the_bounds() -> None:
    commands = {c.name: c for c in ConfigCog.__cog_app_commands__}
    options = {p.name: p for p in commands["claims"].parameters}
    # Every bounded rule /config claims sets (the proposal limits have no option yet).
    assert set(options) <= set(RULE_BOUNDS)
    assert set(RULE_BOUNDS) - set(options) <= {
        "proposal_limit_newcomer",
        "proposal_limit_contributor",
        "proposal_limit_regular",
    }
    for name in options:
        bound = RULE_BOUNDS[name]
        assert (options[name].min_value, options[name].max_value) == (bound.min, bound.max)
    (points, *_rest) = commands["milestone"].parameters
    assert (points.min_value, points.max_value) == (MILESTONE_POINTS.min, MILESTONE_POINTS.max)
