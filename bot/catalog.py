"""The catalog: intents and fixes read from YAML, validated, and frozen.

Owns everything about content files: parsing with `yaml.safe_load` semantics, the schema,
the cross-references between intents and fixes, and reporting every problem at once with
its file, line and key path. Bad content never half-loads: `load_catalog` either returns a
complete `Catalog` or raises `ContentError` with all problems found.

Layout of a content folder (see docs/content.md):

    intents/<intent>.yaml      one intent per file
    intents/_vocabulary.yaml   optional: synonyms shared by all intents
    intents/_off_topic.yaml    optional: messages that are *not* ours (negative examples)
    fixes/<fix>.yaml           one fix per file
    fixes/_support.yaml        optional: where to go when every fix has been tried
"""

from __future__ import annotations

import difflib
import re
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any, Final, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from bot.errors import ContentError, Problem

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


class _Content(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


_M = TypeVar("_M", bound=_Content)
_Item = TypeVar("_Item", "Intent", "Fix")


class Link(_Content):
    """A button that opens a web page."""

    label: Label
    url: Url


class Choice(_Content):
    """One answer to a step's question; `next` is the step it leads to (or `end`)."""

    label: Label
    next: Id


class Step(_Content):
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


class Fix(_Content):
    """One way of solving a problem, walked step by step."""

    id: Id
    title: Title
    aliases: tuple[Phrase, ...] = ()
    reason: Text
    steps: tuple[Step, ...] = Field(min_length=1)
    did_it_help: Text = "Did that fix it?"

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


class Intent(_Content):
    """A problem as users describe it, and the fixes to walk for it, first to last."""

    id: Id
    title: Title
    description: Text | None = None
    examples: tuple[Phrase, ...] = Field(min_length=1)
    keywords: tuple[Phrase, ...] = ()
    fixes: tuple[Id, ...] = Field(min_length=1)


class Vocabulary(_Content):
    """Words that mean the same to the matcher: each key stands for all of its variants."""

    synonyms: Mapping[Phrase, tuple[Phrase, ...]] = Field(default_factory=dict)
    stop_words: tuple[Phrase, ...] = ()


class SmallTalk(_Content):
    """Social messages that get a human answer rather than a fix."""

    greeting: tuple[Phrase, ...] = ()
    thanks: tuple[Phrase, ...] = ()
    farewell: tuple[Phrase, ...] = ()


class OffTopic(_Content):
    """Messages that none of our intents should answer (negative examples)."""

    examples: tuple[Phrase, ...] = ()
    small_talk: SmallTalk = Field(default_factory=SmallTalk)

    @property
    def all_examples(self) -> tuple[str, ...]:
        talk = self.small_talk
        return (*self.examples, *talk.greeting, *talk.thanks, *talk.farewell)


@dataclass(frozen=True)
class Catalog:
    """All content, validated: intents and fixes in file order, looked up by id."""

    intents: Mapping[str, Intent]
    fixes: Mapping[str, Fix]
    vocabulary: Vocabulary = field(default_factory=Vocabulary)
    off_topic: OffTopic = field(default_factory=OffTopic)
    support: Link | None = None
    """Where to go when every fix has been tried (fixes/_support.yaml), if anywhere."""

    @classmethod
    def build(
        cls,
        intents: Iterable[Intent],
        fixes: Iterable[Fix],
        vocabulary: Vocabulary | None = None,
        off_topic: OffTopic | None = None,
        support: Link | None = None,
    ) -> Catalog:
        return cls(
            intents=MappingProxyType({i.id: i for i in intents}),
            fixes=MappingProxyType({f.id: f for f in fixes}),
            vocabulary=vocabulary or Vocabulary(),
            off_topic=off_topic or OffTopic(),
            support=support,
        )

    def intent(self, intent_id: str) -> Intent:
        return self.intents[intent_id]

    def fix(self, fix_id: str) -> Fix:
        return self.fixes[fix_id]

    def summary(self) -> dict[str, int]:
        return {
            "intents": len(self.intents),
            "fixes": len(self.fixes),
            "steps": sum(len(f.steps) for f in self.fixes.values()),
            "examples": sum(len(i.examples) for i in self.intents.values()),
            "off_topic_examples": len(self.off_topic.all_examples),
        }


# --------------------------------------------------------------------------------------------
# Loading


def load_catalog(content_dir: Path) -> Catalog:
    """Read and validate `content_dir`; raise ContentError listing every problem found."""
    loader = _Loader(content_dir)
    return loader.load()


@dataclass
class _Document:
    """One parsed YAML file: its data and where each key path sits in the file."""

    name: str
    data: Any
    lines: dict[tuple[str | int, ...], int]

    def line(self, path: tuple[str | int, ...]) -> int | None:
        for end in range(len(path), -1, -1):
            if path[:end] in self.lines:
                return self.lines[path[:end]]
        return None


class _Loader:
    def __init__(self, content_dir: Path) -> None:
        self.root = content_dir
        self.problems: list[Problem] = []

    def problem(self, doc: _Document | str, path: tuple[str | int, ...], message: str) -> None:
        if isinstance(doc, _Document):
            self.problems.append(Problem(doc.name, doc.line(path), _format_path(path), message))
        else:
            self.problems.append(Problem(doc, None, _format_path(path), message))

    def load(self) -> Catalog:
        intents: list[tuple[_Document, Intent]] = []
        fixes: list[tuple[_Document, Fix]] = []
        vocabulary, off_topic = Vocabulary(), OffTopic()
        for doc in self._documents("intents"):
            filename = Path(doc.name).name
            if filename == VOCABULARY_FILE:
                vocabulary = self._validate(doc, Vocabulary) or vocabulary
            elif filename == OFF_TOPIC_FILE:
                off_topic = self._validate(doc, OffTopic) or off_topic
            elif filename.startswith("_"):
                self.problem(
                    doc,
                    (),
                    f"unknown special file; files starting with '_' are {VOCABULARY_FILE} "
                    f"and {OFF_TOPIC_FILE}",
                )
            elif (intent := self._validate(doc, Intent)) is not None:
                intents.append((doc, intent))
        # Ids of fixes that failed validation still count as known, so an intent naming
        # a broken fix is not reported a second time as naming a missing one.
        fix_ids: set[str] = set()
        support: Link | None = None
        for doc in self._documents("fixes"):
            filename = Path(doc.name).name
            if filename == SUPPORT_FILE:
                support = self._validate(doc, Link)
                continue
            if filename.startswith("_"):
                self.problem(doc, (), f"unknown special file; the one in fixes/ is {SUPPORT_FILE}")
                continue
            if isinstance(doc.data.get("id"), str):
                fix_ids.add(doc.data["id"].strip())
            if (fix := self._validate(doc, Fix)) is not None:
                fixes.append((doc, fix))
                self._check_fix(doc, fix)

        self._check_unique("intent", intents)
        self._check_unique("fix", fixes)
        self._check_aliases(fixes)
        for doc, intent in intents:
            self._check_intent(doc, intent, fix_ids)
        if not intents and not self.problems:
            self.problem(f"{self.root.name}/intents", (), "no intents found")
        if not fixes and not self.problems:
            self.problem(f"{self.root.name}/fixes", (), "no fixes found")
        if self.problems:
            raise ContentError(self.problems)
        return Catalog.build(
            (i for _, i in intents), (f for _, f in fixes), vocabulary, off_topic, support
        )

    # -- files -------------------------------------------------------------------------------

    def _documents(self, folder: str) -> Iterator[_Document]:
        directory = self.root / folder
        if not directory.is_dir():
            self.problem(f"{folder}/", (), f"folder is missing (looked in {directory})")
            return
        files = sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")])
        for path in files:
            name = f"{folder}/{path.name}"
            try:
                text = path.read_text(encoding="utf-8")
            except UnicodeDecodeError as exc:
                self.problem(name, (), f"is not UTF-8 text (byte {exc.start})")
                continue
            except OSError as exc:
                self.problem(name, (), f"cannot be read: {exc.strerror}")
                continue
            doc = self._parse(name, text)
            if doc is not None:
                yield doc

    def _parse(self, name: str, text: str) -> _Document | None:
        loader = yaml.SafeLoader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                self.problems.append(Problem(name, None, "", "file is empty"))
                return None
            lines: dict[tuple[str | int, ...], int] = {}
            for problem in _index_node(node, (), lines):
                self.problems.append(Problem(name, problem[0], problem[1], problem[2]))
            data = loader.construct_document(node)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 if mark is not None else None
            what = " ".join(p for p in (exc.context, exc.problem) if p)
            self.problems.append(Problem(name, line, "", f"YAML syntax error: {what}"))
            return None
        except yaml.YAMLError as exc:
            self.problems.append(Problem(name, None, "", f"YAML error: {exc}"))
            return None
        finally:
            loader.dispose()
        if not isinstance(data, dict):
            kind = type(data).__name__
            self.problems.append(
                Problem(name, 1, "", f"must be a mapping of keys to values, not a {kind}")
            )
            return None
        return _Document(name, data, lines)

    def _validate(self, doc: _Document, model: type[_M]) -> _M | None:
        try:
            return model.model_validate(doc.data)
        except ValidationError as exc:
            errors = exc.errors()
            locs = [tuple(e["loc"]) for e in errors]
            for error, loc in zip(errors, locs, strict=True):
                # A list whose items all failed also reports itself as too short: say it once.
                inner = any(len(o) > len(loc) and o[: len(loc)] == loc for o in locs)
                if not (error["type"] == "too_short" and inner):
                    self.problem(doc, loc, _explain(error, model))
            return None

    # -- cross-checks ------------------------------------------------------------------------

    def _check_fix(self, doc: _Document, fix: Fix) -> None:
        ids = [s.id for s in fix.steps]
        seen: set[str] = set()
        sound = True  # unique ids and every target exists: the flow can be followed
        for index, step_id in enumerate(ids):
            if step_id == END:
                self.problem(doc, ("steps", index, "id"), f"'{END}' is reserved; pick another id")
            if step_id in seen:
                self.problem(doc, ("steps", index, "id"), f"step id '{step_id}' is used twice")
                sound = False
            seen.add(step_id)
        for index, step in enumerate(fix.steps):
            self._check_markup(doc, ("steps", index, "text"), step.text)
            if step.caution:
                self._check_markup(doc, ("steps", index, "caution"), step.caution)
            if step.choices and step.next is not None:
                self.problem(
                    doc,
                    ("steps", index, "next"),
                    "a question's choices say where to go; remove 'next'",
                )
            if len(step.choices) == 1:
                self.problem(
                    doc, ("steps", index, "choices"), "a question needs two choices or more"
                )
            targets: list[tuple[tuple[str | int, ...], str]] = (
                [(("next",), step.next)] if step.next else []
            )
            targets += [(("choices", n, "next"), c.next) for n, c in enumerate(step.choices)]
            for where, target in targets:
                if target != END and target not in seen:
                    hint = _did_you_mean(target, ids)
                    self.problem(
                        doc, ("steps", index, *where), f"there is no step '{target}'{hint}"
                    )
                    sound = False
        self._check_markup(doc, ("reason",), fix.reason)
        if sound:
            self._check_flow(doc, fix)

    def _check_flow(self, doc: _Document, fix: Fix) -> None:
        """Every step is reachable from the first, and no way through the fix loops forever."""
        index_of = {s.id: n for n, s in enumerate(fix.steps)}
        reached: set[str] = set()
        on_path: list[str] = []
        reported_loop = False

        def visit(step_id: str) -> None:
            nonlocal reported_loop
            if step_id in on_path:
                if not reported_loop:
                    loop = " → ".join([*on_path[on_path.index(step_id) :], step_id])
                    self.problem(
                        doc,
                        ("steps", index_of[step_id], "id"),
                        f"the steps go round in a loop ({loop}); the fix could never end",
                    )
                    reported_loop = True
                return
            if step_id in reached:
                return
            reached.add(step_id)
            on_path.append(step_id)
            for target in fix.successors(step_id):
                visit(target)
            on_path.pop()

        visit(fix.first_step.id)
        for step in fix.steps:
            if step.id not in reached:
                self.problem(
                    doc,
                    ("steps", index_of[step.id], "id"),
                    f"step '{step.id}' can never be reached: no step or choice leads to it",
                )

    def _check_unique(self, kind: str, items: list[tuple[_Document, _Item]]) -> None:
        first: dict[str, str] = {}
        for doc, item in items:
            if item.id in first:
                self.problem(
                    doc, ("id",), f"{kind} id '{item.id}' is also used in {first[item.id]}"
                )
            else:
                first[item.id] = doc.name

    def _check_aliases(self, fixes: list[tuple[_Document, Fix]]) -> None:
        owner: dict[str, str] = {alias_key(fix.id): fix.id for _, fix in fixes}
        for doc, fix in fixes:
            for index, alias in enumerate(fix.aliases):
                key = alias_key(alias)
                other = owner.setdefault(key, fix.id)
                if other != fix.id:
                    self.problem(
                        doc,
                        ("aliases", index),
                        f"alias '{alias}' already names fix '{other}'; /fix could not tell them apart",
                    )

    def _check_markup(self, doc: _Document, path: tuple[str | int, ...], text: str) -> None:
        if text.count(BOLD) % 2:
            self.problem(doc, path, "a '**' has no partner: bold text is written **like this**")

    def _check_intent(self, doc: _Document, intent: Intent, fix_ids: set[str]) -> None:
        seen: set[str] = set()
        for index, fix_id in enumerate(intent.fixes):
            if fix_id not in fix_ids:
                hint = _did_you_mean(fix_id, sorted(fix_ids))
                self.problem(doc, ("fixes", index), f"there is no fix '{fix_id}'{hint}")
            if fix_id in seen:
                self.problem(doc, ("fixes", index), f"fix '{fix_id}' is listed twice")
            seen.add(fix_id)
        examples: set[str] = set()
        for index, example in enumerate(intent.examples):
            key = example.casefold()
            if key in examples:
                self.problem(doc, ("examples", index), f"example '{example}' is listed twice")
            examples.add(key)
        if intent.description:
            self._check_markup(doc, ("description",), intent.description)


def alias_key(alias: str) -> str:
    """The key a fix is looked up by: no case, spaces, hyphens or underscores ('Wi-Fi' is 'wifi')."""
    return re.sub(r"[\s_\-]+", "", alias.casefold())


def _index_node(
    node: yaml.Node, path: tuple[str | int, ...], lines: dict[tuple[str | int, ...], int]
) -> Iterator[tuple[int, str, str]]:
    """Record the line of every key path; yield (line, path, message) for duplicate keys."""
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in seen:
                yield (
                    key_node.start_mark.line + 1,
                    _format_path((*path, key)),
                    f"key '{key}' appears twice in the same place; the second would silently win",
                )
            seen.add(key)
            lines[(*path, key)] = key_node.start_mark.line + 1
            yield from _index_node(value_node, (*path, key), lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from _index_node(item, (*path, index), lines)


def _format_path(path: tuple[str | int, ...]) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _did_you_mean(word: str, options: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _explain(error: Any, model: type[_Content]) -> str:
    """Turn one pydantic error into a sentence a content author can act on."""
    kind: str = error["type"]
    loc: tuple[str | int, ...] = tuple(error["loc"])
    value = error.get("input")
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return "is required but missing"
    if kind == "extra_forbidden":
        key = str(loc[-1])
        known = _known_keys(model, loc[:-1])
        hint = _did_you_mean(key, known)
        listing = f"; allowed here: {', '.join(sorted(known))}" if known and not hint else ""
        return f"unknown key '{key}'{hint}{listing}"
    if kind in {"string_type", "int_type"}:
        if isinstance(value, bool):
            return "YAML read this as true/false; put the text in quotes"
        if value is None:
            return "is empty; write some text or remove the key"
        if isinstance(value, int | float):
            return "YAML read this as a number; put the text in quotes"
        return f"must be text, not a {_yaml_kind(value)}"
    if kind in {"tuple_type", "list_type"}:
        return f"must be a list (lines starting with '- '), not a {_yaml_kind(value)}"
    if kind in {"model_type", "model_attributes_type", "dict_type"}:
        return f"must be a mapping of keys to values, not a {_yaml_kind(value)}"
    if kind == "string_too_short":
        return "is empty"
    if kind == "string_too_long":
        limit = ctx.get("max_length")
        return (
            f"is {len(value)} characters long; at most {limit} fit here "
            "(Telegram limits messages, buttons and button data)"
        )
    if kind == "too_short":
        return "must not be empty"
    if kind == "string_pattern_mismatch":
        if ctx.get("pattern") == ID_PATTERN:
            return (
                f"'{value}' is not a valid id: use lower-case letters, digits and underscores, "
                "starting with a letter"
            )
        return f"'{value}' is not a web address starting with http:// or https://"
    return str(error["msg"])


def _known_keys(model: type[_Content], loc: tuple[str | int, ...]) -> list[str]:
    """The keys allowed at `loc` inside `model`, for 'did you mean' hints."""
    current: type[_Content] | None = model
    for part in loc:
        if isinstance(part, int) or current is None:
            continue
        info = current.model_fields.get(part)
        current = _model_in(info.annotation) if info is not None else None
    return list(current.model_fields) if current is not None else []


def _model_in(annotation: Any) -> type[_Content] | None:
    if isinstance(annotation, type) and issubclass(annotation, _Content):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _yaml_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "mapping"
    if isinstance(value, list):
        return "list"
    if isinstance(value, str):
        return "text"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "number"
    return "nothing" if value is None else type(value).__name__
