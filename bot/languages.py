"""The languages fixbot speaks, and which one a person gets.

A language is content, not code: its catalog (intents/<code>/, fixes/<code>/ said over the
English ones), its matcher (built on that catalog's language profile) and its wording
(wording/<code>.yaml). `Languages` holds them all; `pick` chooses, per update, the first
supported of what is known about the person: their own choice (/language), Telegram's
`language_code`, the group's language, and English last. The choice travels with each event
as a plain code, as aiogram's i18n middleware passes a locale down. `read` matches a message
in the language it is clearly written in, when that is another than the person's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from bot.catalog import Catalog
from bot.catalog.loader import ENGLISH, load_catalogs
from bot.detection import LanguageDetector
from bot.matcher import Decision, Match, Matcher
from bot.wording import Wording


@dataclass(frozen=True)
class Language:
    """One language: what the bot knows and says in it."""

    code: str
    catalog: Catalog
    matcher: Matcher
    wording: Wording

    @property
    def name(self) -> str:
        """The language's name in itself ("Español")."""
        return self.wording.language_name


def primary(code: str | None) -> str | None:
    """A language tag's primary subtag, lower case: "pt-BR" -> "pt", "es_419" -> "es"."""
    if not code:
        return None
    return code.replace("_", "-").split("-")[0].strip().casefold() or None


def supported_code(code: str | None, spoken: Iterable[str]) -> str | None:
    """`code` (or its primary subtag) when it is one of `spoken`, else None."""
    known = set(spoken)
    if code in known:
        return code
    short = primary(code)
    return short if short in known else None


@dataclass(frozen=True)
class Reading:
    """A message matched in the language it was read in: the person's, or the one it is
    clearly written in (`heard`)."""

    language: Language
    match: Match
    heard: str | None = None
    """The language the message is clearly written in, when detection was sure (the
    person's own or another); None for a message too short or too mixed to tell."""


_SURENESS: Final = {Decision.MATCH: 2, Decision.CONFIRM: 1, Decision.AMBIGUOUS: 1, Decision.NONE: 0}
"""How far a decision goes towards helping, to compare two languages' readings."""


class Languages(Mapping[str, Language]):
    """Every language the content has, English first; looked up by code."""

    def __init__(
        self, languages: Iterable[Language], detector: LanguageDetector | None = None
    ) -> None:
        self._by_code = {language.code: language for language in languages}
        if not self._by_code:
            raise ValueError("at least one language is needed")
        self.default = self._by_code.get(ENGLISH) or next(iter(self._by_code.values()))
        self.detector = detector if len(self._by_code) > 1 else None

    def __getitem__(self, code: str) -> Language:
        return self._by_code[code]

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_code)

    def __len__(self) -> int:
        return len(self._by_code)

    def supported(self, code: str | None) -> str | None:
        """`code` (or its primary subtag) when the content speaks it, else None."""
        return supported_code(code, self._by_code)

    def pick(self, *wishes: str | None) -> Language:
        """The first of `wishes` the content speaks (best first: the person's choice,
        Telegram's language_code, the group's), else the default."""
        for wish in wishes:
            code = self.supported(wish)
            if code is not None:
                return self._by_code[code]
        return self.default

    def read(self, text: str, speaking: Language) -> Reading:
        """Match `text` in the language it is clearly written in when that is not
        `speaking` and reads it better (a surer decision, or the same with a higher score),
        else in `speaking`. A detection alone is not enough: Lingua's quick mode now and
        then takes a loan-word-heavy line for another language, and then the other
        language's matcher reads it no better."""
        own = speaking.matcher.match(text)
        heard = self.detector.detect(text) if self.detector is not None else None
        other = self._by_code.get(heard) if heard and heard != speaking.code else None
        if other is not None:
            theirs = other.matcher.match(text)
            if (_SURENESS[theirs.decision], theirs.score) > (_SURENESS[own.decision], own.score):
                return Reading(other, theirs, heard)
            heard = None
        return Reading(speaking, own, heard)

    @classmethod
    def one(
        cls, catalog: Catalog, matcher: Matcher | None = None, wording: Wording | None = None
    ) -> Languages:
        """A single language (the catalog's own), for an engine built on one catalog."""
        words = wording or Wording()
        code = catalog.vocabulary.language
        return cls([Language(code, catalog, matcher or Matcher(catalog), words)])

    @classmethod
    def load(
        cls,
        content_dir: Path,
        matcher: Callable[[Catalog], Matcher] = Matcher,
        catalogs: Mapping[str, Catalog] | None = None,
    ) -> Languages:
        """Every language of `content_dir` (ContentError when the content has problems)."""
        found = catalogs if catalogs is not None else load_catalogs(content_dir)
        return cls(
            (
                Language(code, catalog, matcher(catalog), Wording.load(content_dir, code))
                for code, catalog in found.items()
            ),
            LanguageDetector(found).load() if len(found) > 1 else None,
        )
