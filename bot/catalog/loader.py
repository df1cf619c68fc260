"""Reading a content folder into a `Catalog`, reporting every problem at once.

Parsing with `yaml.safe_load` semantics (plus line numbers for every key path and duplicate
keys caught), validating against the model, and the cross-references between intents and
fixes. Bad content never half-loads: `load_catalog` either returns a complete `Catalog` or
raises `ContentError` with every problem found, each with its file, line and key path.
"""

from __future__ import annotations

import contextlib
import difflib
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import ValidationError

from bot.catalog.model import (
    BOLD,
    END,
    ID_PATTERN,
    LANGUAGE_PATTERN,
    MATCHER_FILE,
    OFF_TOPIC_FILE,
    SUPPORT_FILE,
    VOCABULARY_FILE,
    Catalog,
    ContentModel,
    Fix,
    FixText,
    Intent,
    IntentText,
    Link,
    OffTopic,
    Step,
    Tuning,
    Vocabulary,
    alias_key,
)
from bot.errors import ContentError, Problem

_M = TypeVar("_M", bound=ContentModel)
_Item = TypeVar("_Item", Intent, Fix)


ENGLISH = "en"
"""The content's own language: intents/ and fixes/ themselves. Every other language is a
folder beside them (intents/es/, fixes/es/) that says the same things in its words."""


def load_catalog(content_dir: Path) -> Catalog:
    """Read and validate `content_dir`'s English; raise ContentError listing every problem
    found."""
    loader = _Loader(content_dir)
    return loader.load()


def load_catalogs(content_dir: Path) -> dict[str, Catalog]:
    """Every language's catalog, English first; raise ContentError listing every problem
    found in any of them. A text a language leaves out is the English one."""
    return _Loader(content_dir).load_all()


def translation_gaps(content_dir: Path) -> list[Problem]:
    """The texts each language leaves to English (not errors: `fixbot check` lists them)."""
    loader = _Loader(content_dir)
    with contextlib.suppress(ContentError):
        loader.load_all()
    return sorted(loader.gaps, key=lambda p: (p.file, p.line or 0, p.path, p.message))


