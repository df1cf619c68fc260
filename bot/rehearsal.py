"""Conversation tests in YAML, for content authors: how a conversation must go, rehearsed on
the real engine (`fixbot test`, `conversations/*.yaml`).

A file is a list of conversations; each is a name and the turns, in order: what the person
does (`say` a message, `command` such as "fix wifi", `press` a button by what it does or
`choose` one by its words) and what must follow (`walks` an intent or fix, `asks` one of
these intents, `refuses`, `fix` and `step` where the walk is, `asks_if_fixed`, `ends`,
`text` the reply contains). A mismatch names the turn, what was expected and what the bot
did, with the transcript so far. Pure: the engine in, results out; no Telegram, no store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from bot.engine import Engine
from bot.errors import ContentError, Problem
from bot.events import Action, Button, ButtonPressed, CommandReceived, Press, Reply, TextReceived
from bot.session import IN_A_FIX, Session, Stage, fresh

CONVERSATIONS_DIR: Final = "conversations"

PRESSES: Final = {
    "done": Action.DONE,
    "didnt_work": Action.FAILED,
    "skip": Action.SKIP,
    "back": Action.BACK,
    "stop": Action.STOP,
    "confirm": Action.CONFIRM,
    "fixed": Action.FIXED,
    "not_fixed": Action.NOT_FIXED,
    "yes": Action.PICK,
}
"""What `press` names, and the button action it means ("yes": the first offered topic)."""


class Turn(BaseModel):
    """One thing the person does, and what must follow it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    say: str | None = None
    command: str | None = None
    press: Literal[tuple(PRESSES)] | None = None  # type: ignore[valid-type]
    choose: str | None = None
    walks: str | None = None
    """The intent (or fix) whose walk this starts."""
    asks: list[str] | None = None
    """A question ("is it this?", "did you mean") offering these intents, among others."""
    refuses: bool = False
    fix: str | None = None
    step: int | str | None = None
    """The step on screen: its number in the fix (1 is the first) or its id."""
    asks_if_fixed: bool = False
    ends: bool = False
    """The walk is over (fixed, stopped, or every fix tried)."""
    text: str | None = None

    @model_validator(mode="after")
    def _one_action(self) -> Turn:
        done = [a for a in (self.say, self.command, self.press, self.choose) if a is not None]
        if len(done) != 1:
            raise ValueError("each turn does one thing: say, command, press or choose")
        return self


