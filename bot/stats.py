"""What the outcomes say: how walks went, per intent and per fix, and what first replies were.

Pure: stored outcome rows in, a `Summary` out. A walk is rebuilt from one conversation's
outcomes, from its `started` to how it ended: resolved (the person pressed "Yes, it's fixed":
every resolution counted here is confirmed by the person), exhausted (every fix tried),
stopped, handed to a person, replaced by another walk, or left: abandoned once the
conversation has been quiet longer than a session lives, still under way before that.
"""

from __future__ import annotations

import json
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import UTC, datetime
from typing import Any, Final

from bot.catalog import Catalog
from bot.session import STAFF_MARK, Outcome, SessionKey, Unanswered
from bot.store.base import OutcomeRow, UnansweredRow
from bot.wording import Wording

QUIET_ENOUGH: Final = 24 * 3600.0
"""A walk with no outcome for this long is abandoned, not under way (a session's life)."""

ENDS: Final = frozenset({"resolved", "exhausted", "stopped", "handed_over"})
"""Outcomes that end a walk; each names its ending."""


@dataclass
class Walk:
    """One walk, rebuilt from its outcomes."""

    key: SessionKey
    intent: str | None
    fix: str | None
    """For a walk of one fix started on its own (/fix, a link)."""
    started_at: float
    via: str | None
    language: str | None = None
    """The language the walk started in (None for outcomes kept before it was recorded)."""
    last_at: float = 0.0
    fixes: list[str] = field(default_factory=list)
    steps: int = 0
    """Steps done and questions answered."""
    end: str | None = None
    resolved_by: str | None = None
    steps_to_resolution: int | None = None
    last_fix: str | None = None
    last_step: str | None = None
    rating: int | None = None

    @property
    def topic(self) -> str:
        return self.intent or f"fix:{self.fix}"

    def touch(self, outcome: Outcome, at: float) -> None:
        self.last_at = at
        if outcome.fix:
            if outcome.fix not in self.fixes:
                self.fixes.append(outcome.fix)
            self.last_fix = outcome.fix
            if outcome.step:
                self.last_step = outcome.step


@dataclass
class FixStats:
    fix: str
    walks: int = 0
    """Walks that reached this fix."""
    resolved: int = 0
    """Walks the person confirmed fixed after this fix."""
    not_resolved: int = 0
    failed_steps: Counter[str] = field(default_factory=Counter)
    """"This didn't work", by step."""
    skipped: int = 0


@dataclass
class IntentStats:
    topic: str
    started: int = 0
    resolved: int = 0
    """Confirmed by the person ("Yes, it's fixed")."""
    resolved_by_fix: Counter[str] = field(default_factory=Counter)
    exhausted: int = 0
    stopped: int = 0
    handed_over: int = 0
    """Walks handed to a person before they ended."""
    switched: int = 0
    abandoned: int = 0
    abandoned_at: Counter[str] = field(default_factory=Counter)
    """Where abandoned walks were left: "fix/step", or "first step" when nothing was done."""
    under_way: int = 0
    ratings: Counter[int] = field(default_factory=Counter)
    median_steps_to_resolution: float | None = None
    """Steps done and questions answered in the walks the person confirmed fixed."""
    cases: int = 0
    """Cases handed to a person about this intent, mid-walk or after every fix."""
    resolved_after_staff: int = 0
    """Cases marked solved by staff that the person then confirmed fixed."""
    reached: Counter[str] = field(default_factory=Counter)
    """Walks that reached each fix: read in falling order, the funnel of this intent."""

    @property
    def mean_rating(self) -> float | None:
        total = sum(self.ratings.values())
        if not total:
            return None
        return round(sum(r * n for r, n in self.ratings.items()) / total, 2)


@dataclass
class LanguageStats:
    """How people speaking one language fared: their walks, and what was not understood."""

    language: str
    started: int = 0
    resolved: int = 0
    """Confirmed by the person ("Yes, it's fixed")."""
    questions: int = 0
    """First replies that asked "is it this?" or "did you mean"."""
    refusals: int = 0
    """First replies that found nothing to walk."""


UNKNOWN_LANGUAGE: Final = "unknown"
"""The language of outcomes kept before languages were recorded."""


