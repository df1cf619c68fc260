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
import fcntl
import json
import logging
import os
import sqlite3
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import IO, Any, Final, TypeVar

from bot.cases import Case, CaseState
from bot.errors import StoreError
from bot.groups import GroupSettings, LastOffers
from bot.session import Outcome, Session, SessionKey, Stage, Unanswered
from bot.store.base import (
    DEFAULT_KEEP_OUTCOMES,
    DEFAULT_KEEP_UNANSWERED,
    DEFAULT_TTL,
    INBOX_MEMORY,
    OutboxRow,
    OutcomeRow,
    Store,
    TurnWrites,
    UnansweredRow,
    case_row,
)

log = logging.getLogger(__name__)

DATABASE_FILE: Final = "fixbot.sqlite3"
LOCK_FILE: Final = "fixbot.lock"

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
    # 3: outcomes are kept for a number of days, then purged
    """
    CREATE INDEX outcomes_at ON outcomes (at);
    """,
    # 4: the inbox: updates are written here before Telegram is told they arrived
    """
    CREATE TABLE inbox (
        update_id INTEGER PRIMARY KEY,
        data      TEXT NOT NULL,
        at        REAL NOT NULL,
        handled   INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX inbox_pending ON inbox (handled, update_id);
    """,
    # 5: cases handed to a person from support, and the staff-chat messages of each
    """
    CREATE TABLE cases (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,
        key        TEXT NOT NULL,
        state      TEXT NOT NULL,
        staff_chat INTEGER NOT NULL,
        thread     INTEGER,
        opened_at  REAL NOT NULL,
        closed_at  REAL,
        reminded   INTEGER NOT NULL DEFAULT 0,
        data       TEXT NOT NULL
    );
    CREATE INDEX cases_key ON cases (key, state);
    CREATE INDEX cases_thread ON cases (staff_chat, thread);
    CREATE INDEX cases_waiting ON cases (state, reminded, opened_at);
    CREATE TABLE case_messages (
        staff_chat INTEGER NOT NULL,
        message_id INTEGER NOT NULL,
        case_id    INTEGER NOT NULL,
        PRIMARY KEY (staff_chat, message_id)
    );
    """,
    # 6: messages that got a question or a refusal, kept for the content's authors
    """
    CREATE TABLE unanswered (
        id         INTEGER PRIMARY KEY,
        at         REAL NOT NULL,
        text       TEXT NOT NULL,
        candidates TEXT NOT NULL
    );
    CREATE INDEX unanswered_at ON unanswered (at);
    """,
    # 7: things done once, whatever restarts come between (the weekly digest)
    """
    CREATE TABLE done_once (
        name TEXT PRIMARY KEY,
        at   REAL NOT NULL
    );
    """,
    # 8: each group's settings, and when the bot last spoke up unasked there, to whom
    """
    CREATE TABLE group_settings (
        chat_id    INTEGER PRIMARY KEY,
        data       TEXT NOT NULL,
        updated_at REAL NOT NULL
    );
    CREATE TABLE offers (
        chat_id INTEGER NOT NULL,
        user_id INTEGER NOT NULL,
        at      REAL NOT NULL,
        PRIMARY KEY (chat_id, user_id)
    );
    """,
    # 9: the outbox: what a committed turn asks of Telegram, until it is done; and the
    # updates already handled keep their id only (to recognise a redelivery), not their text
    """
    CREATE TABLE outbox (
        id   INTEGER PRIMARY KEY AUTOINCREMENT,
        key  TEXT NOT NULL,
        data TEXT NOT NULL,
        at   REAL NOT NULL
    );
    UPDATE inbox SET data = '' WHERE handled = 1;
    ALTER TABLE done_once ADD COLUMN holder INTEGER;
    """,
    # 10: what an update was (its chat and message, or its button press), beside its id: a
    # Bot API that numbers updates afresh must not have its new ones taken for repeats
    """
    ALTER TABLE inbox ADD COLUMN fingerprint TEXT NOT NULL DEFAULT '';
    """,
    # 11: the language each person chose (/language), kept beyond any one session
    """
    CREATE TABLE people (
        user_id    INTEGER PRIMARY KEY,
        language   TEXT NOT NULL,
        updated_at REAL NOT NULL
    );
    """,
    # 12: the language each outcome was spoken in, for the figures per language
    """
    ALTER TABLE outcomes ADD COLUMN language TEXT;
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
        keep_outcomes: float = DEFAULT_KEEP_OUTCOMES,
        lock: DataFolderLock | None = None,
        keep_unanswered: float = DEFAULT_KEEP_UNANSWERED,
    ) -> None:
        super().__init__(ttl, clock, keep_outcomes, keep_unanswered)
        self._db = connection
        self._worker = worker
        self._lock = lock
        self._pending: list[tuple[_Write, asyncio.Future[Any]]] = []
        self._committer: asyncio.Task[None] | None = None
        # Write-through cache of recent sessions: this process is the database's only writer
        # (one bot polls one token), so a session it saved is the session on disk.
        self._recent: OrderedDict[str, tuple[str, float]] = OrderedDict()

    @classmethod
    async def open(
        cls,
        path: Path,
        ttl: float = DEFAULT_TTL,
        clock: Callable[[], float] | None = None,
        keep_outcomes: float = DEFAULT_KEEP_OUTCOMES,
        read_only: bool = False,
        keep_unanswered: float = DEFAULT_KEEP_UNANSWERED,
    ) -> SQLiteStore:
        """Open (or create) the database at `path`, as the only process writing in its folder.

        Raises StoreError, with one sentence naming the file or folder, when the folder is a
        file or cannot be made, another fixbot holds it, or the database cannot be read or
        written: all found here, at start, rather than on someone's first walk. `read_only`
        opens an existing database for reading beside a running bot (reports, tests).
        """
        lock = None
        if not read_only:
            _make_private_folder(path.parent)
            lock = DataFolderLock.take(path.parent)
        worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fixbot-sqlite")
        loop = asyncio.get_running_loop()
        try:
            connection = await loop.run_in_executor(worker, _connect, path, read_only)
        except BaseException:
            worker.shutdown(wait=False)
            if lock is not None:
                lock.release()
            raise
        return cls(connection, worker, ttl, clock, keep_outcomes, lock, keep_unanswered)

    async def _run(self, function: Callable[[sqlite3.Connection], _T]) -> _T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._worker, function, self._db)

    async def load(self, key: SessionKey) -> Session | None:
        row = self._recent.get(str(key))
        if row is None:
            row = await self._run(partial(_select_session, str(key)))
        if row is None:
            return None
        try:
            session = Session.from_dict(json.loads(row[0]))
        except json.JSONDecodeError:
            return None
        return None if self.expired(row[1]) and not session.lasting else session

    async def save_turn(
        self,
        key: SessionKey,
        session: Session | None,
        outcomes: Sequence[Outcome],
        at: float,
        writes: TurnWrites | None = None,
    ) -> list[int]:
        writes = writes or TurnWrites()
        data = json.dumps(session.to_dict(), separators=(",", ":")) if session else None
        rows = _outcome_rows(key, outcomes, at)
        if self.keep_unanswered_for <= 0:
            writes = replace(writes, unanswered=None)
        turn = _Turn(
            str(key), data, (session.updated_at if session else 0.0) or at, rows, at, writes
        )
        ids: list[int] = await self._commit(turn)
        return ids

    async def _commit(self, write: _Write) -> Any:
        """Write in the next group commit: whatever is waiting is committed together, in one
        transaction on the worker thread, while the event loop goes on."""
        committed: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending.append((write, committed))
        if self._committer is None or self._committer.done():
            self._committer = asyncio.create_task(self._commit_pending())
        return await committed

    async def _commit_pending(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                results = await self._run(partial(_write_batch, [w for w, _ in batch]))
            except BaseException as exc:
                for _, committed in batch:
                    if not committed.done():
                        committed.set_exception(exc)
                if not isinstance(exc, Exception):
                    raise
            else:
                for (write, committed), result in zip(batch, results, strict=True):
                    if isinstance(write, _Turn) and write.data is not None:
                        self._remember(write.key, (write.data, write.updated_at))
                    if not committed.done():
                        committed.set_result(result)

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

    async def outcomes(
        self, key: SessionKey | None = None, since: float | None = None
    ) -> list[OutcomeRow]:
        select = partial(_select_outcomes, None if key is None else str(key), since)
        rows = await self._run(select)
        return [
            OutcomeRow(SessionKey.parse(k), at, Outcome(result, intent, fix, step, value, language))
            for k, at, result, intent, fix, step, value, language in rows
        ]

    async def _add_unanswered(self, unanswered: Unanswered, at: float) -> None:
        statement = "INSERT INTO unanswered (at, text, candidates) VALUES (?, ?, ?)"
        nearest = json.dumps(list(unanswered.candidates))
        await self._run(partial(_write, statement, (at, unanswered.text, nearest)))

    async def unanswered(self) -> list[UnansweredRow]:
        statement = "SELECT at, text, candidates FROM unanswered ORDER BY id"
        rows = await self._run(lambda db: db.execute(statement).fetchall())
        return [
            UnansweredRow(float(at), Unanswered(str(text), tuple(json.loads(candidates))))
            for at, text, candidates in rows
        ]

    async def case_open(self, case: Case) -> Case:
        return await self._run(partial(_insert_case, case))

    async def case_save(self, case: Case) -> None:
        await self._run(partial(_update_case, case))

    async def case(self, case_id: int) -> Case | None:
        return _one_case(await self._run(partial(_select_cases, "id = ?", (case_id,))))

    async def case_of(self, key: SessionKey, open_only: bool = True) -> Case | None:
        where = "key = ? AND state != ? ORDER BY id DESC LIMIT 1"
        arguments = (str(key), CaseState.CLOSED.value if open_only else "")
        return _one_case(await self._run(partial(_select_cases, where, arguments)))

    async def case_link(self, case_id: int, staff_chat_id: int, message_id: int) -> None:
        statement = "INSERT OR REPLACE INTO case_messages (staff_chat, message_id, case_id) VALUES (?, ?, ?)"
        await self._run(partial(_write, statement, (staff_chat_id, message_id, case_id)))

    async def case_in(
        self, staff_chat_id: int, thread_id: int | None, replied_to: int | None
    ) -> Case | None:
        if thread_id is not None:
            where = "staff_chat = ? AND thread = ? ORDER BY id DESC LIMIT 1"
            found = await self._run(partial(_select_cases, where, (staff_chat_id, thread_id)))
            if found:
                return found[0]
        where = "id = (SELECT case_id FROM case_messages WHERE staff_chat = ? AND message_id = ?)"
        return _one_case(
            await self._run(partial(_select_cases, where, (staff_chat_id, replied_to)))
        )

    async def cases_waiting(self, opened_before: float) -> list[Case]:
        where = "state = ? AND reminded = 0 AND opened_at < ? ORDER BY id"
        arguments = (CaseState.OPEN.value, opened_before)
        return await self._run(partial(_select_cases, where, arguments))

    async def purge_expired(self) -> int:
        now = self.clock()
        cutoff = now - self.ttl
        for key in [k for k, (_, updated_at) in self._recent.items() if updated_at < cutoff]:
            self._remember(key, None)
        purge = partial(
            _purge,
            cutoff,
            now - self.keep_outcomes,
            now - INBOX_MEMORY,
            now - self.keep_unanswered_for,
        )
        return await self._run(purge)

    async def claim(self, name: str, at: float) -> bool:
        return await self._run(partial(_claim, name, at))

    async def group_settings(self, chat_id: int) -> GroupSettings:
        statement = "SELECT data FROM group_settings WHERE chat_id = ?"
        row = await self._run(lambda db: db.execute(statement, (chat_id,)).fetchone())
        return GroupSettings.from_dict(json.loads(row[0])) if row else GroupSettings()

    async def group_settings_save(self, chat_id: int, settings: GroupSettings, at: float) -> None:
        data = json.dumps(settings.to_dict(), separators=(",", ":"))
        await self._run(partial(_save_group_settings, chat_id, data, at))

    async def language_of(self, user_id: int) -> str | None:
        statement = "SELECT language FROM people WHERE user_id = ?"
        row = await self._run(lambda db: db.execute(statement, (user_id,)).fetchone())
        return str(row[0]) if row else None

    async def last_offers(self, chat_id: int, user_id: int) -> LastOffers:
        return await self._run(partial(_last_offers, chat_id, user_id))

    async def offer_made(self, chat_id: int, user_id: int, at: float) -> None:
        await self._run(partial(_offer_made, chat_id, user_id, at))

    async def claim_for(self, name: str, holder: int, at: float) -> tuple[int, bool]:
        return await self._run(partial(_claim_for, name, holder, at))

    async def unclaim(self, name: str) -> None:
        await self._run(partial(_unclaim, name))

    async def inbox_add(
        self,
        update_id: int,
        data: str,
        at: float,
        fingerprint: str = "",
        key: SessionKey | None = None,
    ) -> bool:
        return bool(await self._commit(_InboxAdd(update_id, data, at, fingerprint)))

    async def inbox_done(self, update_id: int) -> None:
        await self._commit(_InboxDone(update_id))

    async def outbox_done(self, ids: Sequence[int]) -> None:
        if ids:
            await self._commit(_OutboxDone(tuple(ids)))

    async def outbox_pending(self, before: float | None = None) -> list[OutboxRow]:
        statement = "SELECT id, key, data FROM outbox WHERE at < ? ORDER BY id"
        limit = float("inf") if before is None else before
        rows = await self._run(lambda db: db.execute(statement, (limit,)).fetchall())
        return [OutboxRow(int(i), SessionKey.parse(k), str(d)) for i, k, d in rows]

    async def inbox_seen(self) -> dict[int, str]:
        statement = "SELECT update_id, fingerprint FROM inbox ORDER BY update_id"
        rows = await self._run(lambda db: db.execute(statement).fetchall())
        return {int(update_id): str(fingerprint) for update_id, fingerprint in rows}

    async def inbox_pending(self, before: float | None = None) -> list[tuple[int, str]]:
        statement = (
            "SELECT update_id, data FROM inbox WHERE handled = 0 AND at < ? ORDER BY update_id"
        )
        limit = float("inf") if before is None else before
        rows = await self._run(lambda db: db.execute(statement, (limit,)).fetchall())
        return [(int(update_id), str(data)) for update_id, data in rows]

    async def close(self) -> None:
        if self._committer is not None:
            await asyncio.gather(self._committer, return_exceptions=True)
        await self._run(lambda db: db.close())
        self._worker.shutdown(wait=True)
        if self._lock is not None:
            self._lock.release()


class DataFolderLock:
    """One fixbot per data folder: two processes writing the same walks would undo each
    other's steps (an overlapping deploy, a second `fixbot run`). An exclusive lock on a file
    in the folder, held while the store is open; the system drops it if the process dies."""

    def __init__(self, handle: IO[str]) -> None:
        self._handle: IO[str] | None = handle

    @classmethod
    def take(cls, folder: Path) -> DataFolderLock:
        path = folder / LOCK_FILE
        try:
            handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - held until release
        except OSError as exc:
            raise StoreError(
                f"cannot create {path} ({exc.strerror}); check FIXBOT_DATA_DIR"
            ) from None
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            handle.close()
            raise StoreError(
                f"another fixbot (process {holder}) is already using the data folder {folder}; "
                "stop it first, or give this one its own FIXBOT_DATA_DIR"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        return cls(handle)

    def release(self) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None


def _make_private_folder(folder: Path) -> None:
    """The data folder, readable by its owner only: made so, or tightened when an older
    fixbot (or a hand) left it open to others."""
    if folder.exists() and not folder.is_dir():
        raise StoreError(f"the data folder {folder} is a file; point FIXBOT_DATA_DIR at a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise StoreError(f"cannot create the data folder {folder} ({exc.strerror})") from None
    _tighten(folder, 0o700)


def _tighten(path: Path, mode: int) -> None:
    """Take away what others may do with `path`; a warning names it when that is not ours
    to change."""
    try:
        current = path.stat().st_mode & 0o777
    except FileNotFoundError:
        return
    if not current & 0o077:
        return
    try:
        os.chmod(path, mode)
    except OSError as exc:
        log.warning(
            "%s can be read by others (mode %o) and could not be tightened (%s): people's "
            "walks are in it",
            path,
            current,
            exc.strerror,
        )
        return
    log.info("%s was readable by others (mode %o); now %o", path, current, mode)


# --------------------------------------------------------------------------------------------
# On the worker thread


def _connect(path: Path, read_only: bool = False) -> sqlite3.Connection:
    # The connection is made and used on the one worker thread only.
    try:
        if read_only:
            connection = sqlite3.connect(
                f"{path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False
            )
            try:
                connection.execute("SELECT count(*) FROM sessions").fetchone()
            except BaseException:
                connection.close()
                raise
            return connection
        # People's walks are nobody else's business: the database is its owner's only. SQLite
        # gives its -wal and -shm files the database file's permissions.
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
        for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            _tighten(file, 0o600)
        connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    except (OSError, sqlite3.Error) as exc:
        raise StoreError(f"cannot open the database {path} ({_reason(exc)})") from None
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute("PRAGMA busy_timeout=5000")
        migrate(connection)
        # A database that can be read but not written is found now, not on the first walk.
        with _transaction(connection):
            connection.execute("CREATE TABLE IF NOT EXISTS _write_check (x)")
            connection.execute("DROP TABLE _write_check")
    except sqlite3.Error as exc:
        connection.close()
        raise StoreError(f"cannot use the database {path} ({_reason(exc)})") from None
    except BaseException:
        connection.close()
        raise
    return connection


def _reason(exc: OSError | sqlite3.Error) -> str:
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    text = str(exc)
    if "not a database" in text:
        return "it is not a SQLite database, or it is damaged; move it aside to start afresh"
    if "readonly" in text or "read-only" in text:
        return "it cannot be written: check the file's and the folder's permissions"
    return text


def _select_session(key: str, db: sqlite3.Connection) -> tuple[str, float] | None:
    row = db.execute("SELECT data, updated_at FROM sessions WHERE key = ?", (key,)).fetchone()
    return None if row is None else (str(row[0]), float(row[1]))


_OutcomeRow = tuple[str, float, str, str | None, str | None, str | None, str | None, str | None]


def _outcome_rows(key: SessionKey, outcomes: Sequence[Outcome], at: float) -> list[_OutcomeRow]:
    return [
        (str(key), at, o.result, o.intent, o.fix, o.step, o.value, o.language) for o in outcomes
    ]


@dataclass(frozen=True)
class _Turn:
    key: str
    data: str | None
    """The session's JSON; None leaves the stored session as it is."""
    updated_at: float
    outcomes: list[_OutcomeRow]
    at: float = 0.0
    writes: TurnWrites = field(default_factory=TurnWrites)


