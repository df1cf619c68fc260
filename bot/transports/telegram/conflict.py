"""Two programs polling one token: the one that was serving keeps serving, the newcomer
backs off and, if the conflict lasts, gives up.

Telegram lets one long poll wait per token: a second getUpdates ends the first with 409
Conflict, and each update reaches whichever asked last. A stray second deploy that retries
at once, as the one already serving does, would make the two cut each other off for ever;
stopping both on the first 409 leaves no bot at all. So: a conflict that starts before this
program's first poll came back with updates (or with none, after a whole long poll) makes
it the newcomer: the other was there first and took its poll away. The newcomer polls rarely (growing pauses, so it takes few updates from the other) and, when the
conflict has lasted `give_up_after` seconds, stops with one clear line. The program that was
serving before the conflict began keeps polling as usual.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Final

ENDED_AFTER: Final = 25.0
"""Seconds without a 409 after which a conflict is over (longer than one long poll)."""


class PollingConflict:
    def __init__(
        self, give_up_after: float = 30.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.give_up_after = give_up_after
        self.clock = clock
        self.served = False
        """Whether a poll of this program has come back with 200."""
        self.since: float | None = None
        """When the current conflict began (its first 409); None when there is none."""
        self.last: float | None = None
        self.newcomer = False
        """Whether this program came into a conflict that was already there."""
        self._pauses = 0

    def polled(self, status: int) -> None:
        """A getUpdates answer's HTTP status."""
        now = self.clock()
        if status == 409:
            if self.since is None or (self.last is not None and now - self.last > ENDED_AFTER):
                self.since = now
                self.newcomer = not self.served
                self._pauses = 0
            self.last = now
        elif status == 200:
            if self.since is None:
                self.served = True
            elif self.last is not None and now - self.last > ENDED_AFTER:
                self.since = self.last = None
                self.newcomer = False
                self.served = True

    @property
    def in_conflict(self) -> bool:
        return self.since is not None

    @property
    def giving_up(self) -> bool:
        """The newcomer, and the conflict has lasted long enough: time to stop."""
        return (
            self.newcomer
            and self.since is not None
            and self.clock() - self.since >= self.give_up_after
        )

    async def before_poll(self) -> None:
        """The newcomer waits before each poll while the conflict lasts: 1, 2, 4, 8 s."""
        if self.newcomer and self.since is not None:
            await asyncio.sleep(min(2.0**self._pauses, 8.0))
            self._pauses += 1
