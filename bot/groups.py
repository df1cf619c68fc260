"""A group's own settings, chosen by its admins, and when the bot may speak up unasked.

Plain data and pure rules: `GroupSettings` is what the store keeps per group; `may_offer`
says whether a complaint the bot overheard gets its one short offer, or why not. Telegram,
the store and the clock stay outside: the time comes in as a Unix timestamp.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time, tzinfo
from enum import StrEnum
from typing import Any, Final

COOLDOWNS: Final = (1, 5, 15, 60)
"""Minutes a group waits between two offers: the panel's choices."""
DEFAULT_COOLDOWN: Final = 5
PERSON_COOLDOWN: Final = 3600.0
"""Seconds one person waits between two offers in one group."""
QUIET_HOURS: Final = (None, "22:00-08:00", "20:00-09:00", "00:00-07:00")
"""The panel's choices of quiet hours (in the bot's time zone); None: never quiet."""
GENERAL: Final = 0
"""A forum's General topic (its messages carry no topic id), and a group with no topics."""
SETTINGS_SCHEMA: Final = 1


@dataclass(frozen=True)
class GroupSettings:
    """What a group's admins chose; the defaults are a group that never changed anything."""

    overhear: bool = False
    """Answer complaints the bot reads without being addressed."""
    cooldown_minutes: int = DEFAULT_COOLDOWN
    muted_topics: frozenset[int] = field(default_factory=frozenset)
    """Forum topics where the bot never speaks up unasked (GENERAL for the General topic)."""
    walks_in_private: bool = False
    """An offer's button opens a private chat with the bot instead of walking in the group."""
    quiet_hours: str | None = None
    language: str | None = None
    """The group's language: what the bot says to everyone (an overheard offer) and to a person
    whose own language it does not speak; None: English."""

    def toggled(
        self, what: str, topic: int = GENERAL, languages: Sequence[str] = ()
    ) -> GroupSettings:
        """The settings with one choice of the panel changed: overhear, private, topic
        (`topic` muted or unmuted), cooldown (the next of COOLDOWNS), quiet (the next of
        QUIET_HOURS), language (the next of `languages`, the content's, default first).
        ValueError for anything else."""
        if what == "overhear":
            return replace(self, overhear=not self.overhear)
        if what == "private":
            return replace(self, walks_in_private=not self.walks_in_private)
        if what == "topic":
            return replace(self, muted_topics=self.muted_topics ^ {topic})
        if what == "cooldown":
            return replace(self, cooldown_minutes=_next(COOLDOWNS, self.cooldown_minutes))
        if what == "quiet":
            return replace(self, quiet_hours=_next(QUIET_HOURS, self.quiet_hours))
        if what == "language" and languages:
            current = self.language if self.language in languages else languages[0]
            return replace(self, language=_next(tuple(languages), current))
        raise ValueError(f"no group setting {what!r}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SETTINGS_SCHEMA,
            "overhear": self.overhear,
            "cooldown_minutes": self.cooldown_minutes,
            "muted_topics": sorted(self.muted_topics),
            "walks_in_private": self.walks_in_private,
            "quiet_hours": self.quiet_hours,
            "language": self.language,
        }

    @classmethod
    def from_dict(cls, data: Any) -> GroupSettings:
        """Stored settings; anything unreadable (or from a newer fixbot) is the defaults."""
        if not isinstance(data, dict) or data.get("schema", 0) > SETTINGS_SCHEMA:
            return cls()
        try:
            cooldown = int(data.get("cooldown_minutes", DEFAULT_COOLDOWN))
            quiet = data.get("quiet_hours")
            return cls(
                overhear=bool(data.get("overhear", False)),
                cooldown_minutes=cooldown if cooldown in COOLDOWNS else DEFAULT_COOLDOWN,
                muted_topics=frozenset(int(t) for t in data.get("muted_topics", ())),
                walks_in_private=bool(data.get("walks_in_private", False)),
                quiet_hours=quiet if quiet in QUIET_HOURS else None,
                language=language if isinstance(language := data.get("language"), str) else None,
            )
        except (TypeError, ValueError):
            return cls()


@dataclass(frozen=True)
class LastOffers:
    """When the bot last spoke up unasked in a group: to anyone, and to this person."""

    group_at: float | None = None
    person_at: float | None = None


class Silence(StrEnum):
    """Why an overheard complaint gets no offer (each a reason a test or a log can name)."""

    OFF = "overhearing is off"
    TOPIC = "the bot is muted in this topic"
    QUIET = "quiet hours"
    WALKING = "the person is already walking a fix"
    GROUP_COOLDOWN = "the group had an offer too recently"
    PERSON_COOLDOWN = "this person had an offer within the hour"


def may_offer(
    settings: GroupSettings,
    last: LastOffers,
    now: float,
    *,
    topic: int = GENERAL,
    walking: bool = False,
    zone: tzinfo | None = None,
) -> Silence | None:
    """None when an overheard, clearly matched complaint may get its offer; else why not."""
    if not settings.overhear:
        return Silence.OFF
    if topic in settings.muted_topics:
        return Silence.TOPIC
    if settings.quiet_hours and in_quiet_hours(settings.quiet_hours, now, zone):
        return Silence.QUIET
    if walking:
        return Silence.WALKING
    if last.group_at is not None and now - last.group_at < settings.cooldown_minutes * 60:
        return Silence.GROUP_COOLDOWN
    if last.person_at is not None and now - last.person_at < PERSON_COOLDOWN:
        return Silence.PERSON_COOLDOWN
    return None


def in_quiet_hours(spec: str, at: float, zone: tzinfo | None = None) -> bool:
    """Whether `at` falls in "22:00-08:00" (a span may cross midnight) in `zone` (UTC)."""
    start, end = (_time(part) for part in spec.split("-"))
    now = datetime.fromtimestamp(at, zone or UTC).time()
    return start <= now < end if start < end else now >= start or now < end


def _time(text: str) -> time:
    hours, minutes = text.strip().split(":")
    return time(int(hours), int(minutes))


def _next(choices: tuple[Any, ...], current: Any) -> Any:
    return (
        choices[(choices.index(current) + 1) % len(choices)] if current in choices else choices[0]
    )