@dataclass(frozen=True)
class _InboxAdd:
    update_id: int
    data: str
    at: float
    fingerprint: str = ""


@dataclass(frozen=True)
class _InboxDone:
    update_id: int


@dataclass(frozen=True)
class _OutboxDone:
    ids: tuple[int, ...]


_Write = _Turn | _InboxAdd | _InboxDone | _OutboxDone
"""One write of a group commit."""


def _write_batch(writes: list[_Write], db: sqlite3.Connection) -> list[object]:
    """Write a batch in one transaction, in the order it was asked for; one result each
    (for an inbox insert: whether the update id was new)."""
    results: list[object] = []
    with _transaction(db):
        for write in writes:
            if isinstance(write, _Turn):
                if write.data is not None:
                    db.execute(
                        "INSERT INTO sessions (key, data, updated_at) VALUES (?, ?, ?) "
                        "ON CONFLICT (key) DO UPDATE SET data = excluded.data, "
                        "updated_at = excluded.updated_at",
                        (write.key, write.data, write.updated_at),
                    )
                _insert_outcome_rows(write.outcomes, db)
                results.append(_turn_writes(write, db))
            elif isinstance(write, _InboxAdd):
                # New, or an id seen before with another fingerprint (a new update that
                # reuses an id): kept; the same id and fingerprint is a redelivery.
                inserted = db.execute(
                    "INSERT INTO inbox (update_id, data, at, fingerprint) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (update_id) DO UPDATE SET data = excluded.data, "
                    "at = excluded.at, handled = 0, fingerprint = excluded.fingerprint "
                    "WHERE inbox.fingerprint != excluded.fingerprint",
                    (write.update_id, write.data, write.at, write.fingerprint),
                ).rowcount
                results.append(inserted == 1)
            elif isinstance(write, _InboxDone):
                _inbox_handled(write.update_id, db)
                results.append(None)
            else:
                db.executemany("DELETE FROM outbox WHERE id = ?", [(i,) for i in write.ids])
                results.append(None)
    return results


