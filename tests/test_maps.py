"""Maps of the walks for content authors: every fix, step and branch of the shipped content
is on its intent's map, and docs/maps.md is the content's map as it is now."""

from __future__ import annotations

import re

from bot.catalog import END, Catalog
from bot.maps import content_maps, fix_map, intent_map
from bot.settings import REPOSITORY_ROOT
from tests.test_cli import fixbot

MAPS = REPOSITORY_ROOT / "docs" / "maps.md"


def test_every_fix_step_and_branch_is_on_its_intent_s_map(catalog: Catalog) -> None:
    for intent in catalog.intents.values():
        drawn = intent_map(intent, catalog)
        assert drawn.startswith("flowchart TD\n")
        for asked, fix_id in enumerate(intent.fixes):
            fix = catalog.fix(fix_id)
            assert f"subgraph fix_{fix.id}[" in drawn
            for step in fix.steps:
                node = f"{fix.id}__{step.id}"
                assert re.search(rf"^\s+{node}[\[{{]", drawn, re.M), (intent.id, node)
                for choice in step.choices:
                    target = f"asked_{asked}" if choice.next == END else f"{fix.id}__{choice.next}"
                    assert re.search(rf"{node} -->\|\"[^\"]+\"\| {target}$", drawn, re.M)
                if step.caution:
                    assert re.search(rf"{node}\[\"⚠️", drawn)
            assert f'asked_{asked} -->|"yes"| fixed' in drawn
        assert drawn.count('-->|"no"|') == len(intent.fixes)  # on to the next, or a person


def test_the_restart_fix_branches_by_model_and_both_ways_end_at_the_question(
    catalog: Catalog,
) -> None:
    drawn = fix_map(catalog.fix("restart"))
    assert '-->|"Face ID (iPhone X or later)"| restart__face_id_hold' in drawn
    assert '-->|"Home button (iPhone 8 or older)"| restart__home_button_hold' in drawn
    assert "restart__face_id_start --> asked" in drawn
    assert "restart__home_button_start --> asked" in drawn


def test_docs_maps_is_the_content_s_map_as_it_is_now(catalog: Catalog) -> None:
    written = content_maps(catalog)
    current = MAPS.read_text(encoding="utf-8") if MAPS.exists() else ""
    if current != written:
        MAPS.write_text(written, encoding="utf-8")  # regenerated: commit it
    assert current == written, "docs/maps.md was stale and has been written again: commit it"


def test_fixbot_map_prints_one_walk_and_names_what_exists_when_asked_for_nothing_known() -> None:
    wifi = fixbot("map", "wifi")
    assert wifi.returncode == 0 and wifi.stdout.startswith("flowchart TD")
    assert "subgraph fix_wifi[" in wifi.stdout
    spanish = fixbot("map", "wifi", "--language", "es")
    assert "Conectarse al Wi-Fi" in spanish.stdout
    unknown = fixbot("map", "bluetooth")
    assert unknown.returncode == 1 and "no intent or fix 'bluetooth'" in unknown.stderr
