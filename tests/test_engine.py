"""The walk-through engine, read as transcripts: a person says something, presses buttons,
and the bot answers. No Telegram, no storage: events in, replies out."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot import links
from bot.catalog import Catalog, Fix, Intent, load_catalog
from bot.engine import Engine
from bot.events import Action, Press, Target
from bot.matcher import Matcher, Thresholds
from bot.session import SESSION_SCHEMA, Session, Stage
from bot.settings import REPOSITORY_ROOT
from bot.wording import Wording
from tests.transcript import Chat

WORDING = Wording()


@pytest.fixture(scope="module")
def engine(catalog: Catalog) -> Engine:
    return Engine(catalog)


@pytest.fixture
def chat(engine: Engine) -> Chat:
    return Chat(engine)


# -- a complaint and what it starts ----------------------------------------------------------------


def test_a_complaint_starts_its_fixes_with_the_reason_and_first_step(chat: Chat) -> None:
    reply = chat.say("my backup is stuck")
    assert "I have 9 fixes to try" in reply.text
    assert "Fix 1 of 9 · step 1 of 4" in reply.text
    assert "**Turn on iCloud Backup**" in reply.text
    assert "Why: If the iCloud Backup switch is off" in reply.text
    assert "tap your name at the very top" in reply.text
    # No Back on a fix's first step: there is nothing to go back to.
    assert chat.labels(reply) == ["✅ Done", "❌ This didn't work", "⏭ Skip this fix", "✖️ Stop"]
    assert chat.session.stage is Stage.STEP
    assert chat.results() == ["started"]
    assert "⬅️ Back" in chat.labels(chat.press("Done"))


def test_done_walks_step_by_step_and_then_asks_whether_it_helped(chat: Chat) -> None:
    chat.say("wifi won't connect")
    assert "Step 1 of 4" in chat.text
    chat.press("Done")
    assert "Step 2 of 4" in chat.text
    assert "Why:" not in chat.text  # the reason comes with the first step only
    chat.press("Done")
    chat.press("Done")
    assert "Step 4 of 4" in chat.text
    chat.press("Done")
    assert "Is" in chat.text or "Did that fix it?" in chat.text
    assert chat.labels(chat.last) == ["👍 Yes, it's fixed", "👎 No, still broken", "⬅️ Back"]


def test_a_user_walks_three_fixes_and_the_third_fixes_it(chat: Chat) -> None:
    chat.say("backup stuck")
    for _ in range(4):
        chat.press("Done")
    assert "Is iCloud Backup switched on and backing up now?" in chat.text
    chat.press("No, still broken")
    assert "OK, on to the next fix: **Get onto Wi-Fi**." in chat.text
    assert "Fix 2 of 9 · step 1 of 4" in chat.text
    assert "Tried so far: Turn on iCloud Backup" in chat.text
    chat.press("This didn't work")
    assert "Fix 3 of 9" in chat.text
    assert "Tried so far: Turn on iCloud Backup, Get onto Wi-Fi" in chat.text
    for _ in range(3):
        chat.press("Done")
    chat.press("Yes, it's fixed")
    assert "glad it's working" in chat.text
    assert "1⭐" not in chat.labels(chat.last)
    chat.press("5⭐")
    assert chat.text == "Thanks for the feedback!"
    assert chat.session.stage is Stage.IDLE
    assert "resolved" in chat.results()
    rated = [o for o in chat.outcomes if o.result == "rated"]
    assert rated[0].value == "5"
    assert rated[0].fix == "power"


def test_after_the_last_fix_the_bot_is_honest_and_offers_what_next(chat: Chat) -> None:
    chat.say("not enough icloud storage")
    assert "Step 1 of" in chat.text
    chat.press("Skip this fix")
    assert "We've tried everything I know" in chat.text
    assert chat.button("Apple Support").url == "https://support.apple.com/contact"
    chat.press("Start over")
    assert "**Make room in iCloud**" in chat.text
    assert chat.session.stage is Stage.STEP


# -- questions, links, cautions --------------------------------------------------------------------


def test_restart_asks_which_iphone_and_branches(chat: Chat) -> None:
    chat.command("fix", "restart")
    assert "Face ID" in chat.text
    assert chat.labels(chat.last)[:2] == [
        "Face ID (iPhone X or later)",
        "Home button (iPhone 8 or older)",
    ]
    chat.press("Home button")
    assert "**Side** button (on older models, the **Top** button)" in chat.text
    assert "Step 2 of 4" in chat.text
    chat.press("Done")
    chat.press("Done")
    chat.press("Done")
    assert "Did that fix it?" in chat.text


def test_the_face_id_branch_uses_side_and_volume_buttons(chat: Chat) -> None:
    chat.command("fix", "reboot")
    chat.press("Face ID")
    assert "**Side button** together with either **Volume button**" in chat.text


def test_the_status_step_has_a_link_button_to_apples_page(chat: Chat) -> None:
    chat.say("is icloud down")
    link = chat.button("Apple System Status")
    assert link.url == "https://www.apple.com/support/systemstatus/"
    assert link.press is None
    chat.press("Done")
    chat.press("A green light")
    assert "Apple's side is working" in chat.text


def test_a_disruptive_step_shows_its_caution_and_waits_for_confirmation(chat: Chat) -> None:
    chat.command("fix", "reset settings")
    assert "⚠️ **Before you go on**" in chat.text
    assert "saved **Wi-Fi passwords**" in chat.text
    assert "Done" not in " ".join(chat.labels(chat.last))
    assert chat.session.stage is Stage.CAUTION
    chat.press("I understand, go on")
    assert "**Reset Settings**" in chat.text
    assert chat.session.stage is Stage.STEP
    assert "caution_confirmed" in chat.results()


def test_sign_out_warns_about_the_password_and_find_my_first(chat: Chat) -> None:
    chat.say("how do i sign out of icloud")
    assert "**Apple ID password**" in chat.text
    assert "**Find My iPhone**" in chat.text
    assert chat.session.stage is Stage.CAUTION


# -- back, skip, stop ------------------------------------------------------------------------------


def test_back_returns_to_the_previous_step_and_says_so_at_the_first(chat: Chat) -> None:
    chat.say("phone not charging")
    assert "⬅️ Back" not in chat.labels(chat.last)
    # An old Back from a later step, pressed once the walk is back at the first: a notice.
    reply = chat.press_raw(Press(Action.BACK, chat.session.revision))
    assert reply.notice == "This is the first step of this fix."
    assert "Step 1 of 3" in reply.text
    chat.press("Done")
    assert "Step 2 of 3" in chat.text
    chat.press("Back")
    assert "Step 1 of 3" in chat.text
    assert "Connect your iPhone to a charger" in chat.text
    chat.press("Done")
    chat.press("Done")
    chat.press("Done")
    chat.press("Back")
    assert "Step 3 of 3" in chat.text


def test_a_complaint_about_a_mac_is_told_kindly_what_the_bot_covers(chat: Chat) -> None:
    reply = chat.say("my macbook air will not charge past 80 percent")
    assert "about a **macbook air**" in reply.text and "only know fixes for iPhones" in reply.text
    assert "Charging and power" in chat.labels(reply)  # the topics, should an iPhone need it
    assert chat.results() == ["no_match"]


def test_stop_and_cancel_end_the_walk_politely(chat: Chat) -> None:
    chat.say("backup stuck")
    chat.press("Stop")
    assert chat.text.startswith("Stopped.")
    assert chat.session.stage is Stage.IDLE
    chat.say("wifi")
    chat.command("cancel")
    assert chat.text.startswith("Stopped.")
    chat.command("cancel")
    assert "nothing to stop" in chat.text


# -- commands --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("topic", "title"),
    [
        ("wifi", "Get onto Wi-Fi"),
        ("wi-fi", "Get onto Wi-Fi"),
        ("storage", "Make room in iCloud"),
        ("backup stuck", "iCloud backup fails or never finishes"),
    ],
)
def test_fix_topic_goes_straight_to_the_fix(chat: Chat, topic: str, title: str) -> None:
    chat.command("fix", topic)
    assert f"**{title}**" in chat.text


def test_fix_without_a_topic_or_with_an_unknown_one_shows_the_topics(chat: Chat) -> None:
    chat.command("fix")
    assert "Pick one" in chat.text
    assert len(chat.labels(chat.last)) == 10
    chat.command("fix", "quantum flux capacitor")
    assert "I don't know a fix called “quantum flux capacitor”" in chat.text


def test_a_topic_button_starts_that_intent(chat: Chat) -> None:
    chat.command("topics")
    chat.press("Wi-Fi problems")
    assert "**Get onto Wi-Fi**" in chat.text


def test_start_welcomes_and_a_deep_link_starts_a_fix(chat: Chat) -> None:
    chat.command("start")
    assert "I'm fixbot" in chat.text
    assert "Wi-Fi problems" in chat.labels(chat.last)
    chat.command("start", "fix_storage_full")
    assert "**Make room in iCloud**" in chat.text


def test_a_hand_written_deep_link_can_start_a_fix_at_a_step(engine: Engine) -> None:
    elsewhere = Chat(engine)
    elsewhere.command("start", "fix_wifi-switch_on")
    assert "Step 2 of 4" in elsewhere.text
    assert "slide the **Wi-Fi** switch on" in elsewhere.text


def test_a_walk_moved_by_its_link_carries_on_whole_fix_step_tried_and_back(
    chat: Chat, engine: Engine
) -> None:
    """In a group: fix 2 of 9, step 2, after one fix tried. The link to private keeps all of
    it: still broken there moves to fix 3, not to "we've tried everything"."""
    chat.say("backup stuck")
    chat.press("This didn't work")
    chat.press("Done")
    assert "Fix 2 of 9 · step 2 of 4" in chat.text
    payload = links.walk_link(chat.session, engine.catalog)
    assert len(payload) <= links.MAX_PAYLOAD and payload.replace("-", "").replace("_", "").isalnum()
    private = Chat(engine)
    private.command("start", payload)
    assert WORDING.continued_here in private.text
    assert "Fix 2 of 9 · step 2 of 4" in private.text
    assert "Tried so far: Turn on iCloud Backup" in private.text
    private.press("Back")
    assert "Fix 2 of 9 · step 1 of 4" in private.text
    for _ in range(4):
        private.press("Done")
    private.press("No, still broken")
    assert "Fix 3 of 9" in private.text


def test_a_walk_link_made_for_other_content_is_not_read_as_this_one(
    chat: Chat, engine: Engine, catalog: Catalog
) -> None:
    chat.say("backup stuck")
    payload = links.walk_link(chat.session, engine.catalog)
    assert isinstance(links.read(payload, catalog), links.WalkLink)
    fewer = replace(catalog, fixes={k: v for k, v in catalog.fixes.items() if k != "wifi"})
    assert links.read(payload, fewer) is None
    assert links.read("w-garbage", catalog) is None
    assert links.read("human-m1001-7", catalog) == links.HumanLink(-1001, 7)
    assert links.read("human", catalog) == links.HumanLink()


def test_help_and_unknown_commands(chat: Chat) -> None:
    chat.command("help")
    assert "/fix" in chat.text
    chat.command("frobnicate")
    assert "I don't know the command /frobnicate" in chat.text


# -- matching outcomes -----------------------------------------------------------------------------


def test_nothing_matched_gets_what_we_can_help_with(chat: Chat) -> None:
    chat.say("qwerty zxcv")
    assert "I'm not sure what you mean" in chat.text
    assert len(chat.labels(chat.last)) == 10
    assert chat.results() == ["no_match"]


def test_a_neighbour_of_our_problems_is_named_and_turned_away_kindly(
    chat: Chat, catalog: Catalog
) -> None:
    # Restoring shares "backup" with us, but restoring is not making a backup: the bot says
    # what it sounds like, what it does instead, and still shows the topics.
    chat.say("how do i restore my iphone from a backup")
    answer = catalog.off_topic.answer("restoring")
    assert answer is not None and chat.text.startswith(answer)
    assert "restoring a phone from a backup" in chat.text
    assert len(chat.labels(chat.last)) == 10
    assert chat.results() == ["no_match"]
    chat.say("my car won't start")
    assert chat.text.startswith("That sounds like it's about another device")


def test_greetings_and_thanks_get_a_human_answer(chat: Chat) -> None:
    chat.say("hi!")
    assert chat.text.startswith("Hello!")
    chat.say("thanks")
    assert chat.text.startswith("You're welcome")
    chat.say("bye")
    assert chat.text.startswith("Bye!")


def screen_catalog() -> Catalog:
    """Two intents that both claim the word "screen", so "my screen" is a coin flip."""
    fix = Fix.model_validate(
        {"id": "wipe", "title": "Wipe it", "reason": "R.", "steps": [{"id": "s", "text": "Wipe."}]}
    )
    intents = [
        Intent.model_validate(
            {"id": i, "title": t, "examples": e, "keywords": ["screen"], "fixes": ["wipe"]}
        )
        for i, t, e in [
            ("cracked", "Cracked screen", ["screen zorblat", "glass zorblat"]),
            ("dim", "Dim screen", ["screen quibnix", "display quibnix"]),
        ]
    ]
    # Read as English, as the shipped content is: its language, without its synonyms.
    english = load_catalog(REPOSITORY_ROOT).vocabulary.model_copy(update={"synonyms": {}})
    return Catalog.build(intents, [fix], english)


def test_close_intents_get_a_did_you_mean_with_something_else() -> None:
    chat = Chat(Engine(screen_catalog()))
    chat.say("my screen")
    assert chat.text == "Did you mean one of these?"
    assert sorted(chat.labels(chat.last)) == ["Cracked screen", "Dim screen", "Something else"]
    assert chat.results() == ["ambiguous"]
    chat.press("Something else")
    assert "Pick one" in chat.text
    chat.say("my screen")
    chat.press("Dim screen")
    assert "**Wipe it**" in chat.text
    assert chat.session.intent == "dim"


def unsure_engine(catalog: Catalog) -> Engine:
    """An engine that asks about everything it is not all but certain of."""
    return Engine(catalog, Matcher(catalog, Thresholds(accept=0.99, confirm=0.2)))


def test_a_probable_intent_gets_is_that_it_and_yes_starts_the_walk(catalog: Catalog) -> None:
    chat = Chat(unsure_engine(catalog))
    chat.say("my wifi keeps dropping, any idea?")
    assert chat.text == "Sounds like **Wi-Fi problems**. Is that it?"
    assert chat.labels(chat.last) == ["✅ Yes, walk me through it", "Something else"]
    assert chat.results() == ["confirm"]
    chat.press("Yes, walk me through it")
    assert "**Get onto Wi-Fi**" in chat.text
    assert chat.session.intent == "wifi"


def test_something_else_after_is_that_it_shows_the_topics(catalog: Catalog) -> None:
    chat = Chat(unsure_engine(catalog))
    chat.say("my wifi keeps dropping, any idea?")
    chat.press("Something else")
    assert "Pick one" in chat.text
    assert "Wi-Fi problems" in chat.labels(chat.last)


def test_an_old_is_that_it_button_still_starts_its_walk_once(catalog: Catalog) -> None:
    chat = Chat(unsure_engine(catalog))
    chat.say("my wifi keeps dropping, any idea?")
    question = chat.last
    chat.press("Yes, walk me through it")
    chat.press("Done")
    assert "Step 2 of 4" in chat.text
    chat.press("Yes, walk me through it", question)
    assert "We're already working on that" in chat.text
    assert "Step 2 of 4" in chat.text  # the walk is not restarted
    assert chat.results().count("started") == 1


# -- mid-walk ----------------------------------------------------------------------------------------


def test_a_new_complaint_mid_walk_asks_whether_to_switch(chat: Chat) -> None:
    chat.say("backup stuck")
    chat.press("Done")
    chat.say("actually my phone won't charge")
    assert "We're in the middle of **iCloud backup fails or never finishes**" in chat.text
    assert "Switch to **Charging and power**" in chat.text
    chat.press("Continue where I was")
    assert "Fix 1 of 9 · step 2 of 4" in chat.text
    chat.say("my phone won't charge")
    chat.press("Switch")
    assert "**Plug in to power**" in chat.text
    assert "switched" in chat.results()


def test_the_same_complaint_mid_walk_just_shows_where_we_are(chat: Chat) -> None:
    chat.say("wifi won't connect")
    chat.say("wifi not working")
    assert chat.text.startswith("We're already working on that.")
    assert "Step 1 of 4" in chat.text


def test_gibberish_mid_walk_points_to_the_buttons(chat: Chat) -> None:
    chat.say("wifi won't connect")
    chat.say("asdf qwerty")
    assert "Use the buttons" in chat.text
    assert "Step 1 of 4" in chat.text


def test_coming_back_later_offers_to_continue_or_start_over(chat: Chat) -> None:
    chat.say("wifi won't connect")
    chat.press("Done")
    chat.press("Done")
    chat.wait(6 * 3600)
    chat.say("hello")
    assert "Welcome back! You were on **Get onto Wi-Fi**, step 3 of 4." in chat.text
    chat.press("Continue where I left off")
    assert "Step 3 of 4" in chat.text
    chat.wait(3600)
    chat.command("start")
    chat.press("Start over")
    assert "Step 1 of 4" in chat.text


# -- stale, doubled and forged presses ---------------------------------------------------------


def test_a_doubled_press_advances_only_once(chat: Chat) -> None:
    chat.say("wifi won't connect")
    step_one = chat.last
    chat.press("Done", step_one)
    assert "Step 2 of 4" in chat.text
    reply = chat.press("Done", step_one)
    assert reply.notice == "That button is from an earlier step. Here's where you are now."
    assert "Step 2 of 4" in reply.text
    assert chat.results().count("step_done") == 1


def test_a_button_of_a_finished_walk_says_so(chat: Chat) -> None:
    chat.say("wifi won't connect")
    old = chat.last
    chat.press("Stop")
    reply = chat.press("Done", old)
    assert reply.notice == "That walk is over. Tell me what's wrong, or pick a topic."
    assert chat.session.stage is Stage.IDLE


@pytest.mark.parametrize(
    "press",
    [
        Press(Action.CHOOSE, 1, 99),
        Press(Action.CHOOSE, 1, -1),
        Press(Action.CHOOSE, 1, None),
        Press(Action.RATE, 1, 7),
        Press(Action.PICK, 1, Target("no_such_intent")),
        Press(Action.PICK, 1, Target("no_such_fix", is_fix=True)),
        Press(Action.SWITCH, 1),
        Press(Action.FIXED, 1),
    ],
)
def test_a_forged_press_never_breaks_the_walk(chat: Chat, press: Press) -> None:
    chat.say("restart my iphone")
    before = chat.session
    reply = chat.press_raw(Press(press.action, chat.session.revision, press.value))
    assert reply.text
    assert chat.session.plan in (before.plan, ())


# -- bad input ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   \n\t", "🙂🙂", "x" * 5000])
def test_bad_messages_get_a_clear_answer(chat: Chat, text: str) -> None:
    reply = chat.say(text)
    assert reply.text
    assert reply.buttons


def test_a_sticker_gets_a_polite_answer(chat: Chat) -> None:
    chat.send_sticker()
    assert "I can only read text" in chat.text
    assert "Wi-Fi problems" in chat.labels(chat.last)  # "pick a topic", and the topics
    chat.say("wifi won't connect")
    chat.send_sticker()
    assert WORDING.not_text_mid_walk in chat.text  # mid-walk: no topics promised
    assert "Step 1 of 4" in chat.text


def test_hi_in_the_middle_of_a_walk_is_greeted_back_with_where_we_are(chat: Chat) -> None:
    chat.say("wifi won't connect")
    chat.press("Done")
    chat.say("hi")
    assert WORDING.greeting_mid_walk in chat.text
    assert WORDING.use_buttons not in chat.text
    assert "Step 2 of 4" in chat.text


def test_a_4096_character_complaint_still_finds_its_fix(chat: Chat) -> None:
    rant = ("This is so frustrating. " * 100) + "My iCloud backup keeps failing. " + "ugh " * 500
    assert len(rant) > 4096
    chat.say(rant)
    assert "**Turn on iCloud Backup**" in chat.text


# -- every fix, walked to its end --------------------------------------------------------------------


def test_every_shipped_fix_can_be_walked_to_its_end_by_its_buttons(
    engine: Engine, catalog: Catalog
) -> None:
    for fix in catalog.fixes.values():
        for branch in range(2):  # first choice, then last choice at every question
            chat = Chat(engine)
            chat.command("fix", fix.id)
            for _ in range(50):
                if chat.session.stage is Stage.DID_IT_HELP:
                    break
                if chat.session.stage is Stage.CAUTION:
                    chat.press("I understand")
                    continue
                step = fix.step(chat.session.step or "")
                if step.is_question:
                    chat.press(step.choices[-branch].label)
                else:
                    assert step.text in chat.text
                    chat.press("Done")
            assert chat.session.stage is Stage.DID_IT_HELP, fix.id
            assert (fix.did_it_help or engine.wording.did_it_help) in chat.text
            chat.press("Yes, it's fixed")
            assert chat.session.stage is Stage.RATING


def test_a_session_turns_into_a_dict_and_back(chat: Chat) -> None:
    chat.say("backup stuck")
    chat.press("Done")
    data = chat.session.to_dict()
    assert data["schema"] == SESSION_SCHEMA
    assert Session.from_dict(data) == chat.session
    older = {k: v for k, v in data.items() if k not in ("complaint", "confidence")}
    assert Session.from_dict({**older, "schema": 1}) == replace(
        chat.session, complaint=None, confidence=None
    )
    assert Session.from_dict({"stage": "nonsense"}) == Session()
    assert Session.from_dict({"schema": 99}) == Session()