def _inbox_handled(update_id: int, db: sqlite3.Connection) -> None:
    # Replay needs an unhandled update's JSON; a handled one needs its id alone.
    db.execute("UPDATE inbox SET handled = 1, data = '' WHERE update_id = ?", (update_id,))


def _turn_writes(turn: _Turn, db: sqlite3.Connection) -> list[int]:
    """The rest of a turn's transaction (see `TurnWrites`); the outbox rows' ids."""
    writes = turn.writes
    if writes.update_id is not None:
        _inbox_handled(writes.update_id, db)
    if writes.case is not None:
        _case_update(writes.case, db)
    if writes.unanswered is not None:
        db.execute(
            "INSERT INTO unanswered (at, text, candidates) VALUES (?, ?, ?)",
            (turn.at, writes.unanswered.text, json.dumps(list(writes.unanswered.candidates))),
        )
    if writes.language is not None:
        db.execute(
            "INSERT INTO people (user_id, language, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (user_id) DO UPDATE SET language = excluded.language, "
            "updated_at = excluded.updated_at",
            (SessionKey.parse(turn.key).user_id, writes.language, turn.at),
        )
    ids = []
    for data in writes.outbox:
        cursor = db.execute(
            "INSERT INTO outbox (key, data, at) VALUES (?, ?, ?)", (turn.key, data, turn.at)
        )
        ids.append(int(cursor.lastrowid or 0))
    return ids


