"""Measuring the matcher: labelled sets, leave-one-out over the content, threshold fitting.

Owns what `fixbot eval` and `fixbot tune` compute. A case is right when the matcher's
`intent` (the best intent for "match" and "ambiguous", None for "none") equals its label,
which is how tools outside the project read `fixbot match --json`.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import yaml

from bot.catalog import Catalog, Intent, OffTopic
from bot.errors import FixbotError
from bot.matcher import Decision, Match, Matcher, Thresholds, decide


class EvaluationError(FixbotError):
    """A labelled file cannot be read; the message says where and why."""


@dataclass(frozen=True)
class Case:
    text: str
    intent: str | None


@dataclass(frozen=True)
class Outcome:
    case: Case
    match: Match

    @property
    def right(self) -> bool:
        return self.match.intent == self.case.intent


@dataclass
class Report:
    """What an evaluation found, ready to print."""

    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.outcomes)

    @property
    def accuracy(self) -> float:
        return _share(o.right for o in self.outcomes)

    @property
    def in_scope_accuracy(self) -> float:
        return _share(o.right for o in self.outcomes if o.case.intent is not None)

    @property
    def off_topic_rejection(self) -> float:
        return _share(o.right for o in self.outcomes if o.case.intent is None)

    @property
    def ambiguity_rate(self) -> float:
        return _share(o.match.decision is Decision.AMBIGUOUS for o in self.outcomes)

    @property
    def utility(self) -> float:
        """How well users are served, half in scope and half off-topic (see `UTILITY`)."""
        in_scope = [_utility(o) for o in self.outcomes if o.case.intent is not None]
        off_topic = [_utility(o) for o in self.outcomes if o.case.intent is None]
        return (_mean(in_scope) + _mean(off_topic)) / 2

    @property
    def misses(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.right]

    def confusion(self) -> Counter[tuple[str, str]]:
        """(expected, got) -> count, with "-" standing for no intent."""
        return Counter((o.case.intent or "-", o.match.intent or "-") for o in self.outcomes)

    def render(self, title: str = "Evaluation") -> str:
        lines = [
            f"{title}: {self.total} messages",
            f"  accuracy            {self.accuracy:7.1%}",
            f"  in scope            {self.in_scope_accuracy:7.1%}"
            f"  ({sum(1 for o in self.outcomes if o.case.intent)} messages)",
            f"  off-topic rejected  {self.off_topic_rejection:7.1%}"
            f"  ({sum(1 for o in self.outcomes if not o.case.intent)} messages)",
            f"  ambiguity prompts   {self.ambiguity_rate:7.1%}",
            "",
            "Confusion (expected -> got: count), mistakes only:",
        ]
        wrong = [(k, n) for k, n in sorted(self.confusion().items()) if k[0] != k[1]]
        lines += [f"  {e:>16} -> {g:<16} {n}" for (e, g), n in wrong] or ["  none"]
        lines += ["", f"Misses ({len(self.misses)}):"]
        for outcome in self.misses:
            match = outcome.match
            top = ", ".join(f"{c.intent} {c.score:.2f}" for c in match.candidates[:3]) or "-"
            lines.append(
                f"  {outcome.case.text[:70]!r}: expected {outcome.case.intent or '-'}, "
                f"got {match.intent or '-'} ({match.decision}; {top})"
            )
        return "\n".join(lines)


def _share(flags: Iterable[bool]) -> float:
    return _mean([1.0 if flag else 0.0 for flag in flags])


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 1.0


UTILITY: Final = {
    "right match": 1.0,
    "right among did-you-mean": 0.75,  # one extra tap
    "no match, topic menu": 0.25,  # the user can still pick the topic
    "wrong did-you-mean": 0.1,
    "wrong match": 0.0,  # the worst: a wrong fix, confidently
}
"""What each outcome is worth to a user with a problem; the thresholds are fitted to it."""


def _utility(outcome: Outcome) -> float:
    match, expected = outcome.match, outcome.case.intent
    if expected is None:
        return 1.0 if match.decision is Decision.NONE else 0.0
    if match.decision is Decision.NONE:
        return UTILITY["no match, topic menu"]
    if match.decision is Decision.AMBIGUOUS:
        offered = expected in match.choices
        return UTILITY["right among did-you-mean" if offered else "wrong did-you-mean"]
    return UTILITY["right match" if match.intent == expected else "wrong match"]


def load_cases(path: Path) -> list[Case]:
    """Read `- {text: ..., intent: id-or-null}` items from a YAML file."""
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
        cases.append(Case(item["text"], intent))
    return cases


def evaluate(matcher: Matcher, cases: Sequence[Case]) -> Report:
    unknown = {c.intent for c in cases if c.intent and c.intent not in matcher.catalog.intents}
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
    cases.extend((None, n) for n in range(len(catalog.off_topic.examples)))
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
        examples = catalog.off_topic.examples
        off_topic = OffTopic(examples=examples[:n] + examples[n + 1 :])
        return examples[n], dataclasses.replace(catalog, off_topic=off_topic)
    intent = catalog.intent(intent_id)
    examples = intent.examples
    if len(examples) == 1:
        return examples[0], catalog
    smaller = intent.model_copy(update={"examples": examples[:n] + examples[n + 1 :]})
    intents: list[Intent] = [smaller if i.id == intent_id else i for i in catalog.intents.values()]
    return examples[n], Catalog.build(
        intents, catalog.fixes.values(), catalog.vocabulary, catalog.off_topic
    )


@dataclass(frozen=True)
class Fit:
    thresholds: Thresholds
    report: Report


def fit_thresholds(catalog: Catalog, progress: Callable[[str], None] | None = None) -> list[Fit]:
    """Search the thresholds that do best in leave-one-out over the content; best first.

    The scoring weights need a new leave-one-out run each; accept and margin only change the
    decision, so they are swept over the stored results.
    """
    fits: list[Fit] = []
    # typo_credit is not searched: the content has no typos, so leave-one-out cannot see it.
    for example_weight, unknown_weight, everyday in itertools.product(
        (0.6, 0.7, 0.8), (1.0, 1.25), (0.1, 0.2, 0.3, 0.4)
    ):
        base = Thresholds(
            example_weight=example_weight,
            unknown_weight=unknown_weight,
            everyday_word_weight=everyday,
        )
        report = leave_one_out(catalog, base)
        for accept, margin in itertools.product(
            [x / 100 for x in range(30, 71, 2)], [x / 100 for x in range(2, 16, 2)]
        ):
            thresholds = dataclasses.replace(base, accept=accept, margin=margin)
            fits.append(Fit(thresholds, _redecide(report, thresholds)))
        if progress:
            progress(
                f"example_weight={example_weight} unknown_weight={unknown_weight} everyday={everyday}"
            )
    fits.sort(key=lambda f: (-f.report.utility, -f.report.accuracy, f.report.ambiguity_rate))
    return fits


def _redecide(report: Report, thresholds: Thresholds) -> Report:
    """The same leave-one-out results, decided with other accept and margin thresholds."""
    outcomes = []
    for outcome in report.outcomes:
        match = outcome.match
        verdict = decide(match.candidates, match.off_topic, thresholds)
        redecided = dataclasses.replace(
            match, decision=verdict.decision, reason=verdict.reason, choices=verdict.choices
        )
        outcomes.append(Outcome(outcome.case, redecided))
    return Report(outcomes)
