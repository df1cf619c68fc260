"""Conversation tests in YAML, as a content author writes them: the shipped ones pass, cover
every intent and branch, and a conversation fails, with its transcript, when a step moves."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.catalog import Catalog
from bot.engine import Engine
from bot.errors import ContentError
from bot.rehearsal import CONVERSATIONS_DIR, files_in, load, rehearse
from bot.settings import REPOSITORY_ROOT
from tests.test_cli import fixbot

SHIPPED = REPOSITORY_ROOT / CONVERSATIONS_DIR


def test_the_shipped_conversations_pass() -> None:
    result = fixbot("test")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("conversations passed")
    count = sum(len(load(path)) for path in files_in(SHIPPED))
    assert result.stdout.strip() == f"{count} conversations passed"


def test_every_intent_and_every_branch_of_the_shipped_content_has_a_conversation(
    catalog: Catalog,
) -> None:
    conversations = [c for path in files_in(SHIPPED) for c in load(path)]
    walked = {t.walks for c in conversations for t in c.turns if t.walks}
    assert set(catalog.intents) <= walked
    chosen = [t.choose.casefold() for c in conversations for t in c.turns if t.choose]
    for fix in catalog.fixes.values():
        for step in fix.steps:
            for choice in step.choices:
                assert any(c in choice.label.casefold() for c in chosen), (fix.id, choice.label)


WIFI = {
    "intents/wifi.yaml": """
        id: wifi
        title: Wi-Fi problems
        examples: [wifi won't connect, no wifi]
        fixes: [wifi]
    """,
    "fixes/wifi.yaml": """
        id: wifi
        title: Get onto Wi-Fi
        reason: Backups need Wi-Fi.
        steps:
          - id: switch_on
            text: Turn Wi-Fi on.
          - id: join
            text: Join your network.
    """,
}
CONVERSATION = """
- name: a person whose wifi won't connect turns it on, then joins their network
  turns:
    - say: wifi won't connect
      walks: wifi
      step: switch_on
    - press: done
      step: join
"""


def test_a_conversation_fails_on_a_changed_step_and_passes_on_the_right_one(
    write_content, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    content = write_content(WIFI)
    story = tmp_path / "wifi.yaml"
    story.write_text(CONVERSATION, encoding="utf-8")
    env = {"FIXBOT_CONTENT_DIR": str(content)}
    assert fixbot("test", str(story), env=env).stdout.strip() == "1 conversation passed"

    # An author puts a step before "join": the conversation no longer goes as written.
    (content / "fixes" / "wifi.yaml").write_text(
        (content / "fixes" / "wifi.yaml")
        .read_text()
        .replace(
            "  - id: join", "  - id: forget\n    text: Forget the network first.\n  - id: join"
        ),
        encoding="utf-8",
    )
    failed = fixbot("test", str(story), env=env)
    assert failed.returncode == 1
    assert failed.stdout.strip() == "0 conversations passed, 1 failed"
    assert "turn 2 (presses 'done'): expected step join, the walk is on step 2 (forget)" in (
        failed.stderr
    )
    assert "transcript:" in failed.stderr and 'person: says "wifi won\'t connect"' in failed.stderr


def test_a_conversation_file_with_mistakes_is_refused_with_its_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("- name: two things at once\n  turns:\n    - {say: hi, press: done}\n")
    with pytest.raises(ContentError) as refused:
        load(bad)
    assert "each turn does one thing" in str(refused.value.problems[0])
    assert refused.value.problems[0].file == str(bad)


def test_a_press_the_reply_has_no_button_for_says_which_buttons_there_are(
    catalog: Catalog, tmp_path: Path
) -> None:
    story = tmp_path / "s.yaml"
    story.write_text(
        "- name: back at once\n  turns:\n    - {command: fix wifi}\n    - {press: back}\n"
    )
    result = rehearse(Engine(catalog), load(story)[0], str(story))
    assert not result.passed
    assert result.failure is not None and "no button 'back'" in result.failure
