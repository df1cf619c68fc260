"""The case workflow's rules, with no Telegram and no store: what each thing that happens to
a case does to it, and what must follow."""

from __future__ import annotations

from dataclasses import replace

from bot import casework
from bot.cases import Case, CaseState, ClosedAs, Person
from bot.casework import Note, Opening
from bot.events import CaseNews
from bot.hours import BusinessHours
from bot.session import STAFF_MARK, Outcome, SessionKey

AT = 1_796_000_000.0
ROSA = SessionKey(42, 42)


def a_case(**changes: object) -> Case:
    return replace(Case(7, ROSA, Person(42, "Rosa"), AT, -100), **changes)  # type: ignore[arg-type]


def test_opening_makes_the_topic_then_the_card_then_tells_the_person_and_resumes_there() -> None:
    case = a_case()
    assert casework.next_opening(case, topics=True) is Opening.TOPIC
    assert casework.next_opening(case, topics=False) is Opening.CARD
    case = casework.topic_made(case, 55)
    assert case.thread_id == 55
    assert casework.next_opening(case, topics=True) is Opening.CARD  # a replay starts here
    case = replace(case, card_message_id=3)
    assert casework.next_opening(case, topics=True) is Opening.TELL
    case = casework.told(case)
    assert casework.next_opening(case, topics=True) is Opening.DONE


def test_a_topic_telegram_refuses_is_not_asked_for_again() -> None:
    case = casework.topic_made(a_case(), None)
    assert case.topic_refused and case.thread_id is None
    assert casework.next_opening(case, topics=True) is Opening.CARD


def test_the_first_staff_answer_takes_the_case_and_later_ones_change_nothing() -> None:
    move = casework.answered_by_staff(a_case(), "Sam", AT + 60)
    assert move.case.state is CaseState.WITH_STAFF
    assert (move.case.answered_by, move.case.answered_at) == ("Sam", AT + 60)
    assert move.refresh_card and move.news is None
    again = casework.answered_by_staff(move.case, "Kim", AT + 120)
    assert again.case == move.case and not again.refresh_card


def test_solved_on_the_card_closes_the_case_tells_the_person_and_closes_the_topic() -> None:
    move = casework.closed_by_staff(a_case(), solved=True, name="Sam", at=AT + 300)
    assert move.case.state is CaseState.CLOSED and move.case.closed_as is ClosedAs.SOLVED
    assert move.case.answered_by == "Sam"
    assert move.news is CaseNews.SOLVED
    assert move.refresh_card and move.close_topic and move.note is None
    back = casework.closed_by_staff(a_case(answered_by="Kim"), False, "Sam", AT)
    assert back.news is CaseNews.RETURNED and back.case.closed_as is ClosedAs.RETURNED


def test_a_cancel_by_the_person_is_noted_for_the_staff() -> None:
    move = casework.cancelled_by_person(a_case(), AT)
    assert move.case.closed_as is ClosedAs.CANCELLED
    assert move.note is Note.CANCELLED and move.news is None
    assert move.refresh_card and move.close_topic


def test_a_person_who_cannot_be_reached_gets_their_walk_back_and_the_staff_a_note() -> None:
    move = casework.person_unreachable(a_case(), AT)
    assert move.case.closed_as is ClosedAs.UNREACHABLE
    assert move.news is CaseNews.RETURNED and move.note is Note.UNREACHABLE


def test_a_staff_chat_gone_closes_the_case_and_gives_the_walk_back() -> None:
    move = casework.staff_chat_gone(a_case(), AT)
    assert move.case.closed_as is ClosedAs.STAFF_GONE and not move.case.is_open
    assert move.news is CaseNews.STAFF_GONE


def test_a_reminder_is_due_once_after_the_wait_counted_from_business_hours() -> None:
    case = a_case()
    assert not casework.reminder_due(case, AT + 10 * 60, remind_after=15 * 60)
    assert casework.reminder_due(case, AT + 16 * 60, remind_after=15 * 60)
    move = casework.reminded(case)
    assert move.note is Note.REMINDER
    assert not casework.reminder_due(move.case, AT + 60 * 60, remind_after=15 * 60)
    taken = replace(case, state=CaseState.WITH_STAFF)
    assert not casework.reminder_due(taken, AT + 60 * 60, remind_after=15 * 60)
    hours = BusinessHours.parse("Mon-Fri 09:00-17:00 UTC")
    # 2026-12-05 is a Saturday: nothing is due until Monday's opening, plus the wait.
    saturday = 1_796_428_800.0  # 2026-12-05 00:00 UTC
    weekend = replace(case, opened_at=saturday)
    monday_nine = saturday + 2 * 86400 + 9 * 3600
    assert not casework.reminder_due(weekend, saturday + 3600, 15 * 60, hours)
    assert not casework.reminder_due(weekend, monday_nine + 5 * 60, 15 * 60, hours)
    assert casework.reminder_due(weekend, monday_nine + 16 * 60, 15 * 60, hours)


def test_the_staff_hear_a_rating_and_a_still_broken_after_a_solved_case() -> None:
    assert casework.after_outcome(Outcome("rated_staff", value="4")) == (Note.RATED, 4)
    still = Outcome("not_resolved", value=STAFF_MARK)
    assert casework.after_outcome(still) == (Note.STILL_BROKEN, None)
    assert casework.after_outcome(Outcome("not_resolved", value="fix:wifi")) is None
    assert casework.after_outcome(Outcome("started")) is None
