"""Deep links: the one codec for /start payloads (`t.me/<bot>?start=<payload>`).

Telegram carries at most 64 characters of A-Z, a-z, 0-9, `_` and `-` in a payload. Three kinds
travel in one:

- a **walk** moved elsewhere ("Continue in private chat"): the intent, the plan of fixes, which
  fix is under way, the stage and step, the steps passed (for Back) and the fixes tried, all as
  indexes into the catalog, with a check of the catalog they were made with;
- a **person** asked for from a group (`human-<chat>[-<topic>]`): whose walk the case is about;
- a **fix** by name (`fix_<fix or topic>[-<step>]`), the form content authors write by hand.

Pure: it knows the catalog and the session, nothing of Telegram. Nothing else in `bot/` builds
or parses a payload.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from typing import Final

from bot.catalog import Catalog
from bot.session import DEEP_LINK_PREFIX, HUMAN_LINK, IN_A_FIX, Session, SessionKey, Stage

MAX_PAYLOAD: Final = 64
"""Telegram's limit on a /start payload."""
_DIGITS: Final = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_WALK: Final = "w"
_STAGES: Final = (Stage.STEP, Stage.CAUTION, Stage.DID_IT_HELP)
_SOURCE: Final = re.compile(r"^(m?)(\d{1,19})(?:-(\d{1,12}))?$")
_PAYLOAD: Final = re.compile(r"^[A-Za-z0-9_-]{0,64}$")


@dataclass(frozen=True)
class WalkLink:
    """A walk as it stood where the link was made."""

    stage: Stage
    intent: str | None
    plan: tuple[str, ...]
    fix_index: int
    step: str
    path: tuple[str, ...] = ()
    tried: tuple[str, ...] = ()


@dataclass(frozen=True)
class HumanLink:
    """A person from support asked for; `chat_id` (and `topic_id`) name the group where the
    walk the case is about happened, when the link came from one."""

    chat_id: int | None = None
    topic_id: int | None = None

    @property
    def source(self) -> str | None:
        """The group's part of the payload (`m100123-7`), for the desk."""
        if self.chat_id is None:
            return None
        chat = f"m{-self.chat_id}" if self.chat_id < 0 else str(self.chat_id)
        return chat if self.topic_id is None else f"{chat}-{self.topic_id}"

    def walk_key(self, key: SessionKey) -> SessionKey:
        """Where the walk of the person under `key` is: the group's, or `key` itself."""
        if self.chat_id is None:
            return key
        return SessionKey(self.chat_id, key.user_id, self.topic_id)  # only their own walk


@dataclass(frozen=True)
class FixLink:
    """A fix or topic by name, maybe at a step: `fix_wifi`, `fix_join_network-step_2`."""

    topic: str
    step: str | None = None


Link = WalkLink | HumanLink | FixLink


# -- making links --------------------------------------------------------------------------------


def walk_link(session: Session, catalog: Catalog) -> str:
    """A payload that continues `session`'s walk elsewhere, whole: within 64 characters, or,
    for a very long walk, without its Back history, or at the least its fix and step."""
    stage = session.resume_stage if session.stage not in IN_A_FIX else session.stage
    fix_id, step = session.fix_id, session.step
    if stage not in _STAGES or fix_id is None or step is None or fix_id not in catalog.fixes:
        return "start"
    fixes, intents = sorted(catalog.fixes), sorted(catalog.intents)
    steps = [s.id for s in catalog.fix(fix_id).steps]
    if any(f not in catalog.fixes for f in session.plan) or step not in steps:
        return _fix_payload(fix_id, step)
    intent = _number(intents.index(session.intent), 2) if session.intent in intents else ""
    plan = "".join(_number(fixes.index(f), 2) for f in session.plan)
    tried = sum(1 << n for n, f in enumerate(session.plan) if f in session.tried)
    path = "".join(_number(steps.index(s), 2) for s in session.path if s in steps)
    fields = [
        _WALK + _check(catalog, fix_id),
        intent,
        plan,
        _number(session.fix_index),
        str(_STAGES.index(stage)) + _number(steps.index(step), 2),
        _number(tried),
    ]
    for payload in ("-".join([*fields, path]), "-".join(fields)):
        if len(payload) <= MAX_PAYLOAD:
            return payload
    return _fix_payload(fix_id, step)


