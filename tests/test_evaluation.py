"""Measuring the matcher honestly: several files, whole sources held out, the decision swept
on arrays exactly as `decide` would take it, and `fixbot eval` as a content author runs it."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bot.catalog import Catalog
from bot.evaluation import (
    DECISION_GRID,
    Case,
    Report,
    _DecisionTable,
    _redecide,
    evaluate,
    fit_blend,
    fit_decision,
    folds_of,
    held_out,
    load_case_files,
    load_cases,
    match_blends,
)
from bot.matcher import Matcher, Thresholds
from bot.settings import REPOSITORY_ROOT

COMPLAINTS = Path(__file__).parent / "data" / "complaints.yaml"

# Two small labelled files of our own, from two kinds of place, as the real dev sets are.
FORUM = """
- {text: my iphone will not back up to icloud any more, intent: backup_stuck, source: https://forum.example/t/1}
- {text: it says there isn't enough icloud storage, intent: storage_full, source: https://forum.example/t/2}
- {text: how do i cancel my music subscription, intent: null, source: https://forum.example/t/3}
- {text: the phone won't join my home wifi, intent: wifi, source: https://github.com/someone/tool/issues/4}
- {text: my dog ate my homework, intent: null, source: https://github.com/someone/tool/issues/5}
"""
TWEETS = """
- {text: backup failed again last night, intent: backup_stuck, source: https://social.example/a/1}
- {text: is icloud down right now, intent: icloud_down, source: https://social.example/a/2}
- {text: what's a good pizza place, intent: null, source: https://social.example/b/3}
"""


@pytest.fixture
def two_files(tmp_path: Path) -> list[Path]:
    paths = []
    for name, text in (("forum.yaml", FORUM), ("tweets.yaml", TWEETS)):
        path = tmp_path / name
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
        paths.append(path)
    return paths


def test_cases_remember_their_file_and_source_and_group_a_projects_threads(
    two_files: list[Path],
) -> None:
    cases = load_case_files(two_files)
    assert [c.origin for c in cases] == ["forum.yaml"] * 5 + ["tweets.yaml"] * 3
    assert cases[0].source_group == "forum.example"
    assert cases[3].source_group == cases[4].source_group == "github.com/someone"
    assert cases[0].length == "7-15 words"
    assert Case("backup stuck", "backup_stuck").length == "1-6 words"


def test_held_out_folds_keep_a_file_or_a_whole_source_on_one_side(two_files: list[Path]) -> None:
    both = load_case_files(two_files)
    assert folds_of(both) == [0] * 5 + [1] * 3  # fit on one file, measure on the other
    one = load_cases(two_files[0])
    folds = folds_of(one, folds=2)
    # The two messages of one GitHub project are always held out together.
    assert folds[3] == folds[4]
    assert len(set(folds)) == 2


def test_the_swept_decision_is_exactly_what_decide_says_for_every_threshold(
    catalog: Catalog,
) -> None:
    # The sweep runs `decide` on arrays for speed; it must never disagree with `decide`.
    report = evaluate(Matcher(catalog), load_cases(COMPLAINTS))
    base = Thresholds.of(catalog)
    figures = _DecisionTable(report, base.max_choices).sweep()
    for row in range(0, len(DECISION_GRID), 97):
        accept, confirm, margin, lead = DECISION_GRID[row]
        limits = dataclasses.replace(
            base, accept=accept, confirm=confirm, margin=margin, off_topic_lead=lead
        )
        decided = _redecide(report, limits)
        assert figures.utility[row] == pytest.approx(decided.utility), DECISION_GRID[row]
        assert figures.helpful[row] == pytest.approx(decided.helpful)
        assert figures.wrong_walks[row] == pytest.approx(decided.wrong_walks)
        assert figures.questions[row] == pytest.approx(decided.questions)


def test_a_fitted_decision_keeps_within_the_limits_on_questions_and_wrong_walks(
    catalog: Catalog,
) -> None:
    report = evaluate(Matcher(catalog), load_cases(COMPLAINTS))
    fit = fit_decision(report, Thresholds.of(catalog))
    assert fit.report.questions <= 0.35
    assert fit.report.wrong_walks <= 0.06
    assert fit.report.utility >= 0.9


def test_held_out_figures_come_from_thresholds_fitted_without_the_measured_messages(
    catalog: Catalog, two_files: list[Path]
) -> None:
    cases = load_case_files(two_files)
    base = Thresholds.of(catalog)
    reports = match_blends(catalog, cases, base, grid=((0.5, 0.2), (1.0, 0.2)))
    assert set(reports) == {(0.5, 0.2), (1.0, 0.2)}
    held = held_out(reports, base, folds_of(cases))
    assert [o.case.text for o in held.outcomes] == [c.text for c in cases]  # every case, once
    # The tweets are decided with what was fitted on the forum file alone.
    forum_only = {
        blend: Report([o for o in r.outcomes if o.case.origin == "forum.yaml"])
        for blend, r in reports.items()
    }
    fitted = fit_blend(forum_only, base).thresholds
    tweets = Report(
        [o for o in reports[(fitted.lexical_weight, fitted.semantic_floor)].outcomes][5:]
    )
    expected = [o.match.decision for o in _redecide(tweets, fitted).outcomes]
    assert [o.match.decision for o in held.outcomes[5:]] == expected


def test_fixbot_eval_prints_held_out_figures_beside_the_shipped_ones_by_file_and_length(
    two_files: list[Path],
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot", "eval", *map(str, two_files)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPOSITORY_ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "8 messages (5 in scope, 3 off-topic)" in out
    assert "held out" in out.splitlines()[1]
    assert "By file, held out:" in out and "tweets.yaml" in out
    assert "By length, as shipped:" in out and "7-15 words" in out
    as_json = subprocess.run(
        [sys.executable, "-m", "bot", "eval", "--json", str(two_files[1])],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPOSITORY_ROOT,
        check=False,
    )
    summary = json.loads(as_json.stdout)
    assert summary["messages"] == 3
    assert set(summary["held_out"]) >= {"helpful_in_scope", "off_topic_rejected", "wrong_walks"}
