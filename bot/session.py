"""The stored state of one conversation: whose it is, where the walk stands, what happened.

Plain data, nothing else: the engine turns a `Session` into the next one, a store keeps it,
a transport names it by its `SessionKey`. A session turns into a dict and back with a
schema version, so an older stored session is upgraded and an unreadable one starts afresh.
Imports nothing else from `bot/`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

SESSION_SCHEMA: Final = 2
"""Version of `Session.to_dict()`; `Session.from_dict` upgrades anything older (1 to 2:
`complaint` and `confidence` were added; absent, they are None). Fields added since
(`language`, `heard`) are read as None when absent, so an older session needs no upgrade
and an older program reading a newer one keeps its walk."""

DEEP_LINK_PREFIX: Final = "fix_"
"""/start payloads: fix_<topic> starts a fix; fix_<fix>-<step> resumes it at that step."""
HUMAN_LINK: Final = "human"
"""/start payload asking for a person: human, or human-<chat> for a walk begun in a group."""


@dataclass(frozen=True, order=True)
class SessionKey:
    """Whose session: a chat, a person in it, and the forum topic when there is one, so that
    several people in one group each walk their own fix."""

    chat_id: int
    user_id: int
    topic_id: int | None = None

    def __str__(self) -> str:
        topic = "" if self.topic_id is None else str(self.topic_id)
        return f"{self.chat_id}:{self.user_id}:{topic}"

    @classmethod
    def parse(cls, text: str) -> SessionKey:
        chat, user, topic = text.split(":")
        return cls(int(chat), int(user), int(topic) if topic else None)


class Stage(StrEnum):
    IDLE = "idle"
    STEP = "step"
    CAUTION = "caution"
    DID_IT_HELP = "did_it_help"
    RATING = "rating"
    CHOOSING = "choosing"
    SWITCHING = "switching"
    RESUMING = "resuming"
    WITH_STAFF = "with_staff"
    STAFF_SOLVED = "staff_solved"


IN_A_FIX: Final = frozenset({Stage.STEP, Stage.CAUTION, Stage.DID_IT_HELP})
"""The stages at which a fix and one of its steps are on screen."""

WITH_SUPPORT: Final = frozenset({Stage.WITH_STAFF, Stage.STAFF_SOLVED})
"""The stages of a case with a person from support: no walk is under way."""

STAFF_MARK: Final = "staff"
"""Support's part, where an outcome or a session must tell it from a fix's: the value of the
`resolved` and `not_resolved` outcomes after support solved a case, and `Session.options`
at a rating for support."""


@dataclass(frozen=True)
class Session:
    """Where one person is: plain data, stored between messages.

    `plan` is the fixes to walk, `fix_index` the one under way, `step` its current step and
    `path` the steps already passed in it (for Back). `revision` grows with every change, so
    a button made for an earlier moment is recognised as stale.
    """

    stage: Stage = Stage.IDLE
    intent: str | None = None
    plan: tuple[str, ...] = ()
    fix_index: int = 0
    step: str | None = None
    path: tuple[str, ...] = ()
    tried: tuple[str, ...] = ()
    options: tuple[str, ...] = ()
    """Intents offered in a "did you mean", or the intent (or fix:<id>) waiting to switch to."""
    resume_stage: Stage = Stage.IDLE
    """The stage to go back to after a switch prompt, a welcome back, or a case with staff."""
    complaint: str | None = None
    """The words that started the walk, kept for the staff's case card."""
    confidence: float | None = None
    """How sure the matcher was of the walk's intent (None: started by a button or /fix)."""
    language: str | None = None
    """The language the conversation was last spoken in (a code the content speaks)."""
    heard: str | None = None
    """The language the person's messages are clearly written in, when it is not the one
    they would get (their choice, or their phone's): spoken until they choose one."""
    revision: int = 0
    updated_at: float = 0.0

    @property
    def walking(self) -> bool:
        return bool(self.plan) and self.stage not in (Stage.IDLE, Stage.RATING, *WITH_SUPPORT)

    @property
    def lasting(self) -> bool:
        """Whether the session outlives the store's time-to-live: while a person from support
        has the case, it may take days, and the person must still reach them."""
        return self.stage is Stage.WITH_STAFF

    @property
    def fix_id(self) -> str | None:
        return self.plan[self.fix_index] if self.fix_index < len(self.plan) else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SESSION_SCHEMA,
            "stage": self.stage.value,
            "intent": self.intent,
            "plan": list(self.plan),
            "fix_index": self.fix_index,
            "step": self.step,
            "path": list(self.path),
            "tried": list(self.tried),
            "options": list(self.options),
            "resume_stage": self.resume_stage.value,
            "complaint": self.complaint,
            "confidence": self.confidence,
            "language": self.language,
            "heard": self.heard,
            "revision": self.revision,
            "updated_at": self.updated_at,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Session:
        """Read a stored session, upgrading older schemas; unreadable data starts afresh."""
        if not isinstance(data, dict) or data.get("schema", 0) > SESSION_SCHEMA:
            return cls()
        try:
            return cls(
                stage=Stage(data.get("stage", "idle")),
                intent=data.get("intent"),
                plan=tuple(data.get("plan", ())),
                fix_index=int(data.get("fix_index", 0)),
                step=data.get("step"),
                path=tuple(data.get("path", ())),
                tried=tuple(data.get("tried", ())),
                options=tuple(data.get("options", ())),
                resume_stage=Stage(data.get("resume_stage", "idle")),
                complaint=_text_or_none(data.get("complaint")),
                confidence=_float_or_none(data.get("confidence")),
                language=_text_or_none(data.get("language")),
                heard=_text_or_none(data.get("heard")),
                revision=int(data.get("revision", 0)),
                updated_at=float(data.get("updated_at", 0.0)),
            )
        except (TypeError, ValueError):
            return cls()


def _text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _float_or_none(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def fresh(at: float) -> Session:
    """The session of someone with nothing stored (new, or their walk expired and was purged).

    Its revisions count on from the clock's milliseconds rather than from 0, so they never
    repeat those of an earlier, expired session under the same key: a day-old button is
    stale, and never moves a new walk. (A walk would need more than a thousand turns a second
    to catch up with the clock.) Thirteen digits still fit Telegram's 64-byte button data.
    """
    return Session(revision=int(at * 1000), updated_at=at)


def idle(**overrides: Any) -> dict[str, Any]:
    """The fields of a session with no walk under way, changed by `overrides`."""
    return {
        "stage": Stage.IDLE,
        "intent": None,
        "plan": (),
        "fix_index": 0,
        "step": None,
        "path": (),
        "tried": (),
        "options": (),
        "resume_stage": Stage.IDLE,
        "complaint": None,
        "confidence": None,
        **overrides,
    }


@dataclass(frozen=True)
class Unanswered:
    """A message that got a question or a refusal instead of a walk: its words and the
    intents nearest to it, kept for a while (FIXBOT_KEEP_UNMATCHED_DAYS) so that content
    authors can see what people ask that the content does not answer."""

    text: str
    candidates: tuple[str, ...] = ()
    """The nearest intents, best first (with scores: "wifi:0.31")."""


@dataclass(frozen=True)
class Outcome:
    """Something worth counting later: a walk started, a step done, a fix that helped."""

    result: str
    intent: str | None = None
    fix: str | None = None
    step: str | None = None
    value: str | None = None
    language: str | None = None
    """The language the turn that recorded it spoke (None in outcomes kept before it was)."""
