"""PostgreSQL as the shared store, against a real server the tests start (tests/postgres.py):
two processes' stores on one database keep a conversation's turns apart and elect one
poller; a SQLite store carried over continues a walk where it stopped; the URL's password
never shows. (The contract every backend keeps is in test_store.py.)"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from bot.catalog import Catalog
from bot.conversations import Conversations
from bot.engine import Engine
from bot.errors import StoreError
from bot.events import Action, ButtonPressed, CommandReceived, Press
from bot.groups import GroupSettings
from bot.session import SessionKey, Stage
from bot.store import SQLiteStore
from bot.store.base import TurnWrites
from bot.store.postgres import PostgresStore, redacted
from bot.store.sqlite import DATABASE_FILE
from tests.postgres import PostgresServer, free_port
from tests.test_cli import fixbot

LENA = SessionKey(7, 7)
NOW = time.time()


@pytest.fixture(scope="module")
def engine(catalog: Catalog) -> Engine:
    return Engine(catalog)


async def test_a_doubled_press_sent_to_two_replicas_advances_the_walk_once(
    engine: Engine, postgres_url: str
) -> None:
    """Lena's client sends the same "Done" ten times, half to each replica: one step."""
    first, second = await PostgresStore.open(postgres_url), await PostgresStore.open(postgres_url)
    try:
        replicas = [Conversations(engine, first), Conversations(engine, second)]
        started = await replicas[0].handle(LENA, CommandReceived("fix", "wifi", NOW))
        done = Press(Action.DONE, started.session.revision)
        await asyncio.gather(
            *(replicas[n % 2].handle(LENA, ButtonPressed(done, NOW + 1)) for n in range(10))
        )
        session = await first.load(LENA)
        assert session is not None and session.path == (started.session.step,)
        outcomes = [row.outcome.result for row in await second.outcomes(LENA)]
        assert outcomes.count("step_done") == 1
        assert first.lock_waits + second.lock_waits >= 1  # they did meet at the lock
    finally:
        await first.close()
        await second.close()


async def test_one_replica_is_elected_and_another_takes_over_when_it_goes(
    postgres_url: str,
) -> None:
    first, second = await PostgresStore.open(postgres_url), await PostgresStore.open(postgres_url)
    try:
        assert await first.lead("poller") is True
        assert await first.lead("poller") is True  # still held
        assert await second.lead("poller") is False
        assert await second.lead("periodic") is True  # each role has its own election
        await first.close()  # the poller goes (a kill -9 drops its connection the same way)
        assert await second.lead("poller") is True
    finally:
        await second.close()


async def test_the_url_s_password_never_shows_in_an_error() -> None:
    url = f"postgresql://fixbot:hunter2-secret@127.0.0.1:{free_port()}/fixbot"
    with pytest.raises(StoreError) as refused:
        await PostgresStore.open(url, connect_within=2)
    text = str(refused.value)
    assert "hunter2" not in text
    assert "postgresql://fixbot:***@127.0.0.1" in text
    assert redacted("postgresql://u:p@h/db?password=p2&sslmode=require") == (
        "postgresql://u:***@h/db?password=***&sslmode=require"
    )


def test_an_unreachable_database_at_start_is_retried_then_one_clear_line(
    tmp_path: Path,
) -> None:
    url = f"postgresql://fixbot:hunter2-secret@127.0.0.1:{free_port()}/fixbot"
    result = fixbot(
        "run",
        env={
            "TELEGRAM_BOT_TOKEN": "123:not-a-real-token",
            "TELEGRAM_BASE_URL": f"http://127.0.0.1:{free_port()}/bot",
            "FIXBOT_DATABASE_URL": url,
            "FIXBOT_START_RETRIES": "1",
            "FIXBOT_DATA_DIR": str(tmp_path),
        },
    )
    assert result.returncode == 1
    assert "hunter2" not in result.stderr + result.stdout
    assert "trying again in 2 s" in result.stderr  # one retry, logged in one line
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("fixbot: cannot reach the database postgresql://fixbot:***@127.0.0.1")
    assert "Traceback" not in result.stderr


