"""Measuring the matcher: labelled sets, leave-one-out over the content, threshold fitting.

Owns what `fixbot eval` and `fixbot tune` compute. What counts is the first reply a person
gets: the right walk, a question that offers the right intent, a refusal, or a wrong walk.
A case's `also` lists other acceptable intents ("none": a refusal is fine too). The strict
reading (the matcher's best intent equals the label) is kept as `accuracy`.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import yaml

from bot.catalog import Catalog, Intent, OffTopic
from bot.errors import FixbotError
from bot.matcher import TWO_PROBLEMS_GAP, Decision, Match, Matcher, Thresholds, decide


class EvaluationError(FixbotError):
    """A labelled file cannot be read; the message says where and why."""


NONE: Final = "none"
"""In a case's `also`: saying "I can't help with that" is an acceptable answer too."""


@dataclass(frozen=True)
class Case:
    """A labelled message: the intent a support agent would start with (None: none of ours)
    and other acceptable answers (`also`; "none" allows a refusal)."""

    text: str
    intent: str | None
    also: tuple[str, ...] = ()
    source: str = ""
    """Where the message was found (an address), if the file says."""
    origin: str = ""
    """The file it was read from."""

    @property
    def source_group(self) -> str:
        """What held-out fitting keeps together: the site, and on a code host the project
        ("github.com/owner"), so that one thread's messages never sit on both sides."""
        parts = self.source.split("/")
        if len(parts) < 3:
            return self.source or self.origin
        host = parts[2].removeprefix("www.")
        return f"{host}/{parts[3]}" if host == "github.com" and len(parts) > 3 else host

    @property
    def length(self) -> str:
        """The message's length, in the bands that `fixbot eval` reports."""
        count = len(self.text.split())
        for limit, band in LENGTH_BANDS:
            if count <= limit:
                return band
        return LENGTH_BANDS[-1][1]

    @property
    def acceptable(self) -> frozenset[str]:
        """The intents whose walk or offer helps this person."""
        return frozenset(i for i in (self.intent, *self.also) if i and i != NONE)

    @property
    def refusal_ok(self) -> bool:
        return self.intent is None or NONE in self.also


LENGTH_BANDS: Final = (
    (6, "1-6 words"),
    (15, "7-15 words"),
    (30, "16-30 words"),
    (10**9, "31+ words"),
)


class Kind(StrEnum):
    """The kinds of first reply, as the person sees them."""

    RIGHT_WALK = "right walk"
    HELPFUL_QUESTION = "helpful question"
    UNHELPFUL_QUESTION = "unhelpful question"
    REFUSAL = "refusal"
    WRONG_WALK = "wrong walk"


@dataclass(frozen=True)
class Outcome:
    case: Case
    match: Match

    @property
    def right(self) -> bool:
        """The matcher's best intent is the label (None for no match): the strict reading."""
        return self.match.intent == self.case.intent

    @property
    def kind(self) -> Kind:
        decision, offered = self.match.decision, self.match.choices
        if decision is Decision.NONE:
            return Kind.REFUSAL
        if decision is Decision.MATCH:
            good = self.match.intent in self.case.acceptable
            return Kind.RIGHT_WALK if good else Kind.WRONG_WALK
        good = any(i in self.case.acceptable for i in offered)
        return Kind.HELPFUL_QUESTION if good else Kind.UNHELPFUL_QUESTION

    @property
    def helpful(self) -> bool:
        """The first reply helps: the right walk, a question offering it, or a refusal
        where a refusal is acceptable."""
        kind = self.kind
        if kind is Kind.REFUSAL:
            return self.case.refusal_ok
        return kind in (Kind.RIGHT_WALK, Kind.HELPFUL_QUESTION)

    @property
    def first_offer(self) -> str | None:
        """The intent the bot would start with, or offer first; None for a refusal."""
        if self.match.decision is Decision.NONE:
            return None
        return self.match.choices[0] if self.match.choices else self.match.intent


@dataclass(frozen=True)
class IntentFigures:
    intent: str
    precision: float
    recall: float
    support: int

    @property
    def f1(self) -> float:
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0


