"""The walk-through engine: a pure state machine from (session, event) to (session, replies).

Owns every decision about a conversation: what a complaint starts, what each button does,
when to ask "did that fix it?", what to say to a stale button. Synchronous, no I/O, no clock
(time comes in with each event), no randomness, no Telegram. What each stage looks like is
`views`'; what comes in and goes out is `events`'; what is kept is `session`'s.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Final

from bot import links, views
from bot.catalog import END, Catalog, Fix, Intent, Step
from bot.events import (
    TIMELESS_ACTIONS,
    Action,
    ButtonPressed,
    CaseChanged,
    CaseNews,
    CaseRequest,
    CommandReceived,
    Event,
    Press,
    Reply,
    Target,
    TextReceived,
    Turn,
)
from bot.hours import BusinessHours
from bot.languages import Language, Languages, Reading
from bot.links import FixLink, HumanLink, WalkLink
from bot.matcher import Decision, Match, Matcher
from bot.session import (
    IN_A_FIX,
    STAFF_MARK,
    Outcome,
    Session,
    Stage,
    Unanswered,
    idle,
)
from bot.wording import Wording

COMPLAINT_CHARS: Final = 1000
"""How much of the words that started a walk is kept for the staff's case card."""

RESUME_AFTER: Final = 30 * 60.0
"""Seconds of silence after which a greeting or /start offers to continue the walk."""

ACCEPTED_AT: Final[dict[Action, frozenset[Stage]]] = {
    Action.DONE: frozenset({Stage.STEP}),
    Action.CHOOSE: frozenset({Stage.STEP}),
    Action.CONFIRM: frozenset({Stage.CAUTION}),
    Action.FAILED: frozenset({Stage.STEP, Stage.CAUTION}),
    Action.SKIP: frozenset({Stage.STEP, Stage.CAUTION}),
    Action.BACK: IN_A_FIX,
    Action.FIXED: frozenset({Stage.DID_IT_HELP, Stage.STAFF_SOLVED}),
    Action.NOT_FIXED: frozenset({Stage.DID_IT_HELP, Stage.STAFF_SOLVED}),
    Action.RATE: frozenset({Stage.RATING}),
    Action.SWITCH: frozenset({Stage.SWITCHING}),
}
"""The stages at which an action means something; pressed at any other, the person sees
where they are instead. Actions not listed (stop, keep, resume, pick, topics, human) work at
any, except while a person from support has the case: then only Stop (closing the case) does."""


@dataclass
class _Draft:
    """A turn being put together: the session so far, replies and outcomes."""

    session: Session
    at: float
    language: Language
    """The language the turn speaks; a /language choice changes it mid-turn."""
    replies: list[Reply] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)
    header: list[str] = field(default_factory=list)
    case_request: CaseRequest | None = None
    case_source: str | None = None
    relay: bool = False
    unanswered: Unanswered | None = None
    via: str | None = None
    """How a walk started in this turn was asked for: text, command, link or button."""
    chosen_language: str | None = None
    """The language the person chose in this turn, to keep for them."""
    usual: Language | None = None
    """The language the person gets when their messages say nothing (choice, phone, group)."""
    offer_from: Language | None = None
    """Set when this turn answers in the language a message was written in instead of
    `offer_from`: the last reply offers to carry on in either."""

    def move(self, **changes: Any) -> None:
        self.session = replace(self.session, **changes)

    @property
    def words(self) -> Wording:
        return self.language.wording

    @property
    def catalog(self) -> Catalog:
        return self.language.catalog

    @property
    def matcher(self) -> Matcher:
        return self.language.matcher

    def record(self, result: str, **details: str | None) -> None:
        self.outcomes.append(Outcome(result, **details))


def _unanswered(text: str, result: Match) -> Unanswered:
    nearest = tuple(f"{c.intent}:{c.score:.2f}" for c in result.candidates[:3])
    return Unanswered(" ".join(text.split())[:COMPLAINT_CHARS], nearest)


def _via(event: Event) -> str | None:
    """How a walk this event starts was asked for, as its `started` outcome records it."""
    if isinstance(event, TextReceived):
        return "text"
    if isinstance(event, CommandReceived):
        return "link" if event.command == "start" and event.argument else "command"
    if isinstance(event, ButtonPressed):
        return "button"
    return None


_Handler = Callable[[_Draft, Press], None]
_Said = tuple[str, float | None]
_FixHandler = Callable[[_Draft, Press, Fix, Step], None]


