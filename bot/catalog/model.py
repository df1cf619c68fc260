"""The catalog's model: intents, fixes and steps as frozen, validated objects.

The schema a content author writes against (pydantic models with Telegram's limits) and the
`Catalog` that holds them, looked up by id. Reading YAML files into it is `loader`'s job.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Annotated, Any, Final

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

# Ids travel inside Telegram's 64-byte callback_data next to other fields, so they stay short
# and ASCII.
MAX_ID_LENGTH: Final = 24
ID_PATTERN: Final = r"^[a-z][a-z0-9_]*$"
# Telegram caps a message at 4,096 characters; a step is shown with a header, a progress line
# and possibly a caution, so one text gets well under half of that.
MAX_TEXT_LENGTH: Final = 1500
MAX_TITLE_LENGTH: Final = 80
# Telegram shows about 20-40 characters of a button label on a phone before cutting it.
MAX_LABEL_LENGTH: Final = 40
MAX_EXAMPLE_LENGTH: Final = 300
END: Final = "end"
"""The `next:` value that ends a fix (and leads to its "did it help?" question)."""

BOLD: Final = "**"
"""Content texts mark bold **like this**; everything else is plain text."""

VOCABULARY_FILE: Final = "_vocabulary.yaml"
OFF_TOPIC_FILE: Final = "_off_topic.yaml"
MATCHER_FILE: Final = "_matcher.yaml"
"""In intents/: the matcher's fitted numbers, written by `fixbot tune`."""
SUPPORT_FILE: Final = "_support.yaml"
"""In fixes/: where to send someone when every fix has been tried (a label and a URL)."""

Id = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=MAX_ID_LENGTH, pattern=ID_PATTERN),
]
Text = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TEXT_LENGTH)
]
Title = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TITLE_LENGTH)
]
Label = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_LABEL_LENGTH)
]
Phrase = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_EXAMPLE_LENGTH)
]
Url = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^https?://\S+$")]


class ContentModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Link(ContentModel):
    """A button that opens a web page."""

    label: Label
    url: Url


class Choice(ContentModel):
    """One answer to a step's question; `next` is the step it leads to (or `end`)."""

    label: Label
    next: Id


class Step(ContentModel):
    """One thing the user does, or one question they answer.

    A plain step is confirmed with a button; a step with `choices` is a question whose answer
    picks the next step. A `caution` is shown first and must be confirmed explicitly.
    """

    id: Id
    text: Text
    caution: Text | None = None
    link: Link | None = None
    choices: tuple[Choice, ...] = ()
    next: Id | None = None

    @property
    def is_question(self) -> bool:
        return bool(self.choices)


class Fix(ContentModel):
    """One way of solving a problem, walked step by step."""

    id: Id
    title: Title
    aliases: tuple[Phrase, ...] = ()
    reason: Text
    steps: tuple[Step, ...] = Field(min_length=1)
    did_it_help: Text | None = None
    """The question after the last step; the bot's own wording when not given."""

    @cached_property
    def steps_by_id(self) -> Mapping[str, Step]:
        return MappingProxyType({step.id: step for step in self.steps})

    def step(self, step_id: str) -> Step:
        try:
            return self.steps_by_id[step_id]
        except KeyError:
            raise KeyError(f"fix {self.id!r} has no step {step_id!r}") from None

    @property
    def first_step(self) -> Step:
        return self.steps[0]

    def step_after(self, step_id: str) -> str | None:
        """The id of the step that follows a plain step, or None when the fix ends there."""
        step = self.step(step_id)
        if step.next is not None:
            return None if step.next == END else step.next
        index = self.steps.index(step)
        return self.steps[index + 1].id if index + 1 < len(self.steps) else None

    def successors(self, step_id: str) -> list[str]:
        """The steps that can come right after this one: a question's choices, or the next."""
        step = self.step(step_id)
        if step.is_question:
            return [c.next for c in step.choices if c.next != END]
        after = self.step_after(step_id)
        return [after] if after is not None else []

    def route_to(self, step_id: str) -> tuple[str, ...]:
        """The steps passed on the shortest way from the first step to this one."""
        routes: dict[str, tuple[str, ...]] = {self.first_step.id: ()}
        queue = deque([self.first_step.id])
        while queue:
            current = queue.popleft()
            if current == step_id:
                return routes[current]
            for target in self.successors(current):
                if target not in routes:
                    routes[target] = (*routes[current], current)
                    queue.append(target)
        return ()

    def longest_path_from(self, step_id: str) -> int:
        """How many steps remain, this one included, along the longest way to the end."""
        rest = [self.longest_path_from(t) for t in self.successors(step_id)]
        return 1 + max(rest, default=0)


