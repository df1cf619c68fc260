"""The walk-through engine: a pure state machine from (session, event) to (session, replies).

Owns every decision about a conversation: what a complaint starts, what each button does,
when to ask "did that fix it?", what to say to a stale button. Synchronous, no I/O, no clock
(time comes in with each event), no randomness, no Telegram. A reply is text plus buttons,
and each button carries the `Press` it produces, so a transport only has to render replies
and hand presses back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Final

from bot.catalog import Catalog, Fix, Intent, Step
from bot.matcher import Decision, Matcher
from bot.wording import Wording

SESSION_SCHEMA: Final = 1
"""Version of `Session.to_dict()`; `Session.from_dict` upgrades anything older."""

RESUME_AFTER: Final = 30 * 60.0
"""Seconds of silence after which a greeting or /start offers to continue the walk."""

DEEP_LINK_PREFIX: Final = "fix_"
FIX_TARGET: Final = "fix:"
"""A button value naming a fix rather than an intent: "fix:wifi"."""
"""/start payloads: fix_<topic> starts a fix; fix_<fix>-<step> resumes it at that step."""


# --------------------------------------------------------------------------------------------
# Events


class Action(StrEnum):
    """What a button does. The values are short: they travel in Telegram's callback data."""

    DONE = "d"
    FAILED = "x"
    SKIP = "s"
    BACK = "b"
    STOP = "q"
    CHOOSE = "c"
    CONFIRM = "k"
    FIXED = "y"
    NOT_FIXED = "n"
    RATE = "r"
    PICK = "p"
    TOPICS = "t"
    SWITCH = "w"
    KEEP = "g"
    RESUME = "u"


# Buttons that start something new are valid whenever they are pressed; the others belong to
# one moment of the walk and are stale once it has moved on.
TIMELESS_ACTIONS: Final = frozenset({Action.PICK, Action.TOPICS})


@dataclass(frozen=True)
class Press:
    """What a button says when pressed: the action, the walk revision it was made for, and
    an optional value (a choice number, an intent or fix id, a rating)."""

    action: Action
    revision: int
    value: str = ""


@dataclass(frozen=True)
class TextReceived:
    text: str
    at: float


@dataclass(frozen=True)
class CommandReceived:
    """A slash command, already stripped of '/' and any @botname; lower-case."""

    command: str
    argument: str
    at: float


@dataclass(frozen=True)
class ButtonPressed:
    press: Press
    at: float


@dataclass(frozen=True)
class OtherReceived:
    """Something that is not text: a sticker, a photo, a voice note, a file."""

    kind: str
    at: float


Event = TextReceived | CommandReceived | ButtonPressed | OtherReceived


# --------------------------------------------------------------------------------------------
# Replies


@dataclass(frozen=True)
class Button:
    """A button: it either produces a `press` or opens a `url`."""

    label: str
    press: Press | None = None
    url: str | None = None


@dataclass(frozen=True)
class Reply:
    """One message: text in the content's markup (**bold**), rows of buttons, and a short
    `notice` for the person who pressed a button (a toast on Telegram)."""

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    notice: str | None = None


@dataclass(frozen=True)
class Outcome:
    """Something worth counting later: a walk started, a step done, a fix that helped."""

    result: str
    intent: str | None = None
    fix: str | None = None
    step: str | None = None
    value: str | None = None


# --------------------------------------------------------------------------------------------
# The session


class Stage(StrEnum):
    IDLE = "idle"
    STEP = "step"
    CAUTION = "caution"
    DID_IT_HELP = "did_it_help"
    RATING = "rating"
    CHOOSING = "choosing"
    SWITCHING = "switching"
    RESUMING = "resuming"


