"""How each stage of a walk looks: (session, catalog, wording) in, a `Reply` out.

One function per stage; `show` picks the one for where the session is. Views decide
nothing: they draw what the engine has already decided. Their buttons carry revision 0;
the engine stamps the session's new revision on them once the turn is complete.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Final

from bot.cases import Case, CaseState, ClosedAs
from bot.catalog import Catalog, Fix, Intent, Step
from bot.events import Action, Button, CaseAction, CasePress, Press, Reply, Target
from bot.session import STAFF_MARK, Outcome, Session, Stage
from bot.wording import Wording

Rows = list[tuple[Button, ...]]
Body = tuple[list[str], Rows]


def current(session: Session, catalog: Catalog) -> tuple[Fix | None, Step | None]:
    """The fix and step the session is on, if the catalog still has them."""
    fix_id = session.fix_id
    fix = catalog.fixes.get(fix_id) if fix_id else None
    step = fix.steps_by_id.get(session.step or "") if fix is not None else None
    return fix, step


def show(
    session: Session,
    catalog: Catalog,
    wording: Wording,
    header: Sequence[str] = (),
    notice: str | None = None,
    handover: bool = False,
) -> Reply:
    """Where the session is now, after the `header` lines; the topic menu when idle.
    `handover`: a staff desk takes cases, so "Talk to a person" is offered."""
    fix, step = current(session, catalog)
    view = _STAGE_VIEWS.get(session.stage)
    drawn = view(_Page(session, catalog, wording, fix, step, handover)) if view else None
    if drawn is None:
        return menu(catalog, wording, "\n\n".join([*header, wording.topics_intro]), notice)
    body, rows = drawn
    return Reply("\n\n".join([*header, *body]), tuple(rows), notice)


def menu(catalog: Catalog, wording: Wording, text: str, notice: str | None = None) -> Reply:
    """`text` above one button per intent, two to a row."""
    buttons = [
        Button(i.title, Press(Action.PICK, 0, Target(i.id))) for i in catalog.intents.values()
    ]
    rows = [tuple(buttons[i : i + 2]) for i in range(0, len(buttons), 2)]
    return Reply(text, tuple(rows), notice)


def languages(names: Sequence[tuple[str, str]], wording: Wording, current: str | None) -> Reply:
    """/language: a button per language, named in itself ("Español"), two to a row; the one
    spoken now is ticked."""
    buttons = [
        Button(f"✓ {name}" if code == current else name, Press(Action.LANGUAGE, 0, code))
        for code, name in names
    ]
    rows = [tuple(buttons[i : i + 2]) for i in range(0, len(buttons), 2)]
    return Reply(wording.language_prompt, tuple(rows))


def language_offer(reply: Reply, usual: Wording, heard: Wording) -> Reply:
    """`reply`, said in the language the person wrote in (`heard`) rather than their usual
    one: a line saying so, and a row to carry on in either, each button in its own language."""
    row = tuple(
        Button(words.continue_in_language, Press(Action.LANGUAGE, 0, words.language))
        for words in (usual, heard)
    )
    return Reply(f"{reply.text}\n\n{heard.language_heard}", (*reply.buttons, row), reply.notice)


def exhausted(
    session: Session, catalog: Catalog, wording: Wording, handover: bool = False
) -> Reply:
    """Every fix of the walk has been tried: say so, offer a person (with a staff desk) or
    point to support, offer to start over."""
    titles = ", ".join(catalog.fix(f).title for f in session.tried)
    rows: Rows = []
    if handover:
        rows.append((_human_button(wording),))
    elif catalog.support is not None:
        rows.append((Button(catalog.support.label, url=catalog.support.url),))
    rows.append((Button(wording.start_over, restart(session)), _topics_button(wording)))
    return Reply(wording.exhausted.format(fixes=titles), tuple(rows))


def no_person(catalog: Catalog, wording: Wording) -> Reply:
    """Someone asked for a person where no staff desk takes cases: the content's support
    link, if it has one."""
    if catalog.support is None:
        return Reply(wording.no_staff_at_all)
    link = Button(catalog.support.label, url=catalog.support.url)
    return Reply(wording.no_staff, ((link,),))


def overheard(intent: Intent, wording: Wording) -> Reply:
    """The one short offer to someone whose complaint the bot read in a group: its button
    starts the walk of that intent for them."""
    walk = Button(wording.walk_me_through, Press(Action.PICK, 0, Target(intent.id)))
    return Reply(wording.overheard.format(title=intent.title), ((walk,),))


def person_again(wording: Wording) -> Reply:
    """Still broken after support solved the case: a person again, or the topics."""
    again = _human_button(wording)
    return Reply(wording.staff_not_fixed, ((again,), (_topics_button(wording),)))


def restart(session: Session) -> Press:
    """The press that starts this session's walk again from the beginning."""
    target = Target(session.intent) if session.intent else Target(session.plan[0], is_fix=True)
    return Press(Action.PICK, 0, target)


