"""What the support team learns from outcomes: walks of known people, played through the real
engine, and every figure `fixbot stats --json` gives for them."""

from __future__ import annotations

import io
import json
from datetime import datetime
from pathlib import Path

import pytest
from PIL import Image

from bot import charts, demo
from bot.catalog import Catalog
from bot.conversations import Conversations
from bot.demo import demo_store
from bot.engine import Engine
from bot.evaluation import load_cases
from bot.events import CaseNews, CommandReceived, TextReceived
from bot.hours import WeeklyTime
from bot.session import SessionKey, Unanswered
from bot.stats import Walk, digest, gaps, gaps_yaml, learn_orders, step_names, summarise
from bot.store import MemoryStore, SQLiteStore
from bot.store.base import OutcomeRow, UnansweredRow
from tests.test_cli import fixbot
from tests.transcript import Chat

DAY = 86400.0
NOW = 1_800_000_000.0


def played(engine: Engine, person: int, start: float, script) -> list[OutcomeRow]:
    """Outcomes of one person's conversation, as the store would keep them."""
    chat = Chat(engine, clock=start)
    rows: list[OutcomeRow] = []
    for action in script:
        before = len(chat.outcomes)
        at = chat.clock
        action(chat)
        rows += [OutcomeRow(SessionKey(person, person), at, o) for o in chat.outcomes[before:]]
    return rows


@pytest.fixture(scope="module")
def rows(catalog: Catalog) -> list[OutcomeRow]:
    engine = Engine(catalog, handover=True)
    long_ago = NOW - 3 * DAY
    rows = []
    # Alice: a stuck backup, fixed by the first fix after its four steps; five stars.
    rows += played(engine, 1, long_ago, [
        lambda c: c.say("my backup is stuck"),
        *[lambda c: c.press("Done")] * 4,
        lambda c: c.press("Yes, it's fixed"),
        lambda c: c.press("5⭐"),
    ])  # fmt: skip
    # Bob: Wi-Fi, one step, then silence for days: abandoned at the second step.
    rows += played(engine, 2, long_ago, [
        lambda c: c.say("wifi won't connect"),
        lambda c: c.press("Done"),
    ])  # fmt: skip
    # Carol: every fix of "backup turned off" skipped, then a person; support solves it and
    # she confirms, and rates support 4.
    rows += played(engine, 3, long_ago, [
        lambda c: c.say("icloud backup is turned off"),
        *[lambda c: c.press("Skip this fix")] * 3,
        lambda c: c._apply(CommandReceived("human", "", c.clock), expect_reply=False),
        lambda c: c.case_news(CaseNews.OPENED),
        lambda c: c.case_news(CaseNews.SOLVED),
        lambda c: c.press("Yes, it's fixed"),
        lambda c: c.press("4⭐"),
    ])  # fmt: skip
    # Dave: Wi-Fi, one step, then stops.
    rows += played(engine, 4, long_ago, [
        lambda c: c.say("wifi won't connect"),
        lambda c: c.press("Done"),
        lambda c: c.command("cancel"),
    ])  # fmt: skip
    # Gina: a stuck backup; the first fix didn't work, she stops at the second (Wi-Fi).
    rows += played(engine, 6, long_ago, [
        lambda c: c.say("my backup is stuck"),
        lambda c: c.press("This didn't work"),
        lambda c: c.command("cancel"),
    ])  # fmt: skip
    # Erin: something off-topic, then /fix wifi an hour ago: under way.
    rows += played(engine, 5, NOW - 3600, [
        lambda c: c.say("who won the football last night"),
        lambda c: c.command("fix", "wifi"),
    ])  # fmt: skip
    return rows


