"""The catalog: the shipped content loads, and every kind of broken content is reported
at once, each problem naming its file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.catalog import MAX_TEXT_LENGTH, Catalog, load_catalog
from bot.errors import ContentError, Problem
from bot.evaluation import Report, tuning_yaml
from bot.matcher import Thresholds
from bot.wording import Wording

CONTRACT_INTENTS = {
    "backup_stuck",
    "backup_off",
    "storage_full",
    "wifi",
    "power",
    "icloud_down",
    "sign_in",
    "restart",
    "reset_settings",
    "update_ios",
}

GOOD_FIX = """
    id: wifi
    title: Get onto Wi-Fi
    aliases: [wi-fi]
    reason: Backups need Wi-Fi.
    steps:
      - id: switch_on
        text: Turn on **Wi-Fi**.
      - id: join
        text: Join your network.
"""

GOOD_INTENT = """
    id: wifi
    title: Wi-Fi problems
    examples:
      - wifi won't connect
    fixes: [wifi]
"""


def problems_of(root: Path) -> list[Problem]:
    with pytest.raises(ContentError) as caught:
        load_catalog(root)
    return caught.value.problems


def the_problem(root: Path) -> Problem:
    problems = problems_of(root)
    assert len(problems) == 1, [str(p) for p in problems]
    return problems[0]


# -- the shipped content ------------------------------------------------------------------------


def test_the_shipped_content_has_the_ten_contract_intents(catalog: Catalog) -> None:
    assert set(catalog.intents) >= CONTRACT_INTENTS


def test_the_shipped_content_has_the_nine_fixes_of_the_article(catalog: Catalog) -> None:
    assert set(catalog.fixes) == {
        "backup_setting",
        "wifi",
        "power",
        "storage",
        "system_status",
        "sign_out",
        "restart",
        "reset_settings",
        "update_ios",
    }


def test_every_shipped_intent_has_at_least_fifteen_distinct_examples(catalog: Catalog) -> None:
    for intent in catalog.intents.values():
        assert len({e.casefold() for e in intent.examples}) >= 15, intent.id


def test_backup_stuck_walks_all_nine_fixes_cheap_checks_first(catalog: Catalog) -> None:
    fixes = catalog.intent("backup_stuck").fixes
    assert set(fixes) == set(catalog.fixes)
    cheap = {"backup_setting", "wifi", "power", "storage", "system_status"}
    assert set(fixes[:5]) == cheap


def test_backup_off_walks_the_setting_then_the_conditions(catalog: Catalog) -> None:
    assert catalog.intent("backup_off").fixes == ("backup_setting", "wifi", "power")


def test_the_article_facts_are_kept(catalog: Catalog) -> None:
    def words(fix_id: str) -> str:
        fix = catalog.fix(fix_id)
        parts = [fix.reason, fix.did_it_help or ""]
        for step in fix.steps:
            parts += [step.text, step.caution or ""]
            parts += [c.label for c in step.choices]
            if step.link:
                parts += [step.link.label, step.link.url]
        return " ".join(parts).replace("**", "")

    setting = words("backup_setting")
    assert "Wi-Fi" in setting and "plugged in" in setting and "locked" in setting
    storage = words("storage")
    for fact in ("5 GB", "1 and 4 GB", "Manage Storage", "Delete Data", "Upgrade"):
        assert fact in storage
    status = catalog.fix("system_status")
    assert status.steps[0].link is not None
    assert status.steps[0].link.url == "https://www.apple.com/support/systemstatus/"
    assert "iCloud Backup" in words("system_status") and "green" in words("system_status")
    sign_out = catalog.fix("sign_out").steps[0].caution or ""
    assert "Apple ID password" in sign_out and "Find My iPhone" in sign_out
    restart = catalog.fix("restart").first_step
    assert restart.is_question and len(restart.choices) == 2
    assert "iPhone X or later" in words("restart") and "iPhone 8 or" in words("restart")
    assert "Side button" in words("restart") and "Volume button" in words("restart")
    reset = catalog.fix("reset_settings").steps[0].caution or ""
    assert "keeps your data" in reset and "Wi-Fi passwords" in reset
    update = words("update_ios")
    for fact in (
        "Wi-Fi",
        "power",
        "General",
        "Software Update",
        "Download and Install",
        "passcode",
    ):
        assert fact in update


def test_every_step_of_the_shipped_content_fits_a_telegram_message(catalog: Catalog) -> None:
    for fix in catalog.fixes.values():
        for step in fix.steps:
            assert len(step.text) + len(step.caution or "") + len(fix.title) < 4096 // 2


# -- broken content: each problem names the file and the key -----------------------------------


def test_a_yaml_syntax_error_names_the_file_and_line(write_content) -> None:
    root = write_content(
        {
            "fixes/wifi.yaml": GOOD_FIX,
            "intents/wifi.yaml": "id: wifi\ntitle: [unclosed\nfixes: [wifi]\n",
        }
    )
    problem = the_problem(root)
    assert problem.file == "intents/wifi.yaml"
    assert problem.line is not None
    assert "YAML syntax error" in problem.message


def test_a_fix_file_with_a_syntax_error_is_one_problem_not_one_per_intent_using_it(
    write_content,
) -> None:
    root = write_content(
        {
            "fixes/wifi.yaml": "id: wifi\ntitle: [unclosed\n",
            "intents/wifi.yaml": GOOD_INTENT,
            "intents/wifi2.yaml": GOOD_INTENT.replace("id: wifi", "id: wifi_two"),
        }
    )
    problem = the_problem(root)  # no knock-on "there is no fix 'wifi'" for each intent
    assert problem.file == "fixes/wifi.yaml" and "YAML syntax error" in problem.message


def test_an_unknown_fix_in_an_intent_gets_a_did_you_mean(write_content) -> None:
    root = write_content(
        {"fixes/wifi.yaml": GOOD_FIX, "intents/wifi.yaml": GOOD_INTENT.replace("[wifi]", "[wfii]")}
    )
    assert "there is no fix 'wfii' (did you mean 'wifi'?)" in the_problem(root).message


def test_a_misspelt_key_is_named_with_a_suggestion(write_content) -> None:
    root = write_content(
        {
            "fixes/wifi.yaml": GOOD_FIX,
            "intents/wifi.yaml": GOOD_INTENT.replace("examples:", "exmaples:"),
        }
    )
    problems = problems_of(root)
    unknown = next(p for p in problems if "unknown key" in p.message)
    assert unknown.file == "intents/wifi.yaml"
    assert unknown.path == "exmaples"
    assert "did you mean 'examples'" in unknown.message
    assert unknown.line == 3
    # ...and the real key is then missing, reported in the same run.
    assert any(p.path == "examples" and "missing" in p.message for p in problems)


def test_an_unknown_key_inside_a_step_gives_its_full_path(write_content) -> None:
    fix = GOOD_FIX.replace("text: Join your network.", "text: Join your network.\n        nxt: end")
    root = write_content({"fixes/wifi.yaml": fix, "intents/wifi.yaml": GOOD_INTENT})
    problem = the_problem(root)
    assert (problem.file, problem.path) == ("fixes/wifi.yaml", "steps[1].nxt")
    assert "did you mean 'next'" in problem.message


def test_a_missing_field_is_reported(write_content) -> None:
    fix = GOOD_FIX.replace("    reason: Backups need Wi-Fi.\n", "")
    root = write_content({"fixes/wifi.yaml": fix, "intents/wifi.yaml": GOOD_INTENT})
    problem = the_problem(root)
    assert (problem.file, problem.path) == ("fixes/wifi.yaml", "reason")
    assert "required" in problem.message


def test_a_wrong_type_is_explained_in_plain_words(write_content) -> None:
    fix = GOOD_FIX.replace("text: Join your network.", "text: yes")
    root = write_content(
        {"fixes/wifi.yaml": fix, "intents/wifi.yaml": GOOD_INTENT.replace("[wifi]", "wifi")}
    )
    problems = {p.path: p for p in problems_of(root)}
    assert "quotes" in problems["steps[1].text"].message
    assert "must be a list" in problems["fixes"].message
    assert problems["fixes"].file == "intents/wifi.yaml"


def test_an_id_used_twice_across_files_is_reported_once_with_both_files(write_content) -> None:
    root = write_content(
        {
            "fixes/wifi.yaml": GOOD_FIX,
            "fixes/wifi_again.yaml": GOOD_FIX.replace("aliases: [wi-fi]", ""),
            "intents/wifi.yaml": GOOD_INTENT,
        }
    )
    problem = the_problem(root)
    assert problem.file == "fixes/wifi_again.yaml"
    assert problem.path == "id"
    assert "fixes/wifi.yaml" in problem.message


def test_an_intent_naming_a_missing_fix_is_reported(write_content) -> None:
    root = write_content(
        {"fixes/wifi.yaml": GOOD_FIX, "intents/wifi.yaml": GOOD_INTENT.replace("[wifi]", "[wify]")}
    )
    problem = the_problem(root)
    assert (problem.file, problem.path) == ("intents/wifi.yaml", "fixes[0]")
    assert "no fix 'wify'" in problem.message and "did you mean 'wifi'" in problem.message


def test_a_branch_to_a_missing_step_is_reported(write_content) -> None:
    fix = """
        id: restart
        title: Restart
        reason: It helps.
        steps:
          - id: which
            text: Which model?
            choices:
              - {label: Face ID, next: face_id}
              - {label: Home button, next: home_buton}
          - id: face_id
            text: Hold the buttons.
            next: end
          - id: home_button
            text: Hold the button.
    """
    intent = GOOD_INTENT.replace("[wifi]", "[restart]")
    root = write_content({"fixes/restart.yaml": fix, "intents/wifi.yaml": intent})
    problem = the_problem(root)
    assert (problem.file, problem.path) == ("fixes/restart.yaml", "steps[0].choices[1].next")
    assert "no step 'home_buton'" in problem.message
    assert "did you mean 'home_button'" in problem.message
    assert problem.line == 9


def test_an_unreachable_step_is_reported(write_content) -> None:
    fix = GOOD_FIX.replace(
        "text: Turn on **Wi-Fi**.", "text: Turn on **Wi-Fi**.\n        next: end"
    )
    root = write_content({"fixes/wifi.yaml": fix, "intents/wifi.yaml": GOOD_INTENT})
    problem = the_problem(root)
    assert (problem.file, problem.path) == ("fixes/wifi.yaml", "steps[1].id")
    assert "never be reached" in problem.message


def test_steps_that_loop_forever_are_reported(write_content) -> None:
    fix = GOOD_FIX.replace(
        "text: Join your network.", "text: Join your network.\n        next: switch_on"
    )
    root = write_content({"fixes/wifi.yaml": fix, "intents/wifi.yaml": GOOD_INTENT})
    problem = the_problem(root)
    assert problem.file == "fixes/wifi.yaml"
    assert "loop" in problem.message


def test_an_empty_example_list_is_reported(write_content) -> None:
    intent = GOOD_INTENT.replace("examples:\n      - wifi won't connect", "examples: []")
    root = write_content({"fixes/wifi.yaml": GOOD_FIX, "intents/wifi.yaml": intent})
    problem = the_problem(root)
    assert (problem.file, problem.path) == ("intents/wifi.yaml", "examples")
    assert "empty" in problem.message


def test_an_id_too_long_for_telegram_button_data_is_reported(write_content) -> None:
    long_id = "check_the_wifi_connection_carefully"
    root = write_content(
        {
            "fixes/wifi.yaml": GOOD_FIX.replace("id: wifi", f"id: {long_id}"),
            "intents/wifi.yaml": GOOD_INTENT.replace("[wifi]", f"[{long_id}]"),
        }
    )
    problems = problems_of(root)
    assert {(p.file, p.path) for p in problems} == {
        ("fixes/wifi.yaml", "id"),
        ("intents/wifi.yaml", "fixes[0]"),
    }
    assert all("Telegram" in p.message for p in problems)


def test_an_id_with_spaces_is_reported(write_content) -> None:
    root = write_content(
        {
            "fixes/wifi.yaml": GOOD_FIX.replace("id: join", "id: Join It"),
            "intents/wifi.yaml": GOOD_INTENT,
        }
    )
    problem = the_problem(root)
    assert (problem.file, problem.path) == ("fixes/wifi.yaml", "steps[1].id")
    assert "not a valid id" in problem.message


def test_a_text_over_telegram_limits_is_reported(write_content) -> None:
    long_text = "word " * (MAX_TEXT_LENGTH // 4)
    fix = GOOD_FIX.replace("text: Join your network.", f"text: {long_text}")
    root = write_content({"fixes/wifi.yaml": fix, "intents/wifi.yaml": GOOD_INTENT})
    problem = the_problem(root)
    assert (problem.file, problem.path) == ("fixes/wifi.yaml", "steps[1].text")
    assert "characters long" in problem.message


def test_a_button_label_over_telegram_limits_is_reported(write_content) -> None:
    fix = GOOD_FIX + (
        "      - id: ask\n        text: Which?\n        choices:\n"
        f"          - {{label: {'very long label ' * 4}, next: end}}\n"
        "          - {label: Short, next: end}\n"
    )
    root = write_content({"fixes/wifi.yaml": fix, "intents/wifi.yaml": GOOD_INTENT})
    problem = the_problem(root)
    assert problem.path == "steps[2].choices[0].label"


def test_a_duplicate_key_in_one_mapping_is_reported(write_content) -> None:
    intent = GOOD_INTENT + "    title: Another title\n"
    root = write_content({"fixes/wifi.yaml": GOOD_FIX, "intents/wifi.yaml": intent})
    problem = the_problem(root)
    assert (problem.file, problem.path) == ("intents/wifi.yaml", "title")
    assert "twice" in problem.message


def test_two_fixes_sharing_an_alias_are_reported(write_content) -> None:
    other = GOOD_FIX.replace("id: wifi", "id: network").replace("[wi-fi]", "[Wi Fi]")
    root = write_content(
        {"fixes/wifi.yaml": GOOD_FIX, "fixes/network.yaml": other, "intents/wifi.yaml": GOOD_INTENT}
    )
    problem = the_problem(root)
    assert (problem.file, problem.path) == ("fixes/wifi.yaml", "aliases[0]") or (
        problem.file,
        problem.path,
    ) == ("fixes/network.yaml", "aliases[0]")


def test_unbalanced_bold_markers_are_reported(write_content) -> None:
    fix = GOOD_FIX.replace("text: Turn on **Wi-Fi**.", "text: Turn on **Wi-Fi.")
    root = write_content({"fixes/wifi.yaml": fix, "intents/wifi.yaml": GOOD_INTENT})
    problem = the_problem(root)
    assert problem.path == "steps[0].text" and "**" in problem.message


def test_a_file_that_is_not_a_mapping_is_reported(write_content) -> None:
    root = write_content({"fixes/wifi.yaml": GOOD_FIX, "intents/wifi.yaml": "- just\n- a list\n"})
    problem = the_problem(root)
    assert problem.file == "intents/wifi.yaml" and "mapping" in problem.message


def test_many_problems_in_many_files_come_back_together(write_content) -> None:
    root = write_content(
        {
            "fixes/wifi.yaml": GOOD_FIX.replace("reason:", "reasn:"),
            "intents/wifi.yaml": GOOD_INTENT.replace("title:", "titel:"),
            "intents/broken.yaml": "id: [",
        }
    )
    files = {p.file for p in problems_of(root)}
    assert files == {"fixes/wifi.yaml", "intents/wifi.yaml", "intents/broken.yaml"}


def test_yaml_tags_that_could_run_code_are_refused(write_content) -> None:
    intent = GOOD_INTENT.replace(
        "title: Wi-Fi problems", "title: !!python/object/apply:os.system [ls]"
    )
    root = write_content({"fixes/wifi.yaml": GOOD_FIX, "intents/wifi.yaml": intent})
    problem = the_problem(root)
    assert problem.file == "intents/wifi.yaml" and "YAML" in problem.message


def test_a_missing_content_folder_is_reported(tmp_path: Path) -> None:
    files = {p.file for p in problems_of(tmp_path)}
    assert files == {"intents/", "fixes/"}


def test_good_content_loads_into_frozen_objects(write_content) -> None:
    catalog = load_catalog(
        write_content({"fixes/wifi.yaml": GOOD_FIX, "intents/wifi.yaml": GOOD_INTENT})
    )
    fix = catalog.fix("wifi")
    assert [s.id for s in fix.steps] == ["switch_on", "join"]
    assert fix.step_after("switch_on") == "join" and fix.step_after("join") is None
    assert fix.did_it_help is None  # the bot's own wording asks it
    assert Wording().did_it_help == "Did that fix it?"
    with pytest.raises(Exception, match="frozen"):
        fix.title = "changed"  # type: ignore[misc]


def test_the_shipped_content_says_where_to_go_when_nothing_helped(catalog: Catalog) -> None:
    assert catalog.support is not None
    assert catalog.support.url.startswith("https://support.apple.com/")


def test_an_unknown_special_file_is_reported(write_content) -> None:
    root = write_content(
        {
            "fixes/wifi.yaml": GOOD_FIX,
            "fixes/_extra.yaml": "label: x\nurl: https://example.com\n",
            "intents/wifi.yaml": GOOD_INTENT,
        }
    )
    problem = the_problem(root)
    assert problem.file == "fixes/_extra.yaml"
    assert "_support.yaml" in problem.message


def test_the_matchers_numbers_are_content_and_are_checked(write_content) -> None:
    good = write_content(
        {
            "fixes/wifi.yaml": GOOD_FIX,
            "intents/wifi.yaml": GOOD_INTENT,
            "intents/_matcher.yaml": "accept: 0.6\nconfirm: 0.35\n",
        }
    )
    thresholds = Thresholds.of(load_catalog(good))
    assert (thresholds.accept, thresholds.confirm) == (0.6, 0.35)
    assert thresholds.margin == Thresholds().margin  # not given: the default

    (good / "intents" / "_matcher.yaml").write_text("accept: 1.5\nconfrim: 0.3\n")
    messages = {p.path: p.message for p in problems_of(good)}
    assert "less than or equal to 1" in messages["accept"]
    assert "did you mean 'confirm'" in messages["confrim"]


def test_tune_writes_a_matcher_file_that_loads(write_content) -> None:
    root = write_content({"fixes/wifi.yaml": GOOD_FIX, "intents/wifi.yaml": GOOD_INTENT})
    catalog = load_catalog(root)
    fitted = Thresholds(accept=0.5, confirm=0.42, margin=0.06, off_topic_lead=-0.04)
    (root / "intents" / "_matcher.yaml").write_text(tuning_yaml(fitted, Report()))
    thresholds = Thresholds.of(load_catalog(root))
    assert (thresholds.accept, thresholds.confirm, thresholds.margin) == (0.5, 0.42, 0.06)
    assert thresholds.off_topic_lead == -0.04
    assert catalog.tuning.given() == {}


def test_off_topic_examples_grouped_by_topic_load_and_a_bad_topic_is_named(write_content) -> None:
    off_topic = (
        "examples: [tell me a joke]\n"
        "topics:\n"
        "  app_store: [my apps won't update, the app store is empty]\n"
        "  battery_life: [my battery drains overnight]\n"
    )
    good = write_content(
        {
            "fixes/wifi.yaml": GOOD_FIX,
            "intents/wifi.yaml": GOOD_INTENT,
            "intents/_off_topic.yaml": off_topic,
        }
    )
    topics = load_catalog(good).off_topic.by_topic
    assert topics["other"] == ("tell me a joke",)
    assert topics["app_store"] == ("my apps won't update", "the app store is empty")
    assert "small_talk" not in topics  # none written

    # A topic called "other" keeps its examples beside the ungrouped ones.
    (good / "intents" / "_off_topic.yaml").write_text(
        "examples: [tell me a joke]\ntopics:\n  other: [what time is it]\n"
    )
    assert load_catalog(good).off_topic.by_topic["other"] == ("what time is it", "tell me a joke")

    (good / "intents" / "_off_topic.yaml").write_text("topics:\n  App Store: [x]\n  apps: []\n")
    problems = {p.path: p.message for p in problems_of(good)}
    assert problems.keys() == {"topics.App Store", "topics.apps.examples"}
    assert "not a valid id" in problems["topics.App Store"]

    # A topic may carry a title and the answer the bot gives to a message about it.
    (good / "intents" / "_off_topic.yaml").write_text(
        "topics:\n"
        "  restoring:\n"
        "    title: restoring a phone from a backup\n"
        "    answer: That sounds like restoring. I help when a backup won't happen.\n"
        "    examples: [restore from my backup is stuck]\n"
        "  battery_life: [my battery drains overnight]\n"
    )
    loaded = load_catalog(good).off_topic
    assert loaded.by_topic["restoring"] == ("restore from my backup is stuck",)
    assert (
        loaded.answer("restoring")
        == "That sounds like restoring. I help when a backup won't happen."
    )
    assert loaded.answer("battery_life") is None
    (good / "intents" / "_off_topic.yaml").write_text(
        "topics:\n  restoring:\n    answer: That sounds like restoring.\n    examples: []\n"
        "    colour: blue\n"
    )
    problems = {p.path: p.message for p in problems_of(good)}
    assert problems.keys() == {"topics.restoring.examples", "topics.restoring.colour"}


def test_a_language_profile_with_a_missing_stemmer_or_a_broken_pattern_is_refused(
    write_content,
) -> None:
    root = write_content(
        {
            "fixes/wifi.yaml": GOOD_FIX,
            "intents/wifi.yaml": GOOD_INTENT,
            "intents/_vocabulary.yaml": "stemmer: klingon\nunits: ['(gb']\n",
        }
    )
    problems = {p.path: p.message for p in problems_of(root)}
    assert "no stemmer 'klingon'" in problems["stemmer"]
    assert "not a regular expression" in problems["units"]
