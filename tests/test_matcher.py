"""The matcher, as users meet it: their own words, typos, long rants, and things that are
not ours at all."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from bot.catalog import Catalog, Fix, Intent, load_catalog
from bot.evaluation import collisions, evaluate, load_cases
from bot.matcher import Candidate, Decision, Matcher, Reading, Thresholds, decide
from bot.settings import REPOSITORY_ROOT

COMPLAINTS = Path(__file__).parent / "data" / "complaints.yaml"


@pytest.fixture(scope="module")
def matcher(catalog: Catalog) -> Matcher:
    return Matcher(catalog)


# -- the evaluation set guards the quality -----------------------------------------------------


def test_the_labelled_complaints_are_matched_at_least_95_percent_right(matcher: Matcher) -> None:
    report = evaluate(matcher, load_cases(COMPLAINTS))
    assert report.total >= 200
    assert sum(1 for o in report.outcomes if o.case.intent is None) >= 40
    assert report.accuracy >= 0.95, report.render()


def test_at_least_93_percent_of_off_topic_messages_are_rejected(matcher: Matcher) -> None:
    report = evaluate(matcher, load_cases(COMPLAINTS))
    assert report.off_topic_rejection >= 0.93, report.render()


def test_first_replies_help_and_rarely_walk_the_wrong_way(matcher: Matcher) -> None:
    report = evaluate(matcher, load_cases(COMPLAINTS))
    assert report.helpful >= 0.97, report.render()
    assert report.wrong_walks <= 0.03, report.render()
    assert report.questions <= 0.10, report.render()


def test_labels_with_also_and_none_are_judged_as_a_person_would(matcher: Matcher) -> None:
    from bot.evaluation import Case, Kind, Outcome

    walk = matcher.match("my wifi won't connect")
    assert Outcome(Case("x", "update_ios", ("wifi",)), walk).kind is Kind.RIGHT_WALK
    assert Outcome(Case("x", "update_ios"), walk).kind is Kind.WRONG_WALK
    refusal = matcher.match("how do i cook pasta")
    assert Outcome(Case("x", "restart", ("none",)), refusal).helpful
    assert not Outcome(Case("x", "restart"), refusal).helpful


def test_every_content_example_matches_its_own_intent_best(matcher: Matcher) -> None:
    assert collisions(matcher) == []


# -- what a user types ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("backup stuck", "backup_stuck"),
        ("not enough storage", "storage_full"),
        ("wiif wont conect", "wifi"),
        ("bacup failed", "backup_stuck"),
        ("reboto", "restart"),
        ("My iPhone WON'T charge!!!", "power"),
        ("my iphone won’t charge", "power"),
        ("wont' charge", "power"),
        ("iCloud is dooooown", "icloud_down"),
        ("icloud 50gb plan", "storage_full"),
        ("🔋 not charging 😭", "power"),
        ("wi\u200bfi not working", "wifi"),
        ("ＷＩＦＩ not working", "wifi"),
        ("how do i log out of my apple id", "sign_in"),
        ("turn on icloud backup", "backup_off"),
    ],
)
def test_a_complaint_in_the_users_own_words_finds_its_intent(
    matcher: Matcher, text: str, intent: str
) -> None:
    result = matcher.match(text)
    assert result.intent == intent, matcher.match(text)
    assert result.decision is Decision.MATCH


@pytest.mark.parametrize(
    "text",
    [
        "hello",
        "thanks!",
        "",
        "   ",
        "🙂🙂🙂",
        "?!?!",
        "how do i change my ringtone",
        "my car battery is dead",
        "how do i back up my samsung galaxy",
        "\x00\x01\x02",
    ],
)
def test_a_message_that_is_not_ours_matches_nothing(matcher: Matcher, text: str) -> None:
    result = matcher.match(text)
    assert result.decision is Decision.NONE, result
    assert result.intent is None
    assert result.choices == ()


@pytest.mark.parametrize(
    ("text", "device"),
    [
        ("the battery on my macbook pro drains overnight", "macbook pro"),
        ("my apple watch won't charge on its stand", "apple watch"),
        ("airpods keep dropping the bluetooth connection", "airpods"),
        ("my android phone will not back up its photos", "android"),
        ("my powerbeats2 stopped charging after a month", "powerbeats2"),  # a model number
    ],
)
def test_a_complaint_about_a_device_we_do_not_cover_is_not_walked(
    matcher: Matcher, text: str, device: str
) -> None:
    result = matcher.match(text)
    assert result.decision is Decision.NONE
    assert result.other_device == device


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("the app store won't update any of my apps", "app_store"),
        ("how can i factory reset this phone and start from scratch", "erasing"),
        ("the battery life is awful lately, it drains within hours", "battery_life"),
        # neighbours of our problems: they share our words, not our fixes
        ("how can i get out of the ios beta program", "betas"),
        ("my computer does not recognise my iphone when i plug it in", "computer_connection"),
        ("i need to rescue the pictures from my smashed phone", "lost_data"),
        ("my iphone storage keeps filling up with system data", "phone_storage"),
        ("how do i move all my stuff onto my new iphone", "new_phone"),
    ],
)
def test_a_message_like_one_thing_we_do_not_do_is_turned_away_and_named(
    matcher: Matcher, text: str, topic: str
) -> None:
    # Each shares words with one of ours ("update", "reset", "battery"); each off-topic topic
    # is a class of its own, so looking like one of them is what counts.
    result = matcher.match(text)
    assert result.decision is Decision.NONE, result.reason
    assert result.off_topic_topic == topic
    assert result.topic == topic  # and the refusal names it


def test_a_near_tie_between_ours_and_not_ours_is_turned_away_when_the_content_says_so() -> None:
    ours = [Candidate("update_ios", 0.60, "update won't install", ("update",))]
    theirs = Candidate("_off_topic:app_store", 0.55, "my apps won't update", ("update", "app"))
    plain = Thresholds(accept=0.5, confirm=0.4, margin=0.05)
    assert decide(ours, theirs, plain).decision is Decision.MATCH
    wary = Thresholds(accept=0.5, confirm=0.4, margin=0.05, off_topic_lead=-0.08)
    assert decide(ours, theirs, wary).decision is Decision.NONE
    clear = [Candidate("update_ios", 0.70, "update won't install", ("update",))]
    assert decide(clear, theirs, wary).decision is Decision.MATCH


def test_our_own_problem_next_to_those_topics_is_still_ours(matcher: Matcher) -> None:
    assert matcher.match("the ios update won't download on my iphone").intent == "update_ios"
    assert matcher.match("my iphone won't charge at all").intent == "power"
    assert matcher.match("how do i reset all settings").intent == "reset_settings"


@pytest.mark.parametrize(
    "text",
    [
        "my iphone won't back up since i got a new macbook",  # the iPhone is named: ours
        "icloud backup on my ipad is stuck at 2 percent",
        "the wifi mac address on my phone keeps changing and backups fail",  # not a Mac
    ],
)
def test_a_device_we_cover_or_a_mac_address_keeps_the_message_ours(
    matcher: Matcher, text: str
) -> None:
    assert matcher.match(text).other_device is None


def test_a_long_rant_still_matches_on_the_sentence_that_matters(matcher: Matcher) -> None:
    filler = "I have had this phone for years and honestly I love the camera and the screen. "
    rant = filler * 25 + "But now my iCloud backup keeps failing every single night. " + filler * 20
    assert len(rant) > 3500
    result = matcher.match(rant)
    assert result.intent == "backup_stuck"


def test_a_100_kilobyte_message_gets_an_answer(matcher: Matcher) -> None:
    result = matcher.match("wifi won't connect " + "x" * 100_000)
    assert result.decision in set(Decision)


def test_the_answer_explains_itself(matcher: Matcher) -> None:
    result = matcher.match("wiif wont conect")
    assert ("wiif", "wifi") in result.corrections
    assert "wifi" in result.terms
    best = result.candidates[0]
    assert best.intent == "wifi"
    assert "wifi" in best.matched
    assert best.example
    assert "wifi" in result.reason


def test_candidates_are_ranked_best_first(matcher: Matcher) -> None:
    result = matcher.match("icloud storage full")
    scores = [c.score for c in result.candidates]
    assert scores == sorted(scores, reverse=True)
    assert result.score == scores[0]


# -- decisions ------------------------------------------------------------------------------------


def two_close_intents(tmp_path: Path) -> Catalog:
    fix = Fix.model_validate(
        {"id": "f", "title": "F", "reason": "R.", "steps": [{"id": "s", "text": "Do it."}]}
    )

    def intent(intent_id: str, examples: list[str]) -> Intent:
        return Intent.model_validate(
            {
                "id": intent_id,
                "title": intent_id,
                "examples": examples,
                "keywords": ["screen"],
                "fixes": ["f"],
            }
        )

    return Catalog.build(
        [
            # Both name "screen" as a keyword, and made-up words weigh the same: "my screen"
            # cannot prefer either intent.
            intent("screen_cracked", ["screen zorblat", "glass zorblat"]),
            intent("screen_dim", ["screen quibnix", "display quibnix"]),
        ],
        [fix],
        # Read as English, as the shipped content is: its language, without its synonyms.
        load_catalog(REPOSITORY_ROOT).vocabulary.model_copy(update={"synonyms": {}}),
    )


def test_two_equally_likely_intents_make_a_did_you_mean(tmp_path: Path) -> None:
    matcher = Matcher(two_close_intents(tmp_path))
    result = matcher.match("my screen")
    assert result.decision is Decision.AMBIGUOUS
    assert set(result.choices) == {"screen_cracked", "screen_dim"}
    assert result.intent in {"screen_cracked", "screen_dim"}


def test_a_clear_leader_is_a_single_match(tmp_path: Path) -> None:
    matcher = Matcher(two_close_intents(tmp_path))
    result = matcher.match("the glass on my screen is zorblat")
    assert result.decision is Decision.MATCH
    assert result.choices == ("screen_cracked",)


# -- /fix lookups ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("topic", "kind", "found"),
    [
        ("wifi", Fix, "wifi"),
        ("wi-fi", Fix, "wifi"),
        ("Wi Fi", Fix, "wifi"),
        ("storage", Fix, "storage"),
        ("reboot", Fix, "restart"),
        ("reset_settings", Fix, "reset_settings"),
        ("storage full", Fix, "storage"),
        ("icloud_down", Intent, "icloud_down"),
        ("Sign in", Fix, "sign_out"),
        ("backup stuck", Intent, "backup_stuck"),
        ("my icloud is full", Intent, "storage_full"),
    ],
)
def test_fix_topics_resolve_by_id_alias_or_matching(
    matcher: Matcher, topic: str, kind: type, found: str
) -> None:
    result = matcher.find_fix(topic)
    assert isinstance(result, kind)
    assert result.id == found


def test_a_fix_topic_that_means_nothing_finds_nothing(matcher: Matcher) -> None:
    assert matcher.find_fix("the weather in paris") is None


# -- normalisation ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("noisy", "plain"),
    [
        ("@support my backup fails https://t.co/abc", "my backup fails"),
        ("#iCloudBackup broken", "iCloud Backup broken"),
        ("on iOS 11.0.2 the wifi drops", "on the wifi drops"),
        ("my 7plus on 15.0 iOS won't charge", "my iphone on won't charge"),
        ("ios11 beta 3 broke backups", "broke backups"),
        ("iPhone 6s Plus stuck", "iphone stuck"),
    ],
)
def test_noise_in_real_messages_is_neutralised(noisy: str, plain: str, catalog: Catalog) -> None:
    neutralise = Reading(catalog.vocabulary).neutralise  # as the content's language says
    assert " ".join(neutralise(noisy).split()) == plain


def test_cleaning_handles_case_apostrophes_repeats_units_and_invisible_characters(
    catalog: Catalog,
) -> None:
    clean = Reading(catalog.vocabulary).clean
    assert clean("WON’T") == "wont"
    assert clean("sooooo slow") == "soo slow"
    assert clean("50GB") == "50 gb"
    assert clean("2 TB") == "2 tb"
    assert "\u200b" not in clean("wi\u200bfi")
    assert clean("🙂") == " "


# -- the command line ---------------------------------------------------------------------------


def run_match_json(stdin: bytes) -> list[dict]:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "match", "--json"],
        input=stdin,
        capture_output=True,
        cwd=REPOSITORY_ROOT,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode()
    return [json.loads(line) for line in result.stdout.decode().splitlines()]


def test_match_json_answers_ten_thousand_lines_in_one_process() -> None:
    lines = ["backup stuck", "not enough storage", "hello", "wiif wont conect"] * 2500
    results = run_match_json("\n".join(lines).encode() + b"\n")
    assert len(results) == 10_000
    assert results[0] == {
        "text": "backup stuck",
        "language": "en",
        "intent": "backup_stuck",
        "decision": "match",
        "options": ["backup_stuck"],
        "score": results[0]["score"],
        "candidates": results[0]["candidates"],
    }
    assert [r["intent"] for r in results[:4]] == ["backup_stuck", "storage_full", None, "wifi"]
    assert results[2]["decision"] == "none"
    always = {"candidates", "decision", "intent", "language", "options", "score", "text"}
    assert all(always <= r.keys() <= always | {"off_topic", "other_device"} for r in results)


def test_match_json_says_what_a_turned_away_message_looked_like() -> None:
    [result] = run_match_json(b"the app store won't update any of my apps\n")
    assert (result["decision"], result["off_topic"]["topic"]) == ("none", "app_store")


def test_match_json_survives_malformed_lines() -> None:
    junk = b"\n".join(
        [b"", b"\xff\xfe\x00binary", b"x" * 100_000, b"   ", "wifi 📶".encode(), b"\r"]
    )
    results = run_match_json(junk + b"\n")
    assert len(results) == 6
    assert all(r["decision"] in {"match", "ambiguous", "none"} for r in results)
    assert results[0]["intent"] is None
    assert results[4]["intent"] == "wifi"


def test_shipped_content_loads_the_same_in_a_fresh_matcher() -> None:
    matcher = Matcher(load_catalog(REPOSITORY_ROOT))
    assert matcher.match("backup stuck").intent == "backup_stuck"


# -- the meaning-based stage ---------------------------------------------------------------------


def test_a_message_that_shares_no_word_with_the_content_is_understood_by_its_meaning(
    catalog: Catalog, matcher: Matcher
) -> None:
    text = "the display is totally unresponsive to my fingers"
    words_only = Matcher(catalog, replace(matcher.thresholds, lexical_weight=1.0))
    assert words_only.match(text).decision is Decision.NONE
    result = matcher.match(text)
    assert result.decision is Decision.MATCH and result.intent == "restart"
    assert result.candidates[0].semantic > 0.3


def test_the_model_loads_from_the_installed_package_without_the_network_or_its_logging() -> None:
    # A fresh interpreter with every socket refused: building the matcher and matching still
    # work, and wordllama's __init__ (which turns on INFO logging for everyone) never runs.
    script = """