@dataclass
class Report:
    """What an evaluation found, ready to print or to write as JSON."""

    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.outcomes)

    @property
    def in_scope(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.case.intent is not None]

    @property
    def off_topic(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.case.intent is None]

    @property
    def accuracy(self) -> float:
        return _share(o.right for o in self.outcomes)

    @property
    def in_scope_accuracy(self) -> float:
        return _share(o.right for o in self.in_scope)

    @property
    def helpful(self) -> float:
        """In scope: the share of first replies that help (see `Outcome.helpful`)."""
        return _share(o.helpful for o in self.in_scope)

    @property
    def off_topic_rejection(self) -> float:
        return _share(o.match.decision is Decision.NONE for o in self.off_topic)

    @property
    def off_topic_handled(self) -> float:
        """Off-topic: refused, or answered with a walk or offer its `also` allows."""
        return _share(o.helpful for o in self.off_topic)

    @property
    def wrong_walks(self) -> float:
        """Of all messages: a walk of an intent that is not acceptable."""
        return _share(o.kind is Kind.WRONG_WALK for o in self.outcomes)

    @property
    def questions(self) -> float:
        """Of all messages: a question ("is it this?", "did you mean") instead of a walk."""
        return _share(o.match.decision in QUESTIONS for o in self.outcomes)

    @property
    def ambiguity_rate(self) -> float:
        return _share(o.match.decision is Decision.AMBIGUOUS for o in self.outcomes)

    @property
    def utility(self) -> float:
        """How well users are served, half in scope and half off-topic (see `UTILITY`)."""
        in_scope = [_utility(o) for o in self.in_scope]
        off_topic = [_utility(o) for o in self.off_topic]
        return (_mean(in_scope) + _mean(off_topic)) / 2

    @property
    def misses(self) -> list[Outcome]:
        """In scope: first replies that do not help; off-topic: anything but a refusal."""
        return [
            o
            for o in self.outcomes
            if (not o.helpful if o.case.intent else o.match.decision is not Decision.NONE)
        ]

    def by(self, part: Callable[[Case], str]) -> dict[str, Report]:
        """The report split by a property of the cases (`Case.origin`, `Case.source_group`,
        `Case.length`), in order of first appearance."""
        parts: dict[str, Report] = {}
        for outcome in self.outcomes:
            parts.setdefault(part(outcome.case), Report()).outcomes.append(outcome)
        return parts

    def breakdown(
        self,
        title: str,
        part: Callable[[Case], str],
        least: int = 1,
        order: Sequence[str] = (),
    ) -> list[str]:
        """One line per part (of at least `least` messages, in `order` where given): the four
        figures."""
        lines = [f"{title}:"]
        parts = self.by(part)
        rank = {name: i for i, name in enumerate(order)}
        for name in sorted(parts, key=lambda n: rank.get(n, len(rank))):
            report = parts[name]
            if report.total >= least:
                lines.append(f"  {name[:26]:<26} {report.figures()}")
        return lines

    def figures(self) -> str:
        """The four figures that matter, on one line."""
        return (
            f"helpful {self.helpful:6.1%}  rejected {self.off_topic_rejection:6.1%}  "
            f"wrong walks {self.wrong_walks:5.1%}  questions {self.questions:5.1%}  "
            f"({len(self.in_scope)} in scope, {len(self.off_topic)} off-topic)"
        )

    def kinds(self, outcomes: Sequence[Outcome]) -> Counter[Kind]:
        return Counter(o.kind for o in outcomes)

    def confusion(self) -> Counter[tuple[str, str]]:
        """(expected, first offered) -> count, with "-" standing for no intent."""
        return Counter((o.case.intent or "-", o.first_offer or "-") for o in self.outcomes)

    def per_intent(self) -> list[IntentFigures]:
        """Precision (of the first offers of an intent, how many were acceptable) and recall
        (of the messages labelled with it, how many got an acceptable first offer)."""
        named = {o.case.intent for o in self.outcomes} | {o.first_offer for o in self.outcomes}
        figures = []
        for intent in sorted(i for i in named if i):
            mine = [o for o in self.outcomes if o.first_offer == intent]
            labelled = [o for o in self.outcomes if o.case.intent == intent]
            precision = _share(intent in o.case.acceptable for o in mine)
            recall = _share(o.first_offer in o.case.acceptable for o in labelled)
            figures.append(IntentFigures(intent, precision, recall, len(labelled)))
        return figures

    def summary(self) -> dict[str, Any]:
        """The figures as plain data (for `--json` and the tests)."""
        return {
            "messages": self.total,
            "in_scope": len(self.in_scope),
            "off_topic": len(self.off_topic),
            "helpful_in_scope": round(self.helpful, 4),
            "off_topic_rejected": round(self.off_topic_rejection, 4),
            "off_topic_handled": round(self.off_topic_handled, 4),
            "wrong_walks": round(self.wrong_walks, 4),
            "questions": round(self.questions, 4),
            "strict_accuracy": round(self.accuracy, 4),
            "first_replies": {
                "in_scope": {k.value: n for k, n in self.kinds(self.in_scope).items()},
                "off_topic": {k.value: n for k, n in self.kinds(self.off_topic).items()},
            },
            "per_intent": [
                {
                    "intent": f.intent,
                    "precision": round(f.precision, 4),
                    "recall": round(f.recall, 4),
                    "f1": round(f.f1, 4),
                    "support": f.support,
                }
                for f in self.per_intent()
            ],
            "confusion": [
                {"expected": e, "got": g, "count": n}
                for (e, g), n in sorted(self.confusion().items())
                if e != g
            ],
            "misses": [_miss(o) for o in self.misses],
        }

    def render(self, title: str = "Evaluation", held: Report | None = None) -> str:
        """The report for people; with `held`, the same messages held out beside it."""

        def row(name: str, figure: Callable[[Report], float]) -> str:
            beside = f"   held out {figure(held):6.1%}" if held is not None else ""
            return f"  {name:<32} {figure(self):6.1%}{beside}"

        lines = [
            f"{title}: {self.total} messages ({len(self.in_scope)} in scope, "
            f"{len(self.off_topic)} off-topic)",
            row("helpful first replies, in scope", lambda r: r.helpful),
            row("off-topic rejected", lambda r: r.off_topic_rejection),
            row("wrong walks, of all messages", lambda r: r.wrong_walks),
            row("questions, of all messages", lambda r: r.questions),
            row("strict accuracy (label = intent)", lambda r: r.accuracy),
            f"  off-topic refused or walked as its label allows: {self.off_topic_handled:.1%}",
            "",
            "First replies by kind:",
        ]
        for name, group in (("in scope", self.in_scope), ("off-topic", self.off_topic)):
            counts = self.kinds(group)
            listed = ", ".join(f"{k.value} {counts[k]}" for k in Kind if counts[k])
            lines.append(f"  {name:<10} {listed or '-'}")
        lines += ["", "Per intent (first offer):  precision  recall     F1  messages"]
        for f in self.per_intent():
            lines.append(
                f"  {f.intent:<24} {f.precision:7.1%} {f.recall:7.1%} {f.f1:6.2f} {f.support:9}"
            )
        lines += ["", "Confusion (expected -> first offered: count), mistakes only:"]
        wrong = [(k, n) for k, n in sorted(self.confusion().items()) if k[0] != k[1]]
        lines += [f"  {e:>16} -> {g:<16} {n}" for (e, g), n in wrong] or ["  none"]
        lines += ["", f"Misses ({len(self.misses)}):"]
        for outcome in self.misses:
            miss = _miss(outcome)
            lines.append(
                f"  {miss['text'][:70]!r}: expected {miss['expected']}, {miss['kind']} "
                f"({miss['decision']}; {miss['top']})"
            )
        return "\n".join(lines)


