"""Carry one bot's store from SQLite to PostgreSQL (`fixbot migrate-store`).

Every table goes over as it is: sessions (walks continue where they stopped), outcomes,
cases and the staff-chat messages of each, group settings and offers, people's languages,
messages kept for the authors, claims, and the inbox and outbox (a turn committed but not
yet carried out is carried out by the new store's bot). Ids are kept, and PostgreSQL's
counters moved past them, so a case keeps its number. The source is read as it is on
disk, with the bot stopped; the target must be empty of fixbot's data, so that a second run
by mistake cannot double anything.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from bot.errors import StoreError
from bot.store.postgres import PostgresStore, redacted
from bot.store.sqlite import SCHEMA_VERSION as SQLITE_SCHEMA
from bot.store.sqlite import DataFolderLock, _connect

TABLES: Final = (
    ("sessions", ("key", "data", "updated_at"), None),
    (
        "outcomes",
        ("id", "key", "at", "result", "intent", "fix", "step", "value", "language"),
        "id",
    ),
    ("inbox", ("update_id", "data", "at", "handled", "fingerprint"), None),
    (
        "cases",
        (
            "id",
            "key",
            "state",
            "staff_chat",
            "thread",
            "opened_at",
            "closed_at",
            "reminded",
            "data",
        ),
        "id",
    ),
    ("case_messages", ("staff_chat", "message_id", "case_id"), None),
    ("unanswered", ("id", "at", "text", "candidates"), "id"),
    ("done_once", ("name", "at", "holder"), None),
    ("group_settings", ("chat_id", "data", "updated_at"), None),
    ("offers", ("chat_id", "user_id", "at"), None),
    ("outbox", ("id", "key", "data", "at"), "id"),
    ("people", ("user_id", "language", "updated_at"), None),
)
"""Each table, its columns, and its id column whose counter must move past the copied ids."""
_BOOLEANS: Final = {"handled", "reminded"}
"""Columns SQLite keeps as 0/1 and PostgreSQL as booleans."""


@dataclass(frozen=True)
class Carried:
    """How many rows of each table went over."""

    rows: dict[str, int]

    def __str__(self) -> str:
        return ", ".join(f"{table} {count}" for table, count in self.rows.items())


async def sqlite_to_postgres(source: Path, url: str) -> Carried:
    """Copy the SQLite database at `source` into the PostgreSQL database at `url` (migrated
    to the current schema first, both of them); StoreError if either cannot be used or the
    target already holds fixbot's data."""
    read = await asyncio.to_thread(_read_sqlite, source)
    target = await PostgresStore.open(url)
    try:
        return await _copy(read, target, url)
    finally:
        await target.close()


def _read_sqlite(source: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every table's rows, read with the data folder's lock held (so not beside a bot)."""
    if not source.is_file():
        raise StoreError(f"no fixbot database at {source}")
    lock = DataFolderLock.take(source.parent)  # refused while a bot still runs on it
    try:
        db = _connect(source)  # brings an older SQLite file up to the current schema first
        try:
            version = int(db.execute("PRAGMA user_version").fetchone()[0])
            if version != SQLITE_SCHEMA:
                raise StoreError(f"{source} has schema version {version}, not {SQLITE_SCHEMA}")
            return {
                table: db.execute(f"SELECT {', '.join(columns)} FROM {table}").fetchall()
                for table, columns, _ in TABLES
            }
        finally:
            db.close()
    finally:
        lock.release()


async def _copy(
    read: dict[str, list[tuple[object, ...]]], target: PostgresStore, url: str
) -> Carried:
    counted: dict[str, int] = {}
    async with target._transaction() as pg:
        for table in ("sessions", "outcomes", "cases"):
            cursor = await pg.execute(f"SELECT count(*) FROM {table}")
            row = await cursor.fetchone()
            if row and row[0]:
                raise StoreError(
                    f"{redacted(url)} already holds fixbot's {table}: migrate into an empty "
                    "database, so that nothing is copied twice"
                )
        for table, columns, counter in TABLES:
            names = ", ".join(columns)
            flags = [i for i, c in enumerate(columns) if c in _BOOLEANS]
            values = [
                tuple(bool(v) if i in flags else v for i, v in enumerate(row))
                for row in read[table]
            ]
            if values:
                marks = ", ".join(["%s"] * len(columns))
                async with pg.cursor() as cursor:
                    await cursor.executemany(
                        f"INSERT INTO {table} ({names}) VALUES ({marks})", values
                    )
            if counter is not None:
                await pg.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', '{counter}'), "
                    f"coalesce((SELECT max({counter}) FROM {table}), 0) + 1, false)"
                )
            counted[table] = len(values)
    return Carried(counted)