def test_walks_are_counted_by_how_they_ended_per_intent(rows) -> None:
    summary = summarise(rows, NOW)
    backup = summary.intents["backup_stuck"]
    assert (backup.started, backup.resolved, backup.stopped) == (2, 1, 1)
    assert dict(backup.resolved_by_fix) == {"backup_setting": 1}
    assert backup.median_steps_to_resolution == 4
    assert dict(backup.ratings) == {5: 1} and backup.mean_rating == 5.0

    wifi = summary.intents["wifi"]
    assert (wifi.started, wifi.abandoned, wifi.stopped, wifi.resolved) == (2, 1, 1, 0)
    assert dict(wifi.abandoned_at) == {"wifi/" + rows_step(rows, 2): 1}

    off = summary.intents["backup_off"]
    assert (off.started, off.exhausted, off.cases, off.resolved_after_staff) == (1, 1, 1, 1)
    assert off.resolved == 0  # support's resolution is not the walk's

    single = summary.intents["fix:wifi"]
    assert (single.started, single.under_way) == (1, 1)

    # The funnel: Alice's and Gina's walks reached the first fix, only Gina's the second.
    assert dict(backup.reached) == {"backup_setting": 2, "wifi": 1}


def rows_step(rows, person: int) -> str:
    return [r.outcome.step for r in rows if r.key.user_id == person and r.outcome.step][-1]


def test_fixes_say_how_often_they_were_reached_worked_failed_or_were_skipped(rows) -> None:
    fixes = summarise(rows, NOW).fixes
    setting = fixes["backup_setting"]
    assert (setting.walks, setting.resolved, setting.skipped) == (3, 1, 1)
    assert sum(setting.failed_steps.values()) == 1
    assert (fixes["wifi"].walks, fixes["wifi"].skipped, fixes["wifi"].resolved) == (5, 1, 0)
    assert fixes["power"].skipped == 1


def test_first_replies_cases_and_support_ratings(rows) -> None:
    summary = summarise(rows, NOW)
    assert summary.first_replies == {"walk": 5, "question": 0, "refusal": 1}
    assert summary.started_via == {"text": 5, "command": 1}
    assert summary.cases == {
        "asked": 1,
        "handed_over": 1,
        "solved_by_staff": 1,
        "returned_to_bot": 0,
        "cancelled": 0,
    }
    assert summary.staff_ratings == {4: 1}


def test_days_limit_the_outcomes_counted(rows) -> None:
    summary = summarise(rows, NOW, since=NOW - DAY)
    assert set(summary.intents) == {"fix:wifi"}
    assert summary.first_replies["refusal"] == 1


