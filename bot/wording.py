"""What fixbot itself says: button labels and the sentences around the content, by key.

The texts are content, not code: `wording/en.yaml` (English, complete) and a file per other
language, `wording/<language>.yaml`, in the content folder (FIXBOT_CONTENT_DIR). A language
may leave a key out: that text alone falls back to English, and `fixbot check` lists it.
This module holds the keys, the loading and the checks, and no sentence. Texts use the
content's markup: **bold**, nothing else; `{name}` placeholders are filled in by the bot.
"""

from __future__ import annotations

import difflib
import string
from dataclasses import dataclass, fields, replace
from functools import cache
from pathlib import Path
from typing import Any, Final

import yaml

WORDING_DIR: Final = "wording"
ENGLISH: Final = "en"
_BUILT_IN: Final = Path(__file__).resolve().parent.parent / WORDING_DIR / f"{ENGLISH}.yaml"
"""The repository's own English: every key's text when no content folder says otherwise."""


@cache
def _english_texts() -> dict[str, str]:
    try:
        data = yaml.safe_load(_BUILT_IN.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return {}
    return {k: v for k, v in data.items() if isinstance(v, str)} if isinstance(data, dict) else {}


def _english(key: str) -> str:
    # A key missing from the file shows as itself, and `fixbot check` names it.
    return _english_texts().get(key, f"[{key}]")


@dataclass(frozen=True)
class Wording:
    language: str = ENGLISH
    # The language itself
    language_name: str = _english("language_name")
    language_prompt: str = _english("language_prompt")
    language_set: str = _english("language_set")
    command_language: str = _english("command_language")
    language_heard: str = _english("language_heard")
    continue_in_language: str = _english("continue_in_language")
    # Buttons on a step
    done: str = _english("done")
    didnt_work: str = _english("didnt_work")
    skip: str = _english("skip")
    back: str = _english("back")
    stop: str = _english("stop")
    confirm_caution: str = _english("confirm_caution")
    # Buttons after a fix
    fixed: str = _english("fixed")
    not_fixed: str = _english("not_fixed")
    skip_rating: str = _english("skip_rating")
    # Buttons around a walk
    something_else: str = _english("something_else")
    switch: str = _english("switch")
    keep: str = _english("keep")
    resume: str = _english("resume")
    start_over: str = _english("start_over")
    topics: str = _english("topics")
    talk_to_person: str = _english("talk_to_person")
    close_case: str = _english("close_case")
    # Sentences
    welcome: str = _english("welcome")
    help: str = _english("help")
    topics_intro: str = _english("topics_intro")
    no_match: str = _english("no_match")
    other_device: str = _english("other_device")
    refusal_menu: str = _english("refusal_menu")
    empty_message: str = _english("empty_message")
    did_you_mean: str = _english("did_you_mean")
    confirm: str = _english("confirm")
    confirm_yes: str = _english("confirm_yes")
    greeting: str = _english("greeting")
    thanks: str = _english("thanks")
    farewell: str = _english("farewell")
    not_text: str = _english("not_text")
    not_text_mid_walk: str = _english("not_text_mid_walk")
    unknown_command: str = _english("unknown_command")
    unknown_fix: str = _english("unknown_fix")
    walk_start: str = _english("walk_start")
    single_fix_start: str = _english("single_fix_start")
    continued_here: str = _english("continued_here")
    next_fix: str = _english("next_fix")
    skipped_fix: str = _english("skipped_fix")
    progress_walk: str = _english("progress_walk")
    progress_fix: str = _english("progress_fix")
    why: str = _english("why")
    tried: str = _english("tried")
    caution: str = _english("caution")
    did_it_help: str = _english("did_it_help")
    resolved: str = _english("resolved")
    resolved_by_staff: str = _english("resolved_by_staff")
    rated: str = _english("rated")
    rated_skip: str = _english("rated_skip")
    exhausted: str = _english("exhausted")
    stopped: str = _english("stopped")
    nothing_to_stop: str = _english("nothing_to_stop")
    switch_prompt: str = _english("switch_prompt")
    already_on_it: str = _english("already_on_it")
    use_buttons: str = _english("use_buttons")
    greeting_mid_walk: str = _english("greeting_mid_walk")
    welcome_back: str = _english("welcome_back")
    stale_button: str = _english("stale_button")
    finished_button: str = _english("finished_button")
    first_step: str = _english("first_step")
    # A person from support (the staff desk)
    with_staff: str = _english("with_staff")
    with_staff_away: str = _english("with_staff_away")
    with_staff_already: str = _english("with_staff_already")
    staff_unavailable: str = _english("staff_unavailable")
    no_staff: str = _english("no_staff")
    no_staff_at_all: str = _english("no_staff_at_all")
    staff_solved: str = _english("staff_solved")
    staff_not_fixed: str = _english("staff_not_fixed")
    returned_to_bot: str = _english("returned_to_bot")
    staff_gone: str = _english("staff_gone")
    case_cancelled: str = _english("case_cancelled")
    human_in_private: str = _english("human_in_private")
    human_in_private_button: str = _english("human_in_private_button")
    relay_refused: str = _english("relay_refused")
    # Chat-service wording (Telegram)
    not_yours: str = _english("not_yours")
    owner_admins: str = _english("owner_admins")
    owner_this_group: str = _english("owner_this_group")
    owner_channel: str = _english("owner_channel")
    owner_someone: str = _english("owner_someone")
    walk_claimed: str = _english("walk_claimed")
    dead_button: str = _english("dead_button")
    continue_in_private: str = _english("continue_in_private")
    error: str = _english("error")
    slowed_down: str = _english("slowed_down")
    command_start: str = _english("command_start")
    command_fix: str = _english("command_fix")
    command_topics: str = _english("command_topics")
    command_help: str = _english("command_help")
    command_cancel: str = _english("command_cancel")
    command_human: str = _english("command_human")
    command_settings: str = _english("command_settings")
    # A complaint overheard in a group: one short offer, to that person only
    overheard: str = _english("overheard")
    walk_me_through: str = _english("walk_me_through")
    walk_me_through_private: str = _english("walk_me_through_private")
    # The group settings panel (/settings), for the group's admins
    settings_private: str = _english("settings_private")
    settings_admins_only: str = _english("settings_admins_only")
    settings_title: str = _english("settings_title")
    settings_overhear_on: str = _english("settings_overhear_on")
    settings_overhear_off: str = _english("settings_overhear_off")
    settings_cannot_read: str = _english("settings_cannot_read")
    settings_cooldown: str = _english("settings_cooldown")
    settings_walks_here: str = _english("settings_walks_here")
    settings_walks_private: str = _english("settings_walks_private")
    settings_quiet: str = _english("settings_quiet")
    settings_quiet_none: str = _english("settings_quiet_none")
    settings_topic_on: str = _english("settings_topic_on")
    settings_topic_off: str = _english("settings_topic_off")
    settings_language: str = _english("settings_language")
    button_overhear_on: str = _english("button_overhear_on")
    button_overhear_off: str = _english("button_overhear_off")
    button_overhear_unavailable: str = _english("button_overhear_unavailable")
    button_cooldown: str = _english("button_cooldown")
    button_walks_here: str = _english("button_walks_here")
    button_walks_private: str = _english("button_walks_private")
    button_quiet: str = _english("button_quiet")
    button_topic_on: str = _english("button_topic_on")
    button_topic_off: str = _english("button_topic_off")
    button_language: str = _english("button_language")
    settings_saved: str = _english("settings_saved")
    settings_unavailable: str = _english("settings_unavailable")
    # The case card and the staff chat
    card_topic: str = _english("card_topic")
    card_solved: str = _english("card_solved")
    card_return: str = _english("card_return")
    card_state_open: str = _english("card_state_open")
    card_state_with_staff: str = _english("card_state_with_staff")
    card_state_solved: str = _english("card_state_solved")
    card_state_returned: str = _english("card_state_returned")
    card_state_cancelled: str = _english("card_state_cancelled")
    card_state_unreachable: str = _english("card_state_unreachable")
    card_state_staff_gone: str = _english("card_state_staff_gone")
    staff_reminder: str = _english("staff_reminder")
    staff_case_closed: str = _english("staff_case_closed")
    staff_cancelled: str = _english("staff_cancelled")
    staff_unreachable: str = _english("staff_unreachable")
    staff_not_delivered: str = _english("staff_not_delivered")
    staff_rated: str = _english("staff_rated")
    staff_still_broken: str = _english("staff_still_broken")
    # Reports for the people who run support (/stats, /gaps)
    reports_for_staff: str = _english("reports_for_staff")
    reports_not_here: str = _english("reports_not_here")
    stats_chart_caption: str = _english("stats_chart_caption")
    stats_title: str = _english("stats_title")
    stats_walks: str = _english("stats_walks")
    stats_first_replies: str = _english("stats_first_replies")
    stats_cases: str = _english("stats_cases")
    stats_rating: str = _english("stats_rating")
    stats_topic: str = _english("stats_topic")
    stats_by_language: str = _english("stats_by_language")
    stats_language: str = _english("stats_language")
    stats_language_unknown: str = _english("stats_language_unknown")
    gaps_none: str = _english("gaps_none")
    gaps_title: str = _english("gaps_title")
    gaps_near: str = _english("gaps_near")
    gaps_near_nothing: str = _english("gaps_near_nothing")
    digest_title: str = _english("digest_title")
    digest_walks: str = _english("digest_walks")
    digest_not_understood: str = _english("digest_not_understood")
    digest_failed_steps: str = _english("digest_failed_steps")
    period_between: str = _english("period_between")
    period_all: str = _english("period_all")
    step_name: str = _english("step_name")
    # The chart beside /stats (and `fixbot stats --chart`)
    stats_period_days: str = _english("stats_period_days")
    chart_title: str = _english("chart_title")
    chart_no_walks: str = _english("chart_no_walks")
    chart_walks: str = _english("chart_walks")
    chart_endings_title: str = _english("chart_endings_title")
    chart_funnel_title: str = _english("chart_funnel_title")
    chart_one_fix: str = _english("chart_one_fix")
    chart_started: str = _english("chart_started")
    chart_resolved: str = _english("chart_resolved")
    chart_reached: str = _english("chart_reached")
    chart_resolved_here: str = _english("chart_resolved_here")
    chart_ending_resolved: str = _english("chart_ending_resolved")
    chart_ending_handed_over: str = _english("chart_ending_handed_over")
    chart_ending_exhausted: str = _english("chart_ending_exhausted")
    chart_ending_abandoned: str = _english("chart_ending_abandoned")
    chart_ending_other: str = _english("chart_ending_other")

    def stars(self, rating: int) -> str:
        """A rating button's label: ⭐, ⭐⭐, then 3⭐ to 5⭐ (five stars do not fit a phone)."""
        return "⭐" * rating if rating < 3 else f"{rating}⭐"

    @classmethod
    def wording_keys(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls) if f.name != "language")

    @classmethod
    def load(cls, content_dir: Path | None = None, language: str = ENGLISH) -> Wording:
        """The wording of `language` from `content_dir`'s `wording/` (the repository's when
        None): each key from that language's file, else the content's English, else the
        built-in English. Unknown keys are ignored here (`fixbot check` names them)."""
        texts: dict[str, str] = {}
        folder = (content_dir / WORDING_DIR) if content_dir is not None else _BUILT_IN.parent
        for name in dict.fromkeys((ENGLISH, language)):
            texts.update(_texts(folder / f"{name}.yaml"))
        known = {k: v for k, v in texts.items() if k in cls.wording_keys()}
        return replace(cls(), language=language, **known)