class Intent(ContentModel):
    """A problem as users describe it, and the fixes to walk for it, first to last."""

    id: Id
    title: Title
    description: Text | None = None
    examples: tuple[Phrase, ...] = Field(min_length=1)
    keywords: tuple[Phrase, ...] = ()
    fixes: tuple[Id, ...] = Field(min_length=1)


class Vocabulary(ContentModel):
    """The matcher's knowledge of the content's language (intents/_vocabulary.yaml): words
    that mean the same (each key stands for all of its variants), words that mean nothing,
    how words are stemmed and spelt, and the forms of units, versions and device models."""

    synonyms: Mapping[Phrase, tuple[Phrase, ...]] = Field(default_factory=dict)
    stop_words: tuple[Phrase, ...] = ()
    language: str = Field(default="en", pattern=r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$")
    """The language's code (en, es, pt-BR...)."""
    stemmer: str = "english"
    """A Snowball stemmer (PyStemmer's names: english, spanish, german, russian, portuguese...)."""
    spelling: str | None = None
    """pyspellchecker's dictionary that tells a typo from a real word (en, es, de, ru, pt);
    none: every unknown word may be a typo."""
    fold_accents: bool = False
    """Read "batería" as "bateria": people type without accents more often than not."""
    clause_breaks: tuple[Phrase, ...] = ()
    """Words that turn to another thought ("but", "because"): a clause ends before them."""
    units: tuple[str, ...] = ()
    """Units written after a number ("64gb" reads as "64 gb"), as regular expressions."""
    versions: str | None = None
    """A regular expression of a version number, read as nothing ("iOS 11.0.2")."""
    devices: str | None = None
    """A regular expression of a model of the device the content is about, read as
    `device_word` ("iPhone 6s Plus" -> "iphone")."""
    device_word: str = ""

    @field_validator("versions", "devices", "units")
    @classmethod
    def _patterns(cls, value: str | tuple[str, ...] | None) -> str | tuple[str, ...] | None:
        for pattern in (value,) if isinstance(value, str) else value or ():
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"{pattern!r} is not a regular expression: {exc}") from None
        return value

    @field_validator("stemmer")
    @classmethod
    def _a_stemmer(cls, value: str) -> str:
        import Stemmer

        if value not in Stemmer.algorithms():
            close = ", ".join(sorted(Stemmer.algorithms())[:30])
            raise ValueError(f"no stemmer {value!r}; there are: {close}")
        return value


class SmallTalk(ContentModel):
    """Social messages that get a human answer rather than a fix."""

    greeting: tuple[Phrase, ...] = ()
    thanks: tuple[Phrase, ...] = ()
    farewell: tuple[Phrase, ...] = ()


class NearTopic(ContentModel):
    """One thing we don't do, often a neighbour of something we do ("restoring from a
    backup" beside "a backup that won't happen"): what it is called, what the bot says to a
    message about it, and examples of such messages."""

    title: Title | None = None
    """What it is, as a person would name it ("restoring a phone from a backup")."""
    answer: Text | None = None
    """The bot's kind refusal: what it covers instead, and where to look for this; the
    general no-match text when not given."""
    examples: tuple[Phrase, ...] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _a_list_is_examples(cls, data: Any) -> Any:
        """A topic written as a plain list of examples is a topic with no title or answer."""
        return {"examples": data} if isinstance(data, list | tuple) else data


class OffTopic(ContentModel):
    """Messages that none of our intents should answer (negative examples)."""

    examples: tuple[Phrase, ...] = ()
    """Examples of no topic in particular."""
    topics: Mapping[Id, NearTopic] = Field(default_factory=dict)
    """Examples grouped by what they are about ("app_store", "battery_life"): each topic is
    scored as a class of its own, as an intent is, so that a message must look like one
    thing we don't do, not like a little of everything we don't do. A topic with an
    `answer` is named when it is why a message was turned away."""
    small_talk: SmallTalk = Field(default_factory=SmallTalk)
    other_devices: tuple[Phrase, ...] = ()
    """Devices the content does not cover ("macbook", "apple watch"): a message that names
    one and none of `own_devices` is not ours, however well its words match."""
    own_devices: tuple[Phrase, ...] = ()
    """The devices the content is about ("iphone", "ios")."""

    @property
    def by_topic(self) -> dict[str, tuple[str, ...]]:
        """Every example by topic: `examples` under "other", small talk under "small_talk"."""
        talk = self.small_talk
        grouped = {topic: near.examples for topic, near in self.topics.items()}
        # Merged, not replaced: a topic may itself be called "other" or "small_talk".
        for topic, more in (
            ("other", self.examples),
            ("small_talk", (*talk.greeting, *talk.thanks, *talk.farewell)),
        ):
            if more:
                grouped[topic] = (*grouped.get(topic, ()), *more)
        return grouped

    @property
    def written_examples(self) -> tuple[str, ...]:
        """The examples written as messages (`examples` and `topics`), small talk aside."""
        return (*self.examples, *(e for near in self.topics.values() for e in near.examples))

    @property
    def all_examples(self) -> tuple[str, ...]:
        return tuple(e for examples in self.by_topic.values() for e in examples)

    def answer(self, topic: str) -> str | None:
        """What the bot says to a message about `topic`, if the content says."""
        near = self.topics.get(topic)
        return near.answer if near is not None else None


