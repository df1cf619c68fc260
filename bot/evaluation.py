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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

import yaml

from bot.catalog import Catalog, Intent, OffTopic
from bot.errors import FixbotError
from bot.matcher import Decision, Match, Matcher, Thresholds, decide


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

    @property
    def acceptable(self) -> frozenset[str]:
        """The intents whose walk or offer helps this person."""
        return frozenset(i for i in (self.intent, *self.also) if i and i != NONE)

    @property
    def refusal_ok(self) -> bool:
        return self.intent is None or NONE in self.also


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

    def render(self, title: str = "Evaluation") -> str:
        lines = [
            f"{title}: {self.total} messages ({len(self.in_scope)} in scope, "
            f"{len(self.off_topic)} off-topic)",
            f"  helpful first replies, in scope  {self.helpful:7.1%}",
            f"  off-topic rejected               {self.off_topic_rejection:7.1%}"
            f"  (or a walk its label allows: {self.off_topic_handled:.1%})",
            f"  wrong walks, of all messages     {self.wrong_walks:7.1%}",
            f"  questions, of all messages       {self.questions:7.1%}",
            f"  strict accuracy (label = intent) {self.accuracy:7.1%}",
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
        cases.append(Case(item["text"], intent, tuple(also)))
    return cases


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
    groups = {"": off_topic.examples, **off_topic.topics}
    for topic, examples in groups.items():
        if n < len(examples):
            rest = examples[:n] + examples[n + 1 :]
            if topic:
                topics = {**off_topic.topics, topic: rest}
                return examples[n], off_topic.model_copy(update={"topics": topics})
            return examples[n], off_topic.model_copy(update={"examples": rest})
        n -= len(examples)
    raise IndexError(n)


@dataclass(frozen=True)
class Fit:
    thresholds: Thresholds
    report: Report


SCORING_GRID: Final = tuple(itertools.product((0.6, 0.7, 0.8), (1.0, 1.25), (0.1, 0.2, 0.3, 0.4)))
"""(example_weight, unknown_weight, everyday_word_weight): each needs a leave-one-out run."""
DECISION_GRID: Final = tuple(
    (accept / 100, (accept - below) / 100, margin / 100, lead / 100)
    for accept in range(30, 71, 2)
    for below in (0, 5, 10, 15, 20)
    for margin in range(2, 16, 2)
    for lead in (0, -4, -8, -12)
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
    for done, (example_weight, unknown_weight, everyday) in enumerate(SCORING_GRID, 1):
        base = Thresholds(
            example_weight=example_weight,
            unknown_weight=unknown_weight,
            everyday_word_weight=everyday,
        )
        fits += _sweep_decisions(leave_one_out(catalog, base), base)
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


def fit_decision(report: Report, base: Thresholds) -> Fit:
    """The accept, confirm, margin and off_topic_lead that serve these matched messages best
    (utility), asking no more questions and starting no more wrong walks than the limits
    allow."""
    fits = _sweep_decisions(report, base)
    allowed = [
        f
        for f in fits
        if f.report.questions <= MAX_QUESTIONS and f.report.wrong_walks <= MAX_WRONG_WALKS
    ] or fits
    # Utilities this close are a tie on a few hundred messages: prefer fewer wrong walks
    # (the worst first reply), then more helpful ones.
    best = max(f.report.utility for f in allowed)
    tied = [f for f in allowed if f.report.utility >= best - UTILITY_TIE]
    return min(tied, key=lambda f: (f.report.wrong_walks, -f.report.helpful, f.report.questions))


def _sweep_decisions(report: Report, base: Thresholds) -> list[Fit]:
    """The same matches decided with every (accept, confirm, margin, off_topic_lead) of
    `DECISION_GRID`."""
    fits = []
    for accept, confirm, margin, lead in DECISION_GRID:
        thresholds = dataclasses.replace(
            base, accept=accept, confirm=confirm, margin=margin, off_topic_lead=lead
        )
        fits.append(Fit(thresholds, _redecide(report, thresholds)))
    return fits


def cross_validate(report: Report, base: Thresholds, folds: int = 5) -> Report:
    """How `fit_decision` does on messages it was not fitted on: each fold is decided with
    the thresholds fitted on the others. Every fold keeps the set's share of off-topic."""
    ordered = sorted(range(report.total), key=lambda i: report.outcomes[i].case.intent is None)
    fold_of = {index: rank % folds for rank, index in enumerate(ordered)}
    held_out: list[Outcome] = []
    for fold in range(folds):
        train = Report([o for i, o in enumerate(report.outcomes) if fold_of[i] != fold])
        test = Report([o for i, o in enumerate(report.outcomes) if fold_of[i] == fold])
        held_out += _redecide(test, fit_decision(train, base).thresholds).outcomes
    return Report(held_out)


def tuning_yaml(thresholds: Thresholds, report: Report, source: str = "") -> str:
    """intents/_matcher.yaml for these thresholds, saying where they came from."""
    fitted = {
        "accept": thresholds.accept,
        "confirm": thresholds.confirm,
        "margin": thresholds.margin,
        "off_topic_lead": thresholds.off_topic_lead,
        "example_weight": thresholds.example_weight,
        "unknown_weight": thresholds.unknown_weight,
        "everyday_word_weight": thresholds.everyday_word_weight,
    }
    header = (
        "# The matcher's numbers for this content, written by `fixbot tune`: the scoring weights\n"
        "# by leave-one-out over the content's own examples and off-topic examples"
        + (f",\n# accept, confirm, margin and off_topic_lead on {source}" if source else "")
        + ".\n# What each means: Thresholds in bot/matcher.py. `fixbot check` validates this file.\n"
        f"# Fitted on: utility {report.utility:.3f}, helpful {report.helpful:.1%}, "
        f"off-topic rejected {report.off_topic_rejection:.1%}, questions {report.questions:.1%}.\n"
    )
    return header + yaml.safe_dump(fitted, sort_keys=False)


def _redecide(report: Report, thresholds: Thresholds) -> Report:
    """The same matches, decided with other accept, confirm, margin and off_topic_lead (the
    scores do not depend on them)."""
    outcomes = []
    for outcome in report.outcomes:
        match = outcome.match
        verdict = decide(match.candidates, match.off_topic, thresholds, match.other_device)
        redecided = dataclasses.replace(
            match, decision=verdict.decision, reason=verdict.reason, choices=verdict.choices
        )
        outcomes.append(Outcome(outcome.case, redecided))
    return Report(outcomes)
