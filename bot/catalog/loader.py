"""Reading a content folder into a `Catalog`, reporting every problem at once.

Parsing with `yaml.safe_load` semantics (plus line numbers for every key path and duplicate
keys caught), validating against the model, and the cross-references between intents and
fixes. Bad content never half-loads: `load_catalog` either returns a complete `Catalog` or
raises `ContentError` with every problem found, each with its file, line and key path.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import ValidationError

from bot.catalog.model import (
    BOLD,
    END,
    ID_PATTERN,
    MATCHER_FILE,
    OFF_TOPIC_FILE,
    SUPPORT_FILE,
    VOCABULARY_FILE,
    Catalog,
    ContentModel,
    Fix,
    Intent,
    Link,
    OffTopic,
    Tuning,
    Vocabulary,
    alias_key,
)
from bot.errors import ContentError, Problem

_M = TypeVar("_M", bound=ContentModel)
_Item = TypeVar("_Item", Intent, Fix)


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
        self.unreadable: set[str] = set()
        """Names (without .yaml) of files that could not be read: what they define is
        unknown, so a reference to it is no further problem of its own."""

    def problem(self, doc: _Document | str, path: tuple[str | int, ...], message: str) -> None:
        if isinstance(doc, _Document):
            self.problems.append(Problem(doc.name, doc.line(path), _format_path(path), message))
        else:
            self.problems.append(Problem(doc, None, _format_path(path), message))

    def load(self) -> Catalog:
        intents: list[tuple[_Document, Intent]] = []
        fixes: list[tuple[_Document, Fix]] = []
        vocabulary, off_topic, tuning = Vocabulary(), OffTopic(), Tuning()
        for doc in self._documents("intents"):
            filename = Path(doc.name).name
            if filename == VOCABULARY_FILE:
                vocabulary = self._validate(doc, Vocabulary) or vocabulary
            elif filename == OFF_TOPIC_FILE:
                off_topic = self._validate(doc, OffTopic) or off_topic
            elif filename == MATCHER_FILE:
                tuning = self._validate(doc, Tuning) or tuning
            elif filename.startswith("_"):
                self.problem(
                    doc,
                    (),
                    f"unknown special file; files starting with '_' are {VOCABULARY_FILE}, "
                    f"{OFF_TOPIC_FILE} and {MATCHER_FILE}",
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
            (i for _, i in intents), (f for _, f in fixes), vocabulary, off_topic, support, tuning
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
                self.unreadable.add(path.stem)
                continue
            except OSError as exc:
                self.problem(name, (), f"cannot be read: {exc.strerror}")
                self.unreadable.add(path.stem)
                continue
            doc = self._parse(name, text)
            if doc is not None:
                yield doc
            else:
                self.unreadable.add(path.stem)

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
            if fix_id not in fix_ids and fix_id not in self.unreadable:
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
        if part == "[key]":  # pydantic's mark for a mapping's key, named already
            continue
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _did_you_mean(word: str, options: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _explain(error: Any, model: type[ContentModel]) -> str:
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


def _known_keys(model: type[ContentModel], loc: tuple[str | int, ...]) -> list[str]:
    """The keys allowed at `loc` inside `model`, for 'did you mean' hints."""
    current: type[ContentModel] | None = model
    for part in loc:
        if isinstance(part, int) or current is None:
            continue
        info = current.model_fields.get(part)
        current = _model_in(info.annotation) if info is not None else None
    return list(current.model_fields) if current is not None else []


def _model_in(annotation: Any) -> type[ContentModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, ContentModel):
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
