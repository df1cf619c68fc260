"""The matcher: from a message in the user's own words to an intent, with its reasons.

Owns text normalisation, the index built once from the catalog, and `Matcher.match(text)`,
which returns ranked candidates with scores and one decision: a single intent, "is it
this?" for one it is less sure of, "did you mean" two or three, or none. Pure: no Telegram, no I/O after construction.

How a message is scored, in order:

1. **Normalise**: web addresses and @handles out, #hashtags unwrapped, versions and device
   models read as plain words; Unicode NFKC, case-fold, drop emoji and zero-width characters,
   drop apostrophes ("won't" -> "wont"), squeeze repeated letters ("sooooo" -> "soo"), split
   numbers from units ("50gb" -> "50 gb").
2. **Correct typos** token by token against the content's own vocabulary with rapidfuzz
   (optimal string alignment, so "wiif" -> "wifi" is one edit); a corrected token counts for
   less than an exact one.
3. **Canonicalise**: the content's synonyms ("wi-fi", "wireless" -> "wifi"; "log in" ->
   "sign in"), then stop words out, then Snowball stems ("charging" -> "charg").
4. **Weigh** each term by how well it tells the intents apart (log of the number of classes
   minus the entropy of its use across them), so "backup" or "iphone" count less than
   "router" or "verification", and by how specific it is in English ("icloud" counts more
   than "full"). A word the content never uses weighs about as much as the rarest known
   word, less if it is an everyday one: a message about a "samsung galaxy" is not explained
   by its one shared word "backup".
5. **Score** each intent from its best evidence: the weighted overlap (Dice) with its best
   example, blended with how much of the message its whole vocabulary explains. Each
   off-topic topic is one more, rejecting, class.
6. **Mean**: the clause as read (typos corrected) is embedded (`bot.semantic`), and each
   class is as close as its three nearest examples; the two stages are blended with
   `lexical_weight` and `semantic_floor`, fitted on labelled real messages.
7. **Decide** with the thresholds in `Thresholds` (fitted from data; see `fixbot tune`):
   a walk, "is it this?", "did you mean" (also for two problems in two clauses), or none
   (naming the off-topic topic the message clearly looks like).

Messages are cut into clauses (at the end of a sentence, a comma, "but", "though",
"because"...) and the best clause wins, so "my iPhone won't join the Wi-Fi even though it sits
next to the router, so annoying" scores like "won't join the Wi-Fi", and a 4,000-character
rant matches on the clause that matters.
"""

from __future__ import annotations

import dataclasses
import gzip
import heapq
import html
import math
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from importlib import resources
from types import MappingProxyType
from typing import Final, NamedTuple

import Stemmer
from rapidfuzz import process
from rapidfuzz.distance import OSA
from spellchecker import SpellChecker

from bot.catalog import Catalog, Fix, Intent, Vocabulary, alias_key
from bot.semantic import LANGUAGES as SEMANTIC_LANGUAGES
from bot.semantic import Nearest, SemanticIndex, StaticEmbedder, default_embedder

OFF_TOPIC: Final = "_off_topic"
"""The prefix of the pseudo-intents built from `_off_topic.yaml`, one per topic
("_off_topic:app_store"); they never appear as candidates."""


def off_topic_class(topic: str) -> str:
    """The class id of an off-topic topic: "app_store" -> "_off_topic:app_store"."""
    return f"{OFF_TOPIC}:{topic}"


def is_off_topic(class_id: str) -> bool:
    return class_id.startswith(OFF_TOPIC)


def off_topic_of(class_id: str) -> str:
    """The topic of an off-topic class id: "_off_topic:app_store" -> "app_store"."""
    return class_id.removeprefix(f"{OFF_TOPIC}:")


@dataclass(frozen=True)
class Thresholds:
    """Every number the decision uses, in one place.

    The defaults below are a starting point; the content's own numbers live in
    intents/_matcher.yaml, written by `fixbot tune`: the scoring weights by leave-one-out over
    the content's own examples and off-topic examples; the blend (lexical_weight,
    semantic_floor) and the decision's (accept, confirm, margin, off_topic_lead) on labelled
    real messages when given (`--cases`), with a held-out figure.
    """

    accept: float = 0.54
    """The lowest score that starts a walk without asking."""
    confirm: float = 0.54
    """The lowest score worth asking about ("is it this?"); under it, nothing."""
    margin: float = 0.04
    """How far the best intent must lead the second to be a single match, not "did you mean"."""
    off_topic_lead: float = 0.0
    """An off-topic topic this much better than the best intent rejects the message; below
    zero, one nearly as good does: when a message looks about as much like something we
    don't do as like something we do, a walk would more likely be wrong than right."""
    example_weight: float = 0.7
    """Share of the score from the best single example; the rest is vocabulary coverage."""
    typo_credit: float = 0.8
    """How much a typo-corrected word counts, compared with a word spelt right."""
    unknown_weight: float = 1.25
    """How much a word the content never uses weighs, as a share of the rarest known word."""
    everyday_word_weight: float = 0.1
    """How much the commonest English words weigh, as a share of a rare or domain word."""
    max_choices: int = 3
    """At most this many intents are offered in a "did you mean"."""
    lexical_weight: float = 0.5
    """Share of a class's score from the lexical stage (shared words); the rest comes from the
    meaning-based stage (how close the message's embedding comes to the class's three nearest
    examples). 1.0 turns the meaning-based stage off, and its model is not loaded."""
    semantic_floor: float = 0.3
    """The cosine similarity that counts as no likeness at all: the semantic evidence is
    (similarity - floor) / (1 - floor), at least 0. Unrelated sentences still share a little
    direction in an embedding space."""

    @property
    def semantic(self) -> bool:
        """Whether the meaning-based stage takes part."""
        return self.lexical_weight < 1.0

    @classmethod
    def of(cls, catalog: Catalog) -> Thresholds:
        """The defaults, with what the content's intents/_matcher.yaml sets."""
        return dataclasses.replace(cls(), **catalog.tuning.given())


