"""One way to open the store: from FIXBOT_DATABASE_URL, else SQLite in the data folder.

`open_store(data_dir, url=...)`: no URL (or a `sqlite:///` one) opens SQLite, one process's;
`postgresql://...` opens PostgreSQL, shared by replicas. `open_url` reads the URL forms that
`fixbot migrate-store` takes: `sqlite:///path/to/folder-or-file` and `postgresql://...`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final
from urllib.parse import unquote, urlsplit

from bot.errors import ConfigError
from bot.store.base import DEFAULT_KEEP_OUTCOMES, DEFAULT_KEEP_UNANSWERED, DEFAULT_TTL, Store
from bot.store.sqlite import DATABASE_FILE, SQLiteStore

SQLITE: Final = "sqlite"


async def open_store(
    data_dir: Path,
    ttl: float = DEFAULT_TTL,
    keep_outcomes: float = DEFAULT_KEEP_OUTCOMES,
    keep_unanswered: float = DEFAULT_KEEP_UNANSWERED,
    url: str | None = None,
) -> Store:
    """The store `url` names (FIXBOT_DATABASE_URL), or SQLite in `data_dir` without one."""
    if url:
        return await open_url(url, ttl, keep_outcomes, keep_unanswered)
    return await SQLiteStore.open(
        data_dir / DATABASE_FILE, ttl, keep_outcomes=keep_outcomes, keep_unanswered=keep_unanswered
    )


async def open_url(
    url: str,
    ttl: float = DEFAULT_TTL,
    keep_outcomes: float = DEFAULT_KEEP_OUTCOMES,
    keep_unanswered: float = DEFAULT_KEEP_UNANSWERED,
    read_only: bool = False,
) -> Store:
    """Open the store at `url`: `sqlite:///<folder or file>` or `postgresql://...`."""
    from bot.store.postgres import PostgresStore, is_postgres_url, redacted

    if is_postgres_url(url):
        return await PostgresStore.open(url, ttl, None, keep_outcomes, keep_unanswered)
    if urlsplit(url).scheme != SQLITE:
        raise ConfigError(
            f"{redacted(url)}: not a database URL fixbot knows; use "
            "postgresql://user:password@host:port/db or sqlite:///path/to/folder"
        )
    return await SQLiteStore.open(
        sqlite_path(url),
        ttl,
        keep_outcomes=keep_outcomes,
        read_only=read_only,
        keep_unanswered=keep_unanswered,
    )


def sqlite_path(url: str) -> Path:
    """The database file of a `sqlite:///...` URL: the file it names, or the fixbot database
    in the folder it names."""
    path = Path(unquote(urlsplit(url).path))
    return path / DATABASE_FILE if path.is_dir() or not path.suffix else path
