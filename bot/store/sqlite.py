"""The default store: one SQLite file in the data directory.

WAL journal, so readers never wait for the writer; `synchronous=NORMAL`, so a committed turn
survives the process being killed (only a power cut can lose the last commits); one
aiosqlite connection, whose single worker thread serialises every statement; the schema
versioned with `PRAGMA user_version` and migrated forward on open.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Final

import aiosqlite

from bot.engine import Outcome, Session
from bot.errors import StoreError
from bot.store.base import DEFAULT_TTL, OutcomeRow, SessionKey, Store

DATABASE_FILE: Final = "fixbot.sqlite3"

MIGRATIONS: Final[tuple[str, ...]] = (
    # 1: sessions
    """
    CREATE TABLE sessions (
        key        TEXT PRIMARY KEY,
        data       TEXT NOT NULL,
        updated_at REAL NOT NULL
    );
    """,
    # 2: outcomes, and an index to purge expired sessions without a full scan
    """
    CREATE TABLE outcomes (
        id     INTEGER PRIMARY KEY,
        key    TEXT NOT NULL,
        at     REAL NOT NULL,
        result TEXT NOT NULL,
        intent TEXT,
        fix    TEXT,
        step   TEXT,
        value  TEXT
    );
    CREATE INDEX outcomes_key ON outcomes (key, id);
    CREATE INDEX sessions_updated_at ON sessions (updated_at);
    """,
)
"""Migration N (1-based) takes the schema from version N-1 to N. Only ever append."""

SCHEMA_VERSION: Final = len(MIGRATIONS)


class SQLiteStore(Store):
    def __init__(
        self,
        connection: aiosqlite.Connection,
        ttl: float = DEFAULT_TTL,
        clock: Callable[[], float] | None = None,
    ) -> None:
        super().__init__(ttl, clock)
        self._db = connection
        # One connection serves every task: a transaction must not interleave with another.
        self._transaction = asyncio.Lock()

    @classmethod
    async def open(
        cls, path: Path, ttl: float = DEFAULT_TTL, clock: Callable[[], float] | None = None
    ) -> SQLiteStore:
        path.parent.mkdir(parents=True, exist_ok=True)
        connection = await aiosqlite.connect(path, isolation_level=None)
        try:
            await connection.execute("PRAGMA journal_mode=WAL")
            await connection.execute("PRAGMA synchronous=NORMAL")
            await connection.execute("PRAGMA busy_timeout=5000")
            await migrate(connection)
        except BaseException:
            await connection.close()
            raise
        return cls(connection, ttl, clock)

    async def load(self, key: SessionKey) -> Session | None:
        async with self._db.execute(
            "SELECT data, updated_at FROM sessions WHERE key = ?", (str(key),)
        ) as cursor:
            row = await cursor.fetchone()
        if row is None or self.expired(row[1]):
            return None
        try:
            return Session.from_dict(json.loads(row[0]))
        except json.JSONDecodeError:
            return None

    async def save_turn(
        self, key: SessionKey, session: Session, outcomes: Sequence[Outcome], at: float
    ) -> None:
        data = json.dumps(session.to_dict(), separators=(",", ":"))
        async with self._transaction:
            await self._write_turn(key, data, session, outcomes, at)

    async def _write_turn(
        self, key: SessionKey, data: str, session: Session, outcomes: Sequence[Outcome], at: float
    ) -> None:
        await self._db.execute("BEGIN IMMEDIATE")
        try:
            await self._db.execute(
                "INSERT INTO sessions (key, data, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET data = excluded.data, "
                "updated_at = excluded.updated_at",
                (str(key), data, session.updated_at or at),
            )
            if outcomes:
                await self._db.executemany(
                    "INSERT INTO outcomes (key, at, result, intent, fix, step, value) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [(str(key), at, o.result, o.intent, o.fix, o.step, o.value) for o in outcomes],
                )
            await self._db.execute("COMMIT")
        except BaseException:
            await self._db.execute("ROLLBACK")
            raise

    async def delete(self, key: SessionKey) -> None:
        async with self._transaction:
            await self._db.execute("DELETE FROM sessions WHERE key = ?", (str(key),))

    async def outcomes(self, key: SessionKey | None = None) -> list[OutcomeRow]:
        query = "SELECT key, at, result, intent, fix, step, value FROM outcomes"
        arguments: tuple[str, ...] = ()
        if key is not None:
            query += " WHERE key = ?"
            arguments = (str(key),)
        async with self._db.execute(query + " ORDER BY id", arguments) as cursor:
            rows = await cursor.fetchall()
        return [
            OutcomeRow(SessionKey.parse(k), at, Outcome(result, intent, fix, step, value))
            for k, at, result, intent, fix, step, value in rows
        ]

    async def purge_expired(self) -> int:
        async with self._transaction:
            cursor = await self._db.execute(
                "DELETE FROM sessions WHERE updated_at < ?", (self.clock() - self.ttl,)
            )
            return cursor.rowcount

    async def close(self) -> None:
        await self._db.close()


async def migrate(connection: aiosqlite.Connection) -> int:
    """Bring the schema up to `SCHEMA_VERSION`; return the version it started at."""
    async with connection.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    start = int(row[0]) if row else 0
    if start > SCHEMA_VERSION:
        raise StoreError(
            f"the database has schema version {start}, newer than this fixbot knows "
            f"({SCHEMA_VERSION}); upgrade fixbot or point FIXBOT_DATA_DIR elsewhere"
        )
    for version in range(start, SCHEMA_VERSION):
        await connection.execute("BEGIN IMMEDIATE")
        try:
            for statement in MIGRATIONS[version].split(";"):
                if statement.strip():
                    await connection.execute(statement)
            await connection.execute(f"PRAGMA user_version = {version + 1}")
            await connection.execute("COMMIT")
        except BaseException:
            await connection.execute("ROLLBACK")
            raise
    return start


async def open_store(data_dir: Path, ttl: float = DEFAULT_TTL) -> SQLiteStore:
    """The default store: SQLite in `data_dir`."""
    return await SQLiteStore.open(data_dir / DATABASE_FILE, ttl)