class Decision(StrEnum):
    MATCH = "match"
    """Clearly this intent: its walk starts."""
    CONFIRM = "confirm"
    """Probably this intent: "Sounds like Wi-Fi problems. Is that it?"."""
    AMBIGUOUS = "ambiguous"
    """Two or three intents are close: "did you mean"."""
    NONE = "none"


@dataclass(frozen=True)
class Candidate:
    """One intent's score for a message, with the evidence behind it."""

    intent: str
    score: float
    example: str
    """The intent's example that matched best."""
    matched: tuple[str, ...]
    """The message's terms that the intent explained."""
    lexical: float = 0.0
    """The lexical stage's share of the evidence, before blending (0-1)."""
    semantic: float = 0.0
    """The meaning-based stage's evidence, before blending (0-1)."""


@dataclass(frozen=True)
class Match:
    """The matcher's answer for one message."""

    text: str
    decision: Decision
    candidates: tuple[Candidate, ...]
    terms: tuple[str, ...]
    """The message's terms after normalisation, as the matcher saw them."""
    reason: str
    """One sentence on why the decision was taken."""
    corrections: tuple[tuple[str, str], ...] = ()
    """Typos corrected on the way: (as typed, read as)."""
    off_topic: Candidate | None = None
    """How close the message came to the off-topic examples."""
    small_talk: str | None = None
    """"greeting", "thanks" or "farewell" for a social message that matched nothing."""
    choices: tuple[str, ...] = ()
    """The intents to offer: one for a match or a confirm, two or three for "did you
    mean", none for none."""
    other_device: str | None = None
    """A device the message is about that the content does not cover (then: none)."""
    second: Candidate | None = None
    """Another clause's best intent, when it is not the best clause's: a second problem."""
    topic: str | None = None
    """For a refusal: the off-topic topic the message clearly looks like ("restoring")."""

    @property
    def intent(self) -> str | None:
        """The best intent, unless the decision is none."""
        if self.decision is Decision.NONE or not self.candidates:
            return None
        return self.candidates[0].intent

    @property
    def score(self) -> float:
        return self.candidates[0].score if self.candidates else 0.0

    @property
    def off_topic_topic(self) -> str | None:
        """The topic of the closest off-topic example ("app_store"), if any came close."""
        return off_topic_of(self.off_topic.intent) if self.off_topic else None


class Verdict(NamedTuple):
    """What `decide` concludes: the decision, why, and the intents to offer."""

    decision: Decision
    reason: str
    choices: tuple[str, ...] = ()
    topic: str | None = None
    """For a refusal because the message looks like something we don't do: that topic, when
    it scores as well as a message worth asking about would."""


TWO_PROBLEMS_GAP: Final = 0.1
"""A second problem in another clause is asked about when it scores within this of the best
one (and would be walked by itself): "my backup fails, and the phone won't charge either"."""


