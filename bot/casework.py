"""The case workflow as pure rules: what opening, an answer, a close or a due reminder does
to a case, and what the staff chat and the person must be told.

Each rule takes a case (and the moment) and returns a `Move`: the case as it is afterwards,
the news for the person's conversation, and what to do in the staff chat. Nothing here sends
or stores anything; the staff desk of a chat service carries a move out, as the group rules in
`bot.groups` are carried out by the group control. Imports nothing from `bot/` but `cases`,
`hours`, `session` and `events`' plain enums.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from bot.cases import Case, CaseState, ClosedAs
from bot.events import CaseNews
from bot.hours import BusinessHours
from bot.session import STAFF_MARK, Outcome


class Note(StrEnum):
    """A line the staff chat gets about a case (its words are the wording's `staff_<note>`)."""

    CANCELLED = "cancelled"
    UNREACHABLE = "unreachable"
    RATED = "rated"
    STILL_BROKEN = "still_broken"
    REMINDER = "reminder"


class Opening(StrEnum):
    """What a case still lacks to be open in full; opening does these in this order, and a
    replayed opening starts at the first one not done."""

    TOPIC = "topic"
    """Its forum topic in the staff chat (when the staff chat gives cases topics)."""
    CARD = "card"
    """Its card: who asks, about what, and the buttons to close it."""
    TELL = "tell"
    """The person is told, once, that a person from support has the case."""
    DONE = "done"


@dataclass(frozen=True)
class Move:
    """What a rule did to a case and what must follow from it."""

    case: Case
    news: CaseNews | None = None
    """What the person's conversation is told, if anything."""
    note: Note | None = None
    """A line for the staff chat, if any."""
    refresh_card: bool = False
    close_topic: bool = False


def next_opening(case: Case, topics: bool) -> Opening:
    """The first thing opening `case` has not done yet (`topics`: whether the staff chat
    gives cases topics)."""
    if topics and case.thread_id is None and not case.topic_refused:
        return Opening.TOPIC
    if case.card_message_id is None:
        return Opening.CARD
    if not case.told:
        return Opening.TELL
    return Opening.DONE


def topic_made(case: Case, thread_id: int | None) -> Case:
    """The case's topic exists (`thread_id`), or was refused (None): keep that at once."""
    if thread_id is None:
        return replace(case, topic_refused=True)
    return replace(case, thread_id=thread_id)


def told(case: Case) -> Case:
    return replace(case, told=True)


def answered_by_staff(case: Case, name: str, at: float) -> Move:
    """Someone from support wrote to the person: the first answer takes the case."""
    if case.state is not CaseState.OPEN:
        return Move(case)
    taken = replace(case, state=CaseState.WITH_STAFF, answered_by=name, answered_at=at)
    return Move(taken, refresh_card=True)


def closed_by_staff(case: Case, solved: bool, name: str, at: float) -> Move:
    """Solved, or Back to fixbot, pressed on the card."""
    how = ClosedAs.SOLVED if solved else ClosedAs.RETURNED
    closed = _closed(replace(case, answered_by=case.answered_by or name), how, at, by=name)
    news = CaseNews.SOLVED if solved else CaseNews.RETURNED
    return Move(closed, news, refresh_card=True, close_topic=True)


def cancelled_by_person(case: Case, at: float) -> Move:
    """The person sent /cancel (their conversation has already left the case)."""
    closed = _closed(case, ClosedAs.CANCELLED, at)
    return Move(closed, note=Note.CANCELLED, refresh_card=True, close_topic=True)


def person_unreachable(case: Case, at: float) -> Move:
    """Nothing reaches the person (they blocked the bot): the case closes, and their
    conversation is handed back so it never waits for support forever."""
    closed = _closed(case, ClosedAs.UNREACHABLE, at)
    return Move(closed, CaseNews.RETURNED, Note.UNREACHABLE, refresh_card=True, close_topic=True)


def unreachable_after_close(case: Case) -> Case:
    """The case closed, but the person could not be told: say so on its card."""
    return replace(case, closed_as=ClosedAs.UNREACHABLE)


def staff_chat_gone(case: Case, at: float) -> Move:
    """The staff chat refuses the bot (it was removed, the chat deleted): the case cannot
    go on, and the person gets their walk back, told once."""
    return Move(_closed(case, ClosedAs.STAFF_GONE, at), CaseNews.STAFF_GONE)


def reminder_due(
    case: Case, now: float, remind_after: float, hours: BusinessHours | None = None
) -> bool:
    """Whether the staff chat should be reminded of `case` now: open, unanswered and never
    reminded, waiting longer than `remind_after`, counted from the opening of business
    hours when it opened outside them (and never outside business hours)."""
    if case.state is not CaseState.OPEN or case.reminded:
        return False
    if hours is not None and not hours.is_open(now):
        return False
    start = hours.next_opening(case.opened_at).timestamp() if hours else case.opened_at
    return now - start >= remind_after


def reminded(case: Case) -> Move:
    return Move(replace(case, reminded=True), note=Note.REMINDER)


def after_outcome(outcome: Outcome) -> tuple[Note, int | None] | None:
    """What the staff hear of how the person took a solved case: their rating (with its
    stars), or that it is still broken; None for any other outcome."""
    if outcome.result == "rated_staff" and outcome.value and outcome.value.isdigit():
        return Note.RATED, int(outcome.value)
    if outcome.result == "not_resolved" and outcome.value == STAFF_MARK:
        return Note.STILL_BROKEN, None
    return None


def _closed(case: Case, how: ClosedAs, at: float, by: str | None = None) -> Case:
    return replace(
        case,
        state=CaseState.CLOSED,
        closed_as=how,
        closed_at=at,
        answered_by=by or case.answered_by,
    )