def find(catalog: Catalog, target: Target) -> Fix | Intent | None:
    """What a topic button starts, if the catalog (still) has it."""
    return catalog.fixes.get(target.id) if target.is_fix else catalog.intents.get(target.id)


def progress(session: Session, fix: Fix, wording: Wording) -> str:
    """ "Fix 2 of 9 · step 3 of 4", or "Step 3 of 4" for a walk of one fix."""
    done = len(session.path)
    if session.stage is Stage.DID_IT_HELP:
        remaining = 0
    else:
        remaining = fix.longest_path_from(session.step or fix.first_step.id)
    total = max(done + remaining, 1)
    step = min(done + 1, total)
    if len(session.plan) > 1:
        fixes = len(session.plan)
        return wording.progress_walk.format(
            fix=session.fix_index + 1, fixes=fixes, step=step, steps=total
        )
    return wording.progress_fix.format(step=step, steps=total)


# --------------------------------------------------------------------------------------------
# One view per stage


@dataclass(frozen=True)
class _Page:
    """What a stage's view draws from."""

    session: Session
    catalog: Catalog
    wording: Wording
    fix: Fix | None
    step: Step | None
    handover: bool = False

    def leave_row(self) -> tuple[Button, ...]:
        """Skip, Back (not on a fix's first step: there is nothing to go back to), Stop."""
        words = self.wording
        back = (Button(words.back, Press(Action.BACK, 0)),) if self.session.path else ()
        return (
            Button(words.skip, Press(Action.SKIP, 0)),
            *back,
            Button(words.stop, Press(Action.STOP, 0)),
        )


def _fix_view(
    draw: Callable[[_Page, Fix, Step, list[str]], Rows],
) -> Callable[[_Page], Body | None]:
    """A view of a stage inside a fix: progress, title and (on the way in) why, then what
    `draw` adds, then the fixes tried so far."""

    def view(page: _Page) -> Body | None:
        session, fix, step, words = page.session, page.fix, page.step, page.wording
        if fix is None or step is None:
            return None
        body = [progress(session, fix, words), f"**{fix.title}**"]
        if not session.path and session.stage is not Stage.DID_IT_HELP:
            body.append(words.why.format(reason=fix.reason))
        rows = draw(page, fix, step, body)
        if session.tried:
            titles = ", ".join(page.catalog.fix(f).title for f in session.tried)
            body.append(words.tried.format(fixes=titles))
        return body, rows

    return view


@_fix_view
def _step(page: _Page, fix: Fix, step: Step, body: list[str]) -> Rows:
    words = page.wording
    body.append(step.text)
    rows: Rows = []
    if step.link:
        rows.append((Button(step.link.label, url=step.link.url),))
    if step.is_question:
        rows += [(Button(c.label, Press(Action.CHOOSE, 0, n)),) for n, c in enumerate(step.choices)]
    else:
        done = Button(words.done, Press(Action.DONE, 0))
        rows.append((done, Button(words.didnt_work, Press(Action.FAILED, 0))))
    rows.append(page.leave_row())
    return rows


@_fix_view
def _caution(page: _Page, fix: Fix, step: Step, body: list[str]) -> Rows:
    words = page.wording
    body.append(words.caution.format(caution=step.caution))
    return [(Button(words.confirm_caution, Press(Action.CONFIRM, 0)),), page.leave_row()]


@_fix_view
def _did_it_help(page: _Page, fix: Fix, step: Step, body: list[str]) -> Rows:
    words = page.wording
    body.append(fix.did_it_help or words.did_it_help)
    back = Button(words.back, Press(Action.BACK, 0))
    return [
        (
            Button(words.fixed, Press(Action.FIXED, 0)),
            Button(words.not_fixed, Press(Action.NOT_FIXED, 0)),
        ),
        (back, _human_button(words)) if page.handover else (back,),
    ]