def decide(
    ranked: Sequence[Candidate],
    off_topic: Candidate | None,
    limits: Thresholds,
    other_device: str | None = None,
    second: Candidate | None = None,
) -> Verdict:
    """The decision for ranked candidates, one sentence on why, and what to offer. A message
    about a device the content does not cover (`other_device`) is none, however it scores;
    one whose other clause names another of our problems (`second`, the best intent of the
    best other clause) asks which to start with."""
    if not ranked:
        return Verdict(Decision.NONE, "no word of the message points at any topic")
    if other_device is not None:
        return Verdict(Decision.NONE, f"about a {other_device}, which the content does not cover")
    best = ranked[0]
    if off_topic is not None and off_topic.score >= best.score + limits.off_topic_lead:
        sure = off_topic.score >= min(limits.confirm, limits.accept)
        return Verdict(
            Decision.NONE,
            f"closest to something that is not ours: {off_topic.example!r}",
            topic=off_topic_of(off_topic.intent) if sure else None,
        )
    floor = min(limits.confirm, limits.accept)
    if best.score < floor:
        return Verdict(Decision.NONE, f"best score {best.score:.2f} is under {floor:.2f}")
    close = tuple(c.intent for c in ranked if best.score - c.score < limits.margin)
    if len(close) > 1:
        reason = f"{best.intent} leads {ranked[1].intent} by less than {limits.margin:.2f}"
        return Verdict(Decision.AMBIGUOUS, reason, close[: limits.max_choices])
    if (
        second is not None
        and second.intent != best.intent
        and second.score >= limits.accept
        and second.score >= best.score - TWO_PROBLEMS_GAP
    ):
        reason = f"names two problems: {best.intent} and, in another clause, {second.intent}"
        return Verdict(Decision.AMBIGUOUS, reason, (best.intent, second.intent))
    if best.score < limits.accept:
        reason = f"{best.intent} scored {best.score:.2f}, under {limits.accept:.2f}: worth asking"
        return Verdict(Decision.CONFIRM, reason, (best.intent,))
    return Verdict(Decision.MATCH, f"{best.intent} matched {best.example!r}", (best.intent,))


# --------------------------------------------------------------------------------------------
# Normalisation

_REPEATS: Final = re.compile(r"([a-z])\1{2,}")
_APOSTROPHES: Final = re.compile("['`\u2018\u2019\u00b4]")
_WORD: Final = re.compile(r"[^\W_]+")
_SENTENCE_BREAK: Final = r"[!?;,\n]+|\.+(?=\s|$)"
"""Where a clause ends whatever the language: at the end of a sentence (not at the dots of
"11.0.2" or "t.co"), or a comma. The language's `clause_breaks` add the words that turn to
another thought."""
_MAX_WINDOW: Final = 24
"""Terms per window when a long message is scored window by window."""
_MIN_WINDOW: Final = 4
"""Terms a window needs before it is scored alone: "Please fix." is no complaint by itself,
so a short clause is read together with the next one."""

# Noise in real messages, turned into nothing or into a plain word before anything else.
_URL: Final = re.compile(r"(?:https?://|www\.)\S+", re.I)
_HANDLE: Final = re.compile(r"(?<!\w)@\w+")
_HASHTAG: Final = re.compile(r"#(\w+)")
_CAMEL: Final = re.compile(r"(?<=[a-z]{2})(?=[A-Z][a-z])")
_MAX_WORDS: Final = 2000
"""Words read from one message; a longer one is cut (a rant's point comes early)."""

_REAL_WORD_MIN_COUNT: Final = 100
"""A word seen this often in pyspellchecker's corpus is a word, not a typo."""
_COMMONEST_LOG_COUNT: Final = 8.0
"""log10 of the count of the commonest English words (about 10^7-10^8 in that corpus)."""


@lru_cache(maxsize=8)
def word_counts(language: str | None, fold: bool = False) -> Mapping[str, int]:
    """How often each word of `language` occurs in pyspellchecker's corpus (built once,
    shared), accents folded when `fold`; empty for no language. Only words seen often enough
    to be words (`_REAL_WORD_MIN_COUNT`) are kept: a rarer one reads as a typo or a rare word
    either way, and leaving them out keeps a German or Portuguese list at a tenth of its size
    (its spellings that fold alike are added up: "esta" and "está")."""
    if language is None:
        return MappingProxyType({})
    counts: dict[str, int] = {}
    for word, count in _corpus(language, _REAL_WORD_MIN_COUNT):
        plain = fold_accents(word) if fold and not word.isascii() else word
        counts[plain] = counts.get(plain, 0) + count
    return MappingProxyType(counts)


_CORPUS_ENTRY: Final = re.compile(r'"([^"\\]+)":\s*(\d{3,})')
"""A word of pyspellchecker's list with its count, when seen 100 times or more."""


def _corpus(language: str, least: int) -> Iterable[tuple[str, int]]:
    """(word, count) of pyspellchecker's list for `language`, for the words seen `least`
    times or more (100 or more), read straight from the package's
    `resources/<language>.json.gz` with a pattern rather than parsed into a dictionary of
    every word (for Portuguese, 400,000 words: a second and 80 MiB at start); through
    `SpellChecker` itself should the package keep its lists elsewhere."""
    resource = resources.files("spellchecker") / "resources" / f"{language}.json.gz"
    try:
        with resource.open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as text:
            listed = text.read()
    except (OSError, ValueError):
        counts = SpellChecker(language=language, distance=1).word_frequency.dictionary
        yield from ((word, count) for word, count in counts.items() if count >= least)
        return
    for word, count in _CORPUS_ENTRY.findall(listed):
        if int(count) >= least:
            yield word.lower(), int(count)