QUESTIONS: Final = frozenset({Decision.CONFIRM, Decision.AMBIGUOUS})


def _miss(outcome: Outcome) -> dict[str, Any]:
    match = outcome.match
    top = ", ".join(f"{c.intent} {c.score:.2f}" for c in match.candidates[:3]) or "-"
    expected = "/".join([outcome.case.intent or "-", *outcome.case.also])
    return {
        "text": outcome.case.text,
        "expected": expected,
        "kind": outcome.kind.value,
        "decision": match.decision.value,
        "offered": list(match.choices),
        "top": top,
    }


def _share(flags: Iterable[bool]) -> float:
    return _mean([1.0 if flag else 0.0 for flag in flags])


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 1.0


UTILITY: Final = {
    "right match": 1.0,
    "right refusal": 1.0,  # not ours, or a refusal the label allows
    "right confirmed": 0.85,  # one tap on "yes"
    "right among did-you-mean": 0.75,  # one tap, after reading two or three
    "question about something not ours": 0.4,  # one tap on "something else"
    "no match, topic menu": 0.25,  # the user can still pick the topic
    "wrong question": 0.1,
    "wrong match": 0.0,  # the worst: a wrong fix, confidently
}
"""What each first reply is worth to a person; the thresholds are fitted to it."""


def _utility(outcome: Outcome) -> float:
    case, kind = outcome.case, outcome.kind
    if kind is Kind.REFUSAL:
        return UTILITY["right refusal" if case.refusal_ok else "no match, topic menu"]
    if kind is Kind.RIGHT_WALK:
        return UTILITY["right match"]
    if kind is Kind.WRONG_WALK:
        return UTILITY["wrong match"]
    if kind is Kind.UNHELPFUL_QUESTION:
        not_ours = case.intent is None
        return UTILITY["question about something not ours" if not_ours else "wrong question"]
    single = outcome.match.decision is Decision.CONFIRM
    return UTILITY["right confirmed" if single else "right among did-you-mean"]


