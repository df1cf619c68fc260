"""Handing a case to a person from support, as the engine sees it: what a person asking for
help sees, what the turn asks of the staff desk, and how news of the case comes back."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot import views
from bot.cases import Case, CaseState, ClosedAs, Person
from bot.catalog import Catalog
from bot.engine import Engine
from bot.events import CaseNews, CaseRequest, CommandReceived
from bot.hours import BusinessHours
from bot.session import Outcome, Session, SessionKey, Stage
from bot.wording import Wording
from tests.transcript import Chat

WORDING = Wording()


@pytest.fixture(scope="module")
def desk_engine(catalog: Catalog) -> Engine:
    return Engine(catalog, handover=True)


@pytest.fixture
def chat(desk_engine: Engine) -> Chat:
    return Chat(desk_engine)


def ask_for_person(chat: Chat) -> None:
    """/human, which the engine answers with nothing but a request to the staff desk."""
    chat._apply(CommandReceived("human", "", chat.clock), expect_reply=False)
    assert chat.turn is not None and chat.turn.case_request is CaseRequest.OPEN


def exhaust_backup_off(chat: Chat) -> None:
    chat.say("icloud backup is turned off")
    assert chat.session.intent == "backup_off"
    for _ in range(3):
        chat.press("Skip this fix")


def test_without_a_staff_desk_asking_for_a_person_points_to_support(catalog: Catalog) -> None:
    chat = Chat(Engine(catalog))
    exhaust_backup_off(chat)
    assert "Talk to a person" not in chat.labels(chat.last)
    assert "Apple Support" in chat.labels(chat.last)
    reply = chat.command("human")
    assert reply.text == WORDING.no_staff
    assert chat.button("Apple Support").url == "https://support.apple.com/contact"
    assert chat.turn is not None and chat.turn.case_request is None


def test_after_every_fix_fails_a_person_takes_over_and_the_bot_stays_quiet(chat: Chat) -> None:
    exhaust_backup_off(chat)
    assert "We've tried everything" in chat.text
    turn = chat.quietly(press="Talk to a person")
    assert turn.case_request is CaseRequest.OPEN
    assert turn.replies == ()  # the desk answers once the case is open
    assert "person_asked" in chat.results()

    reply = chat.case_news(CaseNews.OPENED)
    assert reply is not None and reply.text == WORDING.with_staff
    assert chat.labels(reply) == [WORDING.close_case]
    assert chat.session.stage is Stage.WITH_STAFF
    assert "handed_over" in chat.results()

    for words in ("my wifi still drops", "hello?", "backup stuck"):
        turn = chat.quietly(words)
        assert turn.relay and turn.replies == ()  # for support, not for the matcher
        assert chat.session.stage is Stage.WITH_STAFF
    reply = chat.command("fix", "wifi")
    assert reply.text.startswith(WORDING.with_staff_already)
    assert chat.session.stage is Stage.WITH_STAFF


def test_support_solves_it_and_the_person_confirms_and_rates_support(chat: Chat) -> None:
    exhaust_backup_off(chat)
    chat.quietly(press="Talk to a person")
    chat.case_news(CaseNews.OPENED)
    reply = chat.case_news(CaseNews.SOLVED)
    assert reply is not None and reply.text == WORDING.staff_solved
    chat.press("Yes, it's fixed")
    assert "How helpful was our support" in chat.text
    chat.press("5⭐")
    assert chat.text == WORDING.rated
    assert chat.outcomes[-1].result == "rated_staff" and chat.outcomes[-1].value == "5"
    assert {"solved_by_staff", "resolved"} <= set(chat.results())


def test_still_broken_after_support_offers_a_person_again(chat: Chat) -> None:
    ask_for_person(chat)
    chat.case_news(CaseNews.OPENED)
    chat.case_news(CaseNews.SOLVED)
    reply = chat.press("No, still broken")
    assert reply.text == WORDING.staff_not_fixed
    turn = chat.quietly(press="Talk to a person")
    assert turn.case_request is CaseRequest.OPEN


def test_back_to_fixbot_offers_to_continue_the_walk_where_it_stopped(chat: Chat) -> None:
    chat.say("icloud backup is turned off")
    for _ in range(4):
        chat.press("Done")
    assert chat.session.stage is Stage.DID_IT_HELP
    assert WORDING.talk_to_person in chat.labels(chat.last)
    chat.quietly(press="Talk to a person")
    chat.case_news(CaseNews.OPENED)
    reply = chat.case_news(CaseNews.RETURNED)
    assert reply is not None
    assert reply.text.startswith(WORDING.returned_to_bot)
    assert "You were on **Turn on iCloud Backup**" in reply.text
    chat.press("Continue where I left off")
    assert chat.session.stage is Stage.DID_IT_HELP
    assert "returned_to_bot" in chat.results()


def test_back_to_fixbot_with_no_walk_to_continue_shows_the_topics(chat: Chat) -> None:
    ask_for_person(chat)
    chat.case_news(CaseNews.OPENED)
    reply = chat.case_news(CaseNews.RETURNED)
    assert reply is not None and reply.text.startswith(WORDING.returned_to_bot)
    assert "Wi-Fi problems" in chat.labels(reply)
    assert chat.session.stage is Stage.IDLE


def test_the_person_closes_the_case_with_cancel_or_the_button(chat: Chat) -> None:
    ask_for_person(chat)
    chat.case_news(CaseNews.OPENED)
    reply = chat.command("cancel")
    assert reply.text == WORDING.case_cancelled
    assert chat.turn is not None and chat.turn.case_request is CaseRequest.CLOSE
    assert chat.session.stage is Stage.IDLE

    ask_for_person(chat)
    chat.case_news(CaseNews.OPENED)
    chat.press("Close my case")
    assert chat.turn is not None and chat.turn.case_request is CaseRequest.CLOSE
    # News of a closed case changes nothing.
    assert chat.case_news(CaseNews.SOLVED) is None
    assert chat.session.stage is Stage.IDLE


def test_old_buttons_while_support_has_the_case_only_remind(chat: Chat) -> None:
    menu = chat.command("start")
    walk = chat.say("wifi won't connect")
    ask_for_person(chat)
    chat.case_news(CaseNews.OPENED)
    for old, label in ((walk, "Done"), (menu, "Wi-Fi problems")):
        reply = chat.press(label, old)
        assert reply.notice == WORDING.with_staff_already
        assert chat.session.stage is Stage.WITH_STAFF
    assert chat.quietly(event_text="").relay  # even an empty message is theirs to see


def test_a_repeated_opening_says_nothing_twice(chat: Chat) -> None:
    ask_for_person(chat)
    chat.case_news(CaseNews.OPENED)
    assert chat.case_news(CaseNews.OPENED) is None
    reply = chat.command("human")
    assert reply.text.startswith(WORDING.with_staff_already)


def test_when_support_cannot_be_reached_the_walk_goes_on(chat: Chat) -> None:
    chat.say("wifi won't connect")
    ask_for_person(chat)
    reply = chat.case_news(CaseNews.UNAVAILABLE)
    assert reply is not None and reply.text.startswith(WORDING.staff_unavailable)
    assert chat.session.stage is Stage.STEP
    assert "Done" in " ".join(chat.labels(reply))


def test_outside_business_hours_the_person_is_told_when_to_expect_an_answer(
    catalog: Catalog,
) -> None:
    hours = BusinessHours.parse("Mon-Fri 09:00-17:00 Europe/Berlin")
    saturday_noon = datetime(2026, 11, 21, 12, 0, tzinfo=ZoneInfo("Europe/Berlin")).timestamp()
    chat = Chat(Engine(catalog, handover=True, hours=hours), clock=saturday_noon)
    ask_for_person(chat)
    reply = chat.case_news(CaseNews.OPENED)
    assert reply is not None
    assert "Our team works Mon-Fri 09:00-17:00 Europe/Berlin" in reply.text
    assert "expect an answer Monday 09:00" in reply.text

    monday = datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Europe/Berlin")).timestamp()
    chat = Chat(Engine(catalog, handover=True, hours=hours), clock=monday)
    ask_for_person(chat)
    reply = chat.case_news(CaseNews.OPENED)
    assert reply is not None and reply.text == WORDING.with_staff


def test_a_walk_begun_in_a_group_continues_in_private_after_support(chat: Chat) -> None:
    group = Chat(chat.engine)
    group.say("icloud backup is turned off")
    group.press("Done")
    chat._apply(CommandReceived("start", "human-m100123", chat.clock), expect_reply=False)
    assert chat.turn is not None and chat.turn.case_request is CaseRequest.OPEN
    assert chat.turn.case_source == "m100123"
    chat.case_news(CaseNews.OPENED, walk=group.session)
    assert chat.session.intent == "backup_off" and chat.session.step == group.session.step
    reply = chat.case_news(CaseNews.RETURNED)
    assert reply is not None and "You were on **Turn on iCloud Backup**" in reply.text
    chat.press("Continue where I left off")
    assert chat.session.step == group.session.step


def test_the_complaint_and_how_sure_the_matcher_was_are_kept_for_support(chat: Chat) -> None:
    chat.say("my icloud backup is turned off")
    assert chat.session.complaint == "my icloud backup is turned off"
    assert chat.session.confidence is not None and 0 < chat.session.confidence <= 1
    chat.command("fix", "wifi")
    assert chat.session.complaint is None  # a command says nothing in the person's words


def test_a_session_with_support_does_not_expire_but_others_do() -> None:
    assert Session(stage=Stage.WITH_STAFF).lasting
    assert not Session(stage=Stage.STEP).lasting
    assert not Session(stage=Stage.STAFF_SOLVED).walking


def test_business_hours_are_parsed_and_refused_with_reasons() -> None:
    hours = BusinessHours.parse("Fri-Mon 08:00-12:30 UTC")
    assert hours.days == frozenset({4, 5, 6, 0})
    for bad, reason in [
        ("weekdays 9 to 5", "not of the form"),
        ("Mon-Fri 17:00-09:00 UTC", "end before they start"),
        ("Mon-Fry 09:00-17:00 UTC", "'fry' is not a day"),
        ("Mon-Fri 09:00-25:00 UTC", "not a time of day"),
        ("Mon-Fri 09:00-17:00 Mars/Olympus", "not a time zone"),
    ]:
        with pytest.raises(ValueError, match=reason):
            BusinessHours.parse(bad)


# -- the case card, drawn from a walk's outcomes ---------------------------------------------------


def test_the_card_shows_the_person_their_words_and_every_step_with_what_happened(
    catalog: Catalog,
) -> None:
    chat = Chat(Engine(catalog, handover=True))
    chat.say("my iphone says icloud storage is full")
    assert chat.session.intent == "storage_full"
    while chat.session.stage is not Stage.DID_IT_HELP:
        labels = chat.labels(chat.last)
        if "⚠️ I understand, go on" in labels:
            chat.press("I understand")
        elif "✅ Done" in labels:
            chat.press("Done")
        else:
            chat.press(labels[0])  # the first answer to a question
    chat.press("No, still broken")
    at = chat.clock
    case = Case(
        7,
        SessionKey(5, 5),
        Person(5, "Alice <3", "alice", "en"),
        at,
        -100,
        intent="storage_full",
        complaint=chat.session.complaint,
        confidence=0.83,
    )
    history = [(at, outcome) for outcome in chat.outcomes]
    card = views.case_card(case, history, catalog, WORDING)
    assert card.text.startswith("**#7 · Not enough iCloud storage · Alice <3**")
    for expected in (
        WORDING.card_state_open,
        "👤 **Alice <3** · @alice · id 5 · language en",
        "💬 “my iphone says icloud storage is full”",
        "🎯 Not enough iCloud storage (matcher 83% sure)",
        "• **Make room in iCloud**",
        "❓ ",
        "⚠️ caution acknowledged:",
        "✅ ",
        "👎 still broken after this fix",
    ):
        assert expected in card.text, expected
    assert [b.label for row in card.buttons for b in row] == [
        WORDING.card_solved,
        WORDING.card_return,
    ]
    closed = replace(
        case,
        state=CaseState.CLOSED,
        closed_as=ClosedAs.SOLVED,
        closed_at=at,
        answered_by="Sam",
    )
    closed_card = views.case_card(closed, history, catalog, WORDING)
    assert "✅ Solved by Sam at" in closed_card.text and closed_card.buttons == ()
    assert views.case_title(replace(case, intent=None), catalog, WORDING) == "#7 · Help · Alice <3"


def test_a_long_walk_keeps_the_card_under_telegrams_limit(catalog: Catalog) -> None:
    case = Case(1, SessionKey(5, 5), Person(5, "A" * 64), 0.0, -100, complaint="x" * 5000)
    step = Outcome("step_failed", fix="storage", step="check_plan")
    history = [(0.0, Outcome("started", intent="storage_full")), *[(1.0, step)] * 500]
    card = views.case_card(case, history, catalog, WORDING)
    assert len(card.text) < 4096
    assert "… 461 earlier lines" in card.text


def test_a_case_left_open_when_the_desk_is_switched_off_is_handed_back(
    chat: Chat, catalog: Catalog
) -> None:
    chat.say("wifi won't connect")
    ask_for_person(chat)
    chat.case_news(CaseNews.OPENED)
    without_desk = Chat(Engine(catalog), session=chat.session, clock=chat.clock)
    reply = without_desk.say("hello? anyone?")
    assert reply.text.startswith(WORDING.returned_to_bot)
    assert without_desk.turn is not None and not without_desk.turn.relay
    assert without_desk.session.stage is Stage.RESUMING