@dataclass
class Summary:
    since: float | None
    until: float
    intents: dict[str, IntentStats]
    fixes: dict[str, FixStats]
    first_replies: dict[str, int]
    """walk (a complaint started one), question ("is it this?", "did you mean"), refusal."""
    started_via: dict[str, int]
    cases: dict[str, int]
    """asked (someone asked for a person), handed_over, solved_by_staff, returned_to_bot,
    cancelled."""
    staff_ratings: dict[int, int]
    languages: dict[str, LanguageStats] = field(default_factory=dict)
    """By the language each walk started in and each first reply was said in."""

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = to_plain(self)
        for name, stats in self.intents.items():
            data["intents"][name]["mean_rating"] = stats.mean_rating
        return data


def to_plain(value: Any) -> Any:
    """Dataclasses and counters as JSON-ready dicts (`asdict` mangles a Counter's items)."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, dict):
        return {str(k): to_plain(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, list | tuple):
        return [to_plain(v) for v in value]
    return value


def summarise(
    rows: Iterable[OutcomeRow],
    now: float,
    since: float | None = None,
) -> Summary:
    """Everything the outcomes since `since` say, as of `now`."""
    rows = [row for row in rows if since is None or row.at >= since]
    walks = rebuild_walks(rows, now)
    intents: dict[str, IntentStats] = {}
    fixes: dict[str, FixStats] = {}
    steps: dict[str, list[int]] = defaultdict(list)
    for walk in walks:
        stats = intents.setdefault(walk.topic, IntentStats(walk.topic))
        _count_walk(stats, walk)
        if walk.steps_to_resolution is not None and walk.end == "resolved":
            steps[walk.topic].append(walk.steps_to_resolution)
        for fix in walk.fixes:
            fixes.setdefault(fix, FixStats(fix)).walks += 1
        if walk.end == "resolved" and walk.resolved_by:
            fixes.setdefault(walk.resolved_by, FixStats(walk.resolved_by)).resolved += 1
    for topic, counts in steps.items():
        intents[topic].median_steps_to_resolution = statistics.median(counts)
    for outcome in (row.outcome for row in rows):
        about = intents.get(outcome.intent or "")
        if about is not None and outcome.result == "handed_over":
            about.cases += 1
        elif about is not None and outcome.result == "resolved" and outcome.value == STAFF_MARK:
            about.resolved_after_staff += 1
        if outcome.fix is None or outcome.result not in ("step_failed", "skipped", "not_resolved"):
            continue
        tried = fixes.setdefault(outcome.fix, FixStats(outcome.fix))
        if outcome.result == "step_failed":
            tried.failed_steps[outcome.step or "?"] += 1
        elif outcome.result == "skipped":
            tried.skipped += 1
        elif outcome.result == "not_resolved":
            tried.not_resolved += 1
    return Summary(
        since,
        now,
        dict(sorted(intents.items())),
        dict(sorted(fixes.items())),
        _first_replies(rows),
        dict(Counter(w.via or "unknown" for w in walks)),
        _cases(rows),
        dict(_staff_ratings(rows)),
        _languages(walks, rows),
    )


def _languages(walks: list[Walk], rows: list[OutcomeRow]) -> dict[str, LanguageStats]:
    found: dict[str, LanguageStats] = {}

    def of(language: str | None) -> LanguageStats:
        code = language or UNKNOWN_LANGUAGE
        return found.setdefault(code, LanguageStats(code))

    for walk in walks:
        stats = of(walk.language)
        stats.started += 1
        stats.resolved += walk.end == "resolved"
    for outcome in (row.outcome for row in rows):
        if outcome.result in ("confirm", "ambiguous"):
            of(outcome.language).questions += 1
        elif outcome.result == "no_match":
            of(outcome.language).refusals += 1
    return dict(sorted(found.items(), key=lambda item: (-item[1].started, item[0])))


def _count_walk(stats: IntentStats, walk: Walk) -> None:
    stats.started += 1
    stats.reached.update(walk.fixes)
    if walk.end == "resolved":
        stats.resolved += 1
        if walk.resolved_by:
            stats.resolved_by_fix[walk.resolved_by] += 1
    elif walk.end == "exhausted":
        stats.exhausted += 1
    elif walk.end == "stopped":
        stats.stopped += 1
    elif walk.end == "handed_over":
        stats.handed_over += 1
    elif walk.end == "switched":
        stats.switched += 1
    elif walk.end == "abandoned":
        stats.abandoned += 1
        where = f"{walk.last_fix}/{walk.last_step or '?'}" if walk.last_fix else "first step"
        stats.abandoned_at[where] += 1
    else:
        stats.under_way += 1
    if walk.rating is not None:
        stats.ratings[walk.rating] += 1


def rebuild_walks(rows: Iterable[OutcomeRow], now: float) -> list[Walk]:
    """Every walk in the rows, oldest first, with how it ended."""
    walks: list[Walk] = []
    current: dict[SessionKey, Walk] = {}
    latest: dict[SessionKey, Walk] = {}
    for key, at, outcome in ((row.key, row.at, row.outcome) for row in rows):
        result = outcome.result
        if result == "started":
            previous = current.pop(key, None)
            if previous is not None:
                previous.end = "switched"
            walk = Walk(
                key,
                outcome.intent,
                None if outcome.intent else outcome.fix,
                at,
                outcome.value,
                outcome.language,
            )
            walk.touch(outcome, at)
            walks.append(walk)
            current[key] = latest[key] = walk
            continue
        if result == "rated":
            rated = latest.get(key)
            if rated is not None and outcome.value and outcome.value.isdigit():
                rated.rating = int(outcome.value)
            continue
        under_way = current.get(key)
        if under_way is None:
            continue
        walk = under_way
        walk.touch(outcome, at)
        if result in ("step_done", "choice"):
            walk.steps += 1
        elif result == "resolved" and outcome.value == STAFF_MARK:
            continue  # support's resolution, counted with the cases
        elif result in ENDS:
            walk.end = result
            if result == "resolved":
                walk.resolved_by, walk.steps_to_resolution = outcome.fix, walk.steps
            current.pop(key)
    for walk in current.values():
        if walk.end is None:
            walk.end = "abandoned" if now - walk.last_at > QUIET_ENOUGH else None
    return walks


def _first_replies(rows: list[OutcomeRow]) -> dict[str, int]:
    counts = Counter[str]()
    for outcome in (row.outcome for row in rows):
        if outcome.result == "started" and outcome.value == "text":
            counts["walk"] += 1
        elif outcome.result in ("confirm", "ambiguous"):
            counts["question"] += 1
        elif outcome.result == "no_match":
            counts["refusal"] += 1
    return {kind: counts[kind] for kind in ("walk", "question", "refusal")}


def _cases(rows: list[OutcomeRow]) -> dict[str, int]:
    names = {
        "person_asked": "asked",
        "handed_over": "handed_over",
        "solved_by_staff": "solved_by_staff",
        "returned_to_bot": "returned_to_bot",
        "case_cancelled": "cancelled",
    }
    counts = Counter(names[r.outcome.result] for r in rows if r.outcome.result in names)
    return {name: counts[name] for name in names.values()}


def _staff_ratings(rows: list[OutcomeRow]) -> Counter[int]:
    return Counter(
        int(o.value)
        for o in (row.outcome for row in rows)
        if o.result == "rated_staff" and o.value is not None and o.value.isdigit()
    )


def report(
    summary: Summary,
    intents: dict[str, str],
    titles: dict[str, str],
    languages: Mapping[str, str] | None = None,
) -> str:
    """The summary as text for the operator (English, as the command line is); `intents`,
    `titles` and `languages` name intents, fixes and languages."""

    def name(topic: str) -> str:
        if topic.startswith("fix:"):
            fix = topic.removeprefix("fix:")
            return f"{titles.get(fix, fix)}, on its own ({topic})"
        return f"{intents.get(topic, topic)} ({topic})"

    first = summary.first_replies
    lines = [
        period(summary).capitalize(),
        'Resolved counts only walks the person confirmed fixed ("Yes, it\'s fixed"): every '
        "resolution below is confirmed by the person.",
        "",
        f"First replies: {first['walk']} walks, {first['question']} questions, "
        f"{first['refusal']} refusals",
        "Started by: " + ", ".join(f"{k} {v}" for k, v in sorted(summary.started_via.items())),
        "",
    ]
    for topic, stats in summary.intents.items():
        lines.append(name(topic))
        lines += _intent_lines(stats, titles)
    if summary.fixes:
        lines += ["", "Fixes"]
    for fix, tried in summary.fixes.items():
        failed = ", ".join(f"{s} {n}" for s, n in tried.failed_steps.most_common(3))
        lines.append(
            f"  {titles.get(fix, fix)}: reached {tried.walks} · resolved {tried.resolved} · "
            f"still broken {tried.not_resolved} · skipped {tried.skipped}"
            + (f" · didn't work at: {failed}" if failed else "")
        )
    cases = summary.cases
    lines += [
        "",
        f"Cases: asked {cases['asked']} · handed over {cases['handed_over']} · solved by "
        f"support {cases['solved_by_staff']} · handed back {cases['returned_to_bot']} · "
        f"cancelled {cases['cancelled']}",
    ]
    if summary.staff_ratings:
        spread = ", ".join(f"{r}⭐ {n}" for r, n in sorted(summary.staff_ratings.items()))
        lines.append(f"Support's ratings: {spread}")
    lines += _language_lines(summary, Wording(), languages or {})
    return "\n".join(lines)


def _intent_lines(stats: IntentStats, titles: dict[str, str]) -> list[str]:
    lines = []
    lines.append(
        f"  walks {stats.started} · resolved {stats.resolved} · exhausted {stats.exhausted} "
        f"· stopped {stats.stopped} · ended with a person {stats.handed_over} · switched "
        f"{stats.switched} · abandoned {stats.abandoned} · under way {stats.under_way}"
    )
    if stats.resolved_by_fix:
        by = ", ".join(f"{titles.get(f, f)} {n}" for f, n in stats.resolved_by_fix.most_common())
        lines.append(f"  resolved by: {by}")
    if stats.median_steps_to_resolution is not None:
        lines.append(f"  median steps to a resolution: {stats.median_steps_to_resolution:g}")
    if stats.ratings:
        spread = ", ".join(f"{r}⭐ {n}" for r, n in sorted(stats.ratings.items()))
        lines.append(f"  ratings: mean {stats.mean_rating} ({spread})")
    if stats.abandoned_at:
        where = ", ".join(f"{w} {n}" for w, n in stats.abandoned_at.most_common(3))
        lines.append(f"  abandoned at: {where}")
    if stats.cases:
        lines.append(
            f"  cases: {stats.cases} handed to a person, {stats.resolved_after_staff} "
            "solved by support and confirmed by the person"
        )
    return lines


def period(summary: Summary, words: Wording | None = None) -> str:
    """The days a summary covers, in words: "from 2026-11-15 to 2026-11-22"."""
    words = words or Wording()

    def day(at: float) -> str:
        return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d")

    if summary.since is None:
        return words.period_all.format(end=day(summary.until))
    return words.period_between.format(start=day(summary.since), end=day(summary.until))


# --------------------------------------------------------------------------------------------
# Unanswered messages: what people ask that the content does not answer


@dataclass
class Gap:
    """Unanswered messages nearest one intent ("none": near nothing at all)."""

    nearest: str
    count: int
    examples: list[tuple[float, str]]
    """The latest few, newest first: (when, the words)."""


def nearest_intent(unanswered: Unanswered) -> str:
    return unanswered.candidates[0].split(":")[0] if unanswered.candidates else "none"


def gaps(rows: Iterable[UnansweredRow], examples: int = 5) -> list[Gap]:
    """Unanswered messages grouped by nearest intent, the largest group first."""
    grouped: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for row in rows:
        grouped[nearest_intent(row.unanswered)].append((row.at, row.unanswered.text))
    found = [
        Gap(nearest, len(texts), sorted(texts, reverse=True)[:examples])
        for nearest, texts in grouped.items()
    ]
    return sorted(found, key=lambda g: (-g.count, g.nearest))


def _near(gap: Gap, intents: dict[str, str], words: Wording | None = None) -> str:
    if gap.nearest == "none":
        return (words or Wording()).gaps_near_nothing
    return intents.get(gap.nearest, gap.nearest)


def gaps_yaml(rows: Iterable[UnansweredRow], now: float) -> str:
    """The unanswered messages as a labelled-set skeleton for `fixbot eval`: each `intent`
    is null until an author names the right one (or leaves null: off-topic)."""
    rows = sorted(rows, key=lambda row: (nearest_intent(row.unanswered), row.at))
    lines = [
        f"# Unanswered messages, exported {datetime.fromtimestamp(now, UTC):%Y-%m-%d %H:%M} UTC.",
        "# Set each intent to the id a support agent would start with (see intents/), or",
        "# leave it null for a message the bot should not walk; `also` may list other good",
        "# ids, or `none`. Then: fixbot eval THIS_FILE",
    ]
    for at, unanswered in ((row.at, row.unanswered) for row in rows):
        day = datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d")
        nearest = ", ".join(unanswered.candidates) or "nothing"
        lines.append(f"- text: {json.dumps(unanswered.text, ensure_ascii=False)}")
        lines.append(f"  intent: null  # {day}; nearest: {nearest}")
    if not rows:
        lines.append("[]")
    return "\n".join(lines) + "\n"


def brief(
    summary: Summary,
    intents: dict[str, str],
    days: int,
    words: Wording | None = None,
    languages: Mapping[str, str] | None = None,
) -> str:
    """A few lines for the staff chat's /stats, in `words`; `languages` names each language
    the figures are split by (when people spoke more than one)."""
    words = words or Wording()
    walks = list(summary.intents.values())
    ratings: Counter[int] = Counter()
    for stats in walks:
        ratings.update(stats.ratings)
    cases = summary.cases
    lines = [
        words.stats_title.format(days=days),
        words.stats_walks.format(
            started=sum(s.started for s in walks),
            resolved=sum(s.resolved for s in walks),
            exhausted=sum(s.exhausted for s in walks),
            abandoned=sum(s.abandoned for s in walks),
        ),
        _first_replies_line(summary, words),
        words.stats_cases.format(
            handed_over=cases["handed_over"],
            solved=cases["solved_by_staff"],
            returned=cases["returned_to_bot"],
        ),
    ]
    if ratings:
        mean = sum(r * n for r, n in ratings.items()) / sum(ratings.values())
        lines.append(words.stats_rating.format(mean=f"{mean:.1f}", count=sum(ratings.values())))
    top = sorted(walks, key=lambda s: -s.started)[:5]
    if top:
        lines.append("")
        lines += [
            words.stats_topic.format(
                topic=intents.get(s.topic, s.topic), started=s.started, resolved=s.resolved
            )
            for s in top
        ]
    lines += _language_lines(summary, words, languages or {})
    return "\n".join(lines)


def _first_replies_line(summary: Summary, words: Wording) -> str:
    first = summary.first_replies
    return words.stats_first_replies.format(
        walks=first["walk"], questions=first["question"], refusals=first["refusal"]
    )


def _language_lines(summary: Summary, words: Wording, names: Mapping[str, str]) -> list[str]:
    """The figures per language, when people spoke more than one."""
    if len(summary.languages) < 2:
        return []
    lines = ["", words.stats_by_language]
    for code, stats in summary.languages.items():
        name = words.stats_language_unknown if code == UNKNOWN_LANGUAGE else names.get(code, code)
        lines.append(
            words.stats_language.format(
                language=name,
                started=stats.started,
                resolved=stats.resolved,
                questions=stats.questions,
                refusals=stats.refusals,
            )
        )
    return lines


def brief_gaps(
    found: list[Gap], intents: dict[str, str], total: int, words: Wording | None = None
) -> str:
    """The top unanswered groups, for the staff chat's /gaps."""
    words = words or Wording()
    if not found:
        return words.gaps_none
    lines = [words.gaps_title.format(total=total)]
    for gap in found[:5]:
        lines.append(words.gaps_near.format(topic=_near(gap, intents, words), count=gap.count))
        lines += [f"   “{text[:80]}”" for _, text in gap.examples[:2]]
    return "\n".join(lines)