def fold_accents(text: str) -> str:
    """ "batería" -> "bateria", "über" -> "uber"; letters of other scripts stay (й is not и)."""
    quick = text.translate(_LATIN_FOLD)
    if quick.isascii():
        return quick
    decomposed = unicodedata.normalize("NFD", quick)
    kept = "".join(
        ch
        for i, ch in enumerate(decomposed)
        if not (unicodedata.combining(ch) and i and decomposed[i - 1].isascii())
    )
    return unicodedata.normalize("NFC", kept)


def _latin_fold() -> dict[int, int]:
    table = {}
    for point in range(0xC0, 0x2B0):
        parts = unicodedata.normalize("NFD", chr(point))
        if len(parts) > 1 and parts[0].isascii() and all(map(unicodedata.combining, parts[1:])):
            table[point] = ord(parts[0])
    return table


_LATIN_FOLD: Final = _latin_fold()
"""Each accented Latin letter written as one character ("í"), to its plain letter: the
quick way for most words (a German or Portuguese word list has hundreds of thousands)."""


def english_word_counts() -> Mapping[str, int]:
    return word_counts("en")


def rarity(word: str, counts: Mapping[str, int]) -> float:
    """How telling a word the content doesn't know is, from 0.2 (everyday) to 1.0 (rare).

    "nothing" or "month" in a complaint is filler; "samsung" or "dishwasher" says the
    message is about something else.
    """
    common = math.log10(1 + counts.get(word, 0)) / _COMMONEST_LOG_COUNT
    return min(1.0, max(0.2, 1.0 - common))


class Reading:
    """How text in the content's language is read: noise dropped, versions and device models
    made plain, Unicode, case, emoji, apostrophes, repeated letters and units normalised, and
    words stemmed, all as the content's vocabulary (intents/_vocabulary.yaml) says."""

    def __init__(self, vocabulary: Vocabulary) -> None:
        self.vocabulary = vocabulary
        self._stemmer = Stemmer.Stemmer(vocabulary.stemmer)
        units = "|".join(vocabulary.units)
        self._units = re.compile(rf"(\d+(?:[.,]\d+)?)\s*({units})\b") if units else None
        turns = "|".join(re.escape(w) for w in vocabulary.clause_breaks)
        breaks = _SENTENCE_BREAK + (rf"|\b(?:{turns})\b" if turns else "")
        self.clause_break = re.compile(breaks)
        self._versions = re.compile(vocabulary.versions, re.I) if vocabulary.versions else None
        self._devices = re.compile(vocabulary.devices, re.I) if vocabulary.devices else None
        self._device_word = f" {vocabulary.device_word} "
        self.stem = lru_cache(maxsize=65536)(self._stem)

    def _stem(self, word: str) -> str:
        return str(self._stemmer.stemWord(word)) if word.isalpha() else word

    def neutralise(self, text: str) -> str:
        """Drop web addresses and @handles, unwrap #hashtags ("#iPhoneProblems" -> "iPhone
        Problems"), and read versions and device models as plain words."""
        text = html.unescape(text)
        text = _URL.sub(" ", text)
        text = _HANDLE.sub(" ", text)
        text = _HASHTAG.sub(lambda m: " " + _CAMEL.sub(" ", m.group(1)) + " ", text)
        if self._devices is not None:
            text = self._devices.sub(self._device_word, text)
        return self._versions.sub(" ", text) if self._versions is not None else text

    def clean(self, text: str) -> str:
        """Normalise noise, Unicode, case, emoji, apostrophes, repeated letters and units."""
        text = unicodedata.normalize("NFKC", self.neutralise(text)).casefold()
        text = "".join(
            " " if unicodedata.category(ch)[0] in "SC" and ch not in "\n" else ch for ch in text
        )
        text = _APOSTROPHES.sub("", text)
        if self.vocabulary.fold_accents:
            text = fold_accents(text)
        text = _REPEATS.sub(r"\1\1", text)
        return self._units.sub(r"\1 \2", text) if self._units is not None else text

    def words_of(self, text: str) -> list[str]:
        """The words of a raw text, cleaned."""
        return words(self.clean(text))


def words(text: str) -> list[str]:
    """The words of an already cleaned text."""
    return _WORD.findall(text)


def _max_edits(word: str) -> int:
    """How many typos a word of this length may carry and still be recognised."""
    if len(word) <= 3:
        return 0
    if len(word) <= 5:
        return 1
    return 2


@dataclass(frozen=True)
class _Term:
    """One term of a message: its stem, how sure we are of it (1.0 unless it was a typo),
    and how telling it would be if the content did not know it."""

    stem: str
    credit: float = 1.0
    rarity: float = 1.0


