"""The shared store: PostgreSQL, for one bot run as several processes (replicas).

psycopg 3 with its async connection pool (psycopg_pool): it reads the URL as libpq does
(`postgresql://user:pass@host:port/db?sslmode=require`, TLS and every other option of
libpq), which asyncpg, with its own URL parser, does only in part. The schema is versioned in
the `fixbot_schema` table and migrated forward on open, under an advisory lock, so that two
replicas starting at once do not both migrate.

What SQLite gets from being the only process writing its file, PostgreSQL gets from the
database: an update is kept once (its `update_id` is the inbox's key, so the second replica
to receive it is told it is a redelivery); a claim (`done_once`) is one row that only one
process can insert; and `locked(key)` holds a transaction-scoped advisory lock per
conversation, so one conversation's turns run one at a time across processes.

The URL's password never reaches a log line or an error: `redacted(url)` is what is shown.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import zlib
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Concatenate, Final, ParamSpec, TypeVar
from urllib.parse import urlsplit, urlunsplit

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

if TYPE_CHECKING:  # psycopg is imported when a PostgreSQL store opens, not before
    from psycopg import AsyncConnection
    from psycopg_pool import AsyncConnectionPool

log = logging.getLogger(__name__)

SCHEMES: Final = ("postgresql", "postgres")

MIGRATIONS: Final = (
    # 1: everything the SQLite store has at its version 12, in PostgreSQL's words
    """
    CREATE TABLE sessions (
        key        TEXT PRIMARY KEY,
        data       TEXT NOT NULL,
        updated_at DOUBLE PRECISION NOT NULL
    );
    CREATE INDEX sessions_updated_at ON sessions (updated_at);
    CREATE TABLE outcomes (
        id       BIGSERIAL PRIMARY KEY,
        key      TEXT NOT NULL,
        at       DOUBLE PRECISION NOT NULL,
        result   TEXT NOT NULL,
        intent   TEXT,
        fix      TEXT,
        step     TEXT,
        value    TEXT,
        language TEXT
    );
    CREATE INDEX outcomes_key ON outcomes (key, id);
    CREATE INDEX outcomes_at ON outcomes (at);
    CREATE TABLE inbox (
        update_id   BIGINT PRIMARY KEY,
        data        TEXT NOT NULL,
        at          DOUBLE PRECISION NOT NULL,
        handled     BOOLEAN NOT NULL DEFAULT FALSE,
        fingerprint TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX inbox_pending ON inbox (handled, update_id);
    CREATE TABLE cases (
        id         BIGSERIAL PRIMARY KEY,
        key        TEXT NOT NULL,
        state      TEXT NOT NULL,
        staff_chat BIGINT NOT NULL,
        thread     BIGINT,
        opened_at  DOUBLE PRECISION NOT NULL,
        closed_at  DOUBLE PRECISION,
        reminded   BOOLEAN NOT NULL DEFAULT FALSE,
        data       TEXT NOT NULL
    );
    CREATE INDEX cases_key ON cases (key, state);
    CREATE INDEX cases_thread ON cases (staff_chat, thread);
    CREATE INDEX cases_waiting ON cases (state, reminded, opened_at);
    CREATE TABLE case_messages (
        staff_chat BIGINT NOT NULL,
        message_id BIGINT NOT NULL,
        case_id    BIGINT NOT NULL,
        PRIMARY KEY (staff_chat, message_id)
    );
    CREATE TABLE unanswered (
        id         BIGSERIAL PRIMARY KEY,
        at         DOUBLE PRECISION NOT NULL,
        text       TEXT NOT NULL,
        candidates TEXT NOT NULL
    );
    CREATE INDEX unanswered_at ON unanswered (at);
    CREATE TABLE done_once (
        name   TEXT PRIMARY KEY,
        at     DOUBLE PRECISION NOT NULL,
        holder BIGINT
    );
    CREATE TABLE group_settings (
        chat_id    BIGINT PRIMARY KEY,
        data       TEXT NOT NULL,
        updated_at DOUBLE PRECISION NOT NULL
    );
    CREATE TABLE offers (
        chat_id BIGINT NOT NULL,
        user_id BIGINT NOT NULL,
        at      DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (chat_id, user_id)
    );
    CREATE TABLE outbox (
        id   BIGSERIAL PRIMARY KEY,
        key  TEXT NOT NULL,
        data TEXT NOT NULL,
        at   DOUBLE PRECISION NOT NULL
    );
    CREATE TABLE people (
        user_id    BIGINT PRIMARY KEY,
        language   TEXT NOT NULL,
        updated_at DOUBLE PRECISION NOT NULL
    );
    """,
    # 2: whose conversation each update is, so that replicas take one conversation's turns
    # in the order its updates arrived
    """
    ALTER TABLE inbox ADD COLUMN key TEXT;
    CREATE INDEX inbox_key_pending ON inbox (key, update_id) WHERE NOT handled;
    """,
    # 3: which replica took an update to handle, and when (polling: one polls, all handle)
    """
    ALTER TABLE inbox ADD COLUMN claimed_by BIGINT;
    ALTER TABLE inbox ADD COLUMN claimed_at DOUBLE PRECISION;
    """,
)
"""Migration N (1-based) takes the schema from version N-1 to N. Only ever append."""

SCHEMA_VERSION: Final = len(MIGRATIONS)

ORDER_WAIT_AT_MOST: Final = 60.0
"""An earlier update of a conversation, unhandled for longer than this, is not waited for."""
LOCK_CONNECTIONS: Final = 16
"""Connections that hold conversation locks: at most this many conversations of one
process take a turn at once (a turn is a few milliseconds of the database's time)."""
_MIGRATION_LOCK: Final = 0x66697862  # "fixb": one advisory lock id for migrating
_CONVERSATION_LOCKS: Final = 0x66780000
"""The first of the advisory lock ids of conversations (two-key form: this, crc32(key))."""


RETRY_FOR: Final = 60.0
"""How long a store call waits for a database that stopped answering (a restart, a failover)
before it gives up with StoreError."""

_P = ParamSpec("_P")
_T = TypeVar("_T")


def _retrying(
    method: Callable[Concatenate[PostgresStore, _P], Coroutine[Any, Any, _T]],
) -> Callable[Concatenate[PostgresStore, _P], Coroutine[Any, Any, _T]]:
    """Run `method` again while the database does not answer (one line in the log when it
    stops, one when it is back; no traceback per call): a whole call, its transaction
    included, is what is repeated."""

    async def again(store: PostgresStore, /, *args: _P.args, **kwargs: _P.kwargs) -> _T:
        from psycopg import OperationalError
        from psycopg_pool import PoolTimeout

        waited, pause = 0.0, 0.25
        while True:
            try:
                result = await method(store, *args, **kwargs)
            except (OperationalError, PoolTimeout) as exc:
                if waited >= RETRY_FOR:
                    raise StoreError(
                        f"the database {store.url} has not answered for {waited:.0f} s "
                        f"({_safe(exc, store._url)})"
                    ) from None
                if not store.unreachable:
                    store.unreachable = True
                    log.warning(
                        "the database %s does not answer (%s); waiting for it",
                        store.url,
                        _safe(exc, store._url),
                    )
                await asyncio.sleep(pause)
                waited += pause
                pause = min(pause * 2, 5.0)
                continue
            if store.unreachable:
                store.unreachable = False
                log.info("the database %s answers again", store.url)
            return result

    again.__name__, again.__doc__ = method.__name__, method.__doc__
    return again


def is_postgres_url(url: str | None) -> bool:
    return bool(url) and urlsplit(url or "").scheme in SCHEMES


def redacted(url: str) -> str:
    """The URL as it may be shown: its password (and any password option) replaced."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        credentials, host = netloc.rsplit("@", 1)
        user = credentials.split(":", 1)[0]
        netloc = f"{user}:***@{host}" if ":" in credentials else f"{user}@{host}"
    query = "&".join(
        "password=***" if pair.lower().startswith("password=") else pair
        for pair in parts.query.split("&")
        if pair
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def _safe(exc: BaseException, url: str) -> str:
    """An error's text without the URL's password, should the driver have quoted it."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    password = urlsplit(url).password
    return text.replace(password, "***") if password else text


class PostgresStore(Store):
    """Sessions, outcomes, cases, the inbox and the outbox in one PostgreSQL database, shared
    by every replica."""

    def __init__(
        self,
        pool: AsyncConnectionPool,
        url: str,
        ttl: float = DEFAULT_TTL,
        clock: Callable[[], float] | None = None,
        keep_outcomes: float = DEFAULT_KEEP_OUTCOMES,
        keep_unanswered: float = DEFAULT_KEEP_UNANSWERED,
    ) -> None:
        super().__init__(ttl, clock, keep_outcomes, keep_unanswered)
        self._pool = pool
        self._url = url
        self.url = redacted(url)
        """The database, as it may be shown (no password)."""
        self._lock_pool: AsyncConnectionPool | None = None
        self._leading: dict[str, AsyncConnection[Any]] = {}
        self.lock_waits = 0
        """Turns that waited for another process's turn of the same conversation."""
        self.unreachable = False
        """Whether the database stopped answering (and has not answered since)."""

    shared = True

    @classmethod
    async def open(
        cls,
        url: str,
        ttl: float = DEFAULT_TTL,
        clock: Callable[[], float] | None = None,
        keep_outcomes: float = DEFAULT_KEEP_OUTCOMES,
        keep_unanswered: float = DEFAULT_KEEP_UNANSWERED,
        pool_size: int = 8,
        connect_within: float = 10.0,
    ) -> PostgresStore:
        """Connect, migrate, and check the database can be written. StoreError (naming the
        database, never its password) when it cannot be reached or used."""
        from psycopg import OperationalError
        from psycopg_pool import AsyncConnectionPool, PoolTimeout

        pool = AsyncConnectionPool(
            url,
            min_size=1,
            max_size=pool_size,
            open=False,
            timeout=connect_within,
            kwargs={"autocommit": True},
            name="fixbot",
        )
        try:
            await pool.open(wait=True, timeout=connect_within)
            async with pool.connection() as connection:
                await _migrate(connection)
        except (OperationalError, PoolTimeout, OSError) as exc:
            await pool.close()
            raise StoreError(
                f"cannot reach the database {redacted(url)} ({_safe(exc, url)})"
            ) from None
        except BaseException:
            await pool.close()
            raise
        store = cls(pool, url, ttl, clock, keep_outcomes, keep_unanswered)
        await store._locks().open()
        return store

    # -- plumbing -------------------------------------------------------------------------------

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[AsyncConnection[Any]]:
        async with self._pool.connection() as connection, connection.transaction():
            yield connection

    async def _fetch(self, statement: str, arguments: Sequence[object] = ()) -> list[Any]:
        async with self._pool.connection() as connection:
            cursor = await connection.execute(statement, arguments)
            return list(await cursor.fetchall())

    async def _fetch_in_transaction(self, statement: str, arguments: Any) -> list[Any]:
        async with self._transaction() as connection:
            cursor = await connection.execute(statement, arguments)
            return list(await cursor.fetchall())

    async def _execute(self, statement: str, arguments: Sequence[object] = ()) -> int:
        async with self._transaction() as connection:
            cursor = await connection.execute(statement, arguments)
            return cursor.rowcount

    @asynccontextmanager
    async def locked(self, key: SessionKey) -> AsyncIterator[None]:
        """Hold `key`'s conversation across every process on this database: an advisory
        lock on a connection of a pool of its own, so that turns holding locks never take
        the connections their loads and saves need (the locks' pool bounds how many
        conversations one process has under way at once; the rest wait their turn). While
        the database does not answer, taking the lock waits for it as every call does."""
        ids = (_CONVERSATION_LOCKS, _signed(zlib.crc32(str(key).encode())))
        async with self._lock_connection(ids) as connection:
            try:
                yield
            finally:
                from psycopg import OperationalError

                # A connection that broke took the lock with it: nothing to give back.
                with contextlib.suppress(OperationalError):
                    await connection.execute("SELECT pg_advisory_unlock(%s, %s)", ids)

    @asynccontextmanager
    async def _lock_connection(self, ids: tuple[int, int]) -> AsyncIterator[AsyncConnection[Any]]:
        connection = await self._take_lock(ids)
        try:
            yield connection
        finally:
            await self._locks().putconn(connection)

    @_retrying
    async def _take_lock(self, ids: tuple[int, int]) -> AsyncConnection[Any]:
        connection = await self._locks().getconn()
        try:
            cursor = await connection.execute("SELECT pg_try_advisory_lock(%s, %s)", ids)
            row = await cursor.fetchone()
            if not (row and row[0]):
                self.lock_waits += 1
                await connection.execute("SELECT pg_advisory_lock(%s, %s)", ids)
        except BaseException:
            await self._locks().putconn(connection)
            raise
        return connection

    def _locks(self) -> AsyncConnectionPool:
        if self._lock_pool is None:
            from psycopg_pool import AsyncConnectionPool

            self._lock_pool = AsyncConnectionPool(
                self._url,
                min_size=0,
                max_size=LOCK_CONNECTIONS,
                open=False,
                kwargs={"autocommit": True},
                name="fixbot-locks",
            )
        return self._lock_pool

    async def lead(self, role: str) -> bool:
        """Whether this process holds `role` (a session advisory lock on a connection of its
        own, held until the store closes or the process dies: then PostgreSQL lets go of it
        and another process's next try takes it)."""
        held = self._leading.get(role)
        if held is not None and not held.closed:
            try:
                await held.execute("SELECT 1")
                return True
            except Exception:  # the connection broke: the lock went with it
                self._leading.pop(role, None)
        from psycopg import AsyncConnection, OperationalError

        lock_id = _signed(zlib.crc32(f"fixbot:{role}".encode()))
        try:
            connection = await AsyncConnection.connect(self._url, autocommit=True)
            cursor = await connection.execute("SELECT pg_try_advisory_lock(%s)", (lock_id,))
            row = await cursor.fetchone()
        except OperationalError:
            return False  # the database is away: nobody can be sure of leading now
        if row and row[0]:
            self._leading[role] = connection
            return True
        await connection.close()
        return False

    @property
    def pool_stats(self) -> dict[str, int]:
        """The pool's own figures (connections, waiting requests), for /metrics."""
        return dict(self._pool.get_stats())

    # -- sessions and outcomes ------------------------------------------------------------------

    @_retrying
    async def load(self, key: SessionKey) -> Session | None:
        rows = await self._fetch(
            "SELECT data, updated_at FROM sessions WHERE key = %s", (str(key),)
        )
        if not rows:
            return None
        data, updated_at = rows[0]
        try:
            session = Session.from_dict(json.loads(data))
        except json.JSONDecodeError:
            return None
        return None if self.expired(float(updated_at)) and not session.lasting else session

    @_retrying
    async def save_turn(
        self,
        key: SessionKey,
        session: Session | None,
        outcomes: Sequence[Outcome],
        at: float,
        writes: TurnWrites | None = None,
    ) -> list[int]:
        writes = writes or TurnWrites()
        if self.keep_unanswered_for <= 0:
            writes = replace(writes, unanswered=None)
        async with self._transaction() as db:
            if session is not None:
                await db.execute(
                    "INSERT INTO sessions (key, data, updated_at) VALUES (%s, %s, %s) "
                    "ON CONFLICT (key) DO UPDATE SET data = excluded.data, "
                    "updated_at = excluded.updated_at",
                    (
                        str(key),
                        json.dumps(session.to_dict(), separators=(",", ":")),
                        session.updated_at or at,
                    ),
                )
            await _insert_outcomes(db, key, outcomes, at)
            if writes.update_id is not None:
                await _inbox_handled(db, writes.update_id)
            if writes.case is not None:
                await db.execute(_CASE_UPDATE, (*case_row(writes.case), writes.case.id))
            if writes.unanswered is not None:
                await _insert_unanswered(db, writes.unanswered, at)
            if writes.language is not None:
                await db.execute(
                    "INSERT INTO people (user_id, language, updated_at) VALUES (%s, %s, %s) "
                    "ON CONFLICT (user_id) DO UPDATE SET language = excluded.language, "
                    "updated_at = excluded.updated_at",
                    (key.user_id, writes.language, at),
                )
            ids = []
            for data in writes.outbox:
                cursor = await db.execute(
                    "INSERT INTO outbox (key, data, at) VALUES (%s, %s, %s) RETURNING id",
                    (str(key), data, at),
                )
                row = await cursor.fetchone()
                ids.append(int(row[0]) if row else 0)
        return ids

    @_retrying
    async def record(self, key: SessionKey, outcomes: Sequence[Outcome], at: float) -> None:
        async with self._transaction() as db:
            await _insert_outcomes(db, key, outcomes, at)

    @_retrying
    async def delete(self, key: SessionKey) -> None:
        await self._execute("DELETE FROM sessions WHERE key = %s", (str(key),))

    @_retrying
    async def outcomes(
        self, key: SessionKey | None = None, since: float | None = None
    ) -> list[OutcomeRow]:
        query = (
            "SELECT key, at, result, intent, fix, step, value, language FROM outcomes "
            "WHERE at >= %s"
        )
        floor = float("-inf") if since is None else since
        if key is None:
            rows = await self._fetch(query + " ORDER BY id", (floor,))
        else:
            rows = await self._fetch(query + " AND key = %s ORDER BY id", (floor, str(key)))
        return [
            OutcomeRow(
                SessionKey.parse(k), float(at), Outcome(result, intent, fix, step, value, language)
            )
            for k, at, result, intent, fix, step, value, language in rows
        ]

    @_retrying
    async def _add_unanswered(self, unanswered: Unanswered, at: float) -> None:
        async with self._transaction() as db:
            await _insert_unanswered(db, unanswered, at)

    @_retrying
    async def unanswered(self) -> list[UnansweredRow]:
        rows = await self._fetch("SELECT at, text, candidates FROM unanswered ORDER BY id")
        return [
            UnansweredRow(float(at), Unanswered(str(text), tuple(json.loads(candidates))))
            for at, text, candidates in rows
        ]

    # -- cases ----------------------------------------------------------------------------------

    @_retrying
    async def case_open(self, case: Case) -> Case:
        async with self._transaction() as db:
            cursor = await db.execute(
                "INSERT INTO cases (key, state, staff_chat, thread, opened_at, closed_at, "
                "reminded, data) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
                case_row(case),
            )
            row = await cursor.fetchone()
        return replace(case, id=int(row[0]) if row else 0)

    @_retrying
    async def case_save(self, case: Case) -> None:
        await self._execute(_CASE_UPDATE, (*case_row(case), case.id))

    @_retrying
    async def case(self, case_id: int) -> Case | None:
        return _one(await self._cases("id = %s", (case_id,)))

    @_retrying
    async def case_of(self, key: SessionKey, open_only: bool = True) -> Case | None:
        where = "key = %s AND state != %s ORDER BY id DESC LIMIT 1"
        arguments = (str(key), CaseState.CLOSED.value if open_only else "")
        return _one(await self._cases(where, arguments))

    @_retrying
    async def case_link(self, case_id: int, staff_chat_id: int, message_id: int) -> None:
        await self._execute(
            "INSERT INTO case_messages (staff_chat, message_id, case_id) VALUES (%s, %s, %s) "
            "ON CONFLICT (staff_chat, message_id) DO UPDATE SET case_id = excluded.case_id",
            (staff_chat_id, message_id, case_id),
        )

    @_retrying
    async def case_in(
        self, staff_chat_id: int, thread_id: int | None, replied_to: int | None
    ) -> Case | None:
        if thread_id is not None:
            where = "staff_chat = %s AND thread = %s ORDER BY id DESC LIMIT 1"
            found = await self._cases(where, (staff_chat_id, thread_id))
            if found:
                return found[0]
        where = "id = (SELECT case_id FROM case_messages WHERE staff_chat = %s AND message_id = %s)"
        return _one(await self._cases(where, (staff_chat_id, replied_to)))

    @_retrying
    async def cases_waiting(self, opened_before: float) -> list[Case]:
        where = "state = %s AND NOT reminded AND opened_at < %s ORDER BY id"
        return await self._cases(where, (CaseState.OPEN.value, opened_before))

    async def _cases(self, where: str, arguments: Sequence[object]) -> list[Case]:
        rows = await self._fetch(f"SELECT id, data FROM cases WHERE {where}", arguments)
        return [Case.from_dict({**json.loads(data), "id": int(case_id)}) for case_id, data in rows]

    # -- groups and people ----------------------------------------------------------------------

    @_retrying
    async def group_settings(self, chat_id: int) -> GroupSettings:
        rows = await self._fetch("SELECT data FROM group_settings WHERE chat_id = %s", (chat_id,))
        return GroupSettings.from_dict(json.loads(rows[0][0])) if rows else GroupSettings()

    @_retrying
    async def group_settings_save(self, chat_id: int, settings: GroupSettings, at: float) -> None:
        await self._execute(
            "INSERT INTO group_settings (chat_id, data, updated_at) VALUES (%s, %s, %s) "
            "ON CONFLICT (chat_id) DO UPDATE SET data = excluded.data, "
            "updated_at = excluded.updated_at",
            (chat_id, json.dumps(settings.to_dict(), separators=(",", ":")), at),
        )

    @_retrying
    async def language_of(self, user_id: int) -> str | None:
        rows = await self._fetch("SELECT language FROM people WHERE user_id = %s", (user_id,))
        return str(rows[0][0]) if rows else None

    @_retrying
    async def last_offers(self, chat_id: int, user_id: int) -> LastOffers:
        rows = await self._fetch(
            "SELECT max(at), max(CASE WHEN user_id = %s THEN at END) FROM offers "
            "WHERE chat_id = %s",
            (user_id, chat_id),
        )
        group, person = rows[0]
        return LastOffers(group, person)

    @_retrying
    async def offer_made(self, chat_id: int, user_id: int, at: float) -> None:
        await self._execute(
            "INSERT INTO offers (chat_id, user_id, at) VALUES (%s, %s, %s) "
            "ON CONFLICT (chat_id, user_id) DO UPDATE SET at = excluded.at",
            (chat_id, user_id, at),
        )

    # -- claims ---------------------------------------------------------------------------------

    @_retrying
    async def claim(self, name: str, at: float) -> bool:
        taken = await self._execute(
            "INSERT INTO done_once (name, at) VALUES (%s, %s) ON CONFLICT (name) DO NOTHING",
            (name, at),
        )
        return taken == 1

    @_retrying
    async def claim_for(self, name: str, holder: int, at: float) -> tuple[int, bool]:
        async with self._transaction() as db:
            cursor = await db.execute(
                "INSERT INTO done_once (name, at, holder) VALUES (%s, %s, %s) "
                "ON CONFLICT (name) DO NOTHING",
                (name, at, holder),
            )
            taken = cursor.rowcount == 1
            cursor = await db.execute("SELECT holder FROM done_once WHERE name = %s", (name,))
            row = await cursor.fetchone()
        return (int(row[0]) if row and row[0] is not None else holder), taken

    @_retrying
    async def unclaim(self, name: str) -> None:
        await self._execute("DELETE FROM done_once WHERE name = %s", (name,))

    # -- the inbox and the outbox ---------------------------------------------------------------

    @_retrying
    async def inbox_add(
        self,
        update_id: int,
        data: str,
        at: float,
        fingerprint: str = "",
        key: SessionKey | None = None,
    ) -> bool:
        # New, or an id seen before with another fingerprint (a new update that reuses an id):
        # kept; the same id and fingerprint is a redelivery, whichever replica received it.
        taken = await self._execute(
            "INSERT INTO inbox (update_id, data, at, fingerprint, key) "
            "VALUES (%s, %s, %s, %s, %s) "
            "ON CONFLICT (update_id) DO UPDATE SET data = excluded.data, at = excluded.at, "
            "handled = FALSE, fingerprint = excluded.fingerprint, key = excluded.key "
            "WHERE inbox.fingerprint != excluded.fingerprint",
            (update_id, data, at, fingerprint, None if key is None else str(key)),
        )
        return taken == 1

    @_retrying
    async def claim_updates(
        self, replica: int, limit: int = 50, fresh_for: float = 60.0
    ) -> list[tuple[int, str]]:
        """Take up to `limit` unhandled updates for `replica` to handle, oldest first: those
        nobody took, or that a replica took more than `fresh_for` seconds ago and has not
        handled (it died). A conversation another replica has updates of under way is left
        to it, so that one conversation's turns stay with one replica, in order."""
        now = self.clock()
        rows = await self._fetch_in_transaction(
            "WITH busy AS (SELECT DISTINCT key FROM inbox WHERE NOT handled "
            "AND key IS NOT NULL AND claimed_by IS NOT NULL AND claimed_by <> %(me)s "
            "AND claimed_at > %(fresh)s), "
            "picked AS (SELECT update_id FROM inbox WHERE NOT handled "
            "AND (claimed_by IS NULL OR claimed_at <= %(fresh)s) "
            "AND (key IS NULL OR key NOT IN (SELECT key FROM busy)) "
            "ORDER BY update_id LIMIT %(limit)s FOR UPDATE SKIP LOCKED) "
            "UPDATE inbox SET claimed_by = %(me)s, claimed_at = %(now)s "
            "WHERE update_id IN (SELECT update_id FROM picked) RETURNING update_id, data",
            {"me": replica, "fresh": now - fresh_for, "limit": limit, "now": now},
        )
        return sorted((int(update_id), str(data)) for update_id, data in rows)

    @_retrying
    async def inbox_handled(self, update_id: int) -> bool:
        rows = await self._fetch("SELECT handled FROM inbox WHERE update_id = %s", (update_id,))
        return bool(rows and rows[0][0])

    @_retrying
    async def earlier_pending(self, key: SessionKey, update_id: int) -> bool:
        # A row left by a replica that died stays unhandled until one replays it; past a
        # minute it is not waited for (its replay will find its conversation moved on).
        rows = await self._fetch(
            "SELECT 1 FROM inbox WHERE key = %s AND NOT handled AND update_id < %s "
            "AND at > %s LIMIT 1",
            (str(key), update_id, self.clock() - ORDER_WAIT_AT_MOST),
        )
        return bool(rows)

    @_retrying
    async def inbox_done(self, update_id: int) -> None:
        async with self._transaction() as db:
            await _inbox_handled(db, update_id)

    @_retrying
    async def inbox_seen(self) -> dict[int, str]:
        rows = await self._fetch("SELECT update_id, fingerprint FROM inbox ORDER BY update_id")
        return {int(update_id): str(fingerprint) for update_id, fingerprint in rows}

    @_retrying
    async def inbox_pending(self, before: float | None = None) -> list[tuple[int, str]]:
        rows = await self._fetch(
            "SELECT update_id, data FROM inbox WHERE NOT handled AND at < %s ORDER BY update_id",
            (float("inf") if before is None else before,),
        )
        return [(int(update_id), str(data)) for update_id, data in rows]

    @_retrying
    async def outbox_done(self, ids: Sequence[int]) -> None:
        if ids:
            await self._execute("DELETE FROM outbox WHERE id = ANY(%s)", (list(ids),))

    @_retrying
    async def outbox_pending(self, before: float | None = None) -> list[OutboxRow]:
        rows = await self._fetch(
            "SELECT id, key, data FROM outbox WHERE at < %s ORDER BY id",
            (float("inf") if before is None else before,),
        )
        return [OutboxRow(int(i), SessionKey.parse(k), str(d)) for i, k, d in rows]

    # -- housekeeping ---------------------------------------------------------------------------

    @_retrying
    async def purge_expired(self) -> int:
        now = self.clock()
        day_ago = now - INBOX_MEMORY
        outcomes_before = now - self.keep_outcomes
        closed = (CaseState.CLOSED.value, outcomes_before)
        async with self._transaction() as db:
            await db.execute("DELETE FROM outcomes WHERE at < %s", (outcomes_before,))
            await db.execute("DELETE FROM inbox WHERE handled AND at < %s", (day_ago,))
            await db.execute("DELETE FROM outbox WHERE at < %s", (day_ago,))
            await db.execute(
                "DELETE FROM unanswered WHERE at < %s", (now - self.keep_unanswered_for,)
            )
            await db.execute("DELETE FROM offers WHERE at < %s", (day_ago,))
            await db.execute(
                "DELETE FROM case_messages WHERE case_id IN "
                "(SELECT id FROM cases WHERE state = %s AND closed_at < %s)",
                closed,
            )
            await db.execute("DELETE FROM cases WHERE state = %s AND closed_at < %s", closed)
            cursor = await db.execute(
                "DELETE FROM sessions WHERE updated_at < %s "
                "AND coalesce(data::jsonb ->> 'stage', '') != %s",
                (now - self.ttl, Stage.WITH_STAFF.value),
            )
            return cursor.rowcount

    async def close(self) -> None:
        for connection in self._leading.values():
            await connection.close()
        self._leading.clear()
        if self._lock_pool is not None and not self._lock_pool.closed:
            await self._lock_pool.close()
        await self._pool.close()


# --------------------------------------------------------------------------------------------


async def _migrate(connection: AsyncConnection[Any]) -> int:
    """Bring the schema up to `SCHEMA_VERSION` (one process at a time); the version found."""
    async with connection.transaction():
        await connection.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
        await connection.execute(
            "CREATE TABLE IF NOT EXISTS fixbot_schema (version INTEGER NOT NULL)"
        )
        cursor = await connection.execute("SELECT max(version) FROM fixbot_schema")
        row = await cursor.fetchone()
        start = int(row[0]) if row and row[0] is not None else 0
        if start > SCHEMA_VERSION:
            raise StoreError(
                f"the database has schema version {start}, newer than this fixbot knows "
                f"({SCHEMA_VERSION}); upgrade fixbot"
            )
        for version in range(start, SCHEMA_VERSION):
            for statement in MIGRATIONS[version].split(";"):
                if statement.strip():
                    await connection.execute(statement)
            await connection.execute(
                "INSERT INTO fixbot_schema (version) VALUES (%s)", (version + 1,)
            )
    return start


async def _insert_outcomes(
    db: AsyncConnection[Any], key: SessionKey, outcomes: Sequence[Outcome], at: float
) -> None:
    if not outcomes:
        return
    async with db.cursor() as cursor:
        await cursor.executemany(
            "INSERT INTO outcomes (key, at, result, intent, fix, step, value, language) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
            [
                (str(key), at, o.result, o.intent, o.fix, o.step, o.value, o.language)
                for o in outcomes
            ],
        )


async def _insert_unanswered(db: AsyncConnection[Any], unanswered: Unanswered, at: float) -> None:
    await db.execute(
        "INSERT INTO unanswered (at, text, candidates) VALUES (%s, %s, %s)",
        (at, unanswered.text, json.dumps(list(unanswered.candidates))),
    )


async def _inbox_handled(db: AsyncConnection[Any], update_id: int) -> None:
    # Replay needs an unhandled update's JSON; a handled one needs its id alone.
    await db.execute(
        "UPDATE inbox SET handled = TRUE, data = '' WHERE update_id = %s", (update_id,)
    )


_CASE_UPDATE: Final = (
    "UPDATE cases SET key = %s, state = %s, staff_chat = %s, thread = %s, opened_at = %s, "
    "closed_at = %s, reminded = %s, data = %s WHERE id = %s"
)


def _one(cases: list[Case]) -> Case | None:
    return cases[0] if cases else None


def _signed(value: int) -> int:
    """A 32-bit unsigned number as PostgreSQL's signed int4 (advisory locks take int4s)."""
    return value - (1 << 32) if value >= 1 << 31 else value
