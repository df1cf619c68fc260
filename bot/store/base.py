"""The store interface: sessions by key, outcomes as an append-only log, cases handed to
support, group settings, and the inbox and outbox.

Code asks for what it needs, as small protocols (as aiogram keeps storage apart from
locking): `Sessions` (a conversation's turns), `Outcomes`, `Cases`, `Groups`, `People`,
`Claims`, `Inbox`, `Outbox`, `Upkeep`. `Store` is all of them at once: what a backend
implements (memory, SQLite, PostgreSQL) and the one contract suite checks."""

from __future__ import annotations

import json
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Final, Protocol

from bot.cases import Case
from bot.groups import GroupSettings, LastOffers
from bot.session import Outcome, Session, SessionKey, Unanswered

DEFAULT_TTL: Final = 24 * 3600.0
"""A session nobody touched for this many seconds is gone."""
INBOX_MEMORY: Final = 24 * 3600.0
"""Handled update ids are remembered this long, to recognise a redelivery."""
DEFAULT_KEEP_OUTCOMES: Final = 90 * 24 * 3600.0
"""Outcomes older than this many seconds are purged (FIXBOT_KEEP_OUTCOMES_DAYS)."""
DEFAULT_KEEP_UNANSWERED: Final = 30 * 24 * 3600.0
"""Unanswered messages are kept this many seconds (FIXBOT_KEEP_UNMATCHED_DAYS; 0: none)."""


@dataclass(frozen=True)
class OutcomeRow:
    """An outcome as stored: whose, when, and what."""

    key: SessionKey
    at: float
    outcome: Outcome


@dataclass(frozen=True)
class UnansweredRow:
    at: float
    unanswered: Unanswered


@dataclass(frozen=True)
class TurnWrites:
    """What else a turn writes in the transaction of its session and outcomes, so that a
    crash keeps all of it or none: the update it handled (marked handled), what it asks the
    chat service to do (the outbox, opaque to the store), the case it changed, the message
    it kept for the content's authors."""

    update_id: int | None = None
    outbox: tuple[str, ...] = ()
    case: Case | None = None
    unanswered: Unanswered | None = None
    language: str | None = None
    """The language the person chose in this turn (/language), kept for them everywhere."""


@dataclass(frozen=True)
class OutboxRow:
    """Something a committed turn asked the chat service to do, not yet confirmed done."""

    id: int
    key: SessionKey
    data: str


def case_row(case: Case) -> tuple[object, ...]:
    """A case as the columns a database keeps it in: key, state, staff chat, thread, opened,
    closed, reminded, and the rest as JSON (its id is the row's own)."""
    data = case.to_dict()
    del data["id"]
    return (
        str(case.key),
        case.state.value,
        case.staff_chat_id,
        case.thread_id,
        case.opened_at,
        case.closed_at,
        bool(case.reminded),
        json.dumps(data, separators=(",", ":")),
    )


class Sessions(Protocol):
    """A conversation's turns: its session, what a turn writes, and the lock around it."""

    shared: bool

    async def load(self, key: SessionKey) -> Session | None: ...
    async def save_turn(
        self,
        key: SessionKey,
        session: Session | None,
        outcomes: Sequence[Outcome],
        at: float,
        writes: TurnWrites | None = None,
    ) -> list[int]: ...
    async def record(self, key: SessionKey, outcomes: Sequence[Outcome], at: float) -> None: ...
    async def delete(self, key: SessionKey) -> None: ...
    def locked(self, key: SessionKey) -> AbstractAsyncContextManager[None]: ...
    async def inbox_handled(self, update_id: int) -> bool: ...
    async def earlier_pending(self, key: SessionKey, update_id: int) -> bool: ...


class Outcomes(Protocol):
    """What happened, for the reports: outcomes and the messages kept for the authors."""

    async def outcomes(
        self, key: SessionKey | None = None, since: float | None = None
    ) -> list[OutcomeRow]: ...
    async def unanswered(self) -> list[UnansweredRow]: ...
    async def keep_unanswered(self, unanswered: Unanswered, at: float) -> None: ...


