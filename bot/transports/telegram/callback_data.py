"""The one codec for Telegram's `callback_data`: a `Press` and the user who owns the button.

Nothing else in fixbot parses callback data. Telegram allows 1-64 bytes; the format is

    f1|<action>|<revision>|<value>|<owner user id>

and anything that does not decode exactly (garbage, an old format, a forged action) is
`None`, which the handlers answer politely.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from bot.events import Action, Press

PREFIX: Final = "f1"
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
