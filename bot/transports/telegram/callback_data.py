"""The one codec for Telegram's `callback_data`: a `Press` and the user who owns the button,
or a `CasePress` on a case card in the staff chat.

Nothing else in fixbot parses callback data. Telegram allows 1-64 bytes; the formats are

    f1|<action>|<revision>|<value>|<owner user id>
    c1|<case action>|<case id>

and anything that does not decode exactly (garbage, an old format, a forged action) is
`None`, which the handlers answer politely.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from bot.events import Action, CaseAction, CasePress, Press

PREFIX: Final = "f1"
CASE_PREFIX: Final = "c1"
SEPARATOR: Final = "|"
MAX_BYTES: Final = 64
_VALUE: Final = re.compile(r"^[a-z0-9_:]{0,32}$")


class CallbackDataTooLong(ValueError):
    """A button would carry more than Telegram's 64 bytes."""


@dataclass(frozen=True)
class ButtonData:
    press: Press
    owner: int


def encode(press: Press, owner: int) -> str:
    value = press.format_value()
    if not _VALUE.match(value):
        raise ValueError(f"button value {value!r} cannot travel in callback data")
    data = SEPARATOR.join((PREFIX, press.action.value, str(press.revision), value, str(owner)))
    if len(data.encode()) > MAX_BYTES:
        raise CallbackDataTooLong(f"{len(data.encode())} bytes: {data!r}")
    return data


def encode_case(press: CasePress) -> str:
    return SEPARATOR.join((CASE_PREFIX, press.action.value, str(press.case_id)))


def decode_case(data: str | None) -> CasePress | None:
    """A case card's button, or None for anything else (a walk's button, garbage)."""
    if not data or len(data.encode()) > MAX_BYTES:
        return None
    parts = data.split(SEPARATOR)
    if len(parts) != 3 or parts[0] != CASE_PREFIX or not parts[2].isdigit():
        return None
    try:
        return CasePress(CaseAction(parts[1]), int(parts[2]))
    except ValueError:
        return None


def decode(data: str | None) -> ButtonData | None:
    if not data or len(data.encode()) > MAX_BYTES:
        return None
    parts = data.split(SEPARATOR)
    if len(parts) != 5 or parts[0] != PREFIX:
        return None
    _, action, revision, value, owner = parts
    try:
        if not _VALUE.match(value) or int(revision) < 0:
            return None
        press = Press.parse(Action(action), int(revision), value)
        owner_id = int(owner)
    except ValueError:
        return None
    return ButtonData(press, owner_id)