def load_cases(path: Path) -> list[Case]:
    """Read `- {text: ..., intent: id-or-null, also: [ids, none]}` items from a YAML file;
    other keys (source, note) are kept out of the way."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise EvaluationError(f"{path}: cannot be read ({exc})") from None
    except yaml.YAMLError as exc:
        raise EvaluationError(f"{path}: YAML syntax error: {exc}") from None
    if not isinstance(data, list):
        raise EvaluationError(f"{path}: must be a list of {{text: ..., intent: ...}} items")
    cases = []
    for number, item in enumerate(data):
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            raise EvaluationError(f"{path}: item {number} needs a 'text'")
        intent = item.get("intent")
        if intent is not None and not isinstance(intent, str):
            raise EvaluationError(f"{path}: item {number}: 'intent' must be an id or null")
        also = item.get("also") or []
        if not isinstance(also, list) or not all(isinstance(a, str) for a in also):
            raise EvaluationError(f"{path}: item {number}: 'also' must be a list of ids or none")
        source = item.get("source")
        cases.append(
            Case(
                item["text"],
                intent,
                tuple(also),
                source if isinstance(source, str) else "",
                path.name,
            )
        )
    return cases


def load_case_files(paths: Sequence[Path]) -> list[Case]:
    """The cases of several files, in order, each knowing its file."""
    return [case for path in paths for case in load_cases(path)]


def evaluate(matcher: Matcher, cases: Sequence[Case]) -> Report:
    named = {i for c in cases for i in (c.intent, *c.also) if i and i != NONE}
    unknown = {i for i in named if i not in matcher.catalog.intents}
    if unknown:
        raise EvaluationError(
            f"labels name intents the content lacks: {', '.join(sorted(unknown))}"
        )
    return Report([Outcome(case, matcher.match(case.text)) for case in cases])


# --------------------------------------------------------------------------------------------
# The content judged by itself


def collisions(matcher: Matcher) -> list[tuple[str, str, str]]:
    """Content examples that match another intent at least as well as their own.

    Returns (intent, example, winning intent) for each.
    """
    found = []
    for intent in matcher.catalog.intents.values():
        for example in intent.examples:
            result = matcher.match(example)
            own = next((c.score for c in result.candidates if c.intent == intent.id), 0.0)
            rival = next((c for c in result.candidates if c.intent != intent.id), None)
            if rival is not None and rival.score >= own:
                found.append((intent.id, example, rival.intent))
    return found


def leave_one_out(
    catalog: Catalog,
    thresholds: Thresholds | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Report:
    """Match every content example (and off-topic example) with a matcher built without it."""
    cases: list[tuple[str | None, int]] = [
        (intent.id, n) for intent in catalog.intents.values() for n in range(len(intent.examples))
    ]
    cases.extend((None, n) for n in range(len(catalog.off_topic.written_examples)))
    report = Report()
    for done, (intent_id, n) in enumerate(cases):
        held_out, reduced = _without(catalog, intent_id, n)
        matcher = Matcher(reduced, thresholds)
        report.outcomes.append(Outcome(Case(held_out, intent_id), matcher.match(held_out)))
        if progress:
            progress(done + 1, len(cases))
    return report


def _without(catalog: Catalog, intent_id: str | None, n: int) -> tuple[str, Catalog]:
    if intent_id is None:
        held_out, off_topic = _off_topic_without(catalog.off_topic, n)
        return held_out, dataclasses.replace(catalog, off_topic=off_topic)
    intent = catalog.intent(intent_id)
    examples = intent.examples
    if len(examples) == 1:
        return examples[0], catalog
    smaller = intent.model_copy(update={"examples": examples[:n] + examples[n + 1 :]})
    intents: list[Intent] = [smaller if i.id == intent_id else i for i in catalog.intents.values()]
    return examples[n], dataclasses.replace(
        catalog, intents=MappingProxyType({i.id: i for i in intents})
    )


def _off_topic_without(off_topic: OffTopic, n: int) -> tuple[str, OffTopic]:
    """The nth of the written off-topic examples, and the off-topic content without it."""
    if n < len(off_topic.examples):
        rest = off_topic.examples[:n] + off_topic.examples[n + 1 :]
        return off_topic.examples[n], off_topic.model_copy(update={"examples": rest})
    n -= len(off_topic.examples)
    for topic, near in off_topic.topics.items():
        examples = near.examples
        if n < len(examples):
            rest = examples[:n] + examples[n + 1 :]
            smaller = near.model_copy(update={"examples": rest})
            topics = {**off_topic.topics, topic: smaller}
            return examples[n], off_topic.model_copy(update={"topics": topics})
        n -= len(examples)
    raise IndexError(n)


@dataclass(frozen=True)
class Fit:
    thresholds: Thresholds
    report: Report
    steady: float = 0.0
    """The utility around the chosen thresholds (see `_steady`): what the choice is made on."""


SCORING_GRID: Final = tuple(itertools.product((0.6, 0.7, 0.8), (1.0, 1.25), (0.1, 0.2, 0.3, 0.4)))
"""(example_weight, unknown_weight, everyday_word_weight): each needs a leave-one-out run."""
BLEND_GRID: Final = tuple(itertools.product((0.3, 0.4, 0.5, 0.6, 0.7, 1.0), (0.2, 0.3, 0.4)))
"""(lexical_weight, semantic_floor): how the two stages' evidence is blended; each needs the
messages matched again (1.0: the lexical stage alone, whatever the floor)."""
_ACCEPTS, _BELOWS, _MARGINS, _LEADS = (
    range(30, 71, 2),
    (0, 5, 10, 15, 20),
    range(2, 16, 2),
    (0, -4, -8, -12, -16, -20),
)
DECISION_GRID: Final = tuple(
    (accept / 100, (accept - below) / 100, margin / 100, lead / 100)
    for accept in _ACCEPTS
    for below in _BELOWS
    for margin in _MARGINS
    for lead in _LEADS
)
"""(accept, confirm, margin, off_topic_lead): only change the decision, so they are swept over
stored results."""


def fit_thresholds(
    catalog: Catalog, progress: Callable[[int, int], None] | None = None
) -> list[Fit]:
    """Search the thresholds that do best in leave-one-out over the content; best first.

    `progress(done, total)` is called after each of the scoring grid's leave-one-out runs.
    typo_credit is not searched: the content has no typos, so leave-one-out cannot see it.
    """
    fits: list[Fit] = []
    current = Thresholds.of(catalog)
    for done, (example_weight, unknown_weight, everyday) in enumerate(SCORING_GRID, 1):
        base = dataclasses.replace(
            current,
            example_weight=example_weight,
            unknown_weight=unknown_weight,
            everyday_word_weight=everyday,
        )
        fits.append(fit_decision(leave_one_out(catalog, base), base, limited=False))
        if progress:
            progress(done, len(SCORING_GRID))
    fits.sort(key=lambda f: (-f.report.utility, -f.report.accuracy, f.report.questions))
    return fits


MAX_QUESTIONS: Final = 0.35
"""At most this share of messages may get a question rather than a walk or a refusal."""
UTILITY_TIE: Final = 0.005
"""Fits whose utility differs by less than this are a tie."""
MAX_WRONG_WALKS: Final = 0.06
"""At most this share of messages may start a walk of a wrong intent."""


def fit_decision(report: Report, base: Thresholds, *, limited: bool = True) -> Fit:
    """The accept, confirm, margin and off_topic_lead that serve these matched messages best
    (utility), asking no more questions and starting no more wrong walks than the limits
    allow (unless `limited` is false)."""
    table = _DecisionTable(report, base.max_choices)
    figures = table.sweep()
    row = _best_row(figures, limited)
    accept, confirm, margin, lead = DECISION_GRID[row]
    thresholds = dataclasses.replace(
        base, accept=accept, confirm=confirm, margin=margin, off_topic_lead=lead
    )
    return Fit(thresholds, _redecide(report, thresholds), float(figures.steady[row]))


def _steady(utility: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Each grid row's utility averaged with its neighbours' (one step along each threshold).

    On a few hundred messages the single best row is often a sharp peak that a message or two
    made; a row whose neighbours do nearly as well holds on messages it was not fitted on.
    """
    shape = (len(_ACCEPTS), len(_BELOWS), len(_MARGINS), len(_LEADS))
    values = utility.reshape(shape)
    total = np.zeros(shape)
    count = np.zeros(shape)
    for axis, size in enumerate(shape):
        for step in (-1, 0, 1):
            if step and size == 1:
                continue
            index = np.clip(np.arange(size) + step, 0, size - 1)
            total += np.take(values, index, axis=axis)
            count += 1
    return np.asarray((total / count).reshape(-1), dtype=np.float64)


