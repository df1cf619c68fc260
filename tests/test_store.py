"""The store contract: every backend keeps sessions and outcomes the same way.

One parametrized class runs against each backend; a new backend (Redis, PostgreSQL) joins
by adding itself to `BACKENDS`.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import replace
from pathlib import Path

import pytest

from bot.cases import Case, CaseState, ClosedAs, Person
from bot.groups import GroupSettings, LastOffers
from bot.session import Outcome, Session, Stage, Unanswered
from bot.settings import REPOSITORY_ROOT
from bot.store import MemoryStore, SessionKey, SQLiteStore, Store
from bot.store.base import TurnWrites
from bot.store.sqlite import DATABASE_FILE, MIGRATIONS, SCHEMA_VERSION, migrate


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


StoreFactory = Callable[[Path, Clock], Awaitable[Store]]


async def memory(path: Path, clock: Clock) -> Store:
    return MemoryStore(ttl=3600, clock=clock)


async def sqlite(path: Path, clock: Clock) -> Store:
    return await SQLiteStore.open(path / DATABASE_FILE, ttl=3600, clock=clock)


async def postgresql(path: Path, clock: Clock, url: str = "") -> Store:
    from bot.store.postgres import PostgresStore

    return await PostgresStore.open(url, ttl=3600, clock=clock)


BACKENDS = {"memory": memory, "sqlite": sqlite, "postgresql": postgresql}

ALICE = SessionKey(chat_id=-100, user_id=1)
BOB = SessionKey(chat_id=-100, user_id=2)
ALICE_IN_TOPIC = SessionKey(chat_id=-100, user_id=1, topic_id=7)


STAFF = -1009
ALICE_PRIVATE = SessionKey(chat_id=1, user_id=1)
BOB_PRIVATE = SessionKey(chat_id=2, user_id=2)


def a_case(key: SessionKey, at: float, thread_id: int | None = None) -> Case:
    person = Person(key.user_id, "Alice", "alice", "en")
    return Case(
        0, key, person, at, STAFF, intent="wifi", complaint="wifi drops", thread_id=thread_id
    )


def walking(step: str = "join_network", at: float = 1_000_000.0) -> Session:
    return Session(
        stage=Stage.STEP, intent="wifi", plan=("wifi",), step=step, revision=3, updated_at=at
    )


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=list(BACKENDS))
async def store(request, tmp_path: Path, clock: Clock) -> AsyncIterator[Store]:
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres_url")
        opened = await postgresql(tmp_path, clock, url)
    else:
        opened = await BACKENDS[request.param](tmp_path, clock)
    yield opened
    await opened.close()


class TestStoreContract:
    async def test_a_saved_session_loads_back_unchanged(self, store: Store) -> None:
        await store.save_turn(ALICE, walking(), [], 1_000_000.0)
        assert await store.load(ALICE) == walking()

    async def test_an_unknown_key_has_no_session(self, store: Store) -> None:
        assert await store.load(BOB) is None

    async def test_people_in_one_group_and_topic_have_their_own_sessions(
        self, store: Store
    ) -> None:
        await store.save_turn(ALICE, walking("switch_on"), [], 1_000_000.0)
        await store.save_turn(BOB, walking("join_network"), [], 1_000_000.0)
        await store.save_turn(ALICE_IN_TOPIC, walking("move_closer"), [], 1_000_000.0)
        assert (await store.load(ALICE)).step == "switch_on"
        assert (await store.load(BOB)).step == "join_network"
        assert (await store.load(ALICE_IN_TOPIC)).step == "move_closer"

    async def test_saving_again_replaces_the_session(self, store: Store) -> None:
        await store.save_turn(ALICE, walking("switch_on"), [], 1_000_000.0)
        await store.save_turn(ALICE, walking("move_closer"), [], 1_000_001.0)
        assert (await store.load(ALICE)).step == "move_closer"

    async def test_a_session_expires_after_its_idle_time(self, store: Store, clock: Clock) -> None:
        await store.save_turn(ALICE, walking(at=clock.now), [], clock.now)
        clock.now += 3599
        assert await store.load(ALICE) is not None
        clock.now += 2
        assert await store.load(ALICE) is None

    async def test_purging_removes_only_expired_sessions(self, store: Store, clock: Clock) -> None:
        await store.save_turn(ALICE, walking(at=clock.now - 4000), [], clock.now)
        await store.save_turn(BOB, walking(at=clock.now), [], clock.now)
        assert await store.purge_expired() == 1
        assert await store.load(BOB) is not None

    async def test_purging_drops_outcomes_past_their_keeping_time(
        self, store: Store, clock: Clock
    ) -> None:
        store.keep_outcomes = 90 * 86400
        await store.record(ALICE, [Outcome("started", intent="wifi")], clock.now - 91 * 86400)
        await store.record(BOB, [Outcome("started", intent="power")], clock.now - 89 * 86400)
        await store.purge_expired()
        assert [row.key for row in await store.outcomes()] == [BOB]

    async def test_the_inbox_hands_out_unhandled_updates_once_and_knows_redeliveries(
        self, store: Store, clock: Clock
    ) -> None:
        assert await store.inbox_add(7, '{"update_id": 7}', clock.now)
        assert await store.inbox_add(5, '{"update_id": 5}', clock.now)
        assert not await store.inbox_add(7, '{"update_id": 7}', clock.now)  # redelivered
        assert await store.inbox_pending() == [(5, '{"update_id": 5}'), (7, '{"update_id": 7}')]
        await store.inbox_done(5)
        assert await store.inbox_pending() == [(7, '{"update_id": 7}')]
        assert list(await store.inbox_seen()) == [5, 7]
        assert not await store.inbox_add(5, '{"update_id": 5}', clock.now)  # handled already
        clock.now += 2 * 86400
        await store.purge_expired()
        assert await store.inbox_pending() == [(7, '{"update_id": 7}')]  # unhandled stays

    async def test_an_id_that_comes_round_again_with_another_update_is_a_new_update(
        self, store: Store, clock: Clock
    ) -> None:
        assert await store.inbox_add(1, '{"update_id": 1, "a": 1}', clock.now, "message:5:1:9")
        await store.inbox_done(1)
        # Redelivered: the same fingerprint.
        assert not await store.inbox_add(1, '{"update_id": 1}', clock.now, "message:5:1:9")
        # A Bot API numbering afresh: the same id, another message.
        assert await store.inbox_add(1, '{"update_id": 1, "b": 2}', clock.now, "message:5:7:12")
        assert await store.inbox_pending() == [(1, '{"update_id": 1, "b": 2}')]
        assert await store.inbox_seen() == {1: "message:5:7:12"}

    async def test_a_turn_commits_its_update_case_unanswered_and_outbox_together(
        self, store: Store, clock: Clock
    ) -> None:
        await store.inbox_add(9, '{"update_id": 9, "text": "secret words"}', clock.now)
        case = await store.case_open(a_case(ALICE, clock.now))
        taken = replace(case, state=CaseState.WITH_STAFF, answered_by="Sam")
        writes = TurnWrites(9, ("first", "second"), taken, Unanswered("what is this", ()))
        ids = await store.save_turn(ALICE, walking(), [Outcome("started")], clock.now, writes)
        assert len(ids) == 2 and ids[0] < ids[1]
        assert await store.inbox_pending() == []  # handled, with its turn
        assert (await store.case(case.id)) == taken
        assert [r.unanswered.text for r in await store.unanswered()] == ["what is this"]
        pending = await store.outbox_pending()
        assert [(r.id, r.key, r.data) for r in pending] == [
            (ids[0], ALICE, "first"),
            (ids[1], ALICE, "second"),
        ]
        await store.outbox_done([ids[0]])
        assert [r.data for r in await store.outbox_pending()] == ["second"]
        # A commit without a session (a staff answer) leaves the session as it was.
        more = await store.save_turn(ALICE, None, [], clock.now, TurnWrites(outbox=("third",)))
        assert await store.load(ALICE) == walking()
        assert [r.id for r in await store.outbox_pending()] == [ids[1], *more]
        clock.now += 2 * 86400  # a day later, what was never sent is too late to send
        await store.purge_expired()
        assert await store.outbox_pending() == []

    async def test_what_was_left_before_a_time_is_told_apart_from_what_is_under_way(
        self, store: Store, clock: Clock
    ) -> None:
        """A replica that takes over what a dead one left asks for the old rows only."""
        await store.inbox_add(1, '{"update_id": 1}', clock.now - 120)
        await store.inbox_add(2, '{"update_id": 2}', clock.now)
        await store.save_turn(ALICE, None, [], clock.now - 120, TurnWrites(outbox=("old",)))
        await store.save_turn(ALICE, None, [], clock.now, TurnWrites(outbox=("new",)))
        assert await store.inbox_pending(before=clock.now - 60) == [(1, '{"update_id": 1}')]
        assert [r.data for r in await store.outbox_pending(before=clock.now - 60)] == ["old"]
        assert len(await store.inbox_pending()) == 2 and len(await store.outbox_pending()) == 2

    async def test_a_claim_is_held_by_its_first_taker(self, store: Store, clock: Clock) -> None:
        assert await store.claim_for("channel-walk:1", 7, clock.now) == (7, True)
        assert await store.claim_for("channel-walk:1", 8, clock.now) == (7, False)
        assert await store.claim_for("channel-walk:2", 8, clock.now) == (8, True)

    async def test_a_session_with_support_outlives_its_idle_time(
        self, store: Store, clock: Clock
    ) -> None:
        with_staff = replace(walking(at=clock.now - 5 * 86400), stage=Stage.WITH_STAFF)
        await store.save_turn(ALICE, with_staff, [], clock.now)
        await store.save_turn(BOB, walking(at=clock.now - 5 * 86400), [], clock.now)
        assert await store.purge_expired() == 1
        assert await store.load(ALICE) == with_staff
        assert await store.load(BOB) is None

    async def test_cases_are_numbered_found_by_person_topic_or_message_and_saved(
        self, store: Store, clock: Clock
    ) -> None:
        first = await store.case_open(a_case(ALICE_PRIVATE, clock.now, thread_id=11))
        second = await store.case_open(a_case(BOB_PRIVATE, clock.now, thread_id=None))
        assert (first.id, second.id) == (1, 2)
        assert await store.case(1) == first
        assert await store.case_of(ALICE_PRIVATE) == first
        assert await store.case_in(STAFF, 11, None) == first
        await store.case_link(second.id, STAFF, 40)
        assert await store.case_in(STAFF, None, 40) == second
        assert await store.case_in(STAFF, None, 41) is None
        assert await store.case_in(STAFF, 12, None) is None

        answered = replace(first, state=CaseState.WITH_STAFF, answered_by="Sam", notes=("x",))
        await store.case_save(answered)
        assert await store.case(1) == answered
        closed = replace(answered, state=CaseState.CLOSED, closed_as=ClosedAs.SOLVED)
        await store.case_save(replace(closed, closed_at=clock.now))
        assert await store.case_of(ALICE_PRIVATE) is None
        assert (await store.case_of(ALICE_PRIVATE, open_only=False)).id == first.id
        assert (await store.case_in(STAFF, 11, None)).closed_as is ClosedAs.SOLVED
        third = await store.case_open(a_case(ALICE_PRIVATE, clock.now, thread_id=12))
        assert third.id == 3 and await store.case_of(ALICE_PRIVATE) == third

    async def test_unanswered_cases_are_listed_for_a_reminder_once(
        self, store: Store, clock: Clock
    ) -> None:
        old = await store.case_open(a_case(ALICE_PRIVATE, clock.now - 1000))
        await store.case_open(a_case(BOB_PRIVATE, clock.now))
        assert await store.cases_waiting(clock.now - 900) == [old]
        await store.case_save(replace(old, reminded=True))
        assert await store.cases_waiting(clock.now - 900) == []

    async def test_closed_cases_are_purged_with_the_outcomes_open_ones_never(
        self, store: Store, clock: Clock
    ) -> None:
        store.keep_outcomes = 90 * 86400
        long_ago = clock.now - 100 * 86400
        closed = await store.case_open(a_case(ALICE_PRIVATE, long_ago))
        closed = replace(closed, state=CaseState.CLOSED, closed_at=long_ago)
        await store.case_save(closed)
        await store.case_link(closed.id, STAFF, 5)
        still_open = await store.case_open(a_case(BOB_PRIVATE, long_ago))
        await store.purge_expired()
        assert await store.case(closed.id) is None
        assert await store.case_in(STAFF, None, 5) is None
        assert await store.case(still_open.id) == still_open

    async def test_unanswered_messages_are_kept_for_their_days_or_not_at_all(
        self, store: Store, clock: Clock
    ) -> None:
        store.keep_unanswered_for = 30 * 86400
        await store.keep_unanswered(Unanswered("who won", ()), clock.now - 31 * 86400)
        await store.keep_unanswered(Unanswered("wifi slow?", ("wifi:0.31",)), clock.now)
        assert [r.unanswered.text for r in await store.unanswered()] == ["who won", "wifi slow?"]
        await store.purge_expired()
        [kept] = await store.unanswered()
        assert kept.unanswered == Unanswered("wifi slow?", ("wifi:0.31",))
        store.keep_unanswered_for = 0
        await store.keep_unanswered(Unanswered("not kept", ()), clock.now)
        assert len(await store.unanswered()) == 1

    async def test_something_claimed_once_is_never_claimed_again_unless_given_back(
        self, store: Store
    ) -> None:
        assert await store.claim("digest:2026-11-16", 1_000_000.0) is True
        assert await store.claim("digest:2026-11-16", 1_000_001.0) is False
        assert await store.claim("digest:2026-11-23", 1_000_002.0) is True
        await store.unclaim("digest:2026-11-16")  # sending it failed
        assert await store.claim("digest:2026-11-16", 1_000_003.0) is True

    async def test_a_groups_settings_are_the_defaults_until_its_admins_choose(
        self, store: Store
    ) -> None:
        assert await store.group_settings(-100) == GroupSettings()
        chosen = GroupSettings(overhear=True, cooldown_minutes=15, muted_topics=frozenset({7}))
        await store.group_settings_save(-100, chosen, 1_000_000.0)
        assert await store.group_settings(-100) == chosen
        assert await store.group_settings(-200) == GroupSettings()

    async def test_offers_made_are_remembered_per_group_and_person_for_a_day(
        self, store: Store, clock: Clock
    ) -> None:
        assert await store.last_offers(-100, 1) == LastOffers(None, None)
        await store.offer_made(-100, 1, clock.now)
        await store.offer_made(-100, 2, clock.now + 60)
        await store.offer_made(-200, 1, clock.now + 120)
        assert await store.last_offers(-100, 1) == LastOffers(clock.now + 60, clock.now)
        assert await store.last_offers(-100, 3) == LastOffers(clock.now + 60, None)
        clock.now += 2 * 86400
        await store.purge_expired()
        assert await store.last_offers(-100, 1) == LastOffers(None, None)

    async def test_delete_forgets_a_session(self, store: Store) -> None:
        await store.save_turn(ALICE, walking(), [], 1_000_000.0)
        await store.delete(ALICE)
        assert await store.load(ALICE) is None

    async def test_outcomes_are_an_ordered_log_per_key(self, store: Store) -> None:
        await store.save_turn(ALICE, walking(), [Outcome("started", intent="wifi")], 1.0)
        await store.save_turn(BOB, walking(), [Outcome("no_match")], 2.0)
        await store.save_turn(
            ALICE,
            walking(),
            [Outcome("step_done", "wifi", "wifi", "switch_on"), Outcome("resolved", "wifi")],
            3.0,
        )
        rows = await store.outcomes(ALICE)
        assert [r.outcome.result for r in rows] == ["started", "step_done", "resolved"]
        assert rows[1].outcome == Outcome("step_done", "wifi", "wifi", "switch_on")
        assert rows[1].at == 3.0
        assert rows[1].key == ALICE
        assert len(await store.outcomes()) == 4

    async def test_outcomes_since_a_time_leave_older_ones_unread(self, store: Store) -> None:
        await store.record(ALICE, [Outcome("started", intent="wifi")], 1_000.0)
        await store.record(BOB, [Outcome("started", intent="power")], 2_000.0)
        await store.record(ALICE, [Outcome("stopped", intent="wifi")], 3_000.0)
        assert [r.at for r in await store.outcomes(since=2_000.0)] == [2_000.0, 3_000.0]
        assert [r.at for r in await store.outcomes(ALICE, since=2_000.0)] == [3_000.0]

    async def test_outcomes_can_be_recorded_without_a_turn(self, store: Store) -> None:
        await store.record(ALICE, [Outcome("undeliverable", value="blocked")], 5.0)
        rows = await store.outcomes(ALICE)
        assert [(r.outcome.result, r.outcome.value, r.at) for r in rows] == [
            ("undeliverable", "blocked", 5.0)
        ]
        assert await store.load(ALICE) is None

    async def test_many_concurrent_writers_lose_nothing(self, store: Store) -> None:
        keys = [SessionKey(chat_id=n % 7, user_id=n) for n in range(200)]

        async def write(key: SessionKey) -> None:
            for step in ("switch_on", "join_network", "move_closer"):
                await store.save_turn(key, walking(step), [Outcome("step_done", step=step)], 1.0)

        await asyncio.gather(*(write(k) for k in keys))
        for key in keys:
            assert (await store.load(key)).step == "move_closer"
        assert len(await store.outcomes()) == 600


# -- SQLite only: the file, its schema, and crashes ------------------------------------------------


@contextmanager
def database(path: Path, **options) -> Iterator[sqlite3.Connection]:
    """The database file opened directly, as another tool would: committed and closed after
    (sqlite3's own `with` only commits, and Python 3.13 reports connections left open)."""
    with closing(sqlite3.connect(path, **options)) as db, db:
        yield db


async def test_the_database_is_a_real_file_in_wal_mode(tmp_path: Path) -> None:
    store = await SQLiteStore.open(tmp_path / DATABASE_FILE)
    await store.save_turn(ALICE, walking(), [], 1.0)
    await store.close()
    with database(tmp_path / DATABASE_FILE) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        (data,) = db.execute("SELECT data FROM sessions").fetchone()
    assert json.loads(data)["step"] == "join_network"


async def test_a_database_from_an_older_schema_is_migrated_and_keeps_its_sessions(
    tmp_path: Path,
) -> None:
    path = tmp_path / DATABASE_FILE
    with database(path) as db:  # a database as the first release left it
        db.executescript(MIGRATIONS[0])
        db.execute("PRAGMA user_version = 1")
        db.execute(
            "INSERT INTO sessions VALUES (?, ?, ?)",
            (str(ALICE), json.dumps(walking().to_dict()), 4_000_000_000.0),
        )
    store = await SQLiteStore.open(path, clock=lambda: 4_000_000_000.0)
    assert (await store.load(ALICE)).step == "join_network"
    await store.save_turn(ALICE, walking(), [Outcome("started")], 1.0)
    assert [r.outcome.result for r in await store.outcomes()] == ["started"]
    await store.close()
    with database(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


async def test_a_database_from_a_newer_fixbot_is_refused_clearly(tmp_path: Path) -> None:
    path = tmp_path / DATABASE_FILE
    with database(path) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    from bot.errors import StoreError

    with pytest.raises(StoreError, match="newer than this fixbot knows"):
        await SQLiteStore.open(path)


async def test_migrating_twice_changes_nothing(tmp_path: Path) -> None:
    store = await SQLiteStore.open(tmp_path / DATABASE_FILE)
    await store.close()
    with database(tmp_path / DATABASE_FILE, isolation_level=None) as db:
        assert migrate(db) == SCHEMA_VERSION


WRITER = textwrap.dedent(
    """
    import asyncio, sys, time
    sys.path.insert(0, {root!r})
    from bot.session import Outcome, Session, Stage
    from bot.store import SQLiteStore, SessionKey

    async def main():
        store = await SQLiteStore.open(__import__("pathlib").Path({path!r}))
        key = SessionKey(1, 1)
        n = 0
        while True:
            n += 1
            session = Session(stage=Stage.STEP, plan=("wifi",), step="s", revision=n, updated_at=time.time())
            await store.save_turn(key, session, [Outcome("step_done", value=str(n))], time.time())
            print(n, flush=True)

    asyncio.run(main())
    """
)


def test_a_writer_killed_mid_walk_leaves_its_last_committed_step_intact(tmp_path: Path) -> None:
    path = tmp_path / DATABASE_FILE
    script = WRITER.format(root=str(REPOSITORY_ROOT), path=str(path))
    writer = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, bufsize=1
    )
    assert writer.stdout is not None
    committed = 0
    try:
        for line in writer.stdout:
            committed = int(line)
            if committed >= 200:
                break
    finally:
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait(timeout=30)
        writer.stdout.close()
    assert committed >= 200

    async def read() -> tuple[Session | None, int]:
        store = await SQLiteStore.open(path)
        try:
            return await store.load(SessionKey(1, 1)), len(await store.outcomes())
        finally:
            await store.close()

    session, outcomes = asyncio.run(read())
    assert session is not None
    # Every turn it reported as committed is there; the session and its outcome agree.
    assert session.revision >= committed
    assert outcomes == session.revision
