"""Settings from PEERBOARD_* variables, `.env`, and `config/peerboard.toml` (in that order)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    Field,
    Secret,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.domain.shards import Shards

DEFAULT_DB = "sqlite+aiosqlite:///./data/peerboard.db"
DISCORD_API = "https://discord.com/api/v10"
DISCORD_GATEWAY = "wss://gateway.discord.gg"
GITHUB_API = "https://api.github.com"


class DatabaseUrl(Secret[str]):
    """The database URL, which may carry a password: shown (repr, str, model_dump) with the
    password hidden; `get_secret_value()` gives the URL itself."""

    def _display(self) -> str:
        value = self.get_secret_value()
        try:
            return make_url(value).render_as_string(hide_password=True)
        except ArgumentError:
            return "**********"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="PEERBOARD_",
        env_file=".env",
        env_file_encoding="utf-8",
        toml_file="config/peerboard.toml",
        extra="ignore",
    )

    discord_token: SecretStr | None = None
    database_url: DatabaseUrl = DatabaseUrl(DEFAULT_DB)
    dev_guild_id: int | None = None
    discord_api_base: str = DISCORD_API
    discord_gateway: str = DISCORD_GATEWAY
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["text", "json"] = "text"
    # The operator's view (/healthz, /readyz, /metrics): no server unless a port is set.
    http_port: int | None = Field(default=None, ge=0, le=65535)
    http_host: str = "127.0.0.1"
    # SQLite's durability (docs/architecture.md): "full" keeps every acknowledged commit
    # through a power loss; "normal" is a little faster and can lose the last ones.
    sqlite_synchronous: Literal["full", "normal"] = "full"
    sweep_interval_seconds: int = Field(default=60, ge=5, le=3600)
    dm_per_minute: int = Field(default=20, ge=1, le=600)
    # How long a sweep holds a notice it is sending: after a crash between sending and
    # recording it, it goes out again (with the same nonce) once this has passed.
    delivery_lease_seconds: int = Field(default=300, ge=5, le=3600)
    # NoDecode: read by _shard_list, so "0,1" works as well as the JSON "[0,1]".
    shard_ids: Annotated[list[Annotated[int, Field(ge=0)]] | None, NoDecode] = None
    shard_count: int | None = Field(default=None, ge=1)
    # GitHub (README: Connect GitHub): the base webhook URLs are shown with (the address
    # GitHub reaches this bot's HTTP server at), the REST API, and an optional token.
    public_url: str | None = None
    github_api_base: str = GITHUB_API
    github_token: SecretStr | None = None

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("shard_ids", mode="before")
    @classmethod
    def _shard_list(cls, value: object) -> object:
        """A list (TOML), "0,1" or "[0,1]" (environment, .env); blank means none."""
        if not isinstance(value, str):
            return value
        text = value.strip()
        if not text:
            return None
        if text.startswith("["):
            try:
                return json.loads(text)
            except json.JSONDecodeError:
                raise ValueError("use shard numbers like 0,1 or [0,1]") from None
        parts = [p.strip() for p in text.split(",")]
        if not all(p.isascii() and p.isdigit() for p in parts):
            raise ValueError("use shard numbers like 0,1 or [0,1]")
        return [int(p) for p in parts]

    @model_validator(mode="after")
    def _shards_of_the_count(self) -> Settings:
        """Shard ids need the count they are of, and each is one of 0..count-1."""
        if self.shard_ids is None:
            return self
        if not self.shard_ids:
            raise ValueError("PEERBOARD_SHARD_IDS names no shard: give at least one, like 0")
        if self.shard_count is None:
            raise ValueError(
                "PEERBOARD_SHARD_IDS needs PEERBOARD_SHARD_COUNT, the number of shards in all"
            )
        outside = sorted(i for i in set(self.shard_ids) if i >= self.shard_count)
        if outside:
            raise ValueError(
                f"PEERBOARD_SHARD_IDS: {', '.join(map(str, outside))} is not a shard of "
                f"PEERBOARD_SHARD_COUNT={self.shard_count} (use 0 to {self.shard_count - 1})"
            )
        return self

    @field_validator("log_format", "sqlite_synchronous", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @field_validator("database_url")
    @classmethod
    def _known_driver(cls, value: DatabaseUrl) -> DatabaseUrl:
        if not value.get_secret_value().startswith(
            ("sqlite+aiosqlite://", "postgresql+asyncpg://")
        ):
            raise ValueError(
                "use sqlite+aiosqlite:///path/to.db or postgresql+asyncpg://user@host/db"
            )
        return value

    @field_validator("public_url", "github_api_base")
    @classmethod
    def _http_url(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None or (not value.strip() and info.field_name == "public_url"):
            return None
        if not value.startswith(("http://", "https://")) or "@" in value:
            raise ValueError("must be an http(s):// URL, like https://peerboard.example.org")
        return value.rstrip("/")

    @field_validator("discord_api_base", "discord_gateway")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://", "ws://", "wss://")):
            raise ValueError("must be a URL (http(s):// or ws(s)://)")
        return value.rstrip("/")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (
            init_settings,
            env_settings,
            dotenv_settings,
            TomlConfigSettingsSource(settings_cls),
            file_secret_settings,
        )

    def token_value(self) -> str | None:
        return self.discord_token.get_secret_value() if self.discord_token else None

    def github_token_value(self) -> str | None:
        return self.github_token.get_secret_value() if self.github_token else None

    def database_url_value(self) -> str:
        return self.database_url.get_secret_value()

    def shards(self) -> Shards | None:
        """The shards this process runs, None without PEERBOARD_SHARD_COUNT (one process,
        every guild). A count without ids: all of its shards, in this process."""
        if self.shard_count is None:
            return None
        ids = self.shard_ids if self.shard_ids is not None else range(self.shard_count)
        return Shards(self.shard_count, frozenset(ids))

    def is_sqlite(self) -> bool:
        return self.database_url_value().startswith("sqlite+aiosqlite://")

    def single_process_problem(self) -> str | None:
        """SQLite serves one process: shard ids that leave some shards to another process
        need PostgreSQL. The refusal in one line; None when these settings can run."""
        shards = self.shards()
        if shards is None or shards.every or not self.is_sqlite():
            return None
        ids = ",".join(str(i) for i in sorted(shards.ids))
        return (
            f"PEERBOARD_SHARD_IDS: shards {ids} of {shards.count} leave the others to another "
            "process, and SQLite serves one process only: use PostgreSQL "
            "(PEERBOARD_DATABASE_URL=postgresql+asyncpg://…) to run several."
        )


class SettingsError(Exception):
    """Invalid settings, described by the names a person would set."""


def load_settings(**overrides: object) -> Settings:
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as err:
        lines = []
        for problem in err.errors():
            name = ".".join(str(part) for part in problem["loc"])
            if not name:  # a rule across settings: its message names them
                lines.append(problem["msg"].removeprefix("Value error, "))
                continue
            lines.append(f"PEERBOARD_{name.upper()}: {problem['msg']}")
        raise SettingsError("Invalid settings:\n  " + "\n  ".join(lines)) from None


def data_dir_for(url: str) -> Path | None:
    if url.startswith("sqlite+aiosqlite:///"):
        return Path(url.removeprefix("sqlite+aiosqlite:///")).parent
    return None