def step_names(catalog: Catalog, words: Wording | None = None) -> dict[str, str]:
    """ "fix/step" -> "Get onto Wi-Fi, step 2", for a person reading which steps fail."""
    words = words or Wording()
    return {
        f"{fix.id}/{step.id}": words.step_name.format(fix=fix.title, number=n)
        for fix in catalog.fixes.values()
        for n, step in enumerate(fix.steps, start=1)
    }


def digest(
    summary: Summary,
    unanswered: list[UnansweredRow],
    intents: dict[str, str],
    steps: dict[str, str],
    words: Wording | None = None,
    languages: Mapping[str, str] | None = None,
) -> str:
    """The weekly digest for the staff chat: how many walks the people confirmed fixed, what
    the bot did not understand, and the steps that most often did not work."""
    words = words or Wording()
    walks = list(summary.intents.values())
    started, resolved = sum(s.started for s in walks), sum(s.resolved for s in walks)
    rate = f" ({resolved / started:.0%})" if started else ""
    lines = [
        words.digest_title.format(period=period(summary, words)),
        words.digest_walks.format(
            started=started,
            resolved=resolved,
            rate=rate,
            handed_over=summary.cases["handed_over"],
        ),
        _first_replies_line(summary, words),
    ]
    found = gaps(unanswered, examples=1)
    if found:
        lines += ["", words.digest_not_understood.format(count=len(unanswered))]
        lines += [
            f"• {_near(g, intents, words)}: {g.count} · “{_clip(g.examples[0][1], 70)}”"
            for g in found[:3]
        ]
    failed: Counter[str] = Counter()
    for fix in summary.fixes.values():
        failed.update({f"{fix.fix}/{step}": n for step, n in fix.failed_steps.items()})
    if failed:
        lines += ["", words.digest_failed_steps]
        lines += [f"• {steps.get(where, where)}: {n}" for where, n in failed.most_common(3)]
    lines += _language_lines(summary, words, languages or {})
    return "\n".join(lines)


