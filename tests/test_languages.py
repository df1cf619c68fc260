"""Speaking the person's language: content per language, the choice of language, matching in
each, and the whole bot answering a Spanish speaker in Spanish through the local Bot API."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from bot.catalog.loader import load_catalogs, translation_gaps
from bot.engine import Engine
from bot.errors import ContentError
from bot.evaluation import evaluate, load_cases
from bot.languages import Languages, primary
from bot.localapi import LocalBotApi
from bot.session import Stage
from bot.settings import REPOSITORY_ROOT
from bot.store import SQLiteStore
from bot.wording import Wording
from bot.wording import check as check_wording
from tests.transcript import Chat

SHIPPED = ("en", "es", "de", "ru", "pt")
NAMES = {"en": "English", "es": "Español", "de": "Deutsch", "ru": "Русский", "pt": "Português"}
DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def languages() -> Languages:
    return Languages.load(REPOSITORY_ROOT)


@pytest.fixture(scope="module")
def engine(languages: Languages) -> Engine:
    default = languages.default
    return Engine(default.catalog, default.matcher, default.wording, languages=languages)


@dataclass
class SpanishChat(Chat):
    """A chat whose every event says which language the transport picked for the person."""

    language: str | None = "es"

    def _apply(self, event, expect_reply: bool = True):  # type: ignore[no-untyped-def]
        return super()._apply(replace(event, language=self.language), expect_reply)


# -- the shipped content ------------------------------------------------------------------------


def test_the_content_speaks_five_languages_each_naming_itself(languages: Languages) -> None:
    assert list(languages) == ["en", *sorted(SHIPPED[1:])]
    assert {code: languages[code].name for code in SHIPPED} == NAMES


def test_every_language_says_every_fix_and_intent_without_falling_back(
    languages: Languages,
) -> None:
    english = languages.default.catalog
    gaps = translation_gaps(REPOSITORY_ROOT)
    assert gaps == [], [str(g) for g in gaps]
    for code in SHIPPED[1:]:
        catalog = languages[code].catalog
        assert list(catalog.intents) == list(english.intents)
        for fix_id, fix in catalog.fixes.items():
            theirs = english.fix(fix_id)
            # The same steps and branches, said in other words.
            assert [s.id for s in fix.steps] == [s.id for s in theirs.steps]
            assert [[c.next for c in s.choices] for s in fix.steps] == [
                [c.next for c in s.choices] for s in theirs.steps
            ]
            assert fix.title != theirs.title or (fix_id, code) == ("update_ios", "de")
            pairs = zip(fix.steps, theirs.steps, strict=True)
            assert all(fix.step(m.id).text != b.text for m, b in pairs)


def test_the_facts_of_the_content_survive_translation(languages: Languages) -> None:
    for code in SHIPPED:
        catalog = languages[code].catalog
        storage = (
            " ".join(s.text for s in catalog.fix("storage").steps) + catalog.fix("storage").reason
        )
        assert "5" in storage and "1" in storage and "4" in storage
        status = catalog.fix("system_status").step("open_status_page")
        assert status.link is not None
        assert status.link.url == "https://www.apple.com/support/systemstatus/"
        restart = catalog.fix("restart").step("which_model")
        assert "X" in restart.choices[0].label and "8" in restart.choices[1].label


def test_settings_are_called_as_the_phone_calls_them_in_each_language(
    languages: Languages,
) -> None:
    menus = {"en": "Settings", "es": "Ajustes", "de": "Einstellungen", "ru": "Настройки"}
    menus["pt"] = "Ajustes"
    for code, menu in menus.items():
        text = languages[code].catalog.fix("update_ios").step("open_update").text
        assert f"**{menu}**" in text


def test_the_wording_of_every_language_is_valid() -> None:
    errors = [p for p in check_wording(REPOSITORY_ROOT) if not p.fallback]
    assert errors == []
    for code in SHIPPED:
        words = Wording.load(REPOSITORY_ROOT, code)
        assert words.language_name == NAMES[code]


@pytest.mark.parametrize("code", SHIPPED[1:])
def test_each_language_matches_its_own_test_set(languages: Languages, code: str) -> None:
    report = evaluate(languages[code].matcher, load_cases(DATA / f"complaints_{code}.yaml"))
    assert report.helpful >= 0.9, report.render(code)
    assert report.off_topic_rejection >= 0.75, report.render(code)


# -- which language -------------------------------------------------------------------------------


def test_a_person_s_choice_comes_before_telegram_s_language_and_the_group_s(
    languages: Languages,
) -> None:
    assert languages.pick("de", "es", "ru").code == "de"
    assert languages.pick(None, "es", "ru").code == "es"
    assert languages.pick(None, "pt-BR", None).code == "pt"
    assert languages.pick(None, "fr", "ru").code == "ru"  # French is not spoken: the group's
    assert languages.pick(None, "fr", None).code == "en"
    assert primary("es_419") == "es"


def test_the_group_s_language_button_goes_round_the_content_s_languages() -> None:
    from bot.groups import GroupSettings

    codes = ["en", "de", "es"]
    english = GroupSettings()
    assert english.toggled("language", languages=codes).language == "de"
    spanish = GroupSettings(language="es")
    assert spanish.toggled("language", languages=codes).language == "en"
    with pytest.raises(ValueError, match="no group setting"):
        english.toggled("language")  # a content with no languages to go round


# -- the engine in another language ---------------------------------------------------------------


def test_a_spanish_speaker_walks_in_spanish_and_switches_to_german(engine: Engine) -> None:
    chat = SpanishChat(engine)
    reply = chat.say("la copia de seguridad no termina nunca")
    assert "Vamos a arreglarlo" in reply.text
    assert "**Activar la copia en iCloud**" in reply.text
    assert "Solución 1 de 9 · paso 1 de 4" in reply.text
    assert chat.labels(reply)[:2] == ["✅ Hecho", "❌ No ha funcionado"]
    chat.press("Hecho")
    assert "paso 2 de 4" in chat.text
    assert chat.session.language == "es"

    menu = chat.command("language")
    assert menu.text == "¿En qué idioma quieres que te hable?"
    assert chat.labels(menu) == ["English", "Deutsch", "✓ Español", "Português", "Русский"]
    chat.language = None  # the transport now has the choice; the session keeps it meanwhile
    german = chat.press("Deutsch")
    assert chat.turn is not None and chat.turn.language == "de"
    assert "ab jetzt rede ich Deutsch" in german.text
    assert "Schritt 2 von 4" in german.text  # the same step, in German
    assert chat.labels(german)[0] == "✅ Erledigt"
    assert chat.session.stage is Stage.STEP and chat.session.language == "de"
    assert "language_chosen" in chat.results()


def test_language_with_a_code_chooses_at_once_and_an_unknown_one_shows_the_menu(
    engine: Engine,
) -> None:
    chat = SpanishChat(engine, language=None)
    assert "по-русски" in chat.command("language", "ru").text
    assert chat.session.language == "ru" and chat.turn is not None and chat.turn.language == "ru"
    assert chat.command("language", "klingon").text == "На каком языке мне с вами говорить?"


def test_fix_topics_and_refusals_speak_the_person_s_language(engine: Engine) -> None:
    chat = SpanishChat(engine)
    assert "Conectarse al Wi-Fi" in chat.command("fix", "wifi").text
    chat.command("cancel")
    refusal = chat.say("quiero reservar una mesa para cenar")
    assert refusal.text.startswith("Perdona")
    assert "La copia en iCloud falla o no termina" in chat.labels(refusal)
    chat.language = "ru"
    assert "Подключиться к Wi-Fi" in chat.command("fix", "вайфай").text


# -- a message written in another language than the person's -------------------------------------


def test_a_long_spanish_complaint_from_an_english_phone_is_answered_in_spanish(
    engine: Engine,
) -> None:
    chat = SpanishChat(engine, language="en")
    walk = chat.say("la copia de seguridad de mi iphone no termina nunca")
    assert "Solución 1 de 9 · paso 1 de 4" in walk.text
    assert walk.text.endswith("porque me has escrito en español.")
    assert chat.labels(walk)[-2:] == ["Continue in English", "Seguir en español"]
    assert chat.session.heard == "es" and "language_heard" in chat.results()

    step = chat.press("Hecho")  # no choice made: the walk goes on in the message's language
    assert "paso 2 de 4" in step.text and "Seguir en español" not in chat.labels(step)
    english = chat.press("Continue in English", walk)
    assert "I'll speak English" in english.text and "Fix 1 of 9 · step 2 of 4" in english.text
    assert chat.turn is not None and chat.turn.language == "en"  # kept for the person
    assert chat.session.heard is None


def test_the_offer_s_other_button_keeps_the_message_s_language(engine: Engine) -> None:
    chat = SpanishChat(engine, language="en")
    walk = chat.say("mein iPhone macht seit Tagen kein Backup mehr in iCloud")
    assert chat.labels(walk)[-2:] == ["Continue in English", "Weiter auf Deutsch"]
    kept = chat.press("Weiter auf Deutsch")
    assert "ab jetzt rede ich Deutsch" in kept.text and "Schritt 1 von" in kept.text
    assert chat.turn is not None and chat.turn.language == "de"


def test_writing_in_one_s_own_language_again_goes_back_to_it_without_asking(
    engine: Engine,
) -> None:
    chat = SpanishChat(engine, language="en")
    chat.say("мой айфон уже неделю не делает резервную копию в iCloud")
    assert chat.session.heard == "ru"
    back = chat.say("my iphone still will not finish its backup")
    assert "already working on that" in back.text
    assert "Continue in English" not in chat.labels(back)
    assert chat.session.heard is None and chat.session.language == "en"


@pytest.mark.parametrize(
    "text",
    [
        "wifi no va",  # short: a loan word and two words are no proof
        "backup iCloud kaputt",
        "mi iphone",
        "my phone wont charge at all",  # English, with a typo
        "iPhone 15 Pro iOS 17.5 backup failed again",  # brands and numbers
    ],
)
def test_short_or_english_messages_never_flip_an_english_conversation(
    engine: Engine, text: str
) -> None:
    chat = SpanishChat(engine, language="en")
    chat.say(text)
    assert chat.session.language == "en" and chat.session.heard is None
    assert "language_heard" not in chat.results()


def test_no_english_complaint_of_our_own_set_is_read_as_another_language(
    languages: Languages,
) -> None:
    english = languages.default
    flipped = [
        case.text
        for case in load_cases(DATA / "complaints.yaml")
        if languages.read(case.text, english).language is not english
    ]
    assert flipped == []


@pytest.mark.parametrize("code", SHIPPED[1:])
def test_most_of_each_language_s_own_set_is_recognised_from_an_english_phone(
    languages: Languages, code: str
) -> None:
    english = languages.default
    readings = [
        languages.read(c.text, english) for c in load_cases(DATA / f"complaints_{code}.yaml")
    ]
    # Never a third language; the short ones stay English on purpose.
    assert {r.language.code for r in readings} <= {"en", code}
    recognised = sum(r.language.code == code for r in readings)
    assert recognised >= len(readings) // 2, (code, recognised, len(readings))


# -- content authors' mistakes ----------------------------------------------------------------------

ENGLISH_CONTENT = {
    "intents/wifi.yaml": """
        id: wifi
        title: Wi-Fi problems
        examples: [wifi won't connect]
        fixes: [wifi]
    """,
    "fixes/wifi.yaml": """
        id: wifi
        title: Get onto Wi-Fi
        reason: Backups need Wi-Fi.
        steps:
          - id: switch_on
            text: Turn Wi-Fi on.
          - id: pick
            text: Is it on now?
            choices:
              - {label: "Yes", next: end}
              - {label: "No", next: end}
    """,
    "intents/es/_vocabulary.yaml": "language: es\nstemmer: spanish\n",
}


def spanish_wifi(fix: str) -> dict[str, str]:
    """The English content with a Spanish Wi-Fi intent and `fix` as its Spanish fix."""
    spanish = "id: wifi\ntitle: Wi-Fi\nexamples: [el wifi no va]\n"
    return {**ENGLISH_CONTENT, "intents/es/wifi.yaml": spanish, "fixes/es/wifi.yaml": fix}


def test_a_translation_that_changes_the_fix_is_refused_with_its_file(write_content) -> None:  # type: ignore[no-untyped-def]
    root = write_content(
        spanish_wifi(
            """
            id: wifi
            title: Conectarse al Wi-Fi
            reason: La copia necesita Wi-Fi.
            steps:
              switch_onn:
                text: Activa el Wi-Fi.
              pick:
                text: ¿Está activado?
                choices: ["Sí", "No", "Quizá"]
            """
        )
    )
    with pytest.raises(ContentError) as raised:
        load_catalogs(root)
    messages = [str(p) for p in raised.value.problems]
    assert any("fixes/es/wifi.yaml" in m and "no step 'switch_onn'" in m for m in messages)
    assert any("did you mean 'switch_on'" in m for m in messages)
    assert any("3 choices; the English step has 2" in m for m in messages)


def test_a_text_left_out_falls_back_to_english_and_is_listed(write_content) -> None:  # type: ignore[no-untyped-def]
    root = write_content(
        spanish_wifi(
            """
            id: wifi
            title: Conectarse al Wi-Fi
            steps:
              switch_on:
                text: Activa el Wi-Fi.
            """
        )
    )
    catalogs = load_catalogs(root)
    fix = catalogs["es"].fix("wifi")
    assert fix.title == "Conectarse al Wi-Fi"
    assert fix.step("switch_on").text == "Activa el Wi-Fi."
    assert fix.step("pick").text == "Is it on now?"  # English, for that text alone
    assert fix.reason == "Backups need Wi-Fi."
    gaps = [str(g) for g in translation_gaps(root)]
    assert any("fixes/es/wifi.yaml" in g and "reason" in g for g in gaps)
    assert any("steps.pick" in g for g in gaps)


def test_a_language_without_its_profile_is_refused(write_content) -> None:  # type: ignore[no-untyped-def]
    files = {k: v for k, v in ENGLISH_CONTENT.items() if "_vocabulary" not in k}
    files["intents/de/wifi.yaml"] = "id: wifi\nexamples: [wlan geht nicht]\n"
    root = write_content(files)
    with pytest.raises(ContentError) as raised:
        load_catalogs(root)
    assert any("needs its own _vocabulary.yaml" in str(p) for p in raised.value.problems)


# -- kept, and on Telegram ---------------------------------------------------------------------------


async def test_a_person_s_choice_of_language_is_kept_in_the_sqlite_file(tmp_path: Path) -> None:
    from bot.session import Session, SessionKey
    from bot.store.base import TurnWrites

    path = tmp_path / "fixbot.sqlite3"
    store = await SQLiteStore.open(path)
    key = SessionKey(7, 42)
    await store.save_turn(key, Session(), [], 1.0, TurnWrites(language="pt"))
    await store.close()
    again = await SQLiteStore.open(path)
    assert await again.language_of(42) == "pt"
    assert await again.language_of(43) is None
    await again.close()


async def test_on_telegram_a_spanish_phone_gets_spanish_and_can_switch(
    api: LocalBotApi,
    bot,  # type: ignore[no-untyped-def]
) -> None:
    lucia = api.user("Lucía", language="es-ES")
    chat = api.private_chat(lucia)
    await api.send(lucia, chat, "/start")
    welcome = await api.wait_for_bot_message(chat, 1)
    assert welcome.text.startswith("¡Hola! Soy fixbot.")
    assert "language" in api.visible_commands(chat, lucia)
    menu = {c["command"]: c["description"] for c in api.command_menu(chat, lucia)}
    assert menu["language"] == "Elegir el idioma"

    await api.send(lucia, chat, "el wifi no se conecta")
    walk = await api.wait_for_bot_message(chat, 2)
    assert "Conectarse al Wi-Fi" in walk.text
    await api.send(lucia, chat, "/language")
    choose = await api.wait_for_bot_message(chat, 3)
    assert choose.labels == ["English", "Deutsch", "✓ Español", "Português", "Русский"]
    await api.press_button(lucia, choose, "Português")
    chosen = await api.wait_for_edit(chat, choose.message_id, choose.text)
    assert "falo português" in chosen.text
    assert "Entrar no Wi-Fi" in chosen.text  # the walk goes on, in Portuguese
    await api.send(lucia, chat, "/help")
    help_text = await api.wait_for_bot_message(chat, 4)
    assert "/language: escolher a língua" in help_text.text  # the choice beats language_code
    await asyncio.sleep(0)


async def test_on_telegram_a_russian_message_from_an_english_phone_is_answered_in_russian(
    api: LocalBotApi,
    bot,  # type: ignore[no-untyped-def]
) -> None:
    ivan = api.user("Ivan", language="en-GB")
    chat = api.private_chat(ivan)
    await api.send(ivan, chat, "мой айфон уже неделю не подключается к домашнему вайфаю")
    walk = await api.wait_for_bot_message(chat, 1)
    assert "Подключиться к Wi-Fi" in walk.text and "вы написали по-русски" in walk.text
    assert walk.labels[-2:] == ["Continue in English", "Продолжить по-русски"]
    await api.press_button(ivan, walk, "Продолжить по-русски")
    kept = await api.wait_for_edit(chat, walk.message_id, walk.text)
    assert "по-русски" in kept.text and "Продолжить по-русски" not in kept.labels
    await api.send(ivan, chat, "/help")
    help_text = await api.wait_for_bot_message(chat, 2)
    assert "/language" in help_text.text and "язык" in help_text.text  # the choice is kept


async def test_on_telegram_a_german_and_an_english_person_each_walk_in_their_own_in_one_group(
    api: LocalBotApi,
    bot,  # type: ignore[no-untyped-def]
) -> None:
    jonas, kim = api.user("Jonas", language="de-AT"), api.user("Kim", language="en-US")
    group = api.group("Help group", {kim: "creator", jonas: "member"})
    await api.send(jonas, group, "/fix wifi")
    german = await api.wait_for_bot_message(group, 1)
    await api.send(kim, group, "/fix wifi")
    english = await api.wait_for_bot_message(group, 2)
    assert "Schritt 1 von" in german.text and "Erledigt" in " ".join(german.labels)
    assert "Step 1 of" in english.text and "Done" in " ".join(english.labels)
    await api.press_button(jonas, german, "Erledigt")
    moved = await api.wait_for_edit(group, german.message_id, german.text)
    assert "Schritt 2 von" in moved.text
    await api.press_button(kim, moved, "Erledigt")  # not hers: a toast in her language
    toasts = await api.wait_for(lambda: api.toasts(kim))
    assert toasts[-1] == "This one belongs to Jonas. Send /fix to start your own."


async def test_on_telegram_a_french_phone_gets_english_and_a_choice_survives_a_restart(
    api: LocalBotApi, engine: Engine, tmp_path: Path
) -> None:
    from tests.running import Bot

    running = Bot(api, engine, tmp_path)
    await running.start()
    try:
        claire = api.user("Claire", language="fr-FR")
        chat = api.private_chat(claire)
        await api.send(claire, chat, "/start")
        assert (await api.wait_for_bot_message(chat, 1)).text.startswith("Hi! I'm fixbot.")
        await api.send(claire, chat, "/language es")
        assert "español" in (await api.wait_for_bot_message(chat, 2)).text
        await running.stop()
        await running.start()
        await api.send(claire, chat, "/help")
        assert "/language: elegir el idioma" in (await api.wait_for_bot_message(chat, 3)).text
    finally:
        await running.stop()


@pytest.mark.parametrize(("code", "fold"), [("en", False), ("pt", True)])
def test_the_word_lists_are_pyspellchecker_s_words_seen_a_hundred_times_or_more(
    code: str, fold: bool
) -> None:
    from spellchecker import SpellChecker

    from bot.matcher import fold_accents, word_counts

    theirs: dict[str, int] = {}
    for word, count in SpellChecker(language=code).word_frequency.dictionary.items():
        if count >= 100:
            plain = fold_accents(word) if fold else word
            theirs[plain] = theirs.get(plain, 0) + count
    assert dict(word_counts(code, fold)) == theirs
    assert fold_accents("não está") == "nao esta" and fold_accents("йод") == "йод"