class Conversation(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    language: str | None = None
    turns: list[Turn] = Field(min_length=1)


@dataclass
class Result:
    conversation: Conversation
    file: str
    failure: str | None = None
    transcript: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.failure is None

    def report(self) -> str:
        lines = [f"FAILED {self.file}: {self.conversation.name}", f"  {self.failure}"]
        lines += ["  transcript:", *(f"    {line}" for line in self.transcript)]
        return "\n".join(lines)


def load(path: Path) -> list[Conversation]:
    """The conversations of one file; ContentError naming the file and what is wrong."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ContentError([Problem(str(path), None, "", f"cannot be read: {exc}")]) from None
    if not isinstance(data, list):
        raise ContentError([Problem(str(path), None, "", "must be a list of conversations")])
    found, problems = [], []
    for n, item in enumerate(data):
        try:
            found.append(Conversation.model_validate(item))
        except ValidationError as exc:
            for error in exc.errors():
                where = ".".join(str(p) for p in (n, *error["loc"]))
                problems.append(Problem(str(path), None, where, error["msg"]))
    if problems:
        raise ContentError(problems)
    return found


def files_in(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.yaml")) if folder.is_dir() else []


def rehearse(engine: Engine, conversation: Conversation, file: str = "") -> Result:
    """Run one conversation on `engine`; where it first went otherwise than written."""
    result = Result(conversation, file)
    session, clock, last = fresh(1_000_000.0), 1_000_000.0, None
    language = conversation.language
    for number, turn in enumerate(conversation.turns, start=1):
        clock += 5
        try:
            event = _event(turn, last, clock, language)
        except LookupError as exc:
            result.failure = f"turn {number}: {exc}"
            return result
        answer = engine.handle(session, event)
        session = answer.session
        last = answer.replies[-1] if answer.replies else None
        result.transcript.append(f"person: {_did(turn)}")
        result.transcript += [f"bot: {_short(r.text)}  {_labels(r)}" for r in answer.replies]
        wrong = _check(turn, engine, session, answer.outcomes, last, language)
        if wrong:
            result.failure = f"turn {number} ({_did(turn)}): {wrong}"
            return result
    return result


def _event(
    turn: Turn, last: Reply | None, at: float, language: str | None
) -> TextReceived | CommandReceived | ButtonPressed:
    if turn.say is not None:
        return TextReceived(turn.say, at, language)
    if turn.command is not None:
        command, _, argument = turn.command.lstrip("/").partition(" ")
        return CommandReceived(command, argument, at, language)
    button = _button(turn, last)
    assert isinstance(button.press, Press)
    return ButtonPressed(button.press, at, language)


def _button(turn: Turn, last: Reply | None) -> Button:
    buttons = [b for row in (last.buttons if last else ()) for b in row if b.press is not None]
    for button in buttons:
        press = button.press
        if not isinstance(press, Press):
            continue
        if turn.choose is not None and turn.choose.casefold() in button.label.casefold():
            return button
        if turn.press is not None and press.action is PRESSES[turn.press]:
            return button
    wanted = turn.choose if turn.choose is not None else turn.press
    raise LookupError(f"no button {wanted!r} on the last reply; it has {_labels(last)}")


def _check(
    turn: Turn,
    engine: Engine,
    session: Session,
    outcomes: Any,
    last: Reply | None,
    language: str | None,
) -> str | None:
    catalog = engine.languages.pick(language, session.language).catalog
    started = [o for o in outcomes if o.result == "started"]
    if turn.walks is not None:
        got = started[0].intent or started[0].fix if started else None
        if got != turn.walks:
            return f"expected the walk of {turn.walks!r}, got {got or _what(outcomes)}"
    if turn.asks is not None:
        if session.stage is not Stage.CHOOSING:
            return f"expected a question offering {turn.asks}, got {_what(outcomes)}"
        missing = [i for i in turn.asks if i not in session.options]
        if missing:
            return f"expected {missing} among the options, got {list(session.options)}"
    if turn.refuses and not any(o.result == "no_match" for o in outcomes):
        return f"expected a refusal, got {_what(outcomes)}"
    if turn.fix is not None and session.fix_id != turn.fix:
        return f"expected fix {turn.fix!r}, the walk is on {session.fix_id!r}"
    if turn.step is not None:
        if session.stage not in IN_A_FIX or session.step is None:
            return f"expected step {turn.step}, the walk is at {session.stage.value}"
        fix = catalog.fix(session.fix_id or "")
        number = [s.id for s in fix.steps].index(session.step) + 1
        if turn.step not in (number, session.step):
            return f"expected step {turn.step}, the walk is on step {number} ({session.step})"
    if turn.asks_if_fixed and session.stage is not Stage.DID_IT_HELP:
        return f"expected 'did that fix it?', the walk is at {session.stage.value}"
    if turn.ends and session.walking:
        return f"expected the walk to end, it is at {session.stage.value}"
    if turn.text is not None and (last is None or turn.text not in last.text):
        return f"expected the reply to contain {turn.text!r}"
    return None


def _did(turn: Turn) -> str:
    if turn.say is not None:
        return f"says {turn.say!r}"
    if turn.command is not None:
        return f"sends /{turn.command.lstrip('/')}"
    return f"presses {turn.choose or turn.press!r}"


def _what(outcomes: Any) -> str:
    return ", ".join(o.result for o in outcomes) or "nothing recorded"


def _short(text: str, most: int = 90) -> str:
    plain = " ".join(text.replace("**", "").split())
    return plain if len(plain) <= most else plain[: most - 1] + "…"


def _labels(reply: Reply | None) -> list[str]:
    return [b.label for row in (reply.buttons if reply else ()) for b in row]
