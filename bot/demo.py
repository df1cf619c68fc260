"""A month of made-up people, played through the real engine into a store: what `fixbot stats
--demo` reports and charts when there is no real traffic yet.

Nothing here is canned: each person says one of the content's own examples (or an off-topic
one), then presses the buttons the engine offers, as people do: most steps done, some
"didn't work", a few skipped, now and then a walk left half way or a person asked for. Each
fix works for a share of the people who try it, the same share every run (the random
numbers are seeded), so the figures differ per fix and per intent as real ones would.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Final

from bot.catalog import Catalog
from bot.conversations import Conversations
from bot.engine import Engine
from bot.events import (
    Action,
    ButtonPressed,
    CaseChanged,
    CaseNews,
    CaseRequest,
    Press,
    Reply,
    TextReceived,
    Turn,
)
from bot.session import SessionKey, Stage
from bot.store import MemoryStore

DAYS: Final = 28
PEOPLE: Final = 400


@dataclass(frozen=True)
class Habits:
    """How the made-up people behave, per press."""

    off_topic: float = 0.08
    leave: float = 0.03
    """Walk away in the middle of a walk."""
    failed: float = 0.08
    skip: float = 0.04
    ask_person: float = 0.05
    """Press "Talk to a person" where it is offered."""
    rate: float = 0.6


class _Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def demo_store(
    catalog: Catalog, now: float, people: int = PEOPLE, seed: int = 7, habits: Habits = Habits()
) -> MemoryStore:
    """A store holding what `people` made-up people did over the `DAYS` days before `now`."""
    rng = random.Random(seed)
    works = {fix: rng.uniform(0.1, 0.7) for fix in catalog.fixes}
    """How often each fix solves the problem of someone who tries it."""
    weights = [1.0 / (rank + 1) for rank in range(len(catalog.intents))]
    clock = _Clock(now - DAYS * 86400)
    store = MemoryStore(clock=clock)
    conversations = Conversations(Engine(catalog, handover=True), store)
    starts = sorted(now - rng.uniform(0, DAYS * 86400) for _ in range(people))
    for person, start in enumerate(starts, start=1):
        clock.now = start
        key = SessionKey(person, person)
        off_topic = catalog.off_topic.written_examples
        if rng.random() < habits.off_topic and off_topic:
            await conversations.handle(key, TextReceived(rng.choice(off_topic), clock.now))
            continue
        intent = rng.choices(list(catalog.intents.values()), weights)[0]
        turn = await conversations.handle(key, TextReceived(rng.choice(intent.examples), clock.now))
        question = _presses(turn.replies[-1] if turn.replies else None, Action.PICK)
        if question:  # "is it this?" or "did you mean": most take the bot's first guess
            if rng.random() < habits.leave * 3:
                continue
            clock.now += rng.uniform(5, 60)
            turn = await conversations.handle(key, ButtonPressed(question[0], clock.now))
        await _walk(conversations, key, turn, clock, rng, works, habits)
    return store


async def _walk(
    conversations: Conversations,
    key: SessionKey,
    turn: Turn,
    clock: _Clock,
    rng: random.Random,
    works: dict[str, float],
    habits: Habits,
) -> None:
    """Press buttons until the walk ends or the person walks away."""
    for _ in range(200):
        press = _choose(turn, rng, works, habits)
        if press is None:
            return
        clock.now += rng.uniform(20, 240)
        turn = await conversations.handle(key, ButtonPressed(press, clock.now))
        if turn.case_request is CaseRequest.OPEN:
            clock.now += rng.uniform(60, 3600)
            turn = await conversations.handle(key, CaseChanged(CaseNews.OPENED, clock.now))
            clock.now += rng.uniform(600, 7200)
            news = CaseNews.SOLVED if rng.random() < 0.8 else CaseNews.RETURNED
            turn = await conversations.handle(key, CaseChanged(news, clock.now))


def _choose(
    turn: Turn, rng: random.Random, works: dict[str, float], habits: Habits
) -> Press | None:
    """What this person presses on the last reply, or None: they are done or gone."""
    offered = {p.action: p for p in _presses(turn.replies[-1] if turn.replies else None)}
    session = turn.session
    if Action.DONE in offered and rng.random() < habits.leave:
        return None
    if Action.FIXED in offered:
        if session.stage is Stage.STAFF_SOLVED:
            return offered[Action.FIXED]
        fix = session.fix_id or ""
        if Action.HUMAN in offered and rng.random() < habits.ask_person:
            return offered[Action.HUMAN]
        return offered[Action.FIXED if rng.random() < works.get(fix, 0.3) else Action.NOT_FIXED]
    if Action.RATE in offered:
        if rng.random() >= habits.rate:
            return None
        stars = [p for p in _presses(turn.replies[-1], Action.RATE) if p.value]
        return rng.choices(stars, [1, 1, 2, 4, 6][: len(stars)])[0]
    if Action.DONE in offered:
        roll = rng.random()
        if roll < habits.failed and Action.FAILED in offered:
            return offered[Action.FAILED]
        if roll < habits.failed + habits.skip and Action.SKIP in offered:
            return offered[Action.SKIP]
        return offered[Action.DONE]
    if Action.CONFIRM in offered:
        return offered[Action.CONFIRM]
    if Action.CHOOSE in offered:
        return rng.choice(_presses(turn.replies[-1], Action.CHOOSE))
    if Action.HUMAN in offered and rng.random() < habits.ask_person * 4:
        return offered[Action.HUMAN]
    return None


def _presses(reply: Reply | None, action: Action | None = None) -> list[Press]:
    """The presses a reply's buttons offer (of `action` only, if given), in their order."""
    if reply is None:
        return []
    presses = [b.press for row in reply.buttons for b in row if isinstance(b.press, Press)]
    return [p for p in presses if action is None or p.action is action]
