"""The conversations loop: one event at a time per person, many people at once, and the
walk survives a restart."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

import pytest

from bot.catalog import Catalog
from bot.conversations import Conversations
from bot.engine import Engine
from bot.events import Action, ButtonPressed, Press, TextReceived
from bot.session import Outcome, Session
from bot.store import MemoryStore, SessionKey, SQLiteStore
from bot.store.base import TurnWrites


class SlowStore(MemoryStore):
    """A store that takes its time, and counts how many turns overlap."""

    def __init__(self) -> None:
        super().__init__()
        self.in_flight = 0
        self.most_in_flight = 0

    async def load(self, key: SessionKey) -> Session | None:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(0.01)
            return await super().load(key)
        finally:
            self.in_flight -= 1

    async def save_turn(
        self,
        key: SessionKey,
        session: Session | None,
        outcomes: Sequence[Outcome],
        at: float,
        writes: TurnWrites | None = None,
    ) -> list[int]:
        await asyncio.sleep(0.01)
        return await super().save_turn(key, session, outcomes, at, writes)


@pytest.fixture(scope="module")
def engine(catalog: Catalog) -> Engine:
    return Engine(catalog)


ALICE = SessionKey(chat_id=-100, user_id=1)


async def test_a_doubled_press_from_one_person_is_handled_once(engine: Engine) -> None:
    store = SlowStore()
    conversations = Conversations(engine, store)
    turn = await conversations.handle(ALICE, TextReceived("wifi won't connect", time.time()))
    done = ButtonPressed(Press(Action.DONE, turn.session.revision), time.time())
    first, second = await asyncio.gather(
        conversations.handle(ALICE, done), conversations.handle(ALICE, done)
    )
    assert store.most_in_flight == 1
    notices = [t.replies[-1].notice for t in (first, second)]
    assert notices.count(None) == 1  # one press advanced, the other was told it was stale
    results = [row.outcome.result for row in await store.outcomes(ALICE)]
    assert results.count("step_done") == 1
    assert (await conversations.session(ALICE)).step == "switch_on"
    assert conversations.active_keys == 0


async def test_different_people_are_handled_at_the_same_time(engine: Engine) -> None:
    store = SlowStore()
    conversations = Conversations(engine, store)
    keys = [SessionKey(chat_id=-100, user_id=n) for n in range(20)]
    turns = await asyncio.gather(
        *(conversations.handle(k, TextReceived("backup stuck", time.time())) for k in keys)
    )
    assert store.most_in_flight > 1
    assert all("Turn on iCloud Backup" in t.replies[-1].text for t in turns)
    assert conversations.active_keys == 0


async def test_a_walk_survives_a_restart_of_the_bot(engine: Engine, tmp_path) -> None:
    path = tmp_path / "fixbot.sqlite3"
    store = await SQLiteStore.open(path)
    first = Conversations(engine, store)
    turn = await first.handle(ALICE, TextReceived("wifi won't connect", time.time()))
    old_buttons = turn.replies[-1]
    await first.handle(ALICE, ButtonPressed(Press(Action.DONE, turn.session.revision), time.time()))
    await store.close()

    store = await SQLiteStore.open(path)
    second = Conversations(engine, store)
    session = await second.session(ALICE)
    assert session.step == "switch_on"
    # The button on the message from before the restart is stale, and is told so.
    stale = old_buttons.buttons[0][0].press
    assert stale is not None
    turn = await second.handle(ALICE, ButtonPressed(stale, time.time()))
    assert turn.replies[-1].notice is not None
    assert "Step 2 of 4" in turn.replies[-1].text
    await store.close()