def _rating(page: _Page) -> Body:
    words = page.wording
    stars = tuple(Button(words.stars(n), Press(Action.RATE, 0, n)) for n in range(1, 6))
    text = words.resolved_by_staff if page.session.options == (STAFF_MARK,) else words.resolved
    return [text], [stars, (Button(words.skip_rating, Press(Action.RATE, 0)),)]


def _with_staff(page: _Page) -> Body:
    words = page.wording
    return [words.with_staff], [(Button(words.close_case, Press(Action.STOP, 0)),)]


def _staff_solved(page: _Page) -> Body:
    words = page.wording
    verdict = (
        Button(words.fixed, Press(Action.FIXED, 0)),
        Button(words.not_fixed, Press(Action.NOT_FIXED, 0)),
    )
    return [words.staff_solved], [verdict]


def _choosing(page: _Page) -> Body:
    """ "Is it this?" for one intent, "did you mean" for two or three."""
    words, intents = page.wording, page.catalog.intents
    offered = [intents[i] for i in page.session.options if i in intents]
    something_else = (Button(words.something_else, Press(Action.TOPICS, 0)),)
    if len(offered) == 1:
        yes = Button(words.confirm_yes, Press(Action.PICK, 0, Target(offered[0].id)))
        return [words.confirm.format(title=offered[0].title)], [(yes,), something_else]
    rows: Rows = [(Button(i.title, Press(Action.PICK, 0, Target(i.id))),) for i in offered]
    return [words.did_you_mean], [*rows, something_else]


def _switching(page: _Page) -> Body | None:
    session, fix, words = page.session, page.fix, page.wording
    if fix is None:
        return None
    intent = page.catalog.intents.get(session.intent or "")
    target = Target.parse(session.options[0]) if session.options else Target("")
    text = words.switch_prompt.format(
        current=intent.title if intent is not None else fix.title,
        progress=progress(session, fix, words).lower(),
        new=found.title if (found := find(page.catalog, target)) is not None else target.id,
    )
    rows: Rows = [
        (Button(words.switch, Press(Action.SWITCH, 0)),),
        (Button(words.keep, Press(Action.KEEP, 0)),),
    ]
    return [text], rows


def _resuming(page: _Page) -> Body | None:
    session, fix, words = page.session, page.fix, page.wording
    if fix is None:
        return None
    text = words.welcome_back.format(
        title=fix.title, progress=progress(session, fix, words).lower()
    )
    rows: Rows = [
        (Button(words.resume, Press(Action.RESUME, 0)),),
        (Button(words.start_over, restart(session)), Button(words.stop, Press(Action.STOP, 0))),
    ]
    return [text], rows


def _topics_button(wording: Wording) -> Button:
    return Button(wording.topics, Press(Action.TOPICS, 0))


def _human_button(wording: Wording) -> Button:
    return Button(wording.talk_to_person, Press(Action.HUMAN, 0))


_STAGE_VIEWS: dict[Stage, Callable[[_Page], Body | None]] = {
    Stage.STEP: _step,
    Stage.CAUTION: _caution,
    Stage.DID_IT_HELP: _did_it_help,
    Stage.RATING: _rating,
    Stage.CHOOSING: _choosing,
    Stage.SWITCHING: _switching,
    Stage.RESUMING: _resuming,
    Stage.WITH_STAFF: _with_staff,
    Stage.STAFF_SOLVED: _staff_solved,
}
"""Idle has no view of its own: it is the topic menu."""


# --------------------------------------------------------------------------------------------
# The case card, in the staff chat

CARD_HISTORY_LINES: Final = 40
"""Lines of a walk's history on a card, at most (the latest kept): a message holds 4,096
characters, and staff read the end of a long walk first."""

CARD_COMPLAINT_CHARS: Final = 700
"""The complaint on the card, at most; with the history, the card stays under 4,096."""

_HISTORY_MARKS: Final = {
    "step_done": "✅ {step}",
    "step_failed": "❌ {step}: didn't work",
    "skipped": "⏭ skipped at: {step}",
    "choice": "❓ {step} → {value}",
    "caution_confirmed": "⚠️ caution acknowledged: {step}",
    "resolved": "👍 said it was fixed",
    "not_resolved": "👎 still broken after this fix",
    "rated": "⭐ rated {value}",
    "exhausted": "⛔ every fix tried",
    "stopped": "✖️ stopped the walk",
}


def case_title(case: Case, catalog: Catalog, wording: Wording) -> str:
    """ "#12 · Wi-Fi problems · Alice": the topic's name (at most 128 characters)."""
    intent = catalog.intents.get(case.intent or "")
    title = intent.title if intent is not None else "Help"
    return wording.card_topic.format(id=case.id, title=title, name=case.person.name)[:128]


