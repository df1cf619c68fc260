"""A case handed to a person from support: whose it is, where the staff see it, how it ended.

Plain data, like `session`: the store keeps cases, the engine never sees one (it only learns
that a case opened, was solved, or was handed back), and a transport turns a case into a
topic and a card in the staff chat. Imports nothing from `bot/` but `session`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from bot.session import SessionKey


class CaseState(StrEnum):
    OPEN = "open"
    """Waiting for someone from support to answer."""
    WITH_STAFF = "with_staff"
    """Someone from support has answered; they own it until it is solved or handed back."""
    CLOSED = "closed"


class ClosedAs(StrEnum):
    SOLVED = "solved"
    """Staff pressed Solved."""
    RETURNED = "returned"
    """Staff pressed Back to fixbot."""
    CANCELLED = "cancelled"
    """The person sent /cancel."""
    UNREACHABLE = "unreachable"
    """The person blocked the bot, or deleted their account: nothing can reach them."""
    STAFF_GONE = "staff_gone"
    """The staff chat refused the bot (removed from it, the chat deleted)."""


@dataclass(frozen=True)
class Person:
    """Who asked for help, as the staff should see them."""

    id: int
    name: str
    username: str | None = None
    language: str | None = None


@dataclass(frozen=True)
class Case:
    """One hand-over. `key` is the person's private conversation with the bot, where the
    relay runs; `walk_key` is where their walk happened (a group, or the same chat)."""

    id: int
    key: SessionKey
    person: Person
    opened_at: float
    staff_chat_id: int
    walk_key: SessionKey | None = None
    state: CaseState = CaseState.OPEN
    closed_as: ClosedAs | None = None
    closed_at: float | None = None
    intent: str | None = None
    complaint: str | None = None
    confidence: float | None = None
    thread_id: int | None = None
    """The case's forum topic in the staff chat; None when the staff chat has no topics."""
    card_message_id: int | None = None
    topic_refused: bool = False
    """Telegram refused the case a topic: it is a card thread in the staff chat."""
    told: bool = False
    """The person was told that support has the case (once, whatever replays come)."""
    answered_by: str | None = None
    answered_at: float | None = None
    reminded: bool = False
    notes: tuple[str, ...] = field(default=())
    """Things the staff should know that happened on the case (a message not delivered)."""

    @property
    def is_open(self) -> bool:
        return self.state is not CaseState.CLOSED

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["key"] = str(self.key)
        data["walk_key"] = str(self.walk_key) if self.walk_key else None
        data["notes"] = list(self.notes)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Case:
        walk_key = data.get("walk_key")
        closed_as = data.get("closed_as")
        return cls(
            **{
                **data,
                "key": SessionKey.parse(data["key"]),
                "walk_key": SessionKey.parse(walk_key) if walk_key else None,
                "person": Person(**data["person"]),
                "state": CaseState(data["state"]),
                "closed_as": ClosedAs(closed_as) if closed_as else None,
                "notes": tuple(data.get("notes", ())),
            }
        )