class Normalizer:
    """Turns text into weighted terms, using the vocabulary of one catalog."""

    def __init__(self, vocabulary: Vocabulary, typo_credit: float = 0.8) -> None:
        self.reading = reading = Reading(vocabulary)
        clean, synonyms = reading.clean, vocabulary.synonyms
        self.stop_words = {w for s in vocabulary.stop_words for w in words(clean(s))}
        self.typo_credit = typo_credit
        self.counts = word_counts(vocabulary.spelling, vocabulary.fold_accents)
        """How often each word occurs in the language's corpus: typos from words, everyday
        words from telling ones."""
        # Multi-word synonyms become one term: "apple id" and "apple account" -> "apple_id".
        self.phrases: dict[tuple[str, ...], str] = {}
        self._phrase_words = {
            w for k, v in synonyms.items() for phrase in (k, *v) for w in words(clean(phrase))
        }
        for canonical, variants in synonyms.items():
            term = "_".join(words(clean(canonical)))
            for phrase in (canonical, *variants):
                key = tuple(reading.stem(w) for w in words(clean(phrase)))
                if key:
                    self.phrases[key] = term
        self.longest_phrase = max((len(k) for k in self.phrases), default=1)
        self.known: set[str] = set()
        self._choices: list[str] = []
        self._corrections: dict[str, str | None] = {}

    def learn(self, texts: Iterable[str]) -> None:
        """Add the words of these texts to the vocabulary typos are corrected against."""
        for text in texts:
            self.known.update(self.reading.words_of(text))
        self.known.update(self._phrase_words)
        self._choices = sorted(
            w
            for w in self.known
            if len(w) > 2 and (w not in self.stop_words or w in self._phrase_words)
        )
        self._corrections.clear()

    def correct(self, word: str) -> str | None:
        """The known word a typo most likely stands for, or None."""
        if word in self._corrections:
            return self._corrections[word]
        best: str | None = None
        edits = _max_edits(word)
        is_word = self.counts.get(word, 0) >= _REAL_WORD_MIN_COUNT
        if edits and word.isalpha() and not is_word:
            found = process.extract(
                word, self._choices, scorer=OSA.distance, score_cutoff=edits, limit=8
            )
            if found:
                # Among equally close words prefer one of the same first letter and length.
                found.sort(key=lambda f: (f[1], f[0][0] != word[0], abs(len(f[0]) - len(word))))
                best = found[0][0]
        if len(self._corrections) < 100_000:
            self._corrections[word] = best
        return best

    def terms(
        self, text: str, corrections: list[tuple[str, str]] | None = None
    ) -> list[list[_Term]]:
        """The message's terms, one list per clause-sized window."""
        return [w.terms for w in self.windows(text, corrections)]

    def windows(self, text: str, corrections: list[tuple[str, str]] | None = None) -> list[_Window]:
        """The message cut into clause-sized windows, each with its terms and its words as
        read (typos corrected, stop words kept: "won't turn on" means something)."""
        windows: list[_Window] = []
        budget = _MAX_WORDS
        pending = _Window([], "")
        for clause in self.reading.clause_break.split(self.reading.clean(text)):
            tokens = words(clause)[:budget]
            budget -= len(tokens)
            if tokens:
                terms, read = self._sentence_terms(tokens, corrections)
                pending = _Window(pending.terms + terms, f"{pending.text} {read}".strip())
            if len(pending.terms) >= _MIN_WINDOW:
                windows += _chunks(pending)
                pending = _Window([], "")
            if budget <= 0:
                break
        if pending.terms:
            # A short last clause belongs with the one before it.
            if windows and len(windows[-1].terms) < _MAX_WINDOW:
                last = windows.pop()
                pending = _Window(last.terms + pending.terms, f"{last.text} {pending.text}")
            windows += _chunks(_Window(_dedupe(pending.terms), pending.text))
        # A word said again adds nothing to what a window means ("ugh ugh ugh ...").
        return [
            _Window(w.terms, " ".join(dict.fromkeys(w.text.split()))) for w in windows if w.terms
        ]

    def _sentence_terms(
        self, tokens: list[str], corrections: list[tuple[str, str]] | None
    ) -> tuple[list[_Term], str]:
        """The terms of one clause's tokens, and the clause as read (typos corrected)."""
        fixed: list[tuple[str, float]] = []
        for token in tokens:
            if token in self.known or token in self.stop_words or not token.isalpha():
                fixed.append((token, 1.0))
                continue
            guess = self.correct(token)
            if guess is None:
                fixed.append((token, 1.0))
            else:
                fixed.append((guess, self.typo_credit))
                if corrections is not None:
                    corrections.append((token, guess))
        stems = [self.reading.stem(w) for w, _ in fixed]
        out: list[_Term] = []
        i = 0
        while i < len(fixed):
            for size in range(min(self.longest_phrase, len(fixed) - i), 0, -1):
                key = tuple(stems[i : i + size])
                if key in self.phrases:
                    credit = min(c for _, c in fixed[i : i + size])
                    telling = max(rarity(w, self.counts) for w, _ in fixed[i : i + size])
                    out.append(_Term(self.phrases[key], credit, telling))
                    i += size
                    break
            else:
                word, credit = fixed[i]
                if word not in self.stop_words and not word.isdigit():
                    out.append(_Term(stems[i], credit, rarity(word, self.counts)))
                i += 1
        return _dedupe(out), " ".join(w for w, _ in fixed)

    def phrase_terms(self, text: str) -> list[_Term]:
        """The terms of a short content phrase (an example, a keyword)."""
        return _dedupe([t for window in self.terms(text) for t in window])