@dataclass(frozen=True)
class Session:
    """Where one person is: plain data, stored between messages.

    `plan` is the fixes to walk, `fix_index` the one under way, `step` its current step and
    `path` the steps already passed in it (for Back). `revision` grows with every change, so
    a button made for an earlier moment is recognised as stale.
    """

    stage: Stage = Stage.IDLE
    intent: str | None = None
    plan: tuple[str, ...] = ()
    fix_index: int = 0
    step: str | None = None
    path: tuple[str, ...] = ()
    tried: tuple[str, ...] = ()
    options: tuple[str, ...] = ()
    """Intents offered in a "did you mean", or the intent (or fix:<id>) waiting to switch to."""
    resume_stage: Stage = Stage.IDLE
    """The stage to go back to after a switch prompt or a welcome back."""
    revision: int = 0
    updated_at: float = 0.0

    @property
    def walking(self) -> bool:
        return bool(self.plan) and self.stage not in (Stage.IDLE, Stage.RATING)

    @property
    def fix_id(self) -> str | None:
        return self.plan[self.fix_index] if self.fix_index < len(self.plan) else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SESSION_SCHEMA,
            "stage": self.stage.value,
            "intent": self.intent,
            "plan": list(self.plan),
            "fix_index": self.fix_index,
            "step": self.step,
            "path": list(self.path),
            "tried": list(self.tried),
            "options": list(self.options),
            "resume_stage": self.resume_stage.value,
            "revision": self.revision,
            "updated_at": self.updated_at,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Session:
        """Read a stored session, upgrading older schemas; unreadable data starts afresh."""
        if not isinstance(data, dict) or data.get("schema", 0) > SESSION_SCHEMA:
            return cls()
        try:
            return cls(
                stage=Stage(data.get("stage", "idle")),
                intent=data.get("intent"),
                plan=tuple(data.get("plan", ())),
                fix_index=int(data.get("fix_index", 0)),
                step=data.get("step"),
                path=tuple(data.get("path", ())),
                tried=tuple(data.get("tried", ())),
                options=tuple(data.get("options", ())),
                resume_stage=Stage(data.get("resume_stage", "idle")),
                revision=int(data.get("revision", 0)),
                updated_at=float(data.get("updated_at", 0.0)),
            )
        except (TypeError, ValueError):
            return cls()


@dataclass(frozen=True)
class Turn:
    """What one event did: the new session, the replies to show, the outcomes to record."""

    session: Session
    replies: tuple[Reply, ...]
    outcomes: tuple[Outcome, ...] = ()


# --------------------------------------------------------------------------------------------
# The engine


@dataclass
class _Draft:
    """A turn being put together: the session so far, replies and outcomes."""

    session: Session
    at: float
    replies: list[Reply] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)
    header: list[str] = field(default_factory=list)

    def move(self, **changes: Any) -> None:
        self.session = replace(self.session, **changes)

    def record(self, result: str, **details: str | None) -> None:
        self.outcomes.append(Outcome(result, **details))


