"""The one tree of fixbot's exceptions, and the `Problem` a content error is made of.

Only the CLI turns these into printed messages and exit codes; library code raises them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with the content: where it is and what to do about it."""

    file: str
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class FixbotError(Exception):
    """Base of every error fixbot raises on purpose."""


class ContentError(FixbotError):
    """The content under intents/ and fixes/ has problems; all of them are in `problems`."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems, key=lambda p: (p.file, p.line or 0, p.path, p.message))
        count = len(problems)
        super().__init__(f"{count} problem{'s' if count != 1 else ''} in the content")


class ConfigError(FixbotError):
    """A setting is missing or wrong; the message says which and how to fix it."""


class StoreError(FixbotError):
    """The session store cannot be used as it is (for example, a schema from the future)."""