@dataclass(frozen=True)
class _Window:
    """One clause-sized part of a message: its terms, and its words as read."""

    terms: list[_Term]
    text: str


def _chunks(window: _Window) -> list[_Window]:
    """A window of at most `_MAX_WINDOW` terms, or a long one cut into such pieces (its words
    cut into as many equal parts)."""
    terms = window.terms
    if len(terms) <= _MAX_WINDOW:
        return [window]
    pieces = math.ceil(len(terms) / _MAX_WINDOW)
    said = window.text.split()
    size = math.ceil(len(said) / pieces)
    return [
        _Window(
            terms[k * _MAX_WINDOW : (k + 1) * _MAX_WINDOW],
            " ".join(said[k * size : (k + 1) * size]),
        )
        for k in range(pieces)
    ]


def _dedupe(terms: list[_Term]) -> list[_Term]:
    best: dict[str, _Term] = {}
    for term in terms:
        if term.stem not in best or term.credit > best[term.stem].credit:
            best[term.stem] = term
    return list(best.values())


# --------------------------------------------------------------------------------------------
# The index


@dataclass(frozen=True)
class _Example:
    intent: str
    text: str
    terms: frozenset[str]
    weight: float


@dataclass
class _Index:
    examples: list[_Example] = field(default_factory=list)
    postings: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    vocab: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    """term -> intents whose examples or keywords use it."""
    weights: dict[str, float] = field(default_factory=dict)
    """term -> how much it counts (see `_term_weights` and `Matcher._domain_factor`)."""
    unknown_weight: float = 1.0
    """What a term the content never uses counts, before its own everyday-word factor."""


_CANDIDATES: Final = 5
"""How many intents a match lists."""


@dataclass
class _Scores:
    """One window's score per class (intents and off-topic topics), blended from the lexical
    and the semantic evidence, with each class's best example."""

    window: list[_Term]
    score: dict[str, float]
    example: dict[str, str]
    lexical: dict[str, float] = field(default_factory=dict)
    semantic: dict[str, float] = field(default_factory=dict)

    @property
    def top(self) -> float:
        return max((v for k, v in self.score.items() if not is_off_topic(k)), default=0.0)

    def ranked(self, count: int) -> list[str]:
        intents = [k for k in self.score if not is_off_topic(k)]
        return heapq.nsmallest(count, intents, key=lambda k: (-self.score[k], k))

    def off_topic(self) -> str | None:
        """The off-topic class that scored best, if any did."""
        topics = [k for k in self.score if is_off_topic(k)]
        return max(topics, key=lambda k: (self.score[k], k)) if topics else None