async def test_fixbot_stats_json_reads_the_bots_database(rows, tmp_path: Path) -> None:
    store = await SQLiteStore.open(tmp_path / "fixbot.sqlite3")
    for row in rows:
        await store.record(row.key, [row.outcome], row.at)
    await store.close()
    result = fixbot("stats", "--json", env={"FIXBOT_DATA_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["intents"]["backup_stuck"]["resolved"] == 1
    assert data["intents"]["backup_stuck"]["ratings"] == {"5": 1}
    assert data["fixes"]["backup_setting"]["resolved"] == 1
    off = data["orders"]["backup_off"]
    assert off["learned"] == off["authored"] == ["backup_setting", "wifi", "power"]
    text = fixbot("stats", env={"FIXBOT_DATA_DIR": str(tmp_path)})
    assert text.returncode == 0, text.stderr
    assert "confirmed by the person" in text.stdout
    assert "iCloud backup fails or never finishes" in text.stdout
    assert "Fix order learned from outcomes: not used" in text.stdout


# -- the chart, the demo and the digest ---------------------------------------------------------


def test_the_chart_is_a_png_of_its_size_whose_bars_add_up_to_the_walks(rows, catalog) -> None:
    summary = summarise(rows, NOW)
    intents, fixes = catalog.titles()
    png = charts.outcomes_chart(summary, intents, fixes, "the last 7 days")
    picture = Image.open(io.BytesIO(png))
    assert (picture.format, picture.size) == ("PNG", (charts.WIDTH, charts.HEIGHT))
    picture.verify()
    for stats in summary.intents.values():
        assert sum(charts.endings(stats).values()) == stats.started
    backup = summary.intents["backup_stuck"]
    assert charts.funnel(backup, fixes) == [
        ("Started", 2, 0),
        ("Turn on iCloud Backup", 2, 1),
        ("Get onto Wi-Fi", 1, 0),
        ("Resolved (confirmed)", 1, 1),
    ]
    # The funnel shows the most walked intent whose walks went through more than one fix.
    walked = sorted(summary.intents.values(), key=lambda s: -s.started)
    assert charts.most_walked(walked).topic == "backup_stuck"


def test_a_chart_of_nothing_says_so_and_is_still_a_valid_picture() -> None:
    empty = summarise([], NOW)
    picture = Image.open(io.BytesIO(charts.outcomes_chart(empty, {}, {}, "the last 7 days")))
    assert picture.size == (charts.WIDTH, charts.HEIGHT)


async def test_the_demo_plays_made_up_people_through_the_engine_the_same_way_every_time(
    catalog: Catalog,
) -> None:
    first = await (await demo_store(catalog, NOW, people=60)).outcomes()
    again = await (await demo_store(catalog, NOW, people=60)).outcomes()
    assert first == again
    summary = summarise(first, NOW)
    walks = sum(s.started for s in summary.intents.values())
    assert walks + summary.first_replies["refusal"] == 60  # each person: a walk or a refusal
    assert 0 < sum(s.resolved for s in summary.intents.values()) < walks
    assert all(row.at >= NOW - demo.DAYS * DAY for row in first)


def test_fixbot_stats_demo_draws_the_chart_into_a_file(tmp_path: Path) -> None:
    chart = tmp_path / "chart.png"
    result = fixbot("stats", "--demo", "--chart", str(chart), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert sum(i["started"] for i in data["intents"].values()) > 300
    with Image.open(chart) as picture:
        assert picture.size == (charts.WIDTH, charts.HEIGHT)
    unwritable = fixbot("stats", "--demo", "--chart", str(tmp_path / "no" / "such" / "c.png"))
    assert unwritable.returncode == 1 and "cannot write the chart" in unwritable.stderr


def test_the_digest_tells_the_rate_what_was_not_understood_and_the_failing_steps(
    rows, catalog
) -> None:
    summary = summarise(rows, NOW, since=NOW - 7 * DAY)
    kept = [UnansweredRow(NOW - DAY, Unanswered("is the new watch any good", ()))]
    intents, _ = catalog.titles()
    text = digest(summary, kept, intents, step_names(catalog))
    assert text.startswith("📬 **Weekly digest**, from ")
    assert "Walks: 6 · resolved 1 (17%), confirmed by the person · handed to a person 1" in text
    assert "• nothing we cover: 1 · “is the new watch any good”" in text
    assert "• Turn on iCloud Backup, step 1: 1" in text


def test_a_weekly_moment_is_found_before_and_after_any_time() -> None:
    monday = WeeklyTime.parse("Mon 09:00 Europe/Berlin")
    sunday_night = datetime(2026, 11, 22, 23, 0, tzinfo=monday.zone).timestamp()
    assert monday.last(sunday_night) == datetime(2026, 11, 16, 9, 0, tzinfo=monday.zone)
    assert monday.next(sunday_night) == datetime(2026, 11, 23, 9, 0, tzinfo=monday.zone)
    on_the_minute = datetime(2026, 11, 23, 9, 0, tzinfo=monday.zone).timestamp()
    assert monday.last(on_the_minute).day == 23
    # Across the change to summer time the digest stays at 09:00 local time.
    assert monday.last(datetime(2026, 3, 30, 12, tzinfo=monday.zone).timestamp()).hour == 9
    assert WeeklyTime.parse("fri 17:30").zone.key == "UTC"
    for bad in ("Monday 9am", "Mon 25:00", "Xyz 09:00", "Mon 09:00 Mars/Olympus"):
        with pytest.raises(ValueError, match=r"Mon|day|time"):
            WeeklyTime.parse(bad)


def test_fixbot_stats_without_a_database_says_so(tmp_path: Path) -> None:
    result = fixbot("stats", env={"FIXBOT_DATA_DIR": str(tmp_path / "nothing")})
    assert result.returncode == 1
    assert "no database" in result.stderr


# -- unanswered messages ---------------------------------------------------------------------------


def test_the_engine_keeps_questions_and_refusals_but_not_small_talk(catalog: Catalog) -> None:
    chat = Chat(Engine(catalog))
    chat.say("hello there")
    assert chat.turn is not None and chat.turn.unanswered is None
    chat.say("who won the football last night")
    assert chat.turn.unanswered is not None
    assert chat.turn.unanswered.text == "who won the football last night"
    chat.say("my backup is stuck")
    assert chat.turn.unanswered is None


def test_gaps_group_by_nearest_intent_and_export_for_eval(tmp_path: Path) -> None:
    rows = [
        UnansweredRow(
            NOW - 3 * DAY,
            Unanswered("phone hot when charging overnight", ("power:0.33", "wifi:0.1")),
        ),
        UnansweredRow(NOW - 2 * DAY, Unanswered("charger gets warm, backup?", ("power:0.30",))),
        UnansweredRow(NOW - 1 * DAY, Unanswered("who won", ())),
    ]
    found = gaps(rows)
    assert [(g.nearest, g.count) for g in found] == [("power", 2), ("none", 1)]
    assert found[0].examples[0][1] == "charger gets warm, backup?"  # newest first
    path = tmp_path / "gaps.yaml"
    path.write_text(gaps_yaml(rows, NOW), encoding="utf-8")
    cases = load_cases(path)
    assert [c.text for c in cases] == [
        "who won",
        "phone hot when charging overnight",
        "charger gets warm, backup?",
    ]
    assert all(c.intent is None for c in cases)
    result = fixbot("eval", str(path))
    assert result.returncode == 0, result.stderr


async def test_fixbot_gaps_lists_and_exports_what_the_bot_kept(tmp_path: Path) -> None:
    store = await SQLiteStore.open(tmp_path / "fixbot.sqlite3")
    await store.keep_unanswered(
        Unanswered("screen flickers after backup", ("update_ios:0.2",)), NOW
    )
    await store.close()
    env = {"FIXBOT_DATA_DIR": str(tmp_path)}
    listed = fixbot("gaps", env=env)
    assert listed.returncode == 0, listed.stderr
    assert "nearest update_ios" in listed.stdout and "screen flickers" in listed.stdout
    as_json = json.loads(fixbot("gaps", "--json", env=env).stdout)
    assert as_json["total"] == 1 and as_json["groups"][0]["nearest"] == "update_ios"
    exported = fixbot("gaps", "--export", str(tmp_path / "todo.yaml"), env=env)
    assert exported.returncode == 0, exported.stderr
    assert load_cases(tmp_path / "todo.yaml")[0].text == "screen flickers after backup"


async def test_a_conversation_keeps_what_it_could_not_answer(catalog: Catalog) -> None:
    store = MemoryStore()
    conversations = Conversations(Engine(catalog), store)
    key = SessionKey(9, 9)
    await conversations.handle(key, TextReceived("who won the football last night", NOW))
    await conversations.handle(key, TextReceived("my backup is stuck", NOW + 1))
    [kept] = await store.unanswered()
    assert kept.unanswered.text == "who won the football last night" and kept.at == NOW


# -- a fix order learned from outcomes -------------------------------------------------------------


def walks_of(intent: str, count: int, fixes: tuple[str, ...], resolved_by: str | None):
    made = []
    for n in range(count):
        walk = Walk(SessionKey(100 + n, 100 + n), intent, None, NOW, "text")
        walk.fixes = list(fixes)
        if resolved_by:
            walk.end, walk.resolved_by = "resolved", resolved_by
        made.append(walk)
    return made


def test_the_order_changes_only_with_enough_evidence(catalog: Catalog) -> None:
    every = ("backup_setting", "wifi", "power")
    few = walks_of("backup_off", 29, every, "power")
    order = learn_orders(few, catalog)["backup_off"]
    assert order.learned == order.authored == every and not order.changed

    many = walks_of("backup_off", 40, every, "power") + walks_of("backup_off", 10, every, None)
    order = learn_orders(many, catalog)["backup_off"]
    assert order.changed and order.learned[0] == "power"
    evidence = {e.fix: e for e in order.evidence}
    assert (evidence["power"].reached, evidence["power"].resolved) == (50, 40)


def test_fixes_with_a_caution_or_too_little_evidence_keep_their_place(catalog: Catalog) -> None:
    authored = catalog.intent("backup_stuck").fixes
    reached_all = walks_of("backup_stuck", 40, authored, "reset_settings")
    order = learn_orders(reached_all, catalog)["backup_stuck"]
    assert order.learned[-1] == "reset_settings"  # a caution: it stays last, whatever it did
    evidence = {e.fix: e for e in order.evidence}
    assert evidence["reset_settings"].cautious and evidence["sign_out"].cautious
    assert order.learned.index("sign_out") == authored.index("sign_out")

    only_two = walks_of("backup_stuck", 40, ("backup_setting", "wifi"), "wifi")
    order = learn_orders(only_two, catalog)["backup_stuck"]
    assert order.learned[:2] == ("wifi", "backup_setting")
    assert order.learned[2:] == authored[2:]


def test_the_engine_walks_a_learned_order_and_ignores_one_that_is_not_a_reordering(
    catalog: Catalog,
) -> None:
    engine = Engine(catalog)
    engine.orders = {"backup_off": ("power", "wifi", "backup_setting")}
    chat = Chat(engine)
    chat.say("icloud backup is turned off")
    assert chat.session.plan == ("power", "wifi", "backup_setting")
    engine.orders = {"backup_off": ("power", "storage")}
    chat.command("cancel")
    chat.say("icloud backup is turned off")
    assert chat.session.plan == catalog.intent("backup_off").fixes


def test_figures_are_split_by_the_language_each_walk_was_spoken_in() -> None:
    from bot.session import Outcome
    from bot.stats import UNKNOWN_LANGUAGE, brief
    from bot.wording import Wording

    def row(
        person: int, at: float, result: str, language: str | None, **details: str
    ) -> OutcomeRow:
        return OutcomeRow(
            SessionKey(person, person), at, Outcome(result, language=language, **details)
        )

    rows = [
        row(1, NOW - 50, "started", "es", intent="wifi", value="text"),
        row(1, NOW - 40, "resolved", "es", intent="wifi", fix="wifi"),
        row(2, NOW - 30, "started", "en", intent="power", value="text"),
        row(3, NOW - 20, "no_match", "es"),
        row(4, NOW - 10, "confirm", None, intent="wifi"),  # kept before languages were recorded
    ]
    summary = summarise(rows, NOW)
    figures = {
        code: (s.started, s.resolved, s.questions, s.refusals)
        for code, s in summary.languages.items()
    }
    assert figures == {"es": (1, 1, 0, 1), "en": (1, 0, 0, 0), UNKNOWN_LANGUAGE: (0, 0, 1, 0)}
    text = brief(summary, {}, 7, Wording(), {"en": "English", "es": "Español"})
    assert "By language:" in text
    assert "• Español: 1 walks, 1 resolved · 0 questions · 1 not understood" in text
    assert "• not recorded: 0 walks, 0 resolved · 1 questions · 0 not understood" in text
    one = summarise(rows[2:3], NOW)
    assert "By language" not in brief(one, {}, 7)  # one language: nothing to split