def languages_in(content_dir: Path) -> list[str]:
    """The languages other than English that `content_dir` has a folder of intents for."""
    folder = content_dir / "intents"
    if not folder.is_dir():
        return []
    return sorted(
        p.name for p in folder.iterdir() if p.is_dir() and re.match(LANGUAGE_PATTERN, p.name)
    )


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
        self.gaps: list[Problem] = []
        """Texts a language leaves to English."""
        self.unreadable: set[str] = set()
        """Names (without .yaml) of files that could not be read: what they define is
        unknown, so a reference to it is no further problem of its own."""

    def problem(self, doc: _Document | str, path: tuple[str | int, ...], message: str) -> None:
        if isinstance(doc, _Document):
            self.problems.append(Problem(doc.name, doc.line(path), _format_path(path), message))
        else:
            self.problems.append(Problem(doc, None, _format_path(path), message))

    def gap(self, doc: _Document | str, path: tuple[str | int, ...], message: str) -> None:
        name, line = (doc.name, doc.line(path)) if isinstance(doc, _Document) else (doc, None)
        self.gaps.append(Problem(name, line, _format_path(path), message))

    def load(self) -> Catalog:
        catalog = self._english()
        if self.problems or catalog is None:
            raise ContentError(self.problems)
        return catalog

    def load_all(self) -> dict[str, Catalog]:
        english = self._english()
        catalogs = {ENGLISH: english} if english is not None else {}
        for code in languages_in(self.root):
            if english is not None and code != ENGLISH:
                catalogs[code] = self._translate(english, code)
        fixes = self.root / "fixes"
        for folder in sorted(fixes.iterdir()) if fixes.is_dir() else ():
            if folder.is_dir() and folder.name not in catalogs and not folder.name.startswith("_"):
                self.problem(
                    f"fixes/{folder.name}/",
                    (),
                    f"no intents/{folder.name}/ beside it: a language needs its intents too",
                )
        if self.problems or english is None:
            raise ContentError(self.problems)
        return catalogs

    def _english(self) -> Catalog | None:
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
            return None
        return Catalog.build(
            (i for _, i in intents), (f for _, f in fixes), vocabulary, off_topic, support, tuning
        )

    # -- translations ------------------------------------------------------------------------

    def _translate(self, english: Catalog, code: str) -> Catalog:
        """`english` said in language `code`, from intents/<code>/ and fixes/<code>/."""
        vocabulary: Vocabulary | None = None
        off_topic, tuning = OffTopic(), Tuning()
        texts: dict[str, tuple[_Document, IntentText]] = {}
        folder = f"intents/{code}"
        for doc in self._documents(folder):
            filename = Path(doc.name).name
            if filename == VOCABULARY_FILE:
                vocabulary = self._validate(doc, Vocabulary)
                if vocabulary is not None and vocabulary.language != code:
                    self.problem(
                        doc, ("language",), f"is '{vocabulary.language}' in folder '{code}'"
                    )
            elif filename == OFF_TOPIC_FILE:
                off_topic = self._validate(doc, OffTopic) or off_topic
            elif filename == MATCHER_FILE:
                tuning = self._validate(doc, Tuning) or tuning
            elif filename.startswith("_"):
                self.problem(doc, (), "unknown special file")
            elif (text := self._validate(doc, IntentText)) is not None:
                self._known(doc, "intent", text.id, english.intents)
                if text.id in texts:
                    self.problem(
                        doc, ("id",), f"intent '{text.id}' is also in {texts[text.id][0].name}"
                    )
                texts.setdefault(text.id, (doc, text))
        if not (self.root / folder / VOCABULARY_FILE).exists():
            self.problem(
                f"{folder}/",
                (),
                f"a language needs its own {VOCABULARY_FILE}: its language code, stemmer, "
                "stop words and spelling dictionary",
            )
        if not off_topic.all_examples:
            self.gap(
                f"{folder}/", (), f"no {OFF_TOPIC_FILE}: nothing tells the matcher what is not ours"
            )
        intents = [
            self._translate_intent(folder, i, texts.get(i.id)) for i in english.intents.values()
        ]

        fix_texts: dict[str, tuple[_Document, FixText]] = {}
        support = english.support
        fix_folder = f"fixes/{code}"
        if not (self.root / fix_folder).is_dir():
            self.gap(f"{fix_folder}/", (), "missing: every fix is said in English")
        for doc in self._documents(fix_folder) if (self.root / fix_folder).is_dir() else ():
            filename = Path(doc.name).name
            if filename == SUPPORT_FILE:
                support = self._validate(doc, Link) or support
            elif filename.startswith("_"):
                self.problem(doc, (), f"unknown special file; the one in fixes/ is {SUPPORT_FILE}")
            elif (fix_text := self._validate(doc, FixText)) is not None:
                self._known(doc, "fix", fix_text.id, english.fixes)
                if fix_text.id in fix_texts:
                    self.problem(
                        doc,
                        ("id",),
                        f"fix '{fix_text.id}' is also in {fix_texts[fix_text.id][0].name}",
                    )
                fix_texts.setdefault(fix_text.id, (doc, fix_text))
        fixes: list[tuple[_Document, Fix]] = []
        for fix in english.fixes.values():
            pair = fix_texts.get(fix.id)
            if pair is None:
                self.gap(f"{fix_folder}/", (fix.id,), "not translated: the fix is said in English")
                continue
            fixes.append((pair[0], self._translate_fix(pair[0], fix, pair[1])))
        self._check_aliases(fixes)
        said = {f.id: f for _, f in fixes}
        return Catalog.build(
            intents,
            (said.get(f.id, f) for f in english.fixes.values()),
            vocabulary or english.vocabulary,
            off_topic,
            support,
            tuning,
        )

    def _known(self, doc: _Document, kind: str, item_id: str, known: Mapping[str, Any]) -> None:
        if item_id not in known:
            hint = _did_you_mean(item_id, sorted(known))
            self.problem(doc, ("id",), f"there is no English {kind} '{item_id}'{hint}")

    def _translate_intent(
        self, folder: str, intent: Intent, pair: tuple[_Document, IntentText] | None
    ) -> Intent:
        if pair is None:
            self.gap(f"{folder}/", (intent.id,), "not translated: matched by its English examples")
            return intent
        doc, text = pair
        for key in ("title", "examples"):
            if not getattr(text, key):
                self.gap(doc, (key,), "not translated: English is used")
        seen: set[str] = set()
        for index, example in enumerate(text.examples):
            if example.casefold() in seen:
                self.problem(doc, ("examples", index), f"example '{example}' is listed twice")
            seen.add(example.casefold())
        if text.description:
            self._check_markup(doc, ("description",), text.description)
        changes = text.model_dump(exclude={"id"}, exclude_defaults=True)
        return intent.model_copy(update=changes)

    def _translate_fix(self, doc: _Document, fix: Fix, text: FixText) -> Fix:
        for step_id in text.steps:
            if step_id not in fix.steps_by_id:
                hint = _did_you_mean(step_id, [s.id for s in fix.steps])
                self.problem(
                    doc, ("steps", step_id), f"the English fix has no step '{step_id}'{hint}"
                )
        for key in ("title", "reason"):
            if getattr(text, key) is None:
                self.gap(doc, (key,), "not translated: English is used")
        if text.reason:
            self._check_markup(doc, ("reason",), text.reason)
        steps = [self._translate_step(doc, step, text) for step in fix.steps]
        changes: dict[str, Any] = {
            k: v
            for k, v in (
                ("title", text.title),
                ("reason", text.reason),
                ("did_it_help", text.did_it_help),
            )
            if v
        }
        # Aliases name the fix in this language; the English ones still work in /fix.
        changes["aliases"] = tuple(dict.fromkeys((*text.aliases, *fix.aliases)))
        # Built anew, not copied: a copy would keep the English steps' cached lookup table.
        return Fix.model_validate({**fix.model_dump(), **changes, "steps": steps})

    def _translate_step(self, doc: _Document, step: Step, fix_text: FixText) -> Step:
        path: tuple[str | int, ...] = ("steps", step.id)
        text = fix_text.steps.get(step.id)
        if text is None or text.text is None:
            self.gap(doc, path, "not translated: English is used")
            if text is None:
                return step
        changes: dict[str, Any] = {}
        if text.text:
            self._check_markup(doc, (*path, "text"), text.text)
            changes["text"] = text.text
        for key in ("caution", "link"):
            mine, theirs = getattr(text, key), getattr(step, key)
            if mine and theirs is None:
                self.problem(doc, (*path, key), f"the English step has no {key}")
            elif theirs is not None and not mine:
                self.gap(doc, (*path, key), "not translated: English is used")
        if text.caution and step.caution:
            self._check_markup(doc, (*path, "caution"), text.caution)
            changes["caution"] = text.caution
        if text.link and step.link is not None:
            changes["link"] = step.link.model_copy(update={"label": text.link})
        if text.choices and len(text.choices) != len(step.choices):
            self.problem(
                doc,
                (*path, "choices"),
                f"{len(text.choices)} choices; the English step has {len(step.choices)}",
            )
        elif text.choices:
            changes["choices"] = tuple(
                c.model_copy(update={"label": label})
                for c, label in zip(step.choices, text.choices, strict=True)
            )
        elif step.choices:
            self.gap(doc, (*path, "choices"), "not translated: English is used")
        return step.model_copy(update=changes)

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