class Matcher:
    """Matches messages to the intents of one catalog. Build once; `match` is cheap."""

    def __init__(
        self,
        catalog: Catalog,
        thresholds: Thresholds | None = None,
        embedder: StaticEmbedder | None = None,
    ) -> None:
        """`thresholds` default to the content's own (intents/_matcher.yaml); `embedder` to
        the shipped model (`bot.semantic.default_embedder`), loaded only when the thresholds
        give the meaning-based stage a share."""
        self.catalog = catalog
        self.thresholds = thresholds or Thresholds.of(catalog)
        vocabulary = catalog.vocabulary
        self.normalizer = Normalizer(vocabulary, typo_credit=self.thresholds.typo_credit)
        self.normalizer.learn(
            text
            for intent in catalog.intents.values()
            for text in (*intent.examples, *intent.keywords, intent.title)
        )
        self.normalizer.learn(catalog.off_topic.all_examples)
        self._small_talk = {
            tuple(self.normalizer.reading.words_of(phrase)): kind
            for kind in ("greeting", "thanks", "farewell")
            for phrase in getattr(catalog.off_topic.small_talk, kind)
        }
        self._other_devices = _devices(catalog.off_topic.other_devices)
        self._own_devices = _devices(catalog.off_topic.own_devices)
        self.index = self._build(catalog)
        self.semantic: SemanticIndex | None = None
        if self.thresholds.semantic and vocabulary.language in SEMANTIC_LANGUAGES:
            self.semantic = SemanticIndex(
                embedder or default_embedder(),
                [(e.intent, e.text) for e in self.index.examples],
            )
        self._fix_keys = _lookup((f.id, f.title, *f.aliases) for f in catalog.fixes.values())
        self._intent_keys = _lookup((i.id, i.title) for i in catalog.intents.values())

    # -- building ----------------------------------------------------------------------------

    def _build(self, catalog: Catalog) -> _Index:
        index = _Index()
        texts = [
            (intent.id, text)
            for intent in catalog.intents.values()
            # A keyword is also a one-word example: "backup" alone is evidence enough.
            for text in (*intent.examples, *intent.keywords)
        ]
        texts += [
            (off_topic_class(topic), example)
            for topic, examples in catalog.off_topic.by_topic.items()
            for example in examples
        ]
        phrases: list[tuple[str, str, frozenset[str]]] = []
        telling: dict[str, float] = {}
        for intent_id, text in texts:
            terms = self.normalizer.phrase_terms(text)
            phrases.append((intent_id, text, frozenset(t.stem for t in terms)))
            for term in terms:
                index.vocab[term.stem].add(intent_id)
                telling[term.stem] = max(telling.get(term.stem, 0.0), term.rarity)
        discrimination = _term_weights(phrases)
        index.weights = {
            term: weight * self._domain_factor(telling[term])
            for term, weight in discrimination.items()
        }
        rarest = max(discrimination.values(), default=1.0)
        index.unknown_weight = rarest * self.thresholds.unknown_weight
        for intent_id, text, stems in phrases:
            if not stems:
                continue
            weight = sum(index.weights[t] for t in stems)
            position = len(index.examples)
            index.examples.append(_Example(intent_id, text, stems, weight))
            for stem in stems:
                index.postings[stem].append(position)
        return index

    def _domain_factor(self, telling: float) -> float:
        """Everyday words ("full", "time") are weaker evidence than domain words ("icloud")."""
        floor = self.thresholds.everyday_word_weight
        return floor + (1 - floor) * telling

    # -- matching ----------------------------------------------------------------------------

    def match(self, text: str) -> Match:
        """Rank the intents for `text` and decide: a walk, "is it this?", "did you mean", or
        none."""
        corrections: list[tuple[str, str]] = []
        windows = self.normalizer.windows(text, corrections)
        if not windows:
            reason = "the message has no words to go on"
            return Match(text, Decision.NONE, (), (), reason, small_talk=self.small_talk(text))
        nearest: Sequence[Nearest | None] = (
            self.semantic.nearest([w.text for w in windows])
            if self.semantic is not None
            else [None] * len(windows)
        )
        scored = [self._score(w.terms, n) for w, n in zip(windows, nearest, strict=True)]
        best = max(scored, key=lambda s: s.top)
        second = self._second_problem(scored, best)
        ranked = tuple(self._candidate(best, i) for i in best.ranked(_CANDIDATES))
        closest = best.off_topic()
        off_topic = self._candidate(best, closest) if closest else None
        terms = tuple(t.stem for t in best.window)
        device = self.other_device(text)
        verdict = decide(ranked, off_topic, self.thresholds, device, second)
        talk = self.small_talk(text) if verdict.decision is Decision.NONE else None
        return Match(
            text,
            verdict.decision,
            ranked,
            terms,
            verdict.reason,
            tuple(corrections),
            off_topic,
            talk,
            verdict.choices,
            device,
            second,
            verdict.topic,
        )

    def _second_problem(self, scored: Sequence[_Scores], best: _Scores) -> Candidate | None:
        """The best intent of the best other clause, when it differs from the best clause's
        and no off-topic topic outdoes it there."""
        first = best.ranked(1)
        found: Candidate | None = None
        for window in scored:
            if window is best or not (top := window.ranked(1)) or top == first:
                continue
            rival = window.off_topic()
            if rival is not None and window.score[rival] >= window.score[top[0]]:
                continue
            if found is None or window.score[top[0]] > found.score:
                found = self._candidate(window, top[0])
        return found

    def other_device(self, text: str) -> str | None:
        """The device a message is about when the content covers it not ("macbook"): it
        names one of `other_devices` and none of `own_devices`; else None."""
        if self._other_devices is None:
            return None
        lowered = text.lower()
        if self._own_devices is not None and self._own_devices.search(lowered):
            return None
        found = self._other_devices.search(lowered)
        return " ".join(found.group(0).split()) if found else None

    def small_talk(self, text: str) -> str | None:
        """ "greeting", "thanks" or "farewell" when the message starts like one, else None."""
        tokens = tuple(self.normalizer.reading.words_of(text))
        for size in range(min(4, len(tokens)), 0, -1):
            if tokens[:size] in self._small_talk:
                return self._small_talk[tokens[:size]]
        return None

    def _score(self, window: list[_Term], nearest: Nearest | None = None) -> _Scores:
        """One window's scores: the lexical evidence, blended with the semantic one when the
        meaning-based stage takes part."""
        lexical = self._lexical(window)
        if nearest is None or self.semantic is None:
            return lexical
        floor, share = self.thresholds.semantic_floor, self.thresholds.lexical_weight
        semantic = {c: max(0.0, (v - floor) / (1 - floor)) for c, v in nearest.similarity.items()}
        score, example = {}, {}
        for class_id, evidence in semantic.items():
            said = lexical.score.get(class_id, 0.0)
            score[class_id] = round(share * said + (1 - share) * evidence, 4)
            # The example that explains most: the lexical stage's when its share is the larger.
            if class_id in lexical.example and share * said >= (1 - share) * evidence:
                example[class_id] = lexical.example[class_id]
            else:
                example[class_id] = self.semantic.texts[nearest.example[class_id]]
        return _Scores(window, score, example, lexical.score, semantic)

    def _lexical(self, window: list[_Term]) -> _Scores:
        """How well the window's terms overlap each class's best example and vocabulary."""
        index = self.index
        weights = {
            t.stem: index.weights.get(t.stem, index.unknown_weight * self._domain_factor(t.rarity))
            for t in window
        }
        credit = {t.stem: t.credit * weights[t.stem] for t in window}
        query_weight = sum(weights.values()) or 1.0
        overlap: dict[int, float] = defaultdict(float)
        coverage: dict[str, float] = defaultdict(float)
        for stem, given in credit.items():
            for position in index.postings.get(stem, ()):
                overlap[position] += given
            for intent_id in index.vocab.get(stem, ()):
                coverage[intent_id] += given
        best_example: dict[str, tuple[float, int]] = {}
        for position, shared in overlap.items():
            example = index.examples[position]
            dice = 2 * shared / (query_weight + example.weight)
            if dice > best_example.get(example.intent, (-1.0, 0))[0]:
                best_example[example.intent] = (dice, position)
        share = self.thresholds.example_weight
        score = {
            intent_id: round(share * dice + (1 - share) * coverage[intent_id] / query_weight, 4)
            for intent_id, (dice, _) in best_example.items()
        }
        examples = {i: index.examples[p].text for i, (_, p) in best_example.items()}
        return _Scores(window, score, examples, score)

    def _candidate(self, scores: _Scores, intent_id: str) -> Candidate:
        explained = tuple(
            t.stem for t in scores.window if intent_id in self.index.vocab.get(t.stem, ())
        )
        return Candidate(
            intent_id,
            scores.score[intent_id],
            scores.example[intent_id],
            explained,
            scores.lexical.get(intent_id, 0.0),
            scores.semantic.get(intent_id, 0.0),
        )

    # -- /fix lookup -------------------------------------------------------------------------

    def find_fix(self, topic: str) -> Fix | Intent | None:
        """What `/fix <topic>` means, through one door for every transport.

        A fix by id, title or alias ("wifi", "Wi-Fi", "storage"); else an intent by id or
        title ("storage_full"); else the intent the words match ("backup stuck"); else None.
        """
        key = alias_key(topic)
        if key in self._fix_keys:
            return self.catalog.fix(self._fix_keys[key])
        if key in self._intent_keys:
            return self.catalog.intent(self._intent_keys[key])
        result = self.match(topic)
        if result.intent is None:
            return None
        return self.catalog.intent(result.intent)