import logging, socket, sys
def refuse(*args, **kwargs):
    raise OSError("no network in this test")
socket.socket.connect = refuse
socket.create_connection = refuse
from bot.catalog import load_catalog
from bot.matcher import Matcher
from bot.settings import REPOSITORY_ROOT
matcher = Matcher(load_catalog(REPOSITORY_ROOT))
assert matcher.semantic is not None
print(matcher.match("my iphone won't charge").intent)
print("wordllama" in sys.modules, logging.getLogger().handlers)
"""
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPOSITORY_ROOT,
        check=False,
        env={"PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "0"},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["power", "False []"]


def test_embeddings_are_unit_vectors_and_an_empty_text_is_nothing_like_anything() -> None:
    from bot.semantic import default_embedder

    vectors = default_embedder().embed(["my wifi keeps dropping", ""])
    assert abs(float((vectors[0] ** 2).sum()) - 1.0) < 1e-5
    assert float(abs(vectors[1]).sum()) == 0.0


# -- long messages and two problems ----------------------------------------------------------------


def test_a_message_that_names_two_of_our_problems_asks_which_to_start_with(
    matcher: Matcher,
) -> None:
    result = matcher.match("icloud backup never finishes. also my wifi keeps dropping all the time")
    assert result.decision is Decision.AMBIGUOUS
    assert set(result.choices) >= {"backup_stuck", "wifi"}


def test_a_second_problem_in_another_clause_is_offered_beside_the_first() -> None:
    limits = Thresholds(accept=0.5, confirm=0.4, margin=0.05)
    first = [Candidate("backup_stuck", 0.80, "backup stuck", ("backup",))]
    other_clause = Candidate("power", 0.75, "not charging", ("charg",))
    verdict = decide(first, None, limits, second=other_clause)
    assert verdict.decision is Decision.AMBIGUOUS
    assert verdict.choices == ("backup_stuck", "power")
    # A side remark that scores well below the complaint does not interrupt the walk.
    aside = Candidate("power", 0.55, "not charging", ("charg",))
    assert decide(first, None, limits, second=aside).decision is Decision.MATCH
