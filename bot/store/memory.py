"""A store in a dict: for tests, benchmarks and throwaway runs. Loses everything on exit."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from bot.cases import Case, CaseState
from bot.groups import GroupSettings, LastOffers
from bot.session import Outcome, Session, SessionKey, Unanswered
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
)


class MemoryStore(Store):
    """Sessions are kept as dicts, as a real backend would serialise them."""

    def __init__(
        self,
        ttl: float = DEFAULT_TTL,
        clock: Callable[[], float] | None = None,
        keep_outcomes: float = DEFAULT_KEEP_OUTCOMES,
        keep_unanswered: float = DEFAULT_KEEP_UNANSWERED,
    ):
        super().__init__(ttl, clock, keep_outcomes, keep_unanswered)
        self._unanswered: list[UnansweredRow] = []
        self._done_once: dict[str, float] = {}
        self._holders: dict[str, int] = {}
        self._groups: dict[int, dict[str, Any]] = {}
        self._languages: dict[int, str] = {}
        self._offers: dict[tuple[int, int], float] = {}
        self._sessions: dict[SessionKey, dict[str, Any]] = {}
        self._outcomes: list[OutcomeRow] = []
        self._inbox: dict[int, tuple[str, float, bool]] = {}
        """update id -> (data, received at, handled)."""
        self._outbox: dict[int, OutboxRow] = {}
        self._fingerprints: dict[int, str] = {}
        self._outbox_at: dict[int, float] = {}
        self._outbox_last = 0
        self._cases: dict[int, Case] = {}
        self._case_messages: dict[tuple[int, int], int] = {}

    async def load(self, key: SessionKey) -> Session | None:
        data = self._sessions.get(key)
        if data is None:
            return None
        session = Session.from_dict(dict(data))
        if self.expired(session.updated_at) and not session.lasting:
            del self._sessions[key]
            return None
        return session

    async def save_turn(
        self,
        key: SessionKey,
        session: Session | None,
        outcomes: Sequence[Outcome],
        at: float,
        writes: TurnWrites | None = None,
    ) -> list[int]:
        writes = writes or TurnWrites()
        if session is not None:
            self._sessions[key] = session.to_dict()
        self._outcomes.extend(OutcomeRow(key, at, o) for o in outcomes)
        if writes.update_id is not None:
            await self.inbox_done(writes.update_id)
        if writes.case is not None:
            await self.case_save(writes.case)
        if writes.unanswered is not None:
            await self.keep_unanswered(writes.unanswered, at)
        if writes.language is not None:
            self._languages[key.user_id] = writes.language
        ids = []
        for data in writes.outbox:
            row = OutboxRow(self._outbox_last + 1, key, data)
            self._outbox[row.id] = row
            self._outbox_at[row.id] = at
            self._outbox_last = row.id
            ids.append(row.id)
        return ids

    async def outbox_done(self, ids: Sequence[int]) -> None:
        for row_id in ids:
            self._outbox.pop(row_id, None)

    async def outbox_pending(self, before: float | None = None) -> list[OutboxRow]:
        limit = float("inf") if before is None else before
        return [self._outbox[i] for i in sorted(self._outbox) if self._outbox_at[i] < limit]

    async def record(self, key: SessionKey, outcomes: Sequence[Outcome], at: float) -> None:
        self._outcomes.extend(OutcomeRow(key, at, o) for o in outcomes)

    async def delete(self, key: SessionKey) -> None:
        self._sessions.pop(key, None)

    async def outcomes(
        self, key: SessionKey | None = None, since: float | None = None
    ) -> list[OutcomeRow]:
        return [
            row
            for row in self._outcomes
            if (key is None or row.key == key) and (since is None or row.at >= since)
        ]

    async def _add_unanswered(self, unanswered: Unanswered, at: float) -> None:
        self._unanswered.append(UnansweredRow(at, unanswered))

    async def unanswered(self) -> list[UnansweredRow]:
        return list(self._unanswered)

    async def case_open(self, case: Case) -> Case:
        case = replace(case, id=max(self._cases, default=0) + 1)
        self._cases[case.id] = case
        return case

    async def case_save(self, case: Case) -> None:
        self._cases[case.id] = case

    async def case(self, case_id: int) -> Case | None:
        return self._cases.get(case_id)

    async def case_of(self, key: SessionKey, open_only: bool = True) -> Case | None:
        cases = [c for c in self._cases.values() if c.key == key and (c.is_open or not open_only)]
        return max(cases, key=lambda c: c.id) if cases else None

    async def case_link(self, case_id: int, staff_chat_id: int, message_id: int) -> None:
        self._case_messages[(staff_chat_id, message_id)] = case_id

    async def case_in(
        self, staff_chat_id: int, thread_id: int | None, replied_to: int | None
    ) -> Case | None:
        if thread_id is not None:
            in_topic = [
                c
                for c in self._cases.values()
                if c.staff_chat_id == staff_chat_id and c.thread_id == thread_id
            ]
            if in_topic:
                return max(in_topic, key=lambda c: c.id)
        found = self._case_messages.get((staff_chat_id, replied_to or 0))
        return self._cases.get(found) if found is not None else None

    async def cases_waiting(self, opened_before: float) -> list[Case]:
        return sorted(
            (
                c
                for c in self._cases.values()
                if c.state is CaseState.OPEN and not c.reminded and c.opened_at < opened_before
            ),
            key=lambda c: c.id,
        )

    async def purge_expired(self) -> int:
        lasting = {k for k, v in self._sessions.items() if Session.from_dict(dict(v)).lasting}
        gone = [
            k
            for k, v in self._sessions.items()
            if self.expired(v["updated_at"]) and k not in lasting
        ]
        for key in gone:
            del self._sessions[key]
        cutoff = self.clock() - self.keep_outcomes
        self._outcomes = [row for row in self._outcomes if row.at >= cutoff]
        forget_words = self.clock() - self.keep_unanswered_for
        self._unanswered = [row for row in self._unanswered if row.at >= forget_words]
        old = {i for i, c in self._cases.items() if not c.is_open and (c.closed_at or 0) < cutoff}
        self._cases = {i: c for i, c in self._cases.items() if i not in old}
        self._case_messages = {k: v for k, v in self._case_messages.items() if v not in old}
        forget = self.clock() - INBOX_MEMORY
        self._inbox = {k: v for k, v in self._inbox.items() if not (v[2] and v[1] < forget)}
        self._offers = {k: at for k, at in self._offers.items() if at >= forget}
        self._outbox = {i: row for i, row in self._outbox.items() if self._outbox_at[i] >= forget}
        self._outbox_at = {i: self._outbox_at[i] for i in self._outbox}
        return len(gone)

    async def group_settings(self, chat_id: int) -> GroupSettings:
        return GroupSettings.from_dict(self._groups.get(chat_id))

    async def group_settings_save(self, chat_id: int, settings: GroupSettings, at: float) -> None:
        self._groups[chat_id] = settings.to_dict()

    async def language_of(self, user_id: int) -> str | None:
        return self._languages.get(user_id)

    async def last_offers(self, chat_id: int, user_id: int) -> LastOffers:
        here = {user: at for (chat, user), at in self._offers.items() if chat == chat_id}
        return LastOffers(max(here.values(), default=None), here.get(user_id))

    async def offer_made(self, chat_id: int, user_id: int, at: float) -> None:
        self._offers[(chat_id, user_id)] = at

    async def claim(self, name: str, at: float) -> bool:
        if name in self._done_once:
            return False
        self._done_once[name] = at
        return True

    async def claim_for(self, name: str, holder: int, at: float) -> tuple[int, bool]:
        if name in self._holders:
            return self._holders[name], False
        self._holders[name] = holder
        self._done_once[name] = at
        return holder, True

    async def unclaim(self, name: str) -> None:
        self._holders.pop(name, None)
        self._done_once.pop(name, None)

    async def inbox_add(
        self,
        update_id: int,
        data: str,
        at: float,
        fingerprint: str = "",
        key: SessionKey | None = None,
    ) -> bool:
        if update_id in self._inbox and self._fingerprints.get(update_id, "") == fingerprint:
            return False
        self._inbox[update_id] = (data, at, False)
        self._fingerprints[update_id] = fingerprint
        return True

    async def inbox_done(self, update_id: int) -> None:
        if update_id in self._inbox:
            _, at, _ = self._inbox[update_id]
            self._inbox[update_id] = ("", at, True)

    async def inbox_seen(self) -> dict[int, str]:
        return {i: self._fingerprints.get(i, "") for i in sorted(self._inbox)}

    async def inbox_pending(self, before: float | None = None) -> list[tuple[int, str]]:
        limit = float("inf") if before is None else before
        return sorted((k, v[0]) for k, v in self._inbox.items() if not v[2] and v[1] < limit)

    async def close(self) -> None:
        """Nothing to release."""
