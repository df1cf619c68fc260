"""What comes into the engine and what goes out of it: events, presses, buttons, replies.

Plain data that every transport speaks. A reply is text plus buttons, and each button
carries the `Press` it produces, so a transport only has to render replies and hand presses
back. Imports nothing from `bot/` but `session`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Final

from bot.session import Outcome, Session, Unanswered


class Action(StrEnum):
    """What a button does. The values are short: they travel in Telegram's callback data."""

    DONE = "d"
    FAILED = "x"
    SKIP = "s"
    BACK = "b"
    STOP = "q"
    CHOOSE = "c"
    CONFIRM = "k"
    FIXED = "y"
    NOT_FIXED = "n"
    RATE = "r"
    PICK = "p"
    TOPICS = "t"
    SWITCH = "w"
    KEEP = "g"
    RESUME = "u"
    HUMAN = "h"
    LANGUAGE = "l"


TIMELESS_ACTIONS: Final = frozenset({Action.PICK, Action.TOPICS, Action.HUMAN, Action.LANGUAGE})
"""Buttons that start something new are valid whenever they are pressed; the others belong
to one moment of the walk and are stale once it has moved on."""

FIX_TARGET: Final = "fix:"
_LANGUAGE_CODE: Final = re.compile(r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$")


@dataclass(frozen=True)
class Target:
    """What a topic button starts: an intent's walk, or one fix on its own."""

    id: str
    is_fix: bool = False

    def format(self) -> str:
        return f"{FIX_TARGET}{self.id}" if self.is_fix else self.id

    @classmethod
    def parse(cls, text: str) -> Target:
        if text.startswith(FIX_TARGET):
            return cls(text.removeprefix(FIX_TARGET), is_fix=True)
        return cls(text)


PressValue = int | Target | str | None
"""What a press carries besides its action: the number of a choice (CHOOSE), a rating from
1 to 5 or None for "no thanks" (RATE), what to start (PICK), a language's code (LANGUAGE), or
nothing."""


@dataclass(frozen=True)
class Press:
    """What a button says when pressed: the action, the walk revision it was made for, and
    the value its action needs."""

    action: Action
    revision: int
    value: PressValue = None

    @property
    def target(self) -> Target | None:
        return self.value if isinstance(self.value, Target) else None

    @property
    def number(self) -> int | None:
        return self.value if isinstance(self.value, int) else None

    @property
    def language(self) -> str | None:
        return self.value if isinstance(self.value, str) else None

    def format_value(self) -> str:
        """The value as text, for a transport that must carry it (Telegram's callback data)."""
        if isinstance(self.value, Target):
            return self.value.format()
        return "" if self.value is None else str(self.value)

    @classmethod
    def parse(cls, action: Action, revision: int, value: str) -> Press:
        """The press `format_value` wrote; ValueError for a value its action cannot carry."""
        if action is Action.PICK:
            if not value:
                raise ValueError("a pick names what to start")
            return cls(action, revision, Target.parse(value))
        if action is Action.LANGUAGE:
            if not _LANGUAGE_CODE.match(value):
                raise ValueError(f"{value!r} is not a language code")
            return cls(action, revision, value)
        if action in (Action.CHOOSE, Action.RATE):
            if value == "" and action is Action.RATE:
                return cls(action, revision, None)
            if not value.isdigit():
                raise ValueError(f"{value!r} is not a number")
            return cls(action, revision, int(value))
        if value:
            raise ValueError(f"action {action.name} carries no value")
        return cls(action, revision)


class CaseAction(StrEnum):
    """What a button on a case card in the staff chat does."""

    SOLVED = "s"
    RETURN = "r"


@dataclass(frozen=True)
class CasePress:
    """A press on a case card: the action and the case it is for."""

    action: CaseAction
    case_id: int


class CaseNews(StrEnum):
    """What happened to a person's case, told to their conversation."""

    OPENED = "opened"
    """A person from support has the case now."""
    UNAVAILABLE = "unavailable"
    """The staff chat could not be reached: the case did not open."""
    SOLVED = "solved"
    RETURNED = "returned"
    """Staff handed the person back to the bot."""
    STAFF_GONE = "staff_gone"
    """The staff chat can no longer be reached: the case closed, the walk is given back."""


class CaseRequest(StrEnum):
    """What a turn asks of the staff desk."""

    OPEN = "open"
    CLOSE = "close"


@dataclass(frozen=True)
class TextReceived:
    text: str
    at: float
    language: str | None = None
    """The language to answer in (a code the content speaks); None: the session's own."""


@dataclass(frozen=True)
class CommandReceived:
    """A slash command, already stripped of '/' and any @botname; lower-case."""

    command: str
    argument: str
    at: float
    language: str | None = None
    """The language to answer in (a code the content speaks); None: the session's own."""


@dataclass(frozen=True)
class ButtonPressed:
    press: Press
    at: float
    language: str | None = None
    """The language to answer in (a code the content speaks); None: the session's own."""


@dataclass(frozen=True)
class OtherReceived:
    """Something that is not text: a sticker, a photo, a voice note, a file."""

    kind: str
    at: float
    language: str | None = None
    """The language to answer in (a code the content speaks); None: the session's own."""


@dataclass(frozen=True)
class CaseChanged:
    """News of the person's case from the staff desk. On OPENED, `walk` is the session of the
    walk the case is about when it happened in another chat (a group): the person's private
    conversation takes it over, so that "Back to fixbot" continues it there."""

    news: CaseNews
    at: float
    walk: Session | None = None
    language: str | None = None
    """The language to answer in (a code the content speaks); None: the session's own."""


Event = TextReceived | CommandReceived | ButtonPressed | OtherReceived | CaseChanged


@dataclass(frozen=True)
class Button:
    """A button: it either produces a `press` or opens a `url`."""

    label: str
    press: Press | CasePress | None = None
    url: str | None = None


@dataclass(frozen=True)
class Reply:
    """One message: text in the content's markup (**bold**), rows of buttons, and a short
    `notice` for the person who pressed a button (a toast on Telegram)."""

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    notice: str | None = None

    def stamped(self, revision: int) -> Reply:
        """The same reply with `revision` on every button's press (views draw them with 0)."""
        rows = tuple(
            tuple(
                replace(b, press=replace(b.press, revision=revision))
                if isinstance(b.press, Press)
                else b
                for b in row
            )
            for row in self.buttons
        )
        return replace(self, buttons=rows)


@dataclass(frozen=True)
class Turn:
    """What one event did: the new session, the replies to show, the outcomes to record, and
    what it asks of the staff desk: to open or close the person's case (`case_source` names
    the chat of a walk handed over from elsewhere), or to `relay` the message to the staff."""

    session: Session
    replies: tuple[Reply, ...]
    outcomes: tuple[Outcome, ...] = ()
    case_request: CaseRequest | None = None
    case_source: str | None = None
    relay: bool = False
    unanswered: Unanswered | None = None
    language: str | None = None
    """The language the person chose in this turn (/language), to keep for them."""
    """A message the content had no clear walk for, to keep for its authors."""