def _devices(names: Sequence[str]) -> re.Pattern[str] | None:
    """One pattern for device names, longest first ("macbook pro" before "mac"), as whole
    words, spaces optional ("apple tv", "appletv"), a model number allowed ("powerbeats3",
    "airpods2"); "mac address" is a network's, not a Mac."""
    if not names:
        return None
    spelled = sorted({" ".join(n.lower().split()) for n in names}, key=len, reverse=True)
    alternatives = "|".join(r"\s?".join(map(re.escape, n.split())) for n in spelled)
    return re.compile(rf"(?<![\w-])(?:{alternatives})\d*(?![\w-])(?!\s+address)")


def _term_weights(phrases: Sequence[tuple[str, str, frozenset[str]]]) -> dict[str, float]:
    """How much each term tells the intents apart: log(classes) minus the entropy of its use.

    A term used by one intent only weighs the most; one used evenly by every intent weighs
    nothing. Use is counted per example and normalised by each intent's number of examples,
    so an intent with many examples does not own every word.
    """
    sizes = Counter(intent for intent, _, _ in phrases)
    uses: dict[str, Counter[str]] = defaultdict(Counter)
    for intent, _, terms in phrases:
        for term in terms:
            uses[term][intent] += 1
    top = math.log(len(sizes) + 1)
    weights = {}
    for term, by_intent in uses.items():
        rates = [n / sizes[intent] for intent, n in by_intent.items()]
        total = sum(rates)
        entropy = -sum(r / total * math.log(r / total) for r in rates)
        weights[term] = max(top - entropy, 0.1)
    return weights


def _lookup(names: Iterable[tuple[str, ...]]) -> dict[str, str]:
    """alias key -> id, for rows of (id, *other names); the first row to claim a key keeps it."""
    keys: dict[str, str] = {}
    for row in names:
        for name in row:
            keys.setdefault(alias_key(name), row[0])
    return keys