class Cases(Protocol):
    """Cases handed to a person from support, and the staff-chat messages of each."""

    async def case_open(self, case: Case) -> Case: ...
    async def case_save(self, case: Case) -> None: ...
    async def case(self, case_id: int) -> Case | None: ...
    async def case_of(self, key: SessionKey, open_only: bool = True) -> Case | None: ...
    async def case_link(self, case_id: int, staff_chat_id: int, message_id: int) -> None: ...
    async def case_in(
        self, staff_chat_id: int, thread_id: int | None, replied_to: int | None
    ) -> Case | None: ...
    async def cases_waiting(self, opened_before: float) -> list[Case]: ...


class Groups(Protocol):
    """Each group's settings, and when the bot last spoke up unasked there."""

    async def group_settings(self, chat_id: int) -> GroupSettings: ...
    async def group_settings_save(
        self, chat_id: int, settings: GroupSettings, at: float
    ) -> None: ...
    async def last_offers(self, chat_id: int, user_id: int) -> LastOffers: ...
    async def offer_made(self, chat_id: int, user_id: int, at: float) -> None: ...


class People(Protocol):
    """What a person chose that outlives their sessions (their language)."""

    async def language_of(self, user_id: int) -> str | None: ...


class Claims(Protocol):
    """Things done once (the weekly digest), held by one (a press), or led by one process."""

    async def claim(self, name: str, at: float) -> bool: ...
    async def claim_for(self, name: str, holder: int, at: float) -> tuple[int, bool]: ...
    async def unclaim(self, name: str) -> None: ...
    async def lead(self, role: str) -> bool: ...


class Inbox(Protocol):
    """Updates received and not yet handled."""

    async def inbox_add(
        self,
        update_id: int,
        data: str,
        at: float,
        fingerprint: str = "",
        key: SessionKey | None = None,
    ) -> bool: ...
    async def inbox_done(self, update_id: int) -> None: ...
    async def inbox_seen(self) -> dict[int, str]: ...
    async def inbox_pending(self, before: float | None = None) -> list[tuple[int, str]]: ...
    async def claim_updates(
        self, replica: int, limit: int = 50, fresh_for: float = 60.0
    ) -> list[tuple[int, str]]: ...


class Outbox(Protocol):
    """What committed turns asked the chat service to do, until it is done."""

    async def outbox_done(self, ids: Sequence[int]) -> None: ...
    async def outbox_pending(self, before: float | None = None) -> list[OutboxRow]: ...


class Upkeep(Protocol):
    """Purging what is past its time, and whether the store answers."""

    shared: bool

    async def purge_expired(self) -> int: ...
    async def lead(self, role: str) -> bool: ...
    async def load(self, key: SessionKey) -> Session | None: ...


class Reporting(Outcomes, Claims, Protocol):
    """What the reports read (outcomes) and claim (the digest, once)."""