def _best_row(figures: _Figures, limited: bool = True) -> int:
    """The grid row that `fit_decision` picks: within the limits, the best utility; among
    utilities this close (a tie on a few hundred messages) the fewest wrong walks (the worst
    first reply), then the most helpful, then the fewest questions."""
    allowed = np.ones(len(figures.steady), dtype=bool)
    if limited:
        allowed = (figures.questions <= MAX_QUESTIONS + 1e-9) & (
            figures.wrong_walks <= MAX_WRONG_WALKS + 1e-9
        )
        if not allowed.any():
            allowed[:] = True
    best = figures.steady[allowed].max()
    tied = np.flatnonzero(allowed & (figures.steady >= best - UTILITY_TIE))
    order = np.lexsort(
        (tied, figures.questions[tied], -figures.helpful[tied], figures.wrong_walks[tied])
    )
    return int(tied[order[0]])


@dataclass(frozen=True)
class _Figures:
    """Each figure for every row of `DECISION_GRID` (or for each of several fits), as arrays."""

    steady: npt.NDArray[np.float64]
    """The utility the choice is made on: around each row (`_steady`), or a fit's."""
    utility: npt.NDArray[np.float64]
    helpful: npt.NDArray[np.float64]
    wrong_walks: npt.NDArray[np.float64]
    questions: npt.NDArray[np.float64]


