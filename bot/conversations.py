"""The one loop every transport uses: lock the key, load, handle, save, return the replies.

Two events for the same (chat, user[, topic]) never interleave, so a doubled press cannot
advance a walk twice, not even across processes sharing one store (`Store.locked`); events
for different keys run concurrently. A turn's session, its
outcomes, the case it changed, the update it handled and what it asks of the chat service
(the outbox) are saved in one transaction before anything goes out: a crash after it
replays the outbox and never runs the turn again; a crash before it loses nothing, for
the update is run again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Final

from bot.cases import Case
from bot.engine import Engine
from bot.events import Event, Turn
from bot.locks import KeyedLocks
from bot.session import Outcome, Session, SessionKey, fresh
from bot.store import Store
from bot.store.base import OutboxRow, TurnWrites


@dataclass(frozen=True)
class Plan:
    """What a turn asks of the chat service (opaque to the core), and the case it changes."""

    outbox: tuple[str, ...] = ()
    case: Case | None = None


@dataclass(frozen=True)
class Committed:
    """A turn, saved with its outbox: the rows to carry out, in order."""

    turn: Turn
    outbox: tuple[OutboxRow, ...]


Planner = Callable[[Turn], Awaitable[Plan]]

ORDER_WAIT_STEP: Final = 0.02
ORDER_WAIT_TRIES: Final = 250
"""An earlier update of a conversation on another replica is waited for 5 s at most."""


class Conversations:
    def __init__(self, engine: Engine, store: Store) -> None:
        self.engine = engine
        self.store = store
        self.observers: list[Callable[[Sequence[Outcome]], None]] = []
        """Told every outcome once it is saved (the transport's metrics, say)."""
        self._locks: KeyedLocks[SessionKey] = KeyedLocks()

    async def handle(self, key: SessionKey, event: Event) -> Turn:
        """Apply `event` to the session under `key` and persist the result."""
        return (await self.take_turn(key, event)).turn

    async def take_turn(
        self,
        key: SessionKey,
        event: Event,
        update_id: int | None = None,
        plan: Planner | None = None,
    ) -> Committed:
        """Apply `event` to the session under `key`; save the turn with the update it
        handles (`update_id`, marked handled) and what `plan` makes of it, all at once."""
        async with self._locks.hold(key):
            if update_id is not None:
                await self._earlier_first(key, update_id)
            async with self.store.locked(key):
                if update_id is not None and await self.store.inbox_handled(update_id):
                    # Another replica handled it already (a retried webhook, a replay).
                    return Committed(Turn(Session(), ()), ())
                return await self._turn(key, event, update_id, plan)

    async def _earlier_first(self, key: SessionKey, update_id: int) -> None:
        """Wait (a few seconds at most) while another process still has an earlier update
        of this conversation to handle: one conversation's turns keep their order across
        replicas as they do within one process."""
        for _ in range(ORDER_WAIT_TRIES):
            if not await self.store.earlier_pending(key, update_id):
                return
            await asyncio.sleep(ORDER_WAIT_STEP)

    async def _turn(
        self, key: SessionKey, event: Event, update_id: int | None, plan: Planner | None
    ) -> Committed:
        session = await self.store.load(key) or fresh(event.at)
        turn = self.engine.handle(session, event)
        planned = await plan(turn) if plan is not None else Plan()
        changed = turn.session != session or turn.outcomes or turn.unanswered or turn.language
        if not (changed or planned.outbox or planned.case or update_id is not None):
            return Committed(turn, ())
        writes = TurnWrites(update_id, planned.outbox, planned.case, turn.unanswered, turn.language)
        ids = await self.store.save_turn(key, turn.session, turn.outcomes, event.at, writes)
        self._tell(turn.outcomes)
        rows = tuple(OutboxRow(i, key, d) for i, d in zip(ids, planned.outbox, strict=True))
        return Committed(turn, rows)

    async def commit(self, key: SessionKey, writes: TurnWrites, at: float) -> tuple[OutboxRow, ...]:
        """Save what happened outside a turn (a staff answer changing a case) with what it
        asks of the chat service, at once; the session under `key` is left as it is."""
        async with self._locks.hold(key), self.store.locked(key):
            session = await self.store.load(key)
            ids = await self.store.save_turn(key, session, [], at, writes)
            return tuple(OutboxRow(i, key, d) for i, d in zip(ids, writes.outbox, strict=True))

    async def record(self, key: SessionKey, outcome: Outcome, at: float) -> None:
        """Record something a transport saw happen outside a turn (a message refused)."""
        await self.store.record(key, [outcome], at)
        self._tell([outcome])

    def _tell(self, outcomes: Sequence[Outcome]) -> None:
        if outcomes:
            for observer in self.observers:
                observer(outcomes)

    async def session(self, key: SessionKey) -> Session:
        """The session under `key` as it is now (a fresh one when there is none)."""
        async with self._locks.hold(key):
            return await self.store.load(key) or Session()

    @property
    def active_keys(self) -> int:
        """How many keys have an event under way (for tests and metrics)."""
        return len(self._locks)
