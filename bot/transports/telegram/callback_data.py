"""The one codec for Telegram's `callback_data`: a `Press` and the user who owns the button,
a `CasePress` on a case card in the staff chat, or a `PanelPress` on a group's settings.

Nothing else in fixbot parses callback data. Telegram allows 1-64 bytes; the formats are

    f1|<action>|<revision>|<value>|<owner user id>
    c1|<case action>|<case id>
    g1|<group setting>|<forum topic>

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
PANEL_PREFIX: Final = "g1"
PANEL_SETTINGS: Final = {
    "o": "overhear",
    "c": "cooldown",
    "p": "private",
    "q": "quiet",
    "t": "topic",
    "l": "language",
}
"""The group settings panel's buttons: the code in callback data, the setting it changes."""
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


@dataclass(frozen=True)
class PanelPress:
    """A press on a group's settings panel: which setting, and the forum topic the panel
    was opened in (GENERAL, 0, outside topics)."""

    setting: str
    topic: int = 0


def encode_panel(press: PanelPress) -> str:
    code = next(c for c, name in PANEL_SETTINGS.items() if name == press.setting)
    return SEPARATOR.join((PANEL_PREFIX, code, str(press.topic)))


def decode_panel(data: str | None) -> PanelPress | None:
    """A settings panel's button, or None for anything else."""
    if not data or len(data.encode()) > MAX_BYTES:
        return None
    parts = data.split(SEPARATOR)
    if len(parts) != 3 or parts[0] != PANEL_PREFIX or parts[1] not in PANEL_SETTINGS:
        return None
    if not parts[2].isdigit() or len(parts[2]) > 12:
        return None
    return PanelPress(PANEL_SETTINGS[parts[1]], int(parts[2]))


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
