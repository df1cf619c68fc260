"""Settings: every knob fixbot has, read once from the environment and a `.env` file.

Only `bot.cli` creates a `Settings`; everything else receives the values it needs.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.hours import BusinessHours, WeeklyTime

REPOSITORY_ROOT = Path(__file__).resolve().parent.parent
CLOUD_BASE_URL = "https://api.telegram.org/bot"
"""Telegram's own Bot API; anything else is a self-hosted server (telegram-bot-api --local)."""


def _is_telegram_cloud(base_url: str) -> bool:
    return (urlsplit(base_url).hostname or "").lower() == "api.telegram.org"


def _home() -> Path:
    """The one base every relative path resolves against, whatever the current folder:
    FIXBOT_HOME; else the source checkout fixbot runs from; else the current folder (an
    installed package, as in the Docker image, where the paths are absolute anyway)."""
    if os.environ.get("FIXBOT_HOME"):
        return Path(os.environ["FIXBOT_HOME"]).expanduser().resolve()
    if (REPOSITORY_ROOT / "pyproject.toml").is_file():
        return REPOSITORY_ROOT
    return Path.cwd()


HOME = _home()
ENV_FILE = HOME / ".env"
"""The `.env` file read beside the environment (real environment variables win)."""


class Settings(BaseSettings):
    """fixbot's configuration; `.env.example` documents every key. Relative paths (the data
    and content folders) are taken from HOME, not from the current folder."""

    model_config = SettingsConfigDict(env_file=ENV_FILE, env_file_encoding="utf-8", extra="ignore")

    telegram_bot_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("TELEGRAM_BOT_TOKEN")
    )
    telegram_base_url: str = Field(
        default=CLOUD_BASE_URL,
        pattern=r"^https?://[^\s/]+(/\S*)?$",
        validation_alias=AliasChoices("TELEGRAM_BASE_URL"),
    )
    data_dir: Path = Field(default=Path("data"), validation_alias=AliasChoices("FIXBOT_DATA_DIR"))
    database_url: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("FIXBOT_DATABASE_URL")
    )
    """postgresql://user:pass@host:port/db (options as libpq reads them): the shared store of
    several replicas; unset, SQLite in FIXBOT_DATA_DIR. A secret: it holds a password."""

    content_dir: Path = Field(
        default=REPOSITORY_ROOT, validation_alias=AliasChoices("FIXBOT_CONTENT_DIR")
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", validation_alias=AliasChoices("FIXBOT_LOG_LEVEL")
    )
    log_format: Literal["text", "json"] = Field(
        default="text", validation_alias=AliasChoices("FIXBOT_LOG_FORMAT")
    )
    max_sends_per_second: float = Field(
        default=30.0, ge=0, le=1000, validation_alias=AliasChoices("FIXBOT_MAX_SENDS_PER_SECOND")
    )
    max_concurrent_updates: int = Field(
        default=64, ge=1, le=1024, validation_alias=AliasChoices("FIXBOT_MAX_CONCURRENT_UPDATES")
    )
    health_port: int | None = Field(
        default=None, ge=1, le=65535, validation_alias=AliasChoices("FIXBOT_HEALTH_PORT")
    )
    start_retries: int = Field(
        default=5, ge=0, le=20, validation_alias=AliasChoices("FIXBOT_START_RETRIES")
    )
    takeover_seconds: float = Field(
        default=60.0, ge=2, le=3600, validation_alias=AliasChoices("FIXBOT_TAKEOVER_SECONDS")
    )
    """Replicas: an update stored but not handled, or a message committed but not sent, this
    long ago is taken over from the replica that left it (it died)."""
    conflict_seconds: float = Field(
        default=30.0, ge=1, le=3600, validation_alias=AliasChoices("FIXBOT_CONFLICT_SECONDS")
    )
    health_listen: str = Field(
        default="127.0.0.1", validation_alias=AliasChoices("FIXBOT_HEALTH_LISTEN")
    )
    webhook_url: str | None = Field(
        default=None, validation_alias=AliasChoices("FIXBOT_WEBHOOK_URL")
    )
    webhook_secret: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("FIXBOT_WEBHOOK_SECRET")
    )
    webhook_listen: str = Field(
        default="127.0.0.1", validation_alias=AliasChoices("FIXBOT_WEBHOOK_LISTEN")
    )
    webhook_port: int = Field(
        default=8443, ge=1, le=65535, validation_alias=AliasChoices("FIXBOT_WEBHOOK_PORT")
    )
    webhook_path: str = Field(
        default="telegram",
        pattern=r"^[A-Za-z0-9_-]{1,64}$",
        validation_alias=AliasChoices("FIXBOT_WEBHOOK_PATH"),
    )
    keep_outcomes_days: int = Field(
        default=90, ge=1, le=3650, validation_alias=AliasChoices("FIXBOT_KEEP_OUTCOMES_DAYS")
    )
    log_messages: bool = Field(default=False, validation_alias=AliasChoices("FIXBOT_LOG_MESSAGES"))
    learn_order: bool = Field(default=False, validation_alias=AliasChoices("FIXBOT_LEARN_ORDER"))
    keep_unmatched_days: int = Field(
        default=30, ge=0, le=3650, validation_alias=AliasChoices("FIXBOT_KEEP_UNMATCHED_DAYS")
    )
    staff_chat_id: int | None = Field(
        default=None, validation_alias=AliasChoices("FIXBOT_STAFF_CHAT_ID")
    )
    staff_remind_minutes: float = Field(
        default=15, gt=0, le=1440, validation_alias=AliasChoices("FIXBOT_STAFF_REMIND_MINUTES")
    )
    staff_hours: str | None = Field(
        default=None, validation_alias=AliasChoices("FIXBOT_STAFF_HOURS")
    )
    staff_digest: str = Field(
        default="Mon 09:00", validation_alias=AliasChoices("FIXBOT_STAFF_DIGEST")
    )
    staff_language: str | None = Field(
        default=None, validation_alias=AliasChoices("FIXBOT_STAFF_LANGUAGE")
    )
    """The language the support team reads (case cards, reminders, /stats, the digest): one
    the content speaks; the content's default (English) when unset."""
    admin_ids: Annotated[frozenset[int], NoDecode] = Field(
        default=frozenset(), validation_alias=AliasChoices("FIXBOT_ADMIN_IDS")
    )

    @field_validator(
        "staff_chat_id", "staff_hours", "webhook_url", "health_port", "telegram_bot_token",
        "staff_language", "database_url", mode="before",
    )  # fmt: skip
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("data_dir", "content_dir")
    @classmethod
    def _from_home(cls, value: Path) -> Path:
        return value if value.is_absolute() else HOME / value.expanduser()

    @field_validator("log_level", mode="before")
    @classmethod
    def _level_in_any_case(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("log_format", mode="before")
    @classmethod
    def _format_in_any_case(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("max_sends_per_second")
    @classmethod
    def _a_pace_that_sends(cls, value: float) -> float:
        if 0 < value < 1:
            raise ValueError(
                "a pace under 1 message a second would never let a message through; use 0 "
                "(leave pacing to Telegram's 'retry after' answers) or 1 to 1000"
            )
        return value

    @field_validator("webhook_url")
    @classmethod
    def _https(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return value
        value = value.strip()
        cloud = _is_telegram_cloud(info.data.get("telegram_base_url", CLOUD_BASE_URL))
        if cloud and not re.fullmatch(r"https://[^\s/]+(/\S*)?", value):
            raise ValueError(
                "Telegram sends webhooks only to an https:// address (e.g. "
                "https://bot.example.com/telegram); a self-hosted Bot API server "
                "(TELEGRAM_BASE_URL) also sends to http://"
            )
        if not re.fullmatch(r"https?://[^\s/]+(/\S*)?", value):
            raise ValueError(
                "the webhook must be an http:// or https:// address (e.g. "
                "http://bot.internal:8443/telegram)"
            )
        return value

    @property
    def webhook_in_plain_http(self) -> bool:
        """A self-hosted Bot API delivering updates to an http:// webhook (unencrypted)."""
        return bool(self.webhook_url and self.webhook_url.startswith("http://"))

    @field_validator("staff_chat_id")
    @classmethod
    def _a_group(cls, value: int | None) -> int | None:
        if value is not None and value >= 0:
            raise ValueError(
                "that is a person's id, not a group's: a supergroup's id is negative and starts "
                "with -100 (e.g. -1001234567890)"
            )
        return value

    @field_validator("staff_hours")
    @classmethod
    def _hours_parse(cls, value: str | None) -> str | None:
        if value is not None:
            BusinessHours.parse(value)  # its ValueError says what is wrong and what is allowed
        return value

    @field_validator("staff_digest")
    @classmethod
    def _digest_parses(cls, value: str) -> str:
        if value.strip().lower() not in ("off", ""):
            WeeklyTime.parse(value)  # its ValueError says what is wrong and what is allowed
        return value

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _ids(cls, value: object) -> object:
        """ "123, 456" (or one number, or nothing) -> user ids; a group's id is refused."""
        if isinstance(value, int):
            value = str(value)
        if not isinstance(value, str):
            return value
        ids = set()
        for part in filter(None, (p.strip() for p in value.split(","))):
            if not re.fullmatch(r"\d{1,19}", part):
                raise ValueError(
                    f"{part!r} is not a person's Telegram user id (a positive number; ask "
                    "@userinfobot for yours); separate several with commas"
                )
            ids.add(int(part))
        return frozenset(ids)

    @property
    def digest(self) -> WeeklyTime | None:
        """When the weekly digest is due; None: "off"."""
        if self.staff_digest.strip().lower() in ("off", ""):
            return None
        hours = self.business_hours
        return WeeklyTime.parse(self.staff_digest, hours.zone if hours else None)

    @property
    def business_hours(self) -> BusinessHours | None:
        return BusinessHours.parse(self.staff_hours) if self.staff_hours else None

    @property
    def token(self) -> str:
        return self.telegram_bot_token.get_secret_value().strip() if self.telegram_bot_token else ""

    @property
    def database(self) -> str | None:
        """FIXBOT_DATABASE_URL, when set (keep it out of logs: it holds a password)."""
        return self.database_url.get_secret_value().strip() if self.database_url else None

    @property
    def has_token(self) -> bool:
        return self.telegram_bot_token is not None and bool(
            self.telegram_bot_token.get_secret_value().strip()
        )
