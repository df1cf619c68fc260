"""How each stage of a walk looks: (session, catalog, wording) in, a `Reply` out.

One function per stage; `show` picks the one for where the session is. Views decide
nothing: they draw what the engine has already decided. Their buttons carry revision 0;
the engine stamps the session's new revision on them once the turn is complete.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.catalog import Catalog, Fix, Intent, Step
from bot.events import Action, Button, Press, Reply, Target
from bot.session import Session, Stage
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
) -> Reply:
    """Where the session is now, after the `header` lines; the topic menu when idle."""
    fix, step = current(session, catalog)
    view = _STAGE_VIEWS.get(session.stage)
    drawn = view(_Page(session, catalog, wording, fix, step)) if view else None
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


def exhausted(session: Session, catalog: Catalog, wording: Wording) -> Reply:
    """Every fix of the walk has been tried: say so, point to support, offer to start over."""
    titles = ", ".join(catalog.fix(f).title for f in session.tried)
    rows: Rows = []
    if catalog.support is not None:
        rows.append((Button(catalog.support.label, url=catalog.support.url),))
    rows.append((Button(wording.start_over, restart(session)), _topics_button(wording)))
    return Reply(wording.exhausted.format(fixes=titles), tuple(rows))


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

    def leave_row(self) -> tuple[Button, ...]:
        words = self.wording
        return (
            Button(words.skip, Press(Action.SKIP, 0)),
            Button(words.back, Press(Action.BACK, 0)),
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
    return [
        (
            Button(words.fixed, Press(Action.FIXED, 0)),
            Button(words.not_fixed, Press(Action.NOT_FIXED, 0)),
        ),
        (Button(words.back, Press(Action.BACK, 0)),),
    ]


def _rating(page: _Page) -> Body:
    words = page.wording
    stars = tuple(Button(words.stars(n), Press(Action.RATE, 0, n)) for n in range(1, 6))
    return [words.resolved], [stars, (Button(words.skip_rating, Press(Action.RATE, 0)),)]


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


_STAGE_VIEWS: dict[Stage, Callable[[_Page], Body | None]] = {
    Stage.STEP: _step,
    Stage.CAUTION: _caution,
    Stage.DID_IT_HELP: _did_it_help,
    Stage.RATING: _rating,
    Stage.CHOOSING: _choosing,
    Stage.SWITCHING: _switching,
    Stage.RESUMING: _resuming,
}
"""Idle has no view of its own: it is the topic menu."""
