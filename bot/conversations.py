"""The one loop every transport uses: lock the key, load, handle, save, return the replies.

Two events for the same (chat, user[, topic]) never interleave, so a doubled press cannot
advance a walk twice; events for different keys run concurrently. The session and the
outcomes of a turn are saved together before the replies go out, so a crash between two
messages loses nothing the user has seen.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bot.engine import Engine
from bot.events import Event, Turn
from bot.locks import KeyedLocks
from bot.session import Outcome, Session, SessionKey, fresh
from bot.store import Store


class Conversations:
    def __init__(self, engine: Engine, store: Store) -> None:
        self.engine = engine
        self.store = store
        self.observers: list[Callable[[Sequence[Outcome]], None]] = []
        """Told every outcome once it is saved (the transport's metrics, say)."""
        self._locks: KeyedLocks[SessionKey] = KeyedLocks()

    async def handle(self, key: SessionKey, event: Event) -> Turn:
        """Apply `event` to the session under `key` and persist the result."""
        async with self._locks.hold(key):
            session = await self.store.load(key) or fresh(event.at)
            turn = self.engine.handle(session, event)
            if turn.session != session or turn.outcomes:
                await self.store.save_turn(key, turn.session, turn.outcomes, event.at)
                self._tell(turn.outcomes)
            if turn.unanswered is not None:
                await self.store.keep_unanswered(turn.unanswered, event.at)
            return turn

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