class _DecisionTable:
    """Matched messages as arrays, so that `decide` can be run for every row of
    `DECISION_GRID` at once. It mirrors `bot.matcher.decide` (a test holds the two equal)."""

    def __init__(self, report: Report, max_choices: int) -> None:
        outcomes = report.outcomes
        n, width = len(outcomes), _CANDIDATE_COLUMNS
        # Missing scores are a finite "far below anything" so that differences stay numbers.
        self.score = np.full((n, width), _ABSENT)
        self.good = np.zeros((n, width), dtype=bool)
        self.off = np.full(n, _ABSENT)
        self.blocked = np.zeros(n, dtype=bool)
        """No candidates, or about another device: none, whatever the thresholds."""
        self.second = np.full(n, _ABSENT)
        """A second problem's score, from another clause (`Match.second`)."""
        self.second_good = np.zeros(n, dtype=bool)
        for i, outcome in enumerate(outcomes):
            match, acceptable = outcome.match, outcome.case.acceptable
            for k, candidate in enumerate(match.candidates[:width]):
                self.score[i, k] = candidate.score
                self.good[i, k] = candidate.intent in acceptable
            if match.off_topic is not None:
                self.off[i] = match.off_topic.score
            self.blocked[i] = not match.candidates or match.other_device is not None
            second = match.second
            if (
                second is not None
                and match.candidates
                and second.intent != match.candidates[0].intent
            ):
                self.second[i] = second.score
                self.second_good[i] = second.intent in acceptable
        self.refusal_ok = np.array([o.case.refusal_ok for o in outcomes], dtype=bool)
        self.in_scope = np.array([o.case.intent is not None for o in outcomes], dtype=bool)
        self.max_choices = max_choices

    def sweep(self) -> _Figures:
        grid = np.array(DECISION_GRID)
        accept, confirm, margin, lead = (grid[:, j : j + 1] for j in range(4))
        best = self.score[None, :, 0]
        none = (
            self.blocked[None, :]
            | (self.off[None, :] >= best + lead)
            | (best < np.minimum(confirm, accept))
        )
        close = (best[..., None] - self.score[None, :, :]) < margin[..., None]
        close_count = close.sum(axis=2)
        close_call = ~none & (close_count > 1)
        second = self.second[None, :]
        two_problems = (
            ~none & ~close_call & (second >= accept) & (second >= best - TWO_PROBLEMS_GAP)
        )
        ambiguous = close_call | two_problems
        confirming = ~none & ~ambiguous & (best < accept)
        walking = ~none & ~ambiguous & ~confirming
        shown = np.where(two_problems, 1, np.minimum(close_count, self.max_choices))
        columns = np.arange(self.score.shape[1])[None, None, :]
        offered_good = (self.good[None, :, :] & (columns < shown[..., None])).any(axis=2)
        offered_good |= two_problems & self.second_good[None, :]
        good_first = self.good[None, :, 0]
        asked = ambiguous | confirming
        in_scope, refusal_ok = self.in_scope[None, :], self.refusal_ok[None, :]
        utility = np.select(
            [
                none & refusal_ok,
                none,
                walking & good_first,
                walking,
                asked & ~offered_good & ~in_scope,
                asked & ~offered_good,
                confirming,
            ],
            [
                UTILITY["right refusal"],
                UTILITY["no match, topic menu"],
                UTILITY["right match"],
                UTILITY["wrong match"],
                UTILITY["question about something not ours"],
                UTILITY["wrong question"],
                UTILITY["right confirmed"],
            ],
            UTILITY["right among did-you-mean"],
        )
        helpful = (none & refusal_ok) | (walking & good_first) | (asked & offered_good)
        served = (_mean_where(utility, in_scope) + _mean_where(utility, ~in_scope)) / 2
        return _Figures(
            steady=_steady(served),
            utility=served,
            helpful=_mean_where(helpful, in_scope),
            wrong_walks=(walking & ~good_first).mean(axis=1),
            questions=asked.mean(axis=1),
        )


