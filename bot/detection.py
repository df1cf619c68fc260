"""Which of the content's languages a message is written in, when that is clear.

A person whose phone is set to English may still write "la copia de seguridad no termina
nunca". `LanguageDetector.detect` names the language of such a message, and nothing for a
message too short to tell or written in no language it is sure of: "wifi no va" or
"backup iCloud" never flip a conversation on a guess.

It uses Lingua (lingua-language-detector), made for short texts: its n-gram models of each
language are built from far more text than our content has, and it is restricted to the
languages the content speaks, so it never names one the bot cannot answer in. Its
low-accuracy mode (trigrams only) is used: 0.07 ms and 31 MiB resident for five languages,
where the high-accuracy mode needs 212 MiB, over the whole bot's budget. What low accuracy
costs in mistakes the engine makes up for by switching only when the message's language
also reads the message better than the person's own (`bot.languages.Languages.read`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from lingua import LanguageDetector as _Lingua

MIN_WORDS: Final = 4
"""Fewer words than this are never taken as a sign of a language: two or three words are as
often a loan word and a brand ("backup iCloud", "wifi kaputt") as a sentence."""

CONFIDENT: Final = 0.7
"""The share of Lingua's confidence the best language must have among the content's. It is
not the only guard: the engine also wants that language to read the message better. With
both, on our own sets (tests/data), no English complaint is taken for another language, and
about half the Portuguese ones (written without accents, as people type) and nine in ten of
the Spanish and German ones of four words or more are recognised from an English phone."""

_WORD: Final = re.compile(r"[^\W\d_]{2,}")


def words_in(text: str) -> int:
    """How many words of two letters or more `text` has (numbers and signs are not words)."""
    return len(_WORD.findall(text))


class LanguageDetector:
    """Names the language a message is clearly written in, among `codes` (ISO 639-1, as the
    content names its languages; a code Lingua does not know is never named). The models
    are loaded on first use, so that a bot with one language never loads them."""

    def __init__(self, codes: Iterable[str]) -> None:
        self.codes = tuple(dict.fromkeys(codes))
        self._lingua: _Lingua | None = None
        self._known: dict[str, str] = {}

    def _model(self) -> _Lingua | None:
        if self._lingua is None and len(self.codes) > 1:
            from lingua import IsoCode639_1, LanguageDetectorBuilder

            known = {}
            for code in self.codes:
                try:
                    known[code] = IsoCode639_1.from_str(code)
                except ValueError:
                    continue
            if len(known) < 2:
                return None
            self._known = {iso.name.casefold(): code for code, iso in known.items()}
            self._lingua = (
                LanguageDetectorBuilder.from_iso_codes_639_1(*known.values())
                .with_low_accuracy_mode()
                .with_preloaded_language_models()
                .build()
            )
        return self._lingua

    def load(self) -> LanguageDetector:
        """Load the models now (at start, rather than on the first long message)."""
        self._model()
        return self

    def detect(self, text: str) -> str | None:
        """The code of the language `text` is clearly written in, else None."""
        if words_in(text) < MIN_WORDS:
            return None
        model = self._model()
        if model is None:
            return None
        values = model.compute_language_confidence_values(text)
        if not values or values[0].value < CONFIDENT:
            return None
        return self._known.get(values[0].language.iso_code_639_1.name.casefold())