def _insert_outcomes(rows: list[_OutcomeRow], db: sqlite3.Connection) -> None:
    with _transaction(db):
        _insert_outcome_rows(rows, db)


def _insert_outcome_rows(rows: list[_OutcomeRow], db: sqlite3.Connection) -> None:
    db.executemany(
        "INSERT INTO outcomes (key, at, result, intent, fix, step, value, language) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )


def _select_outcomes(
    key: str | None, since: float | None, db: sqlite3.Connection
) -> list[tuple[Any, ...]]:
    query = "SELECT key, at, result, intent, fix, step, value, language FROM outcomes WHERE at >= ?"
    floor = float("-inf") if since is None else since
    if key is None:
        return db.execute(query + " ORDER BY id", (floor,)).fetchall()
    return db.execute(query + " AND key = ? ORDER BY id", (floor, key)).fetchall()


def _purge(
    sessions_before: float,
    outcomes_before: float,
    inbox_before: float,
    unanswered_before: float,
    db: sqlite3.Connection,
) -> int:
    """Expired sessions (but those with support), old outcomes and closed cases, and
    long-handled updates, in one transaction; returns how many sessions went."""
    with _transaction(db):
        db.execute("DELETE FROM outcomes WHERE at < ?", (outcomes_before,))
        db.execute("DELETE FROM inbox WHERE handled = 1 AND at < ?", (inbox_before,))
        # Asked for by a turn a day ago and never confirmed (the bot was down since): the
        # person has long moved on, and a message that late would only confuse them.
        db.execute("DELETE FROM outbox WHERE at < ?", (inbox_before,))
        db.execute("DELETE FROM unanswered WHERE at < ?", (unanswered_before,))
        db.execute("DELETE FROM offers WHERE at < ?", (inbox_before,))
        closed = (CaseState.CLOSED.value, outcomes_before)
        db.execute(
            "DELETE FROM case_messages WHERE case_id IN "
            "(SELECT id FROM cases WHERE state = ? AND closed_at < ?)",
            closed,
        )
        db.execute("DELETE FROM cases WHERE state = ? AND closed_at < ?", closed)
        return db.execute(
            "DELETE FROM sessions WHERE updated_at < ? "
            "AND coalesce(json_extract(data, '$.stage'), '') != ?",
            (sessions_before, Stage.WITH_STAFF.value),
        ).rowcount


def _save_group_settings(chat_id: int, data: str, at: float, db: sqlite3.Connection) -> None:
    with _transaction(db):
        db.execute(
            "INSERT INTO group_settings (chat_id, data, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (chat_id) DO UPDATE SET data = excluded.data, "
            "updated_at = excluded.updated_at",
            (chat_id, data, at),
        )


def _last_offers(chat_id: int, user_id: int, db: sqlite3.Connection) -> LastOffers:
    group, person = db.execute(
        "SELECT max(at), max(CASE WHEN user_id = ? THEN at END) FROM offers WHERE chat_id = ?",
        (user_id, chat_id),
    ).fetchone()
    return LastOffers(group, person)


def _offer_made(chat_id: int, user_id: int, at: float, db: sqlite3.Connection) -> None:
    with _transaction(db):
        db.execute(
            "INSERT INTO offers (chat_id, user_id, at) VALUES (?, ?, ?) "
            "ON CONFLICT (chat_id, user_id) DO UPDATE SET at = excluded.at",
            (chat_id, user_id, at),
        )


def _claim(name: str, at: float, db: sqlite3.Connection) -> bool:
    with _transaction(db):
        cursor = db.execute(
            "INSERT INTO done_once (name, at) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
            (name, at),
        )
    return cursor.rowcount == 1


def _claim_for(name: str, holder: int, at: float, db: sqlite3.Connection) -> tuple[int, bool]:
    with _transaction(db):
        taken = db.execute(
            "INSERT INTO done_once (name, at, holder) VALUES (?, ?, ?) "
            "ON CONFLICT (name) DO NOTHING",
            (name, at, holder),
        ).rowcount
        row = db.execute("SELECT holder FROM done_once WHERE name = ?", (name,)).fetchone()
    return int(row[0]), taken == 1


def _unclaim(name: str, db: sqlite3.Connection) -> None:
    with _transaction(db):
        db.execute("DELETE FROM done_once WHERE name = ?", (name,))


def _insert_case(case: Case, db: sqlite3.Connection) -> Case:
    with _transaction(db):
        cursor = db.execute(
            "INSERT INTO cases (key, state, staff_chat, thread, opened_at, closed_at, reminded, "
            "data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            case_row(case),
        )
    return replace(case, id=int(cursor.lastrowid or 0))


def _update_case(case: Case, db: sqlite3.Connection) -> None:
    with _transaction(db):
        _case_update(case, db)


def _case_update(case: Case, db: sqlite3.Connection) -> None:
    db.execute(
        "UPDATE cases SET key = ?, state = ?, staff_chat = ?, thread = ?, opened_at = ?, "
        "closed_at = ?, reminded = ?, data = ? WHERE id = ?",
        (*case_row(case), case.id),
    )


def _select_cases(where: str, arguments: tuple[object, ...], db: sqlite3.Connection) -> list[Case]:
    rows = db.execute(f"SELECT id, data FROM cases WHERE {where}", arguments).fetchall()
    return [Case.from_dict({**json.loads(data), "id": int(case_id)}) for case_id, data in rows]


def _one_case(cases: list[Case]) -> Case | None:
    return cases[0] if cases else None


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