def _texts(path: Path) -> dict[str, str]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): v for k, v in data.items() if isinstance(v, str)}


# -- checks, for `fixbot check` ------------------------------------------------------------------


@dataclass(frozen=True)
class WordingProblem:
    file: str
    line: int | None
    key: str
    message: str
    fallback: bool = False
    """Not an error: a text this language leaves to English."""


def check(content_dir: Path) -> list[WordingProblem]:
    """Every problem of the wording files in `content_dir`, with file and line: a key no
    text has, a key that is not one, a placeholder that differs from English's, a '**' with
    no partner; and, as fallbacks, the keys a language leaves to English."""
    folder = content_dir / WORDING_DIR
    if not folder.is_dir():
        return []  # the built-in English serves
    problems: list[WordingProblem] = []
    keys = Wording.wording_keys()
    english_file = folder / f"{ENGLISH}.yaml"
    english = _texts(english_file) if english_file.exists() else dict(_english_texts())
    for path in sorted(folder.glob("*.yaml")):
        name = f"{WORDING_DIR}/{path.name}"
        data, lines, error = _read(path)
        if error is not None:
            problems.append(WordingProblem(name, lines.get("", None), "", error))
            continue
        for key, value in data.items():
            line = lines.get(key)
            if key not in keys:
                close = difflib.get_close_matches(key, keys, n=1, cutoff=0.6)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                problems.append(WordingProblem(name, line, key, f"unknown key{hint}"))
            elif not isinstance(value, str):
                problems.append(WordingProblem(name, line, key, "must be text"))
            else:
                problems.extend(_check_text(name, line, key, value, english.get(key)))
        missing = [k for k in keys if k not in data]
        for key in missing:
            if path.stem == ENGLISH:
                problems.append(
                    WordingProblem(name, None, key, "missing: every key needs an English text")
                )
            else:
                problems.append(
                    WordingProblem(name, None, key, "not translated: English is used", True)
                )
    return problems


