"""At-least-once intake: every update is in the store before Telegram hears it arrived.

python-telegram-bot puts each fetched update on its `update_queue` and acknowledges it with
its next `getUpdates`, which comes only after `put` returns; its webhook server answers
Telegram only after `put` too. So a queue whose `put` starts writing the update to the
store's inbox, and a `flush` awaited before the next getUpdates goes out (and before the
webhook answers), makes every acknowledged update durable, in both modes, without making
intake wait for one commit per update. The update processor marks an
update handled once its handler has run; at start, whatever a crash (or a stop with updates
still queued) left unhandled is replayed. An update seen before, a redelivery by Telegram or
a webhook retry, is dropped: it is handled once. "Seen before" is its id *and* its fingerprint
(a digest of what it carries): Telegram numbers updates afresh after
a quiet week, and a local Bot API may start again from 1, and a new update must never be taken
for an old one because its number came round again.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections.abc import Callable
from typing import Any, Final

from telegram import Bot, Update
from telegram.error import NetworkError

from bot.session import SessionKey
from bot.store.base import Inbox
from bot.transports.telegram.keys import conversation_key

log = logging.getLogger(__name__)

SHARE_BATCH: Final = 16
"""Updates one replica takes in one look at the shared inbox, at most."""
SHARE_IDLE: Final = 0.05
"""Seconds between looks at the shared inbox when it had nothing for this replica."""
REMEMBERED: Final = 100_000
"""Update ids remembered in memory to recognise a redelivery (the store keeps a day's)."""


class DurableUpdateQueue(asyncio.Queue[object]):
    def __init__(
        self, store: Inbox, clock: Callable[[], float] = time.time, max_backlog: int = 1000
    ) -> None:
        super().__init__()
        self.store = store
        self.clock = clock
        self.max_backlog = max_backlog
        self.backlog = 0
        """Updates queued and not yet handled."""
        self.most_backlog = 0
        self.stopping = False
        """Set on the way out: the last getUpdates acknowledges without waiting for room."""
        self._room = asyncio.Condition()
        self._stored_ahead: set[int] = set()
        """Updates already on their way to the store from Telegram's own JSON (polling)."""
        self._writing: list[
            tuple[asyncio.Future[bool], tuple[int, str, float, str, SessionKey | None]]
        ] = []
        self._repeats: set[int] = set()
        """Updates of a getUpdates answer found to be redeliveries, not yet dropped."""
        self._known: dict[int, str] = {}
        """Update id -> fingerprint of the updates seen lately."""
        self._replayed: set[int] = set()
        """Updates queued by `replay`, not to be queued again by a later sweep."""
        self.sharing = False
        """Replicas polling on a shared store: what this one fetches goes to the store only,
        and every replica (this one too) takes its share from there (`share`)."""

    async def put(self, item: object) -> None:
        """Queue an update at once; its write to the store is under way (see `flush`)."""
        if isinstance(item, Update):
            if item.update_id in self._stored_ahead and self.sharing:
                self._stored_ahead.discard(item.update_id)
                return  # in the store: whichever replica takes it handles it
            if item.update_id in self._stored_ahead:
                self._stored_ahead.discard(item.update_id)
            elif item.update_id in self._repeats:
                self._repeats.discard(item.update_id)
                log.info("update %s arrived before; handled once already", item.update_id)
                return
            else:  # a webhook's update
                fields = item.to_dict()
                mark = fingerprint(fields)
                if self._known.get(item.update_id) == mark:
                    log.info("update %s arrived before; handled once already", item.update_id)
                    return
                self._remember(item.update_id, mark)
                data = json.dumps(fields, separators=(",", ":"))
                # Whose it is goes with it: replicas behind one webhook take a
                # conversation's turns in the order its updates arrived (polling has one
                # poller, whose own queue keeps that order).
                self._write(item.update_id, data, self.clock(), mark, conversation_key(item))
            self._grow()
        await super().put(item)

    def received(self, payload: bytes) -> None:
        """A getUpdates answer as Telegram sent it: start storing its new updates now, from
        their own JSON (cheaper than serialising python-telegram-bot's objects again)."""
        try:
            updates = json.loads(payload).get("result")
        except (ValueError, AttributeError):
            return  # python-telegram-bot reports a malformed answer itself
        now = self.clock()
        for update in updates if isinstance(updates, list) else ():
            update_id = update.get("update_id") if isinstance(update, dict) else None
            if not isinstance(update_id, int):
                continue
            mark = fingerprint(update)
            if self._known.get(update_id) == mark:
                self._repeats.add(update_id)  # python-telegram-bot will put it: drop it then
                continue
            self._remember(update_id, mark)
            self._stored_ahead.add(update_id)
            key = _whose(update) if self.sharing else None
            self._write(update_id, json.dumps(update, separators=(",", ":")), now, mark, key)

    async def room(self) -> None:
        """Return once the backlog is under `max_backlog` (backpressure on intake)."""
        async with self._room:
            await self._room.wait_for(lambda: self.stopping or self.backlog < self.max_backlog)

    async def stop(self) -> None:
        """On the way out: stop holding intake back (what is queued is replayed next time)."""
        async with self._room:
            self.stopping = True
            self._room.notify_all()

    def _grow(self) -> None:
        self.backlog += 1
        self.most_backlog = max(self.most_backlog, self.backlog)

    async def flush(self) -> None:
        """Return once every update queued so far is in the store: called before Telegram is
        told they arrived (the next getUpdates, or the webhook's 200). If a write failed,
        raise NetworkError (so nothing is acknowledged; python-telegram-bot tries again
        later) and write it again on the next flush."""
        writing, self._writing = self._writing, []
        if not writing:
            return
        await asyncio.gather(*(future for future, _ in writing), return_exceptions=True)
        failed = [args for future, args in writing if future.exception() is not None]
        for args in failed:
            self._write(*args)
        if failed:
            log.error("could not keep %d update(s) in the store; not acknowledging", len(failed))
            raise NetworkError("the store could not keep the updates received")

    def _write(
        self, update_id: int, data: str, at: float, mark: str, key: SessionKey | None = None
    ) -> None:
        future = asyncio.ensure_future(self.store.inbox_add(update_id, data, at, mark, key))
        self._writing.append((future, (update_id, data, at, mark, key)))

    async def replay(self, bot: Bot, before: float | None = None) -> int:
        """Queue the updates a crash or a stop left unhandled; return how many. `before`:
        only those received before then (replicas: what a dead one left behind; one it is
        still handling is found handled under its conversation's lock and skipped)."""
        if before is None:
            for update_id, mark in (await self.store.inbox_seen()).items():
                self._remember(update_id, mark)
        pending = [
            (u, d) for u, d in await self.store.inbox_pending(before) if u not in self._replayed
        ]
        self._replayed.update(u for u, _ in pending)
        await self._queue_stored(bot, pending)
        if pending:
            log.info("replaying %d update(s) received but not handled before", len(pending))
        return len(pending)

    async def share(self, bot: Bot, replica: int, takeover_after: float, at_once: int) -> None:
        """Replicas polling on a shared store: take this replica's share of the updates in
        the store (fetched by whichever polls) and queue them, until cancelled: no more than
        it handles at once (`at_once`), so that what one replica cannot start now another
        does. A conversation stays with the replica that has its updates under way."""
        while True:
            room = min(at_once - self.backlog, SHARE_BATCH)
            if room <= 0:
                await asyncio.sleep(SHARE_IDLE)
                continue
            try:
                taken = await self.store.claim_updates(replica, room, takeover_after)
            except Exception:  # the database away: the store said so once; try again
                await asyncio.sleep(1.0)
                continue
            await self._queue_stored(bot, taken)
            if not taken:
                await asyncio.sleep(SHARE_IDLE)

    async def _queue_stored(self, bot: Bot, rows: list[tuple[int, str]]) -> None:
        """Queue updates read back from the store (a replay, a replica's share); one that
        cannot be read is dropped, once, with a line saying so."""
        for update_id, data in rows:
            try:
                update = Update.de_json(json.loads(data), bot)
            except (ValueError, TypeError, KeyError) as exc:
                log.warning("update %s in the inbox cannot be read (%s); dropped", update_id, exc)
                await self.store.inbox_done(update_id)
                continue
            self._grow()
            await super().put(update)

    async def handled(self, update: object) -> None:
        if isinstance(update, Update):
            self._replayed.discard(update.update_id)
            async with self._room:
                self.backlog -= 1
                self._room.notify_all()
            await self.store.inbox_done(update.update_id)

    async def ready_to_acknowledge(self) -> None:
        """Before the next getUpdates: room in the backlog, and everything so far stored."""
        await self.room()
        await self.flush()

    def _remember(self, update_id: int, mark: str) -> None:
        # Telegram's update ids mostly grow; a redelivery is a recent one. Remember a window.
        self._known[update_id] = mark
        if len(self._known) > 2 * REMEMBERED:
            recent = sorted(self._known)[-REMEMBERED:]
            self._known = {u: self._known[u] for u in recent}
            floor = recent[0]
            self._stored_ahead = {u for u in self._stored_ahead if u >= floor}


def _whose(update: dict[str, Any]) -> SessionKey | None:
    """The conversation of an update as Telegram sent it; None when it cannot be read (the
    update is kept all the same, and python-telegram-bot reports what it cannot read)."""
    try:
        return conversation_key(Update.de_json(update, None))
    except (ValueError, TypeError, KeyError, AttributeError):
        return None


def fingerprint(update: dict[str, Any]) -> str:
    """What an update is, apart from its number: a digest of everything else in it. A
    redelivery carries the same (each mode reads updates one way: Telegram's JSON when
    polling, python-telegram-bot's `to_dict()` on a webhook); a new update that happens to
    get an old number does not."""
    rest = {k: v for k, v in update.items() if k != "update_id"}
    canonical = json.dumps(rest, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]