def case_card(
    case: Case,
    history: Sequence[tuple[float, Outcome]],
    catalog: Catalog,
    wording: Wording,
    zone: tzinfo | None = None,
) -> Reply:
    """Everything support needs to take a case over: who, what they said, how sure the
    matcher was, every step of the walk and what happened, and where the case stands. The
    Solved and Back to fixbot buttons while it is open."""
    person = case.person
    who = [f"👤 **{person.name}**"]
    if person.username:
        who.append(f"@{person.username}")
    who.append(f"id {person.id}")
    if person.language:
        who.append(f"language {person.language}")
    lines = [f"**{case_title(case, catalog, wording)}**", _card_state(case, wording, zone), ""]
    lines.append(" · ".join(who))
    if case.complaint:
        complaint = case.complaint
        if len(complaint) > CARD_COMPLAINT_CHARS:
            complaint = complaint[: CARD_COMPLAINT_CHARS - 1] + "…"
        lines.append(f"💬 “{complaint}”")
    intent = catalog.intents.get(case.intent or "")
    if intent is not None:
        sure = f" (matcher {case.confidence:.0%} sure)" if case.confidence is not None else ""
        lines.append(f"🎯 {intent.title}{sure}")
    started = next((at for at, o in history if o.result == "started"), None)
    if started is not None:
        lines.append(
            f"🕐 walk started {_when(started, zone)}, case opened {_when(case.opened_at, zone)}"
        )
    else:
        lines.append(f"🕐 case opened {_when(case.opened_at, zone)}")
    walk = _history_lines(history, catalog)
    if walk:
        lines += ["", "**What was tried**", *walk]
    lines += [f"📝 {note}" for note in case.notes]
    rows: Rows = []
    if case.is_open:
        rows.append(
            (
                Button(wording.card_solved, CasePress(CaseAction.SOLVED, case.id)),
                Button(wording.card_return, CasePress(CaseAction.RETURN, case.id)),
            )
        )
    return Reply("\n".join(lines), tuple(rows))


def _card_state(case: Case, wording: Wording, zone: tzinfo | None) -> str:
    if case.state is CaseState.OPEN:
        return wording.card_state_open
    if case.state is CaseState.WITH_STAFF:
        return wording.card_state_with_staff.format(
            name=case.answered_by or "support", at=_when(case.answered_at or case.opened_at, zone)
        )
    closed = {
        ClosedAs.SOLVED: wording.card_state_solved,
        ClosedAs.RETURNED: wording.card_state_returned,
        ClosedAs.CANCELLED: wording.card_state_cancelled,
        ClosedAs.UNREACHABLE: wording.card_state_unreachable,
        ClosedAs.STAFF_GONE: wording.card_state_staff_gone,
    }[case.closed_as or ClosedAs.CANCELLED]
    return closed.format(name=case.answered_by or "support", at=_when(case.closed_at or 0, zone))


def _history_lines(history: Sequence[tuple[float, Outcome]], catalog: Catalog) -> list[str]:
    lines: list[str] = []
    fix_id: str | None = None
    for _, outcome in history:
        mark = _HISTORY_MARKS.get(outcome.result)
        if outcome.fix and outcome.fix != fix_id and outcome.fix in catalog.fixes:
            fix_id = outcome.fix
            lines.append(f"• **{catalog.fix(fix_id).title}**")
        if mark is None:
            continue
        step = _step_words(catalog, outcome.fix, outcome.step)
        lines.append("   " + mark.format(step=step, value=outcome.value or ""))
    if len(lines) > CARD_HISTORY_LINES:
        dropped = len(lines) - CARD_HISTORY_LINES
        lines = [f"… {dropped} earlier lines", *lines[-CARD_HISTORY_LINES:]]
    return lines


def _step_words(catalog: Catalog, fix_id: str | None, step_id: str | None) -> str:
    """A step as staff can recognise it: the start of its text."""
    fix = catalog.fixes.get(fix_id or "")
    step = fix.steps_by_id.get(step_id or "") if fix is not None else None
    if step is None:
        return step_id or "?"
    text = " ".join(step.text.replace("**", "").split())
    return text if len(text) <= 70 else text[:69] + "…"


def _when(at: float, zone: tzinfo | None) -> str:
    moment = datetime.fromtimestamp(at, zone or UTC)
    return f"{moment:%Y-%m-%d %H:%M} {moment.tzname()}"
