"""The default store: one SQLite file in the data directory.

WAL journal, so readers never wait for the writer; `synchronous=NORMAL`, so a committed turn
survives the process being killed (only a power cut can lose the last commits); the schema
versioned with `PRAGMA user_version` and migrated forward on open.

One connection lives on one worker thread, and each operation is one trip to that thread.
Turns that arrive while a commit is under way are committed together in the next
transaction (group commit): each caller still returns only once its own turn is on disk,
but a busy bot pays for one COMMIT per batch instead of one per message. An async driver
that sends every statement separately would need four trips per turn, and under load those
trips, not SQLite, would set the pace of the whole bot.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any, Final, TypeVar

from bot.errors import StoreError
from bot.session import Outcome, Session, SessionKey
from bot.store.base import DEFAULT_TTL, OutcomeRow, Store

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

RECENT_SESSIONS: Final = 10_000
"""Sessions kept in memory after saving, so a busy chat's next message skips the disk."""

_T = TypeVar("_T")


class SQLiteStore(Store):
    def __init__(
        self,
        connection: sqlite3.Connection,
        worker: ThreadPoolExecutor,
        ttl: float = DEFAULT_TTL,
        clock: Callable[[], float] | None = None,
    ) -> None:
        super().__init__(ttl, clock)
        self._db = connection
        self._worker = worker
        self._pending: list[tuple[_TurnRow, asyncio.Future[None]]] = []
        self._committer: asyncio.Task[None] | None = None
        # Write-through cache of recent sessions: this process is the database's only writer
        # (one bot polls one token), so a session it saved is the session on disk.
        self._recent: OrderedDict[str, tuple[str, float]] = OrderedDict()

    @classmethod
    async def open(
        cls, path: Path, ttl: float = DEFAULT_TTL, clock: Callable[[], float] | None = None
    ) -> SQLiteStore:
        path.parent.mkdir(parents=True, exist_ok=True)
        worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fixbot-sqlite")
        loop = asyncio.get_running_loop()
        try:
            connection = await loop.run_in_executor(worker, _connect, path)
        except BaseException:
            worker.shutdown(wait=False)
            raise
        return cls(connection, worker, ttl, clock)

    async def _run(self, function: Callable[[sqlite3.Connection], _T]) -> _T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._worker, function, self._db)

    async def load(self, key: SessionKey) -> Session | None:
        row = self._recent.get(str(key))
        if row is None:
            row = await self._run(partial(_select_session, str(key)))
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
        rows = _outcome_rows(key, outcomes, at)
        committed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append(((str(key), data, session.updated_at or at, rows), committed))
        if self._committer is None or self._committer.done():
            self._committer = asyncio.create_task(self._commit_pending())
        await committed

    async def _commit_pending(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                await self._run(partial(_save_turns, [turn for turn, _ in batch]))
            except BaseException as exc:
                for _, committed in batch:
                    if not committed.done():
                        committed.set_exception(exc)
                if not isinstance(exc, Exception):
                    raise
            else:
                for (key, data, updated_at, _), committed in batch:
                    self._remember(key, (data, updated_at))
                    if not committed.done():
                        committed.set_result(None)

    def _remember(self, key: str, row: tuple[str, float] | None) -> None:
        self._recent.pop(key, None)
        if row is not None:
            self._recent[key] = row
            if len(self._recent) > RECENT_SESSIONS:
                self._recent.popitem(last=False)

    async def record(self, key: SessionKey, outcomes: Sequence[Outcome], at: float) -> None:
        await self._run(partial(_insert_outcomes, _outcome_rows(key, outcomes, at)))

    async def delete(self, key: SessionKey) -> None:
        await self._run(partial(_write, "DELETE FROM sessions WHERE key = ?", (str(key),)))
        self._remember(str(key), None)

    async def outcomes(self, key: SessionKey | None = None) -> list[OutcomeRow]:
        rows = await self._run(partial(_select_outcomes, None if key is None else str(key)))
        return [
            OutcomeRow(SessionKey.parse(k), at, Outcome(result, intent, fix, step, value))
            for k, at, result, intent, fix, step, value in rows
        ]

    async def purge_expired(self) -> int:
        cutoff = self.clock() - self.ttl
        for key in [k for k, (_, updated_at) in self._recent.items() if updated_at < cutoff]:
            self._remember(key, None)
        return await self._run(
            partial(_write, "DELETE FROM sessions WHERE updated_at < ?", (cutoff,))
        )

    async def close(self) -> None:
        if self._committer is not None:
            await asyncio.gather(self._committer, return_exceptions=True)
        await self._run(lambda db: db.close())
        self._worker.shutdown(wait=True)


# --------------------------------------------------------------------------------------------
# On the worker thread


def _connect(path: Path) -> sqlite3.Connection:
    # The connection is made and used on the one worker thread only.
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute("PRAGMA busy_timeout=5000")
        migrate(connection)
    except BaseException:
        connection.close()
        raise
    return connection


def _select_session(key: str, db: sqlite3.Connection) -> tuple[str, float] | None:
    row = db.execute("SELECT data, updated_at FROM sessions WHERE key = ?", (key,)).fetchone()
    return None if row is None else (str(row[0]), float(row[1]))


_OutcomeRow = tuple[str, float, str, str | None, str | None, str | None, str | None]
_TurnRow = tuple[str, str, float, list[_OutcomeRow]]
"""(key, session JSON, updated_at, outcome rows): one turn, ready to write."""


def _outcome_rows(key: SessionKey, outcomes: Sequence[Outcome], at: float) -> list[_OutcomeRow]:
    return [(str(key), at, o.result, o.intent, o.fix, o.step, o.value) for o in outcomes]


def _save_turns(turns: list[_TurnRow], db: sqlite3.Connection) -> None:
    """Write turns in one transaction, in the order they were handled."""
    with _transaction(db):
        db.executemany(
            "INSERT INTO sessions (key, data, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (key) DO UPDATE SET data = excluded.data, "
            "updated_at = excluded.updated_at",
            [(key, data, updated_at) for key, data, updated_at, _ in turns],
        )
        _insert_outcome_rows([row for *_, rows in turns for row in rows], db)


def _insert_outcomes(rows: list[_OutcomeRow], db: sqlite3.Connection) -> None:
    with _transaction(db):
        _insert_outcome_rows(rows, db)


def _insert_outcome_rows(rows: list[_OutcomeRow], db: sqlite3.Connection) -> None:
    db.executemany(
        "INSERT INTO outcomes (key, at, result, intent, fix, step, value) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        rows,
    )


def _select_outcomes(key: str | None, db: sqlite3.Connection) -> list[tuple[Any, ...]]:
    query = "SELECT key, at, result, intent, fix, step, value FROM outcomes"
    if key is None:
        return db.execute(query + " ORDER BY id").fetchall()
    return db.execute(query + " WHERE key = ? ORDER BY id", (key,)).fetchall()


def _write(statement: str, arguments: tuple[object, ...], db: sqlite3.Connection) -> int:
    with _transaction(db):
        return db.execute(statement, arguments).rowcount


class _transaction:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any error."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: object, *rest: object) -> None:
        self.db.execute("ROLLBACK" if kind is not None else "COMMIT")


def migrate(connection: sqlite3.Connection) -> int:
    """Bring the schema up to `SCHEMA_VERSION`; return the version it started at."""
    start = int(connection.execute("PRAGMA user_version").fetchone()[0])
    if start > SCHEMA_VERSION:
        raise StoreError(
            f"the database has schema version {start}, newer than this fixbot knows "
            f"({SCHEMA_VERSION}); upgrade fixbot or point FIXBOT_DATA_DIR elsewhere"
        )
    for version in range(start, SCHEMA_VERSION):
        with _transaction(connection):
            for statement in MIGRATIONS[version].split(";"):
                if statement.strip():
                    connection.execute(statement)
            connection.execute(f"PRAGMA user_version = {version + 1}")
    return start


async def open_store(data_dir: Path, ttl: float = DEFAULT_TTL) -> SQLiteStore:
    """The default store: SQLite in `data_dir`."""
    return await SQLiteStore.open(data_dir / DATABASE_FILE, ttl)
