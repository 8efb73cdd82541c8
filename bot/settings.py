"""Settings from PEERBOARD_* variables, `.env`, and `config/peerboard.toml` (in that order)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

DEFAULT_DB = "sqlite+aiosqlite:///./data/peerboard.db"
DISCORD_API = "https://discord.com/api/v10"
DISCORD_GATEWAY = "wss://gateway.discord.gg"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="PEERBOARD_",
        env_file=".env",
        env_file_encoding="utf-8",
        toml_file="config/peerboard.toml",
        extra="ignore",
    )

    discord_token: SecretStr | None = None
    database_url: str = DEFAULT_DB
    dev_guild_id: int | None = None
    discord_api_base: str = DISCORD_API
    discord_gateway: str = DISCORD_GATEWAY
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["text", "json"] = "text"
    # The operator's view (/healthz, /readyz, /metrics): no server unless a port is set.
    http_port: int | None = Field(default=None, ge=0, le=65535)
    http_host: str = "127.0.0.1"
    sweep_interval_seconds: int = Field(default=60, ge=5, le=3600)
    dm_per_minute: int = Field(default=20, ge=1, le=600)
    shard_ids: list[int] | None = None
    shard_count: int | None = Field(default=None, ge=1)

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("log_format", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @field_validator("database_url")
    @classmethod
    def _known_driver(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "use sqlite+aiosqlite:///path/to.db or postgresql+asyncpg://user@host/db"
            )
        return value

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


class SettingsError(Exception):
    """Invalid settings, described by the names a person would set."""


def load_settings(**overrides: object) -> Settings:
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as err:
        lines = []
        for problem in err.errors():
            name = ".".join(str(part) for part in problem["loc"]) or "settings"
            lines.append(f"PEERBOARD_{name.upper()}: {problem['msg']}")
        raise SettingsError("Invalid settings:\n  " + "\n  ".join(lines)) from None


def data_dir_for(url: str) -> Path | None:
    if url.startswith("sqlite+aiosqlite:///"):
        return Path(url.removeprefix("sqlite+aiosqlite:///")).parent
    return None