Share = Annotated[float, Field(ge=0.0, le=1.0)]


class Tuning(ContentModel):
    """The matcher's numbers, fitted to this content by `fixbot tune` (intents/_matcher.yaml).

    Every key is optional: what is not given keeps the matcher's default. What each means is
    documented on `bot.matcher.Thresholds`.
    """

    accept: Share | None = None
    confirm: Share | None = None
    margin: Share | None = None
    off_topic_lead: Annotated[float, Field(ge=-1.0, le=1.0)] | None = None
    example_weight: Share | None = None
    typo_credit: Share | None = None
    unknown_weight: Annotated[float, Field(gt=0.0, le=10.0)] | None = None
    everyday_word_weight: Share | None = None
    max_choices: Annotated[int, Field(ge=2, le=5)] | None = None
    lexical_weight: Share | None = None
    semantic_floor: Annotated[float, Field(ge=0.0, lt=1.0)] | None = None

    def given(self) -> dict[str, Any]:
        """The numbers this file sets."""
        return {k: v for k, v in self.model_dump().items() if v is not None}


@dataclass(frozen=True)
class Catalog:
    """All content, validated: intents and fixes in file order, looked up by id."""

    intents: Mapping[str, Intent]
    fixes: Mapping[str, Fix]
    vocabulary: Vocabulary = field(default_factory=Vocabulary)
    off_topic: OffTopic = field(default_factory=OffTopic)
    support: Link | None = None
    """Where to go when every fix has been tried (fixes/_support.yaml), if anywhere."""
    tuning: Tuning = field(default_factory=Tuning)

    @classmethod
    def build(
        cls,
        intents: Iterable[Intent],
        fixes: Iterable[Fix],
        vocabulary: Vocabulary | None = None,
        off_topic: OffTopic | None = None,
        support: Link | None = None,
        tuning: Tuning | None = None,
    ) -> Catalog:
        return cls(
            intents=MappingProxyType({i.id: i for i in intents}),
            fixes=MappingProxyType({f.id: f for f in fixes}),
            vocabulary=vocabulary or Vocabulary(),
            off_topic=off_topic or OffTopic(),
            support=support,
            tuning=tuning or Tuning(),
        )

    def intent(self, intent_id: str) -> Intent:
        return self.intents[intent_id]

    def fix(self, fix_id: str) -> Fix:
        return self.fixes[fix_id]

    def titles(self) -> tuple[dict[str, str], dict[str, str]]:
        """Intents' and fixes' titles by id: how reports name what the outcomes count."""
        return (
            {i.id: i.title for i in self.intents.values()},
            {f.id: f.title for f in self.fixes.values()},
        )

    def summary(self) -> dict[str, int]:
        return {
            "intents": len(self.intents),
            "fixes": len(self.fixes),
            "steps": sum(len(f.steps) for f in self.fixes.values()),
            "examples": sum(len(i.examples) for i in self.intents.values()),
            "off_topic_examples": len(self.off_topic.all_examples),
        }


def alias_key(alias: str) -> str:
    """The key a fix is looked up by: no case, spaces, hyphens or underscores ('Wi-Fi' is 'wifi')."""
    return re.sub(r"[\s_\-]+", "", alias.casefold())


# -- translations ----------------------------------------------------------------------------

LANGUAGE_PATTERN: Final = r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$"
"""A language's code, as a folder is named: intents/es/, fixes/pt-BR/."""


class StepText(ContentModel):
    """One step's texts in another language; its id and where it leads are the English one's."""

    text: Text | None = None
    caution: Text | None = None
    link: Label | None = None
    """The link button's label; the address is the English step's."""
    choices: tuple[Label, ...] = ()
    """The answers' labels, in the English step's order."""


class FixText(ContentModel):
    """A fix's texts in another language (fixes/<language>/<fix>.yaml). The steps, their
    order and branches are the English fix's: a translation says them, it cannot change them.
    What it leaves out is said in English."""

    id: Id
    title: Title | None = None
    aliases: tuple[Phrase, ...] = ()
    reason: Text | None = None
    did_it_help: Text | None = None
    steps: Mapping[Id, StepText] = Field(default_factory=dict)


class IntentText(ContentModel):
    """An intent in another language (intents/<language>/<intent>.yaml): how people say it
    there. The fixes to walk, and their order, are the English intent's."""

    id: Id
    title: Title | None = None
    description: Text | None = None
    examples: tuple[Phrase, ...] = ()
    keywords: tuple[Phrase, ...] = ()