def _clip(text: str, most: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= most else text[: most - 1] + "…"


# --------------------------------------------------------------------------------------------
# A fix order learned from outcomes

LEARN_AFTER: Final = 30
"""Walks of an intent that must have reached a fix before its place is learned."""


@dataclass(frozen=True)
class FixEvidence:
    fix: str
    reached: int
    resolved: int
    steps: int
    """What the fix costs: the steps on its longest path."""
    cautious: bool
    """It has a caution (erases, signs out): it stays where the author put it, at the end."""

    @property
    def rate(self) -> float:
        return self.resolved / self.reached if self.reached else 0.0

    @property
    def worth(self) -> float:
        """Chance of a resolution per step spent: trying fixes in falling order of this
        minimises the expected steps to a resolution (the classic order for a search where
        each try has a cost and a chance)."""
        return self.rate / max(self.steps, 1)


@dataclass(frozen=True)
class LearnedOrder:
    intent: str
    authored: tuple[str, ...]
    learned: tuple[str, ...]
    evidence: tuple[FixEvidence, ...]

    @property
    def changed(self) -> bool:
        return self.learned != self.authored


def learn_orders(
    walks: Iterable[Walk], catalog: Catalog, learn_after: int = LEARN_AFTER
) -> dict[str, LearnedOrder]:
    """Per intent of two fixes or more: the fixes with enough evidence (reached in
    `learn_after` walks of the intent, no caution) swap places among themselves by their
    worth; every other fix keeps the place the author gave it."""
    walks = list(walks)
    orders = {}
    for intent in catalog.intents.values():
        if len(intent.fixes) < 2:
            continue
        own = [w for w in walks if w.intent == intent.id]
        evidence = tuple(
            FixEvidence(
                fix.id,
                sum(1 for w in own if fix.id in w.fixes),
                sum(1 for w in own if w.end == "resolved" and w.resolved_by == fix.id),
                fix.longest_path_from(fix.first_step.id),
                any(step.caution for step in fix.steps),
            )
            for fix in (catalog.fix(f) for f in intent.fixes)
        )
        movable = [e for e in evidence if e.reached >= learn_after and not e.cautious]
        slots = [n for n, e in enumerate(evidence) if e in movable]
        learned = list(intent.fixes)
        for slot, chosen in zip(slots, sorted(movable, key=lambda e: -e.worth), strict=True):
            learned[slot] = chosen.fix
        orders[intent.id] = LearnedOrder(intent.id, intent.fixes, tuple(learned), evidence)
    return orders


def orders_report(orders: dict[str, LearnedOrder], titles: dict[str, str], used: bool) -> str:
    """Each intent's authored order beside the learned one, with the evidence."""
    state = "used (FIXBOT_LEARN_ORDER=true)" if used else "not used (FIXBOT_LEARN_ORDER is off)"
    lines = ["", f"Fix order learned from outcomes: {state}"]
    for order in orders.values():
        verdict = "learned order differs" if order.changed else "authored order kept"
        lines.append(f"  {order.intent}: {verdict}")
        for place, evidence in enumerate(order.evidence):
            learned_place = order.learned.index(evidence.fix) + 1
            note = " (caution: stays last)" if evidence.cautious else ""
            lines.append(
                f"    {place + 1}->{learned_place} {titles.get(evidence.fix, evidence.fix)}: "
                f"resolved {evidence.resolved} of {evidence.reached} walks that reached it, "
                f"{evidence.steps} steps{note}"
            )
    return "\n".join(lines)