class Engine:
    """Walks people through fixes. One instance serves every conversation; it holds only
    the catalog, the matcher and the wording, never a session."""

    def __init__(
        self,
        catalog: Catalog,
        matcher: Matcher | None = None,
        wording: Wording | None = None,
    ) -> None:
        self.catalog = catalog
        self.matcher = matcher or Matcher(catalog)
        self.wording = wording or Wording()

    # -- entry point -------------------------------------------------------------------------

    def handle(self, session: Session, event: Event) -> Turn:
        """Apply one event to a session; return the new session, replies and outcomes."""
        draft = _Draft(session, event.at)
        if isinstance(event, ButtonPressed):
            self._on_press(draft, event.press)
        elif isinstance(event, CommandReceived):
            self._on_command(draft, event.command.lower(), event.argument.strip())
        elif isinstance(event, TextReceived):
            self._on_text(draft, event.text)
        else:
            self._on_other(draft)
        final = draft.session
        if final != session:
            final = replace(final, revision=session.revision + 1, updated_at=event.at)
        # Views are drawn before the new revision is known; stamp it on their buttons now.
        replies = tuple(self._stamp(r, final.revision) for r in draft.replies)
        return Turn(final, replies, tuple(draft.outcomes))

    # -- text --------------------------------------------------------------------------------

    def _on_text(self, draft: _Draft, text: str) -> None:
        session = draft.session
        if not text.strip():
            self._show_or_menu(draft, self.wording.empty_message)
            return
        result = self.matcher.match(text)
        if session.walking:
            if result.decision is Decision.NONE:
                returning = draft.at - session.updated_at > RESUME_AFTER
                if result.small_talk == "greeting" and returning:
                    self._offer_resume(draft)
                elif result.small_talk == "thanks":
                    self._say_and_show(draft, self.wording.thanks)
                else:
                    self._say_and_show(draft, self.wording.use_buttons)
                return
            if result.intent == session.intent:
                self._say_and_show(draft, self.wording.already_on_it)
                return
            draft.record("switch_offered", intent=result.intent)
            self._offer_switch(draft, result.intent or "")
            return
        if result.decision is Decision.MATCH and result.intent:
            self._start_intent(draft, result.intent)
        elif result.decision is Decision.AMBIGUOUS:
            draft.record("ambiguous", intent=result.intent)
            self._did_you_mean(draft, result.choices)
        else:
            draft.record("no_match")
            talk = result.small_talk
            if talk == "thanks":
                draft.replies.append(Reply(self.wording.thanks))
            elif talk == "farewell":
                draft.replies.append(Reply(self.wording.farewell))
            elif talk == "greeting":
                self._menu(draft, self.wording.greeting)
            else:
                self._menu(draft, self.wording.no_match)

    def _on_other(self, draft: _Draft) -> None:
        if draft.session.walking:
            self._say_and_show(draft, self.wording.not_text)
        else:
            self._menu(draft, self.wording.not_text)

    # -- commands ----------------------------------------------------------------------------

    def _on_command(self, draft: _Draft, command: str, argument: str) -> None:
        words = self.wording
        if command == "start":
            if argument.startswith(DEEP_LINK_PREFIX):
                self._deep_link(draft, argument[len(DEEP_LINK_PREFIX) :])
            elif draft.session.walking:
                self._offer_resume(draft)
            else:
                self._menu(draft, words.welcome)
        elif command == "help":
            draft.replies.append(Reply(words.help))
        elif command == "topics":
            self._menu(draft, words.topics_intro)
        elif command == "fix":
            if not argument:
                self._menu(draft, words.topics_intro)
            else:
                self._fix_command(draft, argument)
        elif command in ("cancel", "stop"):
            self._stop(draft)
        else:
            draft.replies.append(Reply(words.unknown_command.format(command=command[:32])))

    def _fix_command(self, draft: _Draft, topic: str) -> None:
        found = self.matcher.find_fix(topic[:200])
        if isinstance(found, Fix):
            self._start_fix(draft, found)
        elif isinstance(found, Intent):
            self._start_intent(draft, found.id)
        else:
            draft.record("no_match")
            self._menu(draft, self.wording.unknown_fix.format(topic=topic[:60]))

    def _deep_link(self, draft: _Draft, payload: str) -> None:
        fix_part, _, step_id = payload.partition("-")
        fix = self.catalog.fixes.get(fix_part)
        if fix is not None and step_id in fix.steps_by_id:
            self._start_fix(draft, fix, at_step=step_id)
        else:
            self._fix_command(draft, payload.replace("_", " "))

    # -- buttons -----------------------------------------------------------------------------

    def _on_press(self, draft: _Draft, press: Press) -> None:
        session = draft.session
        if press.action not in TIMELESS_ACTIONS and press.revision != session.revision:
            draft.record("stale_press", value=press.action.value)
            if session.stage is Stage.IDLE:
                finished = self.wording.finished_button
                self._menu(draft, finished, notice=finished)
            else:
                self._show(draft, notice=self.wording.stale_button)
            return
        handler = {
            Action.DONE: self._press_done,
            Action.FAILED: self._press_failed,
            Action.SKIP: self._press_skip,
            Action.BACK: self._press_back,
            Action.STOP: lambda d, p: self._stop(d),
            Action.CHOOSE: self._press_choose,
            Action.CONFIRM: self._press_confirm,
            Action.FIXED: self._press_fixed,
            Action.NOT_FIXED: self._press_not_fixed,
            Action.RATE: self._press_rate,
            Action.PICK: self._press_pick,
            Action.TOPICS: lambda d, p: self._menu(d, self.wording.topics_intro),
            Action.SWITCH: self._press_switch,
            Action.KEEP: self._press_keep,
            Action.RESUME: self._press_keep,
        }[press.action]
        handler(draft, press)

    def _press_done(self, draft: _Draft, press: Press) -> None:
        session, fix, step = self._current(draft)
        if session.stage is not Stage.STEP or fix is None or step is None or step.is_question:
            self._show(draft)
            return
        draft.record("step_done", intent=session.intent, fix=fix.id, step=step.id)
        self._advance(draft, fix, step, fix.step_after(step.id))

    def _press_choose(self, draft: _Draft, press: Press) -> None:
        session, fix, step = self._current(draft)
        if session.stage is not Stage.STEP or fix is None or step is None:
            self._show(draft)
            return
        index = int(press.value) if press.value.isdigit() else -1
        if not 0 <= index < len(step.choices):
            self._show(draft, notice=self.wording.stale_button)
            return
        choice = step.choices[index]
        draft.record("choice", intent=session.intent, fix=fix.id, step=step.id, value=choice.label)
        self._advance(draft, fix, step, None if choice.next == "end" else choice.next)

    def _advance(self, draft: _Draft, fix: Fix, step: Step, next_id: str | None) -> None:
        path = (*draft.session.path, step.id)
        if next_id is None:
            draft.move(stage=Stage.DID_IT_HELP, path=path, step=step.id)
        else:
            self._enter_step(draft, fix.step(next_id), path)
        self._show(draft)

    def _press_confirm(self, draft: _Draft, press: Press) -> None:
        session, fix, step = self._current(draft)
        if session.stage is not Stage.CAUTION or fix is None or step is None:
            self._show(draft)
            return
        draft.record("caution_confirmed", intent=session.intent, fix=fix.id, step=step.id)
        draft.move(stage=Stage.STEP)
        self._show(draft)

    def _press_failed(self, draft: _Draft, press: Press) -> None:
        self._leave_fix(draft, "step_failed", self.wording.next_fix)

    def _press_skip(self, draft: _Draft, press: Press) -> None:
        self._leave_fix(draft, "skipped", self.wording.skipped_fix)

    def _leave_fix(self, draft: _Draft, result: str, lead: str) -> None:
        """Leave the fix under way for the next one, from a step or its caution."""
        session, fix, _ = self._current(draft)
        if fix is None or session.stage not in (Stage.STEP, Stage.CAUTION):
            self._show(draft)
            return
        draft.record(result, intent=session.intent, fix=fix.id, step=session.step)
        self._next_fix(draft, lead)

    def _press_back(self, draft: _Draft, press: Press) -> None:
        session, fix, _ = self._current(draft)
        if fix is None or session.stage not in (Stage.STEP, Stage.CAUTION, Stage.DID_IT_HELP):
            self._show(draft)
            return
        if session.stage is Stage.DID_IT_HELP:
            previous = session.path[-1] if session.path else fix.first_step.id
            draft.move(stage=Stage.STEP, step=previous, path=session.path[:-1])
        elif session.path:
            previous = session.path[-1]
            self._enter_step(draft, fix.step(previous), session.path[:-1])
            if draft.session.stage is Stage.CAUTION:
                draft.move(stage=Stage.STEP)  # the caution was confirmed on the way forward
        else:
            self._show(draft, notice=self.wording.first_step)
            return
        self._show(draft)

    def _press_fixed(self, draft: _Draft, press: Press) -> None:
        session, fix, _ = self._current(draft)
        if session.stage is not Stage.DID_IT_HELP or fix is None:
            self._show(draft)
            return
        draft.record("resolved", intent=session.intent, fix=fix.id)
        draft.move(stage=Stage.RATING, tried=(*session.tried, fix.id))
        self._show(draft)

    def _press_not_fixed(self, draft: _Draft, press: Press) -> None:
        session, fix, _ = self._current(draft)
        if session.stage is not Stage.DID_IT_HELP or fix is None:
            self._show(draft)
            return
        draft.record("not_resolved", intent=session.intent, fix=fix.id)
        self._next_fix(draft, self.wording.next_fix)

    def _press_rate(self, draft: _Draft, press: Press) -> None:
        session = draft.session
        if session.stage is not Stage.RATING:
            self._show(draft)
            return
        rating = press.value if press.value in {"1", "2", "3", "4", "5"} else None
        draft.record("rated", intent=session.intent, fix=session.fix_id, value=rating or "none")
        draft.move(**_idle())
        draft.replies.append(Reply(self.wording.rated if rating else self.wording.rated_skip))

    def _press_pick(self, draft: _Draft, press: Press) -> None:
        target = self._target(press.value)
        session = draft.session
        in_a_step = session.stage in (Stage.STEP, Stage.CAUTION, Stage.DID_IT_HELP)
        if target is None:
            self._menu(draft, self.wording.topics_intro)
        elif isinstance(target, Intent) and in_a_step and target.id != session.intent:
            self._offer_switch(draft, press.value)
        else:
            self._start(draft, target)

    def _press_switch(self, draft: _Draft, press: Press) -> None:
        session = draft.session
        if session.stage is not Stage.SWITCHING or not session.options:
            self._show(draft)
            return
        target = self._target(session.options[0])
        if target is None:
            self._show(draft)
            return
        draft.record("switched", intent=session.intent, value=session.options[0])
        self._start(draft, target)

    def _press_keep(self, draft: _Draft, press: Press) -> None:
        session = draft.session
        if session.stage in (Stage.SWITCHING, Stage.RESUMING):
            draft.move(stage=session.resume_stage, options=())
        self._show(draft)

    # -- starting, moving on, stopping -------------------------------------------------------

    def _target(self, value: str) -> Fix | Intent | None:
        """What a button's value names: "fix:<id>" a fix, otherwise an intent id."""
        if value.startswith(FIX_TARGET):
            return self.catalog.fixes.get(value.removeprefix(FIX_TARGET))
        return self.catalog.intents.get(value)

    def _restart_target(self, session: Session) -> str:
        """The button value that starts this session's walk again from the beginning."""
        return session.intent or f"{FIX_TARGET}{session.plan[0]}"

    def _start(self, draft: _Draft, target: Fix | Intent) -> None:
        if isinstance(target, Fix):
            self._start_fix(draft, target)
        else:
            self._start_intent(draft, target.id)

    def _start_intent(self, draft: _Draft, intent_id: str) -> None:
        intent = self.catalog.intent(intent_id)
        draft.record("started", intent=intent.id)
        plan = intent.fixes  # the catalog guarantees every one exists
        draft.move(**_idle(intent=intent.id, plan=plan))
        if len(plan) > 1:
            draft.header.append(self.wording.walk_start.format(title=intent.title, count=len(plan)))
        else:
            draft.header.append(self.wording.single_fix_start.format(title=intent.title))
        self._begin_fix(draft, 0)

    def _start_fix(self, draft: _Draft, fix: Fix, at_step: str | None = None) -> None:
        draft.record("started", fix=fix.id)
        draft.move(**_idle(plan=(fix.id,)))
        draft.header.append(self.wording.single_fix_start.format(title=fix.title))
        self._begin_fix(draft, 0, at_step)

    def _begin_fix(self, draft: _Draft, index: int, at_step: str | None = None) -> None:
        fix = self.catalog.fix(draft.session.plan[index])
        step = fix.step(at_step) if at_step else fix.first_step
        draft.move(fix_index=index)
        self._enter_step(draft, step, fix.route_to(step.id))
        self._show(draft)

    def _enter_step(self, draft: _Draft, step: Step, path: tuple[str, ...]) -> None:
        stage = Stage.CAUTION if step.caution else Stage.STEP
        draft.move(stage=stage, step=step.id, path=path)

    def _next_fix(self, draft: _Draft, lead: str) -> None:
        session = draft.session
        tried = (*session.tried, session.fix_id) if session.fix_id else session.tried
        draft.move(tried=tried)
        following = session.fix_index + 1
        if following < len(session.plan):
            title = self.catalog.fix(session.plan[following]).title
            draft.header.append(lead.format(title=title))
            self._begin_fix(draft, following)
            return
        draft.record("exhausted", intent=session.intent)
        titles = ", ".join(self.catalog.fix(f).title for f in tried)
        restart = Press(Action.PICK, 0, self._restart_target(session))
        draft.move(**_idle())
        rows: list[tuple[Button, ...]] = []
        if self.catalog.support is not None:
            rows.append((Button(self.catalog.support.label, url=self.catalog.support.url),))
        rows.append(
            (
                Button(self.wording.start_over, restart),
                Button(self.wording.topics, Press(Action.TOPICS, 0)),
            )
        )
        draft.replies.append(Reply(self.wording.exhausted.format(fixes=titles), tuple(rows)))

    def _stop(self, draft: _Draft) -> None:
        session = draft.session
        if not session.walking and session.stage is not Stage.CHOOSING:
            self._menu(draft, self.wording.nothing_to_stop)
            return
        draft.record("stopped", intent=session.intent, fix=session.fix_id, step=session.step)
        draft.move(**_idle())
        draft.replies.append(Reply(self.wording.stopped))

    # -- prompts -----------------------------------------------------------------------------

    def _did_you_mean(self, draft: _Draft, intent_ids: Sequence[str]) -> None:
        draft.move(**_idle(stage=Stage.CHOOSING, options=tuple(intent_ids)))
        self._show(draft)

    def _offer_switch(self, draft: _Draft, target: str) -> None:
        session = draft.session
        resume = session.resume_stage if session.stage is Stage.SWITCHING else session.stage
        draft.move(stage=Stage.SWITCHING, options=(target,), resume_stage=resume)
        self._show(draft)

    def _offer_resume(self, draft: _Draft) -> None:
        session = draft.session
        resume = (
            session.resume_stage
            if session.stage in (Stage.SWITCHING, Stage.RESUMING)
            else session.stage
        )
        draft.move(stage=Stage.RESUMING, options=(), resume_stage=resume)
        self._show(draft)

    def _menu(self, draft: _Draft, text: str, notice: str | None = None) -> None:
        rows = _pairs(
            [Button(i.title, Press(Action.PICK, 0, i.id)) for i in self.catalog.intents.values()]
        )
        draft.replies.append(Reply(text, tuple(rows), notice))

    # -- views -------------------------------------------------------------------------------

    def _show_or_menu(self, draft: _Draft, text: str) -> None:
        if draft.session.walking:
            self._say_and_show(draft, text)
        else:
            self._menu(draft, text)

    def _say_and_show(self, draft: _Draft, text: str) -> None:
        draft.header.append(text)
        self._show(draft)

    def _current(self, draft: _Draft) -> tuple[Session, Fix | None, Step | None]:
        session = draft.session
        fix_id = session.fix_id
        fix = self.catalog.fixes.get(fix_id) if fix_id else None
        step = fix.steps_by_id.get(session.step or "") if fix is not None else None
        return session, fix, step

    def _show(self, draft: _Draft, notice: str | None = None) -> None:
        """Add the view of where the session is now, with the header lines gathered so far
        and an optional notice for whoever pressed the button."""
        session, fix, step = self._current(draft)
        words = self.wording
        header = list(draft.header)
        draft.header.clear()
        revision = 0  # `handle` stamps the real revision on every button
        body: list[str] = []
        rows: list[tuple[Button, ...]] = []
        leave_row = (
            Button(words.skip, Press(Action.SKIP, revision)),
            Button(words.back, Press(Action.BACK, revision)),
            Button(words.stop, Press(Action.STOP, revision)),
        )
        stage = session.stage
        if stage in (Stage.STEP, Stage.CAUTION, Stage.DID_IT_HELP) and (fix and step):
            body.append(self._progress(session, fix))
            body.append(f"**{fix.title}**")
            if not session.path and stage is not Stage.DID_IT_HELP:
                body.append(words.why.format(reason=fix.reason))
            if stage is Stage.CAUTION:
                body.append(words.caution.format(caution=step.caution))
                rows += [
                    (Button(words.confirm_caution, Press(Action.CONFIRM, revision)),),
                    leave_row,
                ]
            elif stage is Stage.STEP:
                body.append(step.text)
                if step.link:
                    rows.append((Button(step.link.label, url=step.link.url),))
                if step.is_question:
                    rows += [
                        (Button(c.label, Press(Action.CHOOSE, revision, str(n))),)
                        for n, c in enumerate(step.choices)
                    ]
                else:
                    rows.append(
                        (
                            Button(words.done, Press(Action.DONE, revision)),
                            Button(words.didnt_work, Press(Action.FAILED, revision)),
                        )
                    )
                rows.append(leave_row)
            else:
                body.append(fix.did_it_help)
                rows += [
                    (
                        Button(words.fixed, Press(Action.FIXED, revision)),
                        Button(words.not_fixed, Press(Action.NOT_FIXED, revision)),
                    ),
                    (Button(words.back, Press(Action.BACK, revision)),),
                ]
            if session.tried:
                titles = ", ".join(self.catalog.fix(f).title for f in session.tried)
                body.append(words.tried.format(fixes=titles))
        elif stage is Stage.RATING:
            body.append(words.resolved)
            rows += [
                tuple(
                    Button("⭐" * n if n < 3 else f"{n}⭐", Press(Action.RATE, revision, str(n)))
                    for n in range(1, 6)
                ),
                (Button(words.skip_rating, Press(Action.RATE, revision, "")),),
            ]
        elif stage is Stage.CHOOSING:
            body.append(words.did_you_mean)
            rows += [
                (Button(self.catalog.intent(i).title, Press(Action.PICK, revision, i)),)
                for i in session.options
                if i in self.catalog.intents
            ]
            rows.append((Button(words.something_else, Press(Action.TOPICS, revision)),))
        elif stage is Stage.SWITCHING and fix is not None:
            target = session.options[0] if session.options else ""
            body.append(
                words.switch_prompt.format(
                    current=self._walk_title(session, fix),
                    progress=self._progress(session, fix).lower(),
                    new=self._target_title(target),
                )
            )
            rows += [
                (Button(words.switch, Press(Action.SWITCH, revision)),),
                (Button(words.keep, Press(Action.KEEP, revision)),),
            ]
        elif stage is Stage.RESUMING and fix is not None:
            body.append(
                words.welcome_back.format(
                    title=fix.title, progress=self._progress(session, fix).lower()
                )
            )
            restart = Press(Action.PICK, revision, self._restart_target(session))
            rows += [
                (Button(words.resume, Press(Action.RESUME, revision)),),
                (
                    Button(words.start_over, restart),
                    Button(words.stop, Press(Action.STOP, revision)),
                ),
            ]
        else:
            self._menu(draft, "\n\n".join([*header, words.topics_intro]), notice)
            return
        draft.replies.append(Reply("\n\n".join([*header, *body]), tuple(rows), notice))

    def _progress(self, session: Session, fix: Fix) -> str:
        done = len(session.path)
        if session.stage is Stage.DID_IT_HELP:
            remaining = 0
        else:
            remaining = fix.longest_path_from(session.step or fix.first_step.id)
        total = max(done + remaining, 1)
        current = min(done + 1, total)
        if len(session.plan) > 1:
            return self.wording.progress_walk.format(
                fix=session.fix_index + 1, fixes=len(session.plan), step=current, steps=total
            )
        return self.wording.progress_fix.format(step=current, steps=total)

    def _walk_title(self, session: Session, fix: Fix) -> str:
        if session.intent and session.intent in self.catalog.intents:
            return self.catalog.intent(session.intent).title
        return fix.title

    def _target_title(self, value: str) -> str:
        target = self._target(value)
        return target.title if target is not None else value

    @staticmethod
    def _stamp(reply: Reply, revision: int) -> Reply:
        """Give every button of a reply the session's new revision."""
        rows = tuple(
            tuple(
                replace(b, press=replace(b.press, revision=revision)) if b.press else b for b in row
            )
            for row in reply.buttons
        )
        return replace(reply, buttons=rows)

    # -- deep links --------------------------------------------------------------------------

    def resume_payload(self, session: Session) -> str:
        """A /start payload that continues this session's fix at its step elsewhere."""
        if session.fix_id is None:
            return "start"
        step = session.step or ""
        payload = f"{DEEP_LINK_PREFIX}{session.fix_id}"
        return f"{payload}-{step}" if step else payload


def _idle(**overrides: Any) -> dict[str, Any]:
    """The fields of a session with no walk under way, changed by `overrides`."""
    return {
        "stage": Stage.IDLE,
        "intent": None,
        "plan": (),
        "fix_index": 0,
        "step": None,
        "path": (),
        "tried": (),
        "options": (),
        "resume_stage": Stage.IDLE,
        **overrides,
    }


def _pairs(buttons: list[Button]) -> list[tuple[Button, ...]]:
    return [tuple(buttons[i : i + 2]) for i in range(0, len(buttons), 2)]