class Engine:
    """Walks people through fixes. One instance serves every conversation; it holds only
    the catalog, the matcher and the wording, never a session.

    `handover`: a staff desk takes cases, so "Talk to a person" is offered and asks the
    transport to open a case; `hours`, when the staff work (people are told when to expect
    an answer outside them). `orders`: fix orders learned from outcomes, by intent, used
    instead of the authored ones (see `bot.stats.learn_orders`); the runner may replace it.
    """

    def __init__(
        self,
        catalog: Catalog,
        matcher: Matcher | None = None,
        wording: Wording | None = None,
        handover: bool = False,
        hours: BusinessHours | None = None,
        languages: Languages | None = None,
    ) -> None:
        """One catalog (with its matcher and wording), or every language in `languages`
        (then `catalog` is its default's)."""
        self.languages = languages or Languages.one(catalog, matcher, wording)
        default = self.languages.default
        self.catalog, self.matcher, self.wording = default.catalog, default.matcher, default.wording
        """The default language's: what a caller that names no language gets."""
        self.handover = handover
        self.hours = hours
        self.orders: dict[str, tuple[str, ...]] = {}
        self._handlers: dict[Action, _Handler] = {
            Action.STOP: lambda d, p: self._stop(d),
            Action.RATE: self._press_rate,
            Action.PICK: self._press_pick,
            Action.TOPICS: lambda d, p: self._menu(d, d.words.topics_intro),
            Action.SWITCH: self._press_switch,
            Action.KEEP: self._press_keep,
            Action.RESUME: self._press_keep,
            Action.HUMAN: lambda d, p: self._ask_for_person(d),
            Action.LANGUAGE: lambda d, p: self._language_menu(d, p.language or ""),
        }
        self._fix_handlers: dict[Action, _FixHandler] = {
            Action.DONE: self._press_done,
            Action.CHOOSE: self._press_choose,
            Action.CONFIRM: self._press_confirm,
            Action.FAILED: lambda d, p, f, s: self._leave_fix(
                d, f, "step_failed", d.words.next_fix
            ),
            Action.SKIP: lambda d, p, f, s: self._leave_fix(d, f, "skipped", d.words.skipped_fix),
            Action.BACK: self._press_back,
            Action.FIXED: self._press_fixed,
            Action.NOT_FIXED: self._press_not_fixed,
        }

    # -- entry point -------------------------------------------------------------------------

    def overheard(self, text: str, language: str | None = None) -> Intent | None:
        """A message read in a group that was not said to the bot: the intent it names when
        the matcher of `language` is clearly sure (a match, never a question), else None. No
        session is touched: nobody asked the bot anything."""
        speaking = self.languages.pick(language)
        match = speaking.matcher.match(text)
        if match.decision is not Decision.MATCH or match.intent is None:
            return None
        return speaking.catalog.intents.get(match.intent)

    def handle(self, session: Session, event: Event) -> Turn:
        """Apply one event to a session; return the new session, replies and outcomes."""
        usual = self.languages.pick(event.language, session.language)
        language = self.languages.pick(session.heard, usual.code)
        draft = _Draft(session, event.at, language, via=_via(event), usual=usual)
        if session.language != language.code:
            draft.move(language=language.code)
        if session.stage is Stage.WITH_STAFF and not self.handover:
            # Support had the case, but the staff desk has been switched off since: hand
            # the person back rather than keep them waiting for no one.
            self._on_case(draft, CaseChanged(CaseNews.RETURNED, event.at))
        elif isinstance(event, CaseChanged):
            self._on_case(draft, event)
        elif isinstance(event, ButtonPressed):
            self._on_press(draft, event.press)
        elif isinstance(event, CommandReceived):
            self._on_command(draft, event.command.lower(), event.argument.strip())
        elif session.stage is Stage.WITH_STAFF:
            draft.relay = True  # text, photos, files: for the person who has the case
        elif isinstance(event, TextReceived):
            self._on_text(draft, event.text)
        elif session.walking:
            self._say_and_show(draft, self.wording.not_text_mid_walk)
        else:
            self._menu(draft, self.wording.not_text)
        final = draft.session
        if final != session:
            final = replace(final, revision=session.revision + 1, updated_at=event.at)
        if draft.offer_from is not None and draft.replies:
            last = draft.replies[-1]
            draft.replies[-1] = views.language_offer(last, draft.offer_from.wording, draft.words)
        # Views are drawn before the new revision is known; stamp it on their buttons now.
        replies = tuple(r.stamped(final.revision) for r in draft.replies)
        spoken = draft.language.code
        outcomes = tuple(replace(o, language=o.language or spoken) for o in draft.outcomes)
        return Turn(
            final,
            replies,
            outcomes,
            draft.case_request,
            draft.case_source,
            draft.relay,
            draft.unanswered,
            draft.chosen_language,
        )

    # -- text --------------------------------------------------------------------------------

    def _on_text(self, draft: _Draft, text: str) -> None:
        if not text.strip():
            self._show_or_menu(draft, draft.words.empty_message)
            return
        reading = self.languages.read(text, draft.language)
        self._heard(draft, reading)
        result = reading.match
        if draft.session.walking:
            self._on_text_mid_walk(draft, result.decision, result.intent, result.small_talk)
            return
        said = (text[:COMPLAINT_CHARS], round(result.score, 2))
        if result.decision is Decision.MATCH and result.intent:
            self._start_intent(draft, result.intent, said)
        elif result.decision in (Decision.CONFIRM, Decision.AMBIGUOUS):
            draft.record(result.decision.value, intent=result.intent)
            draft.unanswered = _unanswered(text, result)
            complaint, confidence = said
            options = tuple(result.choices)
            draft.move(
                **idle(
                    stage=Stage.CHOOSING,
                    options=options,
                    complaint=complaint,
                    confidence=confidence,
                )
            )
            self._show(draft)
        elif result.small_talk is not None:
            draft.record("no_match")
            self._small_talk_or_menu(draft, result.small_talk)
        else:
            draft.record("no_match")
            draft.unanswered = _unanswered(text, result)
            self._menu(draft, self._refusal(draft, result))

    def _refusal(self, draft: _Draft, result: Match) -> str:
        """What the bot says to a message it does not walk: the content's answer for the
        thing we don't do that it looks like, else the device we don't cover, else that it
        did not understand."""
        words = draft.words
        answer = draft.catalog.off_topic.answer(result.topic) if result.topic else None
        if answer is not None:
            return f"{answer}\n\n{words.refusal_menu}"
        if result.other_device:
            return words.other_device.format(device=result.other_device)
        return words.no_match

    def _on_text_mid_walk(
        self, draft: _Draft, decision: Decision, intent: str | None, talk: str | None
    ) -> None:
        session = draft.session
        if decision is Decision.NONE:
            returning = draft.at - session.updated_at > RESUME_AFTER
            if talk == "greeting" and returning:
                self._offer_resume(draft)
            elif talk == "greeting":
                self._say_and_show(draft, draft.words.greeting_mid_walk)
            elif talk == "thanks":
                self._say_and_show(draft, draft.words.thanks)
            else:
                self._say_and_show(draft, draft.words.use_buttons)
        elif intent == session.intent:
            self._say_and_show(draft, draft.words.already_on_it)
        else:
            draft.record("switch_offered", intent=intent)
            self._offer_switch(draft, Target(intent or ""))

    def _small_talk_or_menu(self, draft: _Draft, talk: str | None) -> None:
        if talk == "thanks":
            draft.replies.append(Reply(draft.words.thanks))
        elif talk == "farewell":
            draft.replies.append(Reply(draft.words.farewell))
        elif talk == "greeting":
            self._menu(draft, draft.words.greeting)
        else:
            self._menu(draft, draft.words.no_match)

    # -- commands ----------------------------------------------------------------------------

    def _on_command(self, draft: _Draft, command: str, argument: str) -> None:
        words = draft.words
        link = links.read(argument, draft.catalog) if command == "start" else None
        if draft.session.stage is Stage.WITH_STAFF and command not in ("cancel", "stop", "help"):
            self._say_and_show(draft, words.with_staff_already)
        elif command == "human" or isinstance(link, HumanLink):
            self._ask_for_person(draft, link.source if isinstance(link, HumanLink) else None)
        elif command == "start":
            if isinstance(link, WalkLink):
                self._continue_walk(draft, link)
            elif isinstance(link, FixLink):
                self._deep_link(draft, link)
            elif draft.session.walking:
                self._offer_resume(draft)
            else:
                self._menu(draft, words.welcome)
        elif command == "help":
            draft.replies.append(Reply(words.help))
        elif command == "topics" or (command == "fix" and not argument):
            self._menu(draft, words.topics_intro)
        elif command == "fix":
            self._fix_command(draft, argument)
        elif command in ("cancel", "stop"):
            self._stop(draft)
        elif command == "language":
            self._language_menu(draft, argument)
        else:
            draft.replies.append(Reply(words.unknown_command.format(command=command[:32])))

    def _fix_command(self, draft: _Draft, topic: str) -> None:
        found = draft.matcher.find_fix(topic[:200])
        if isinstance(found, Fix):
            self._start_fix(draft, found)
        elif isinstance(found, Intent):
            self._start_intent(draft, found.id)
        else:
            draft.record("no_match")
            self._menu(draft, draft.words.unknown_fix.format(topic=topic[:60]))

    def _deep_link(self, draft: _Draft, link: FixLink) -> None:
        fix = draft.catalog.fixes.get(link.topic)
        if fix is not None and link.step in fix.steps_by_id:
            self._start_fix(draft, fix, at_step=link.step)
        else:
            self._fix_command(draft, link.topic.replace("_", " "))

    def _continue_walk(self, draft: _Draft, link: WalkLink) -> None:
        """A walk moved here from elsewhere (a group): the same intent, the same fixes, the
        same step, with what was tried and the way Back."""
        draft.record("started", intent=link.intent, fix=link.plan[link.fix_index], value="link")
        draft.move(
            **idle(
                stage=link.stage,
                intent=link.intent,
                plan=link.plan,
                fix_index=link.fix_index,
                step=link.step,
                path=link.path,
                tried=link.tried,
            )
        )
        draft.header.append(draft.words.continued_here)
        self._show(draft)

    # -- buttons -----------------------------------------------------------------------------

    def _on_press(self, draft: _Draft, press: Press) -> None:
        session = draft.session
        if session.stage is Stage.WITH_STAFF:
            if press.action is Action.STOP and press.revision == session.revision:
                self._stop(draft)
            else:
                self._show(draft, notice=draft.words.with_staff_already)
            return
        if press.action not in TIMELESS_ACTIONS and press.revision != session.revision:
            draft.record("stale_press", value=press.action.value)
            if session.stage is Stage.IDLE:
                finished = draft.words.finished_button
                self._menu(draft, finished, notice=finished)
            else:
                self._show(draft, notice=draft.words.stale_button)
            return
        accepted = ACCEPTED_AT.get(press.action)
        if accepted is not None and session.stage not in accepted:
            self._show(draft)
            return
        if session.stage is Stage.STAFF_SOLVED:
            self._staff_verdict(draft, fixed=press.action is Action.FIXED)
            return
        fix_handler = self._fix_handlers.get(press.action)
        if fix_handler is None:
            self._handlers[press.action](draft, press)
            return
        fix, step = views.current(session, draft.catalog)
        if fix is None or step is None:
            self._show(draft)  # the content changed under a stored walk
            return
        fix_handler(draft, press, fix, step)

    def _press_done(self, draft: _Draft, press: Press, fix: Fix, step: Step) -> None:
        if step.is_question:
            self._show(draft)
            return
        draft.record("step_done", intent=draft.session.intent, fix=fix.id, step=step.id)
        self._advance(draft, fix, step, fix.step_after(step.id))

    def _press_choose(self, draft: _Draft, press: Press, fix: Fix, step: Step) -> None:
        index = press.number
        if index is None or not 0 <= index < len(step.choices):
            self._show(draft, notice=draft.words.stale_button)
            return
        choice = step.choices[index]
        intent = draft.session.intent
        draft.record("choice", intent=intent, fix=fix.id, step=step.id, value=choice.label)
        self._advance(draft, fix, step, None if choice.next == END else choice.next)

    def _advance(self, draft: _Draft, fix: Fix, step: Step, next_id: str | None) -> None:
        path = (*draft.session.path, step.id)
        if next_id is None:
            draft.move(stage=Stage.DID_IT_HELP, path=path, step=step.id)
        else:
            self._enter_step(draft, fix.step(next_id), path)
        self._show(draft)

    def _press_confirm(self, draft: _Draft, press: Press, fix: Fix, step: Step) -> None:
        draft.record("caution_confirmed", intent=draft.session.intent, fix=fix.id, step=step.id)
        draft.move(stage=Stage.STEP)
        self._show(draft)

    def _leave_fix(self, draft: _Draft, fix: Fix, result: str, lead: str) -> None:
        """Leave the fix under way for the next one, from a step or its caution."""
        session = draft.session
        draft.record(result, intent=session.intent, fix=fix.id, step=session.step)
        self._next_fix(draft, lead)

    def _press_back(self, draft: _Draft, press: Press, fix: Fix, step: Step) -> None:
        session = draft.session
        if session.stage is Stage.DID_IT_HELP:
            previous = session.path[-1] if session.path else fix.first_step.id
            draft.move(stage=Stage.STEP, step=previous, path=session.path[:-1])
        elif session.path:
            previous = session.path[-1]
            self._enter_step(draft, fix.step(previous), session.path[:-1])
            if draft.session.stage is Stage.CAUTION:
                draft.move(stage=Stage.STEP)  # the caution was confirmed on the way forward
        else:
            self._show(draft, notice=draft.words.first_step)
            return
        self._show(draft)

    def _press_fixed(self, draft: _Draft, press: Press, fix: Fix, step: Step) -> None:
        session = draft.session
        draft.record("resolved", intent=session.intent, fix=fix.id)
        draft.move(stage=Stage.RATING, tried=(*session.tried, fix.id))
        self._show(draft)

    def _press_not_fixed(self, draft: _Draft, press: Press, fix: Fix, step: Step) -> None:
        draft.record("not_resolved", intent=draft.session.intent, fix=fix.id)
        self._next_fix(draft, draft.words.next_fix)

    def _press_rate(self, draft: _Draft, press: Press) -> None:
        session = draft.session
        rating = press.number if press.number in range(1, 6) else None
        value = str(rating) if rating else "none"
        if session.options == (STAFF_MARK,):
            draft.record("rated_staff", intent=session.intent, value=value)
        else:
            draft.record("rated", intent=session.intent, fix=session.fix_id, value=value)
        draft.move(**idle())
        draft.replies.append(Reply(draft.words.rated if rating else draft.words.rated_skip))

    def _press_pick(self, draft: _Draft, press: Press) -> None:
        target = press.target
        found = views.find(draft.catalog, target) if target is not None else None
        session = draft.session
        in_a_fix = session.stage in IN_A_FIX
        if target is None or found is None:
            self._menu(draft, draft.words.topics_intro)
        elif isinstance(found, Intent) and in_a_fix and found.id == session.intent:
            self._say_and_show(draft, draft.words.already_on_it)  # a doubled "yes"
        elif isinstance(found, Intent) and in_a_fix:
            self._offer_switch(draft, target)
        elif session.stage is Stage.CHOOSING and session.complaint is not None:
            self._start(draft, found, (session.complaint, session.confidence))
        else:
            self._start(draft, found)

    def _press_switch(self, draft: _Draft, press: Press) -> None:
        session = draft.session
        target = Target.parse(session.options[0]) if session.options else None
        found = views.find(draft.catalog, target) if target is not None else None
        if found is None:
            self._show(draft)
            return
        draft.record("switched", intent=session.intent, value=session.options[0])
        self._start(draft, found)

    def _press_keep(self, draft: _Draft, press: Press) -> None:
        session = draft.session
        if session.stage in (Stage.SWITCHING, Stage.RESUMING):
            draft.move(stage=session.resume_stage, options=())
        self._show(draft)

    # -- languages ---------------------------------------------------------------------------

    def _language_menu(self, draft: _Draft, argument: str) -> None:
        """/language: a button per language, each named in itself; "/language es" (or a
        language button) chooses."""
        code = self.languages.supported(argument.strip())
        if code is not None:
            self._choose_language(draft, code)
            return
        names = [(language.code, language.name) for language in self.languages.values()]
        draft.replies.append(views.languages(names, draft.words, draft.language.code))

    def _choose_language(self, draft: _Draft, code: str) -> None:
        draft.language = self.languages[code]
        draft.chosen_language = code
        draft.record("language_chosen", value=code)
        draft.move(language=code, heard=None)
        self._show_or_say(draft, draft.words.language_set)

    def _heard(self, draft: _Draft, reading: Reading) -> None:
        """Speak the language a message is clearly written in: from this turn on, until the
        person chooses (the reply offers both), or writes in their usual one again."""
        usual = draft.usual or self.languages.default
        if reading.heard is None:
            return
        if reading.language.code == draft.language.code:
            if reading.heard == usual.code and draft.session.heard is not None:
                draft.move(heard=None)
            return
        code = reading.language.code
        draft.record("language_heard", value=code)
        if code != usual.code:
            draft.offer_from = usual
        draft.language = reading.language
        draft.move(language=code, heard=None if code == usual.code else code)

    # -- starting, moving on, stopping -------------------------------------------------------

    def _start(self, draft: _Draft, target: Fix | Intent, said: _Said | None = None) -> None:
        if isinstance(target, Fix):
            self._start_fix(draft, target)
        else:
            self._start_intent(draft, target.id, said)

    def _start_intent(self, draft: _Draft, intent_id: str, said: _Said | None = None) -> None:
        """Start an intent's walk; `said` is the complaint that led here and how sure the
        matcher was of it, kept for a person from support should it come to that."""
        intent = draft.catalog.intent(intent_id)
        draft.record("started", intent=intent.id, value=draft.via)
        plan = self._plan(intent)
        complaint, confidence = said or (None, None)
        draft.move(**idle(intent=intent.id, plan=plan, complaint=complaint, confidence=confidence))
        if len(plan) > 1:
            draft.header.append(draft.words.walk_start.format(title=intent.title, count=len(plan)))
        else:
            draft.header.append(draft.words.single_fix_start.format(title=intent.title))
        self._begin_fix(draft, 0)

    def _plan(self, intent: Intent) -> tuple[str, ...]:
        """The intent's fixes in the order to walk them: learned, when a learned order is a
        reordering of the authored one (the catalog guarantees every authored fix exists)."""
        learned = self.orders.get(intent.id)
        if learned is not None and sorted(learned) == sorted(intent.fixes):
            return learned
        return intent.fixes

    def _start_fix(self, draft: _Draft, fix: Fix, at_step: str | None = None) -> None:
        draft.record("started", fix=fix.id, value=draft.via)
        draft.move(**idle(plan=(fix.id,)))
        draft.header.append(draft.words.single_fix_start.format(title=fix.title))
        self._begin_fix(draft, 0, at_step)

    def _begin_fix(self, draft: _Draft, index: int, at_step: str | None = None) -> None:
        fix = draft.catalog.fix(draft.session.plan[index])
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
            title = draft.catalog.fix(session.plan[following]).title
            draft.header.append(lead.format(title=title))
            self._begin_fix(draft, following)
            return
        draft.record("exhausted", intent=session.intent)
        words = draft.words
        draft.replies.append(views.exhausted(draft.session, draft.catalog, words, self.handover))
        # What the walk was about stays, for a person from support should they be asked.
        said = {"complaint": session.complaint, "confidence": session.confidence}
        draft.move(**idle(intent=session.intent, **said))

    def _stop(self, draft: _Draft) -> None:
        session = draft.session
        if session.stage is Stage.WITH_STAFF:
            draft.record("case_cancelled", intent=session.intent)
            draft.case_request = CaseRequest.CLOSE
            draft.move(**idle())
            draft.replies.append(Reply(draft.words.case_cancelled))
            return
        if not session.walking and session.stage is not Stage.CHOOSING:
            self._menu(draft, draft.words.nothing_to_stop)
            return
        draft.record("stopped", intent=session.intent, fix=session.fix_id, step=session.step)
        draft.move(**idle())
        draft.replies.append(Reply(draft.words.stopped))

    # -- a person from support -------------------------------------------------------------

    def _ask_for_person(self, draft: _Draft, source: str | None = None) -> None:
        """ "Talk to a person" or /human: ask the transport to open a case, which answers
        with `CaseChanged` once it has (or could not)."""
        session, words = draft.session, draft.words
        if session.stage is Stage.WITH_STAFF:
            self._say_and_show(draft, words.with_staff_already)
        elif not self.handover:
            draft.replies.append(views.no_person(draft.catalog, words))
        else:
            if source is None:  # a link from a group: the group's conversation recorded it
                draft.record("person_asked", intent=session.intent, fix=session.fix_id)
            draft.case_request = CaseRequest.OPEN
            draft.case_source = source

    def _on_case(self, draft: _Draft, event: CaseChanged) -> None:
        session, words = draft.session, draft.words
        if event.news is CaseNews.OPENED:
            if session.stage is not Stage.WITH_STAFF:  # a replay finds it opened already
                self._hand_over(draft, event.walk)
        elif event.news is CaseNews.UNAVAILABLE:
            self._show_or_say(draft, words.staff_unavailable)
        elif session.stage is not Stage.WITH_STAFF:
            return  # news of a case that is no longer this conversation's business
        elif event.news is CaseNews.SOLVED:
            draft.record("solved_by_staff", intent=session.intent)
            draft.move(stage=Stage.STAFF_SOLVED, options=())
            self._show(draft)
        else:
            draft.record("returned_to_bot", intent=session.intent, fix=session.fix_id)
            said = words.staff_gone if event.news is CaseNews.STAFF_GONE else words.returned_to_bot
            fix, step = views.current(session, draft.catalog)
            if session.resume_stage in IN_A_FIX and fix is not None and step is not None:
                draft.move(stage=Stage.RESUMING)
                self._say_and_show(draft, said)
            else:
                draft.move(**idle())
                self._menu(draft, f"{said} {words.empty_message}")

    def _hand_over(self, draft: _Draft, walk: Session | None) -> None:
        """The case is open: stop walking, remember where the walk stood to come back to."""
        if walk is not None and walk.plan:
            draft.move(
                **idle(
                    stage=walk.stage,
                    intent=walk.intent,
                    plan=walk.plan,
                    fix_index=walk.fix_index,
                    step=walk.step,
                    path=walk.path,
                    tried=walk.tried,
                    resume_stage=walk.resume_stage,
                    complaint=walk.complaint,
                    confidence=walk.confidence,
                )
            )
        session = draft.session
        if session.stage in IN_A_FIX:
            resume = session.stage
        elif session.stage in (Stage.SWITCHING, Stage.RESUMING):
            resume = session.resume_stage
        else:
            resume = Stage.IDLE
        draft.record("handed_over", intent=session.intent, fix=session.fix_id, step=session.step)
        draft.move(stage=Stage.WITH_STAFF, resume_stage=resume, options=())
        if self.hours is not None and not self.hours.is_open(draft.at):
            when = self.hours.when_back(draft.at)
            draft.header.append(
                draft.words.with_staff_away.format(hours=self.hours.text, when=when)
            )
        self._show(draft)

    def _staff_verdict(self, draft: _Draft, fixed: bool) -> None:
        """ "Did that fix it?" after support marked the case solved."""
        session, words = draft.session, draft.words
        if fixed:
            draft.record("resolved", intent=session.intent, value=STAFF_MARK)
            draft.move(stage=Stage.RATING, options=(STAFF_MARK,))
            self._show(draft)
            return
        draft.record("not_resolved", intent=session.intent, value=STAFF_MARK)
        draft.move(**idle())
        draft.replies.append(views.person_again(words))

    # -- prompts -----------------------------------------------------------------------------

    def _offer_switch(self, draft: _Draft, target: Target) -> None:
        session = draft.session
        resume = session.resume_stage if session.stage is Stage.SWITCHING else session.stage
        draft.move(stage=Stage.SWITCHING, options=(target.format(),), resume_stage=resume)
        self._show(draft)

    def _offer_resume(self, draft: _Draft) -> None:
        session = draft.session
        prompting = session.stage in (Stage.SWITCHING, Stage.RESUMING)
        resume = session.resume_stage if prompting else session.stage
        draft.move(stage=Stage.RESUMING, options=(), resume_stage=resume)
        self._show(draft)

    # -- drawing -----------------------------------------------------------------------------

    def _menu(self, draft: _Draft, text: str, notice: str | None = None) -> None:
        draft.replies.append(views.menu(draft.catalog, draft.words, text, notice))

    def _show_or_menu(self, draft: _Draft, text: str) -> None:
        if draft.session.walking:
            self._say_and_show(draft, text)
        else:
            self._menu(draft, text)

    def _show_or_say(self, draft: _Draft, text: str) -> None:
        if draft.session.walking:
            self._say_and_show(draft, text)
        else:
            draft.replies.append(Reply(text))

    def _say_and_show(self, draft: _Draft, text: str) -> None:
        draft.header.append(text)
        self._show(draft)

    def _show(self, draft: _Draft, notice: str | None = None) -> None:
        """Add the view of where the session is now, after the header lines gathered so far."""
        reply = views.show(
            draft.session, draft.catalog, draft.words, draft.header, notice, self.handover
        )
        draft.header.clear()
        draft.replies.append(reply)