class Store(ABC):
    """Every protocol above at once: what a backend implements. Every method is safe to
    call from many tasks at once."""

    def __init__(
        self,
        ttl: float = DEFAULT_TTL,
        clock: Callable[[], float] | None = None,
        keep_outcomes: float = DEFAULT_KEEP_OUTCOMES,
        keep_unanswered: float = DEFAULT_KEEP_UNANSWERED,
    ):
        self.ttl = ttl
        self.clock = clock or time.time
        self.keep_outcomes = keep_outcomes
        self.keep_unanswered_for = keep_unanswered

    def expired(self, updated_at: float) -> bool:
        return self.clock() - updated_at > self.ttl

    shared: bool = False
    """Whether several processes may use this store at once (PostgreSQL): then `locked`
    keeps one conversation's turns apart across them, and `lead` elects one of them."""

    @asynccontextmanager
    async def locked(self, key: SessionKey) -> AsyncIterator[None]:
        """Hold `key`'s conversation against other processes using this store; a store only
        one process uses (memory, SQLite, whose folder lock refuses a second) has nothing to
        hold: the process's own lock per key is enough."""
        yield

    async def lead(self, role: str) -> bool:
        """Try to become the one process that does `role` (polls, runs periodic work), for as
        long as this store stays open; True for the only process of an unshared store."""
        return True

    async def inbox_handled(self, update_id: int) -> bool:
        """Whether another process already handled this update (a shared store: a webhook
        retried to another replica, or replayed by one starting beside the one handling it).
        A store one process uses hands each update out once: never."""
        return False

    async def earlier_pending(self, key: SessionKey, update_id: int) -> bool:
        """Whether an earlier update of the same conversation, received by another process,
        is still unhandled (a shared store: its turn must come first). Never, for one
        process's store, where updates of one conversation queue in the order received."""
        return False

    async def claim_updates(
        self, replica: int, limit: int = 50, fresh_for: float = 60.0
    ) -> list[tuple[int, str]]:
        """Updates for `replica` to handle (a shared store: the poller keeps what it fetched
        in the inbox, and every replica takes its share; see PostgresStore). None for one
        process's store, which handles what it receives itself."""
        return []

    @abstractmethod
    async def load(self, key: SessionKey) -> Session | None:
        """The session under `key`, or None when there is none or it has expired."""

    @abstractmethod
    async def save_turn(
        self,
        key: SessionKey,
        session: Session | None,
        outcomes: Sequence[Outcome],
        at: float,
        writes: TurnWrites | None = None,
    ) -> list[int]:
        """Save the session (None: leave it as it is), append its outcomes and do `writes`,
        all or nothing; return
        the ids of the outbox rows written, in order. An unanswered message is kept only
        when unanswered messages are kept at all (`keep_unanswered_for`)."""

    @abstractmethod
    async def record(self, key: SessionKey, outcomes: Sequence[Outcome], at: float) -> None:
        """Append outcomes that no turn produced (a chat service refusing a message, say)."""

    # -- messages the content had no clear walk for -----------------------------------------

    async def keep_unanswered(self, unanswered: Unanswered, at: float) -> None:
        """Keep a message that got a question or a refusal, unless none are kept."""
        if self.keep_unanswered_for > 0:
            await self._add_unanswered(unanswered, at)

    @abstractmethod
    async def _add_unanswered(self, unanswered: Unanswered, at: float) -> None:
        """Append one unanswered message."""

    @abstractmethod
    async def unanswered(self) -> list[UnansweredRow]:
        """The unanswered messages kept, oldest first."""

    # -- cases handed to a person from support ---------------------------------------------

    @abstractmethod
    async def case_open(self, case: Case) -> Case:
        """Keep a new case; it is returned with its number (the next one; `case.id` is
        ignored)."""

    @abstractmethod
    async def case_save(self, case: Case) -> None:
        """Save a case's new state."""

    @abstractmethod
    async def case(self, case_id: int) -> Case | None:
        """The case with this number."""

    @abstractmethod
    async def case_of(self, key: SessionKey, open_only: bool = True) -> Case | None:
        """The open case of a person's conversation, if there is one; with `open_only`
        False, their latest case, closed or not."""

    @abstractmethod
    async def case_link(self, case_id: int, staff_chat_id: int, message_id: int) -> None:
        """Remember that a message in the staff chat (the card, a copy of what the person
        sent) belongs to a case, so that a reply to it reaches the person."""

    @abstractmethod
    async def case_in(
        self, staff_chat_id: int, thread_id: int | None, replied_to: int | None
    ) -> Case | None:
        """The case a staff message belongs to: the latest case of its forum topic, or the
        case of the message it replies to."""

    @abstractmethod
    async def cases_waiting(self, opened_before: float) -> list[Case]:
        """Open cases nobody from support has answered, opened before the given time, not
        yet reminded of; oldest first."""

    @abstractmethod
    async def delete(self, key: SessionKey) -> None:
        """Forget the session under `key` (its outcomes stay)."""

    @abstractmethod
    async def outcomes(
        self, key: SessionKey | None = None, since: float | None = None
    ) -> list[OutcomeRow]:
        """Recorded outcomes, oldest first; only `key`'s when given, only those at or after
        `since` when given."""

    # -- the inbox: updates received but not yet handled ---------------------------------------

    @abstractmethod
    async def group_settings(self, chat_id: int) -> GroupSettings:
        """What the group's admins chose; the defaults when they never chose anything."""

    @abstractmethod
    async def group_settings_save(self, chat_id: int, settings: GroupSettings, at: float) -> None:
        """Keep the group's settings (they survive restarts)."""

    @abstractmethod
    async def language_of(self, user_id: int) -> str | None:
        """The language a person chose (/language), or None if they never chose."""

    @abstractmethod
    async def last_offers(self, chat_id: int, user_id: int) -> LastOffers:
        """When the bot last spoke up unasked in the group, to anyone and to this person (a
        day back at most: offers older than that are purged)."""

    @abstractmethod
    async def offer_made(self, chat_id: int, user_id: int, at: float) -> None:
        """The bot spoke up unasked in the group, to this person."""

    @abstractmethod
    async def claim(self, name: str, at: float) -> bool:
        """Take the right to do `name` once (the digest of one week): True for the first
        caller ever, False for every later one, across restarts."""

    @abstractmethod
    async def claim_for(self, name: str, holder: int, at: float) -> tuple[int, bool]:
        """Take `name` for `holder` if nobody holds it: who holds it now, and whether this
        call took it."""

    @abstractmethod
    async def unclaim(self, name: str) -> None:
        """Give a claim back: doing it failed, so it may be tried again."""

    @abstractmethod
    async def inbox_add(
        self,
        update_id: int,
        data: str,
        at: float,
        fingerprint: str = "",
        key: SessionKey | None = None,
    ) -> bool:
        """Keep a received update until it is handled; False when this id was seen before
        with the same `fingerprint` (a redelivery), in which case nothing is kept. An id seen
        before with another fingerprint is a new update (a Bot API that numbers afresh, as
        Telegram does after a quiet week): it replaces the old one's row. `key`: whose
        conversation it is, when known (a shared store orders turns by it)."""

    @abstractmethod
    async def inbox_done(self, update_id: int) -> None:
        """The update has been handled: never hand it out again. Only its id and when it
        came are kept from then on (to recognise a redelivery), never its text."""

    @abstractmethod
    async def inbox_seen(self) -> dict[int, str]:
        """Every update id the inbox remembers, handled or not (the last day's), with the
        fingerprint it came with."""

    @abstractmethod
    async def inbox_pending(self, before: float | None = None) -> list[tuple[int, str]]:
        """Updates received but not handled (a crash or a stop came between), oldest first;
        only those received before `before`, when given (what a dead replica left)."""

    # -- the outbox: what committed turns asked the chat service to do ---------------------

    @abstractmethod
    async def outbox_done(self, ids: Sequence[int]) -> None:
        """These rows were done (or refused for good): never hand them out again."""

    @abstractmethod
    async def outbox_pending(self, before: float | None = None) -> list[OutboxRow]:
        """Rows not yet confirmed done (a crash came between), in the order written; only
        those written before `before`, when given (what a dead replica left)."""

    @abstractmethod
    async def purge_expired(self) -> int:
        """Delete expired sessions (not those with support: `Session.lasting`), outcomes and
        closed cases older than `keep_outcomes`, unanswered messages older than
        `keep_unanswered_for`, and handled updates older than a day; return how many
        sessions went."""

    @abstractmethod
    async def close(self) -> None:
        """Release connections; the store is unusable afterwards."""

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