async def test_a_store_carried_from_sqlite_continues_the_walk_where_it_stopped(
    engine: Engine, tmp_path: Path, postgres_url: str
) -> None:
    """Lena is at step 2 of the Wi-Fi fix on a one-process bot; the operator stops it,
    runs `fixbot migrate-store`, and starts replicas on PostgreSQL: her next "Done" moves her
    to step 3, and the group's settings and her case number came along."""
    sqlite = await SQLiteStore.open(tmp_path / DATABASE_FILE)
    conversations = Conversations(engine, sqlite)
    turn = await conversations.handle(LENA, CommandReceived("fix", "wifi", NOW))
    turn = await conversations.handle(
        LENA, ButtonPressed(Press(Action.DONE, turn.session.revision), NOW + 1)
    )
    assert turn.session.path and turn.session.stage is Stage.STEP
    await sqlite.group_settings_save(-100, GroupSettings(overhear=False), NOW + 2)
    await sqlite.save_turn(LENA, None, [], NOW + 3, TurnWrites(language="de"))
    await sqlite.close()

    result = fixbot("migrate-store", "--from", f"sqlite:///{tmp_path}", "--to", postgres_url)
    assert result.returncode == 0, result.stderr
    assert "not-a-secret" not in result.stdout + result.stderr
    assert "sessions 1" in result.stdout and "outcomes" in result.stdout

    shared = await PostgresStore.open(postgres_url)
    try:
        moved = Conversations(engine, shared)
        walk = await moved.handle(
            LENA, ButtonPressed(Press(Action.DONE, turn.session.revision), NOW + 4)
        )
        assert len(walk.session.path) == 2  # step 3, right after where she stopped
        assert (await shared.group_settings(-100)).overhear is False
        assert await shared.language_of(LENA.user_id) == "de"
    finally:
        await shared.close()

    again = fixbot("migrate-store", "--from", f"sqlite:///{tmp_path}", "--to", postgres_url)
    assert again.returncode == 1 and "already holds fixbot's sessions" in again.stderr


async def test_the_store_comes_back_after_postgresql_restarts(
    engine: Engine, postgres_server: PostgresServer
) -> None:
    """PostgreSQL restarts under the bot: the pool reconnects and the next turn is saved."""
    url = postgres_server.create_database()
    store = await PostgresStore.open(url)
    try:
        conversations = Conversations(engine, store)
        turn = await conversations.handle(LENA, CommandReceived("fix", "wifi", NOW))
        await asyncio.to_thread(postgres_server.restart)
        for _ in range(50):  # the pool notices broken connections and makes new ones
            try:
                await conversations.handle(
                    LENA, ButtonPressed(Press(Action.DONE, turn.session.revision), NOW + 1)
                )
                break
            except Exception:
                await asyncio.sleep(0.2)
        session = await store.load(LENA)
        assert session is not None and len(session.path) == 1
    finally:
        await store.close()


async def test_a_later_update_waits_for_an_earlier_one_another_replica_received(
    engine: Engine, postgres_url: str
) -> None:
    """Lena's /fix wifi reached replica A and her /fix power, right after, replica B; A is
    slow to start on hers. B waits, so the Wi-Fi walk starts first and power replaces it."""
    first, second = await PostgresStore.open(postgres_url), await PostgresStore.open(postgres_url)
    try:
        a, b = Conversations(engine, first), Conversations(engine, second)
        # Received now (an update unhandled for a minute is no longer waited for).
        await first.inbox_add(101, "{}", time.time(), "wifi", LENA)
        await second.inbox_add(102, "{}", time.time(), "power", LENA)

        async def slow_a() -> None:
            await asyncio.sleep(0.3)
            await a.take_turn(LENA, CommandReceived("fix", "wifi", NOW), 101)

        await asyncio.gather(
            slow_a(), b.take_turn(LENA, CommandReceived("fix", "power", NOW + 1), 102)
        )
        started = [
            row.outcome.intent or row.outcome.fix
            for row in await first.outcomes(LENA)
            if row.outcome.result == "started"
        ]
        assert started == ["wifi", "power"]
        assert await first.inbox_handled(101) and await first.inbox_handled(102)
        # And a retried webhook of the same update, on either replica, changes nothing.
        again = await a.take_turn(LENA, CommandReceived("fix", "wifi", NOW + 2), 101)
        assert again.turn.replies == () and again.outbox == ()
    finally:
        await first.close()
        await second.close()