_CANDIDATE_COLUMNS: Final = 5
_ABSENT: Final = -10.0


def _mean_where(values: npt.NDArray[Any], where: npt.NDArray[np.bool_]) -> npt.NDArray[np.float64]:
    """The mean over the messages `where` is true, per grid row (1.0 when there are none, as
    `_mean` has it)."""
    count = where.sum()
    if not count:
        return np.ones(values.shape[0])
    return np.asarray((values * where).sum(axis=1) / count, dtype=np.float64)


def match_blends(
    catalog: Catalog,
    cases: Sequence[Case],
    base: Thresholds,
    grid: Sequence[tuple[float, float]] = BLEND_GRID,
) -> dict[tuple[float, float], Report]:
    """The cases matched once for every (lexical_weight, semantic_floor) of `grid`."""
    reports: dict[tuple[float, float], Report] = {}
    for lexical_weight, floor in grid:
        if lexical_weight >= 1.0 and any(k[0] >= 1.0 for k in reports):
            continue  # the lexical stage alone does not depend on the floor
        thresholds = dataclasses.replace(base, lexical_weight=lexical_weight, semantic_floor=floor)
        reports[(lexical_weight, floor)] = evaluate(Matcher(catalog, thresholds), cases)
    return reports


def fit_blend(reports: Mapping[tuple[float, float], Report], base: Thresholds) -> Fit:
    """The blend and decision that serve these messages best, as `fit_decision` judges."""
    fits = []
    for (lexical_weight, floor), report in reports.items():
        blended = dataclasses.replace(base, lexical_weight=lexical_weight, semantic_floor=floor)
        fits.append(fit_decision(report, blended))
    rows = np.array([(f.steady, *_scalar_figures(f.report)) for f in fits], dtype=np.float64)
    figures = _Figures(*(rows[:, j] for j in range(5)))
    return fits[_best_row(figures)]