def _check_text(
    name: str, line: int | None, key: str, text: str, english: str | None
) -> list[WordingProblem]:
    found = []
    if text.count("**") % 2:
        found.append(
            WordingProblem(name, line, key, "a '**' has no partner: bold is **like this**")
        )
    try:
        mine = _placeholders(text)
    except ValueError as exc:
        return [*found, WordingProblem(name, line, key, f"a brace is out of place ({exc})")]
    if english is not None:
        theirs = _placeholders(english)
        if mine != theirs:
            want = ", ".join("{" + p + "}" for p in sorted(theirs)) or "none"
            got = ", ".join("{" + p + "}" for p in sorted(mine)) or "none"
            found.append(
                WordingProblem(
                    name, line, key, f"placeholders differ from English's: {got}, want {want}"
                )
            )
    return found


def _placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}


def _read(path: Path) -> tuple[dict[str, Any], dict[str, int], str | None]:
    """A wording file's keys and values, the line of each key, or what is wrong with it."""
    try:
        text = path.read_text(encoding="utf-8")
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except (OSError, UnicodeDecodeError) as exc:
        return {}, {}, f"cannot be read ({exc})"
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = {"": mark.line + 1} if mark is not None else {}
        what = " ".join(p for p in (exc.context, exc.problem) if p)
        return {}, line, f"YAML syntax error: {what}"
    if not isinstance(data, dict) or not isinstance(node, yaml.MappingNode):
        return {}, {}, "must be a mapping of keys to texts"
    lines = {str(k.value): k.start_mark.line + 1 for k, _ in node.value}
    return {str(k): v for k, v in data.items()}, lines, None
