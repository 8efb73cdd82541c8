"""The deployment files of docs/scaling.md (config/peerboard@.service, its migrate unit, and
config/compose.yaml) parse, run `peerboard run` / `peerboard migrate`, set only real
settings with values that validate (the shard ids within the count, the database PostgreSQL
so that several processes may share it), and hold no secret inline."""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "config"
SECRETS = ("PEERBOARD_DISCORD_TOKEN", "PEERBOARD_DATABASE_URL", "POSTGRES_PASSWORD")
# A URL with a password in it (scheme://user:password@host), anywhere in a file.
URL_WITH_PASSWORD = re.compile(r"://[^/\s:@]+:[^/\s@]+@")

Unit = dict[str, list[tuple[str, str]]]


def parse_unit(text: str) -> Unit:
    """systemd's syntax: [Section]s of Key=value lines, a key may repeat (Environment=)."""
    unit: Unit = {}
    section: list[tuple[str, str]] | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            section = unit.setdefault(line[1:-1], [])
            continue
        key, sep, value = line.partition("=")
        assert sep and section is not None, f"not a unit line: {raw!r}"
        section.append((key.strip(), value.strip()))
    return unit


def command(line: str) -> list[str]:
    """ExecStart's words, the program by its name (`/opt/.../bin/peerboard` is `peerboard`)."""
    program, *args = shlex.split(line)
    return [Path(program).name, *args]


def values(unit: Unit, section: str, key: str) -> list[str]:
    return [v for k, v in unit.get(section, []) if k == key]


def env_file(path: Path) -> dict[str, str]:
    pairs = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, sep, value = line.partition("=")
            assert sep, f"{path.name}: not KEY=value: {line!r}"
            pairs[key.strip()] = value.strip()
    return pairs


def unit_environment(unit: Unit, instance: str) -> dict[str, str]:
    """The Environment= lines of [Service], with %i the instance name."""
    env: dict[str, str] = {}
    for line in values(unit, "Service", "Environment"):
        for assignment in shlex.split(line.replace("%i", instance)):
            key, sep, value = assignment.partition("=")
            assert sep, f"Environment={line}: not KEY=value"
            env[key] = value
    return env


@pytest.fixture
def settings_of(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Callable[[dict[str, str]], Settings]:
    """load_settings as a process with exactly `env` (and no .env or peerboard.toml) has it."""
    monkeypatch.chdir(tmp_path)

    def load(env: dict[str, str]) -> Settings:
        with monkeypatch.context() as m:
            for name in [n for n in os.environ if n.startswith("PEERBOARD_")]:
                m.delenv(name)
            for name, value in env.items():
                m.setenv(name, value)
            return load_settings()

    return load


def assert_real_settings(env: dict[str, str], where: str) -> None:
    fields = {f"PEERBOARD_{name.upper()}" for name in Settings.model_fields}
    unknown = sorted(n for n in env if n.startswith("PEERBOARD_") and n not in fields)
    assert not unknown, f"{where} sets {unknown}: not settings of bot.settings.Settings"


def assert_no_secret_inline(text: str, where: str) -> None:
    for secret in SECRETS:
        assert not re.search(rf"{secret}\s*[=:]", text), f"{where} sets {secret} inline"
    assert not URL_WITH_PASSWORD.search(text), f"{where} holds a URL with a password"


def test_the_systemd_template_runs_one_shard_per_instance(
    settings_of: Callable[[dict[str, str]], Settings],
) -> None:
    text = (CONFIG / "peerboard@.service").read_text()
    unit = parse_unit(text)
    assert command(values(unit, "Service", "ExecStart")[0]) == ["peerboard", "run"]
    assert values(unit, "Service", "Restart") == ["on-failure"]
    assert "/etc/peerboard/peerboard.env" in values(unit, "Service", "EnvironmentFile")
    assert "peerboard-migrate.service" in values(unit, "Unit", "Requires")
    assert_no_secret_inline(text, "peerboard@.service")
    # The secrets come from the EnvironmentFile: the example says what it holds.
    shared = env_file(CONFIG / "peerboard.env.example")
    assert set(shared) == {"PEERBOARD_DISCORD_TOKEN", "PEERBOARD_DATABASE_URL"}
    count = int(unit_environment(unit, "0")["PEERBOARD_SHARD_COUNT"])
    ports = set()
    for shard in range(count):
        env = {**shared, **unit_environment(unit, str(shard))}
        assert_real_settings(env, f"peerboard@{shard}")
        settings = settings_of(env)
        assert settings.shards() is not None
        assert (settings.shard_count, settings.shard_ids) == (count, [shard])
        assert settings.single_process_problem() is None  # PostgreSQL: shared by all
        ports.add(settings.http_port)
    assert len(ports) == count, "each instance needs its own PEERBOARD_HTTP_PORT"


def test_the_migrate_unit_migrates_once(settings_of: Callable[[dict[str, str]], Settings]) -> None:
    text = (CONFIG / "peerboard-migrate.service").read_text()
    unit = parse_unit(text)
    assert command(values(unit, "Service", "ExecStart")[0]) == ["peerboard", "migrate"]
    assert values(unit, "Service", "Type") == ["oneshot"]
    assert values(unit, "Service", "RemainAfterExit") == ["yes"]
    assert_no_secret_inline(text, "peerboard-migrate.service")
    env = {**env_file(CONFIG / "peerboard.env.example"), **unit_environment(unit, "")}
    assert_real_settings(env, "peerboard-migrate.service")
    assert not settings_of(env).is_sqlite()


def test_compose_runs_two_shards_on_one_postgresql_after_one_migrate(
    settings_of: Callable[[dict[str, str]], Settings],
) -> None:
    text = (CONFIG / "compose.yaml").read_text()
    assert_no_secret_inline(text, "compose.yaml")
    compose = yaml.safe_load(text)
    services: dict[str, Any] = compose["services"]
    assert services["db"]["image"].startswith("postgres:")
    assert services["db"]["env_file"] == "postgres.env"
    assert set(env_file(CONFIG / "postgres.env.example")) >= {"POSTGRES_PASSWORD"}
    shared = env_file(CONFIG / "peerboard.env.example")

    migrate = services["migrate"]
    assert migrate["command"] == ["peerboard", "migrate"]
    assert migrate["depends_on"]["db"]["condition"] == "service_healthy"
    assert migrate["env_file"] == "peerboard.env"

    bots = {name: s for name, s in services.items() if s.get("command") == ["peerboard", "run"]}
    assert sorted(bots) == ["shard-0", "shard-1"]
    seen: list[int] = []
    for name, bot in bots.items():
        assert bot["env_file"] == "peerboard.env"
        assert bot["depends_on"] == {"migrate": {"condition": "service_completed_successfully"}}
        environment: dict[str, str] = bot["environment"]
        assert all(isinstance(v, str) for v in environment.values()), f"{name}: quote values"
        env = {**shared, **environment}
        assert_real_settings(env, name)
        settings = settings_of(env)
        assert settings.shard_count == 2 and settings.shard_ids is not None
        assert settings.single_process_problem() is None
        seen += settings.shard_ids
        # The healthcheck asks this process's own /healthz, on its PEERBOARD_HTTP_PORT.
        probe = " ".join(bot["healthcheck"]["test"])
        assert f"http://127.0.0.1:{settings.http_port}/healthz" in probe
    assert sorted(seen) == [0, 1], "every shard of the count, each in one process"