def human_link(group: SessionKey | None = None) -> str:
    """A payload that asks for a person from support about the walk in `group` (if any)."""
    if group is None:
        return HUMAN_LINK
    source = HumanLink(group.chat_id, group.topic_id).source
    return f"{HUMAN_LINK}-{source}"


def fix_link(topic: str) -> str:
    """A payload that starts the walk of an intent (or a fix) by its id."""
    return _fix_payload(topic)


def _fix_payload(fix_id: str, step: str | None = None) -> str:
    payload = f"{DEEP_LINK_PREFIX}{fix_id}" + (f"-{step}" if step else "")
    return payload if len(payload) <= MAX_PAYLOAD else f"{DEEP_LINK_PREFIX}{fix_id}"[:MAX_PAYLOAD]


# -- reading them --------------------------------------------------------------------------------


def read(payload: str, catalog: Catalog) -> Link | None:
    """What a /start payload asks for; None for a plain /start or anything unreadable (a link
    made for content that has changed since, say)."""
    payload = payload.strip()
    if not payload or not _PAYLOAD.match(payload):
        return None
    if payload == HUMAN_LINK or payload.startswith(HUMAN_LINK + "-"):
        return human_from(payload[len(HUMAN_LINK) :].lstrip("-"))
    if payload.startswith(DEEP_LINK_PREFIX):
        topic, _, step = payload[len(DEEP_LINK_PREFIX) :].partition("-")
        return FixLink(topic, step or None)
    if payload.startswith(_WALK) and "-" in payload:
        return _walk(payload, catalog)
    return None


def human_from(source: str | None) -> HumanLink:
    """The group a `human-<source>` link names (none for anything else)."""
    source = source or ""
    found = _SOURCE.match(source)
    if found is None:
        return HumanLink()
    sign = -1 if found[1] else 1
    return HumanLink(sign * int(found[2]), int(found[3]) if found[3] else None)


def _walk(payload: str, catalog: Catalog) -> WalkLink | None:
    parts = payload.split("-")
    if len(parts) not in (6, 7):
        return None
    head, intent_part, plan_part, index_part, where, tried_part, *rest = parts
    fixes, intents = sorted(catalog.fixes), sorted(catalog.intents)
    try:
        plan = tuple(fixes[_value(plan_part[n : n + 2])] for n in range(0, len(plan_part), 2))
        intent = intents[_value(intent_part)] if intent_part else None
        fix_index = _value(index_part)
        stage = _STAGES[int(where[0])]
        fix = catalog.fix(plan[fix_index])
        steps = [s.id for s in fix.steps]
        step = steps[_value(where[1:])]
        path_part = rest[0] if rest else ""
        path = tuple(steps[_value(path_part[n : n + 2])] for n in range(0, len(path_part), 2))
        tried_bits = _value(tried_part)
    except (IndexError, KeyError, ValueError):
        return None
    if head != _WALK + _check(catalog, fix.id) or not plan:
        return None  # made for other content: its numbers would name other fixes
    tried = tuple(f for n, f in enumerate(plan) if tried_bits >> n & 1)
    return WalkLink(stage, intent, plan, fix_index, step, path, tried)


# -- numbers in 62 digits ------------------------------------------------------------------------


def _number(value: int, width: int = 1) -> str:
    digits = ""
    while True:
        value, digit = divmod(value, len(_DIGITS))
        digits = _DIGITS[digit] + digits
        if not value:
            break
    return digits.rjust(width, "0")


def _value(digits: str) -> int:
    if not digits:
        raise ValueError("no digits")
    value = 0
    for digit in digits:
        value = value * len(_DIGITS) + _DIGITS.index(digit)
    return value


def _check(catalog: Catalog, fix_id: str) -> str:
    """Two digits that change when the catalog's intents or fixes, or the steps of the fix
    under way, change: a link made for other content is not read as this one."""
    steps = ",".join(s.id for s in catalog.fix(fix_id).steps)
    text = "|".join([",".join(sorted(catalog.intents)), ",".join(sorted(catalog.fixes)), steps])
    return _number(zlib.crc32(text.encode()) % (len(_DIGITS) ** 2), 2)