def _scalar_figures(report: Report) -> tuple[float, float, float, float]:
    return (report.utility, report.helpful, report.wrong_walks, report.questions)


def folds_of(cases: Sequence[Case], folds: int = 5) -> list[int]:
    """Which fold each case is held out in: its file when the cases come from several files
    (fit on one set, measure on the other), else its source group, whole groups dealt to
    `folds` folds, largest first."""
    origins = list(dict.fromkeys(c.origin for c in cases))
    if len(origins) > 1:
        return [origins.index(c.origin) for c in cases]
    sizes = Counter(c.source_group for c in cases)
    load = [0] * folds
    fold_of: dict[str, int] = {}
    for group, size in sorted(sizes.items(), key=lambda g: (-g[1], g[0])):
        fold_of[group] = load.index(min(load))
        load[fold_of[group]] += size
    return [fold_of[c.source_group] for c in cases]


def held_out(
    reports: Mapping[tuple[float, float], Report], base: Thresholds, folds: Sequence[int]
) -> Report:
    """How fitting the blend and the decision does on messages it was not fitted on: each
    fold decided with what was fitted on the others (`folds_of`). `reports` are the same
    cases matched with each blend (`match_blends`)."""
    outcomes: list[Outcome | None] = [None] * len(folds)
    for fold in sorted(set(folds)):
        train = {
            blend: Report([o for o, f in zip(r.outcomes, folds, strict=True) if f != fold])
            for blend, r in reports.items()
        }
        fitted = fit_blend(train, base).thresholds
        report = reports[(fitted.lexical_weight, fitted.semantic_floor)]
        chosen = [i for i, f in enumerate(folds) if f == fold]
        decided = _redecide(Report([report.outcomes[i] for i in chosen]), fitted)
        for i, outcome in zip(chosen, decided.outcomes, strict=True):
            outcomes[i] = outcome
    return Report([o for o in outcomes if o is not None])


def tuning_yaml(thresholds: Thresholds, report: Report, measured: Sequence[str] = ()) -> str:
    """intents/_matcher.yaml for these thresholds, saying where they came from and what they
    measured (`measured`: lines such as "held out: helpful 86.1% ...")."""
    fitted = {
        "accept": thresholds.accept,
        "confirm": thresholds.confirm,
        "margin": thresholds.margin,
        "off_topic_lead": thresholds.off_topic_lead,
        "example_weight": thresholds.example_weight,
        "unknown_weight": thresholds.unknown_weight,
        "everyday_word_weight": thresholds.everyday_word_weight,
        "lexical_weight": thresholds.lexical_weight,
        "semantic_floor": thresholds.semantic_floor,
    }
    lines = [
        "The matcher's numbers for this content, written by `fixbot tune`: the scoring weights",
        "by leave-one-out over the content's own examples and off-topic examples; the blend",
        "(lexical_weight, semantic_floor) and the decision (accept, confirm, margin,",
        "off_topic_lead) on labelled real messages, when given.",
        "What each means: Thresholds in bot/matcher.py. `fixbot check` validates this file.",
        *measured,
    ]
    if not measured:
        lines.append(
            f"Fitted on: utility {report.utility:.3f}, helpful {report.helpful:.1%}, "
            f"off-topic rejected {report.off_topic_rejection:.1%}, "
            f"questions {report.questions:.1%}."
        )
    return "".join(f"# {line}\n" for line in lines) + yaml.safe_dump(fitted, sort_keys=False)


def _redecide(report: Report, thresholds: Thresholds) -> Report:
    """The same matches, decided with other accept, confirm, margin and off_topic_lead (the
    scores do not depend on them)."""
    outcomes = []
    for outcome in report.outcomes:
        match = outcome.match
        verdict = decide(
            match.candidates, match.off_topic, thresholds, match.other_device, match.second
        )
        redecided = dataclasses.replace(
            match,
            decision=verdict.decision,
            reason=verdict.reason,
            choices=verdict.choices,
            topic=verdict.topic,
        )
        outcomes.append(Outcome(outcome.case, redecided))
    return Report(outcomes)
