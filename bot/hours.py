"""When the support team works ("Mon-Fri 09:00-17:00 Europe/Berlin") and when its weekly
digest is due ("Mon 09:00"), parsed and asked.

Pure: the time to ask about comes in as a Unix timestamp, as it does to the engine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SPEC: Final = re.compile(
    r"^\s*(?P<days>[A-Za-z]{3}(?:\s*-\s*[A-Za-z]{3}|(?:\s*,\s*[A-Za-z]{3})*))\s+"
    r"(?P<start>\d{1,2}:\d{2})\s*-\s*(?P<end>\d{1,2}:\d{2})\s+(?P<zone>\S+)\s*$"
)


@dataclass(frozen=True)
class BusinessHours:
    days: frozenset[int]
    """Weekdays the team works, Monday = 0."""
    start: time
    end: time
    zone: ZoneInfo
    text: str

    @classmethod
    def parse(cls, text: str) -> BusinessHours:
        """ "Mon-Fri 09:00-17:00 Europe/Berlin" or "Mon,Wed,Fri 10:00-14:00 UTC"; ValueError
        saying what is wrong and what is allowed."""
        found = _SPEC.match(text)
        if found is None:
            raise ValueError(
                f"{text!r} is not of the form 'Mon-Fri 09:00-17:00 Europe/Berlin' "
                "(days as a range or a comma list, hours on the 24-hour clock, a time zone)"
            )
        days = _days(found["days"])
        start, end = _time(found["start"]), _time(found["end"])
        if end <= start:
            raise ValueError(
                f"in {text!r} the hours end before they start ({start:%H:%M}-{end:%H:%M})"
            )
        return cls(days, start, end, _zone(found["zone"]), " ".join(text.split()))

    def is_open(self, at: float) -> bool:
        local = datetime.fromtimestamp(at, self.zone)
        return local.weekday() in self.days and self.start <= local.time() < self.end

    def next_opening(self, at: float) -> datetime:
        """When the team is next at work after `at` (local time); `at` itself when open."""
        local = datetime.fromtimestamp(at, self.zone)
        if self.is_open(at):
            return local
        for ahead in range(8):
            day = (local + timedelta(days=ahead)).date()
            opening = datetime.combine(day, self.start, self.zone)
            if day.weekday() in self.days and opening > local:
                return opening
        raise AssertionError("a week always has a working day")  # `days` is never empty

    def when_back(self, at: float) -> str:
        """ "Monday 09:00", or "today 09:00" / "tomorrow 09:00" when that is what it is."""
        local = datetime.fromtimestamp(at, self.zone)
        opening = self.next_opening(at)
        days = (opening.date() - local.date()).days
        day = "today" if days == 0 else "tomorrow" if days == 1 else opening.strftime("%A")
        return f"{day} {opening:%H:%M}"


_WEEKLY: Final = re.compile(
    r"^\s*(?P<day>[A-Za-z]{3})\s+(?P<time>\d{1,2}:\d{2})(?:\s+(?P<zone>\S+))?\s*$"
)


@dataclass(frozen=True)
class WeeklyTime:
    """A moment that comes back every week: "Mon 09:00 Europe/Berlin" (the weekly digest)."""

    day: int
    """Monday = 0."""
    at: time
    zone: ZoneInfo
    text: str

    @classmethod
    def parse(cls, text: str, zone: ZoneInfo | None = None) -> WeeklyTime:
        """ "Mon 09:00 Europe/Berlin", or "Mon 09:00" in `zone` (UTC when None); ValueError
        saying what is wrong and what is allowed."""
        found = _WEEKLY.match(text)
        if found is None:
            raise ValueError(
                f"{text!r} is not of the form 'Mon 09:00 Europe/Berlin' (a day, a time on "
                "the 24-hour clock, and a time zone, which may be left out)"
            )
        (day,) = _days(found["day"])
        if found["zone"]:
            zone = _zone(found["zone"])
        return cls(day, _time(found["time"]), zone or ZoneInfo("UTC"), " ".join(text.split()))

    def last(self, at: float) -> datetime:
        """The latest time this moment came, at or before `at` (local time)."""
        local = datetime.fromtimestamp(at, self.zone)
        back = (local.weekday() - self.day) % 7
        moment = datetime.combine((local - timedelta(days=back)).date(), self.at, self.zone)
        return moment if moment <= local else moment - timedelta(days=7)

    def next(self, at: float) -> datetime:
        """The first time this moment comes after `at`."""
        return self.last(at) + timedelta(days=7)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"{name!r} is not a time zone (use a name such as Europe/Berlin or UTC)"
        ) from None


def _days(spec: str) -> frozenset[int]:
    names = [d.strip().lower() for d in re.split(r"[-,]", spec)]
    unknown = [n for n in names if n not in DAYS]
    if unknown:
        raise ValueError(f"{unknown[0]!r} is not a day (use Mon, Tue, Wed, Thu, Fri, Sat, Sun)")
    if "-" in spec:
        first, last = DAYS.index(names[0]), DAYS.index(names[1])
        span = range(first, last + 1) if first <= last else [*range(first, 7), *range(last + 1)]
        return frozenset(span)
    return frozenset(DAYS.index(n) for n in names)


def _time(text: str) -> time:
    hours, minutes = (int(part) for part in text.split(":"))
    if not (0 <= hours <= 23 and 0 <= minutes <= 59):
        raise ValueError(f"{text!r} is not a time of day (00:00 to 23:59)")
    return time(hours, minutes)
