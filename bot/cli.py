"""The command line: `fixbot run | chat | check | match | eval`.

The only module that reads the environment, configures logging, prints and chooses exit codes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import re
import shlex
import shutil
import signal
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any, Final, TypeVar
from urllib.parse import urlsplit

from pydantic import ValidationError

from bot import __version__, charts, demo
from bot import stats as outcome_stats
from bot.catalog import MATCHER_FILE, Catalog, load_catalog
from bot.catalog.loader import ENGLISH, languages_in, load_catalogs, translation_gaps
from bot.conversations import Conversations
from bot.engine import Engine
from bot.errors import ConfigError, ContentError, FixbotError, StoreError
from bot.evaluation import (
    LENGTH_BANDS,
    Case,
    Fit,
    Report,
    collisions,
    evaluate,
    fit_blend,
    fit_thresholds,
    folds_of,
    held_out,
    leave_one_out,
    load_case_files,
    match_blends,
    tuning_yaml,
)
from bot.languages import Languages, supported_code
from bot.logs import JsonFormatter
from bot.matcher import Decision, Match, Matcher, Thresholds
from bot.settings import ENV_FILE, Settings
from bot.store import SQLiteStore, Store, open_store, open_url
from bot.store.base import OutcomeRow, Outcomes, Upkeep
from bot.store.sqlite import DATABASE_FILE
from bot.transports.console import ConsoleChat
from bot.wording import Wording
from bot.wording import check as check_wording

log = logging.getLogger("fixbot")

_T = TypeVar("_T")

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_USAGE = 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        settings = _settings()
        _configure_logging(settings.log_level, settings.log_messages, settings.log_format)
        return int(args.handler(args, settings))
    except ContentError as exc:
        _print_content_problems(exc)
        return EXIT_PROBLEMS
    except FixbotError as exc:
        print(f"fixbot: {exc}", file=sys.stderr)
        return EXIT_PROBLEMS
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`fixbot match --json ... | head`): not an error of ours.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fixbot", description="A bot that walks people through fixing their own problems."
    )
    parser.add_argument("--version", action="version", version=f"fixbot {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    _add_run_commands(commands)
    chat = commands.add_parser("chat", help="chat with fixbot in this terminal")
    chat.add_argument(
        "--language", metavar="CODE", help="the language to speak (es, de...); else English"
    )
    chat.set_defaults(handler=_cmd_chat)

    maps = commands.add_parser(
        "map",
        help="a map of a walk (Mermaid): an intent's fixes, steps, branches and exits",
        description="Print an intent's walk (or one fix) as a Mermaid flowchart, which "
        "GitHub and most Markdown viewers draw; with no TOPIC, every intent.",
    )
    maps.add_argument("topic", nargs="?", help="an intent or fix id (every intent when left out)")
    maps.add_argument(
        "--markdown", action="store_true", help="every intent's map as one Markdown page"
    )
    maps.add_argument("--language", metavar="CODE", help="the content in this language")
    maps.set_defaults(handler=_cmd_map)

    rehearse = commands.add_parser(
        "test",
        help="rehearse conversation tests (conversations/*.yaml) on the real engine",
        description="Run conversations written in YAML on the real engine and the content of "
        "FIXBOT_CONTENT_DIR: each turn says what the person does and what must follow. With "
        "no FILES, the content's own conversations/ folder.",
    )
    rehearse.add_argument("files", nargs="*", type=Path, metavar="FILE")
    rehearse.set_defaults(handler=_cmd_test)

    check = commands.add_parser("check", help="validate the content (intents and fixes)")
    check.set_defaults(handler=_cmd_check)

    health = commands.add_parser(
        "health",
        help="ask the running bot's /healthz (FIXBOT_HEALTH_PORT); exit 0 when healthy",
        description="For a container's HEALTHCHECK: asks http://127.0.0.1:$FIXBOT_HEALTH_PORT/"
        "healthz and exits 0 when the bot is live and its database answers, 1 otherwise.",
    )
    health.set_defaults(handler=_cmd_health)

    _add_matcher_commands(commands)
    _add_report_commands(commands)
    return parser


def _add_matcher_commands(commands: Any) -> None:
    """The matcher, for content authors: match, eval, tune."""
    match = commands.add_parser(
        "match",
        help="show which intent a message matches, and why",
        description="Match a message. With no TEXT, read one message per line from standard "
        "input (at a terminal, with a prompt) and explain each; with --json, write one JSON "
        "object per line.",
    )
    match.add_argument("text", nargs="*", help="the message (several words are joined)")
    match.add_argument(
        "--language", metavar="CODE", help="match with this language's content (es, de...)"
    )
    match.add_argument("--json", action="store_true", help="JSON output, one object per line")
    match.set_defaults(handler=_cmd_match)

    evaluate = commands.add_parser(
        "eval",
        help="measure the matcher on labelled YAML files of messages",
        description="Measure the matcher as shipped, and held out: with the blend and the "
        "decision fitted on the other files (several FILES) or on the file's other sources "
        "(one FILE), never on the messages measured.",
    )
    evaluate.add_argument(
        "files",
        type=Path,
        nargs="+",
        metavar="FILE",
        help="a YAML list of {text: ..., intent: id-or-null, also: [ids], source: address}",
    )
    evaluate.add_argument(
        "--no-held-out", action="store_true", help="skip the held-out figures (faster)"
    )
    evaluate.add_argument(
        "--loo", action="store_true", help="also run leave-one-out over the content's examples"
    )
    evaluate.add_argument("--json", action="store_true", help="the figures as one JSON object")
    evaluate.add_argument(
        "--language", metavar="CODE", help="measure this language's matcher (es, de...)"
    )
    evaluate.set_defaults(handler=_cmd_eval)

    tune = commands.add_parser(
        "tune", help="fit the matcher's thresholds by leave-one-out over the content"
    )
    tune.add_argument(
        "--dry-run", action="store_true", help=f"print the best, do not write {MATCHER_FILE}"
    )
    tune.add_argument(
        "--cases",
        type=Path,
        nargs="+",
        metavar="FILE",
        help="labelled real messages to fit the blend (lexical_weight, semantic_floor) and the "
        "decision (accept, confirm, margin, off_topic_lead) on (see fixbot eval)",
    )
    tune.add_argument(
        "--language",
        metavar="CODE",
        help=f"fit this language's matcher and write intents/CODE/{MATCHER_FILE}",
    )
    tune.add_argument(
        "--decision-only",
        action="store_true",
        help="keep the content's scoring weights; fit only the blend and the decision (fast)",
    )
    tune.set_defaults(handler=_cmd_tune)


def _add_run_commands(commands: Any) -> None:
    """The bot itself: on Telegram, or in the playground."""
    run = commands.add_parser(
        "run",
        help="run the Telegram bot",
        description="Run the Telegram bot. Without TELEGRAM_BOT_TOKEN it stops with exit code "
        "1 and says how to get a token (so that Docker or systemd see a failure), unless "
        "--without-token says what to start instead.",
    )
    run.add_argument(
        "--without-token",
        choices=("fail", "chat", "play"),
        default="fail",
        help="without a token: fail (the default), chat in this terminal, or open the "
        "playground (`make run`)",
    )
    run.set_defaults(handler=_cmd_run)

    play = commands.add_parser(
        "play",
        help="try the real bot in your browser, on a Bot API running on this machine",
        description="Start a Bot API server on 127.0.0.1, the real bot against it, and a page "
        "that looks like a Telegram client: a private chat, a support group with topics, three "
        "people to switch between (and the staff chat, with --staff or FIXBOT_STAFF_CHAT_ID). "
        "No token, nothing from the internet; the walks are kept in a database of their own.",
    )
    play.add_argument(
        "--port", type=int, default=PLAY_PORT, help=f"the page's port (default {PLAY_PORT})"
    )
    play.add_argument(
        "--staff", action="store_true", help="a staff desk in the playground (its own staff chat)"
    )
    play.set_defaults(handler=_cmd_play)


def _add_report_commands(commands: Any) -> None:
    """What the bot's database says: stats and gaps."""
    stats = commands.add_parser(
        "stats", help="what the outcomes say: walks, resolutions, fixes, cases, ratings"
    )
    stats.add_argument("--days", type=int, help="only the last N days (default: all kept)")
    stats.add_argument("--json", action="store_true", help="the figures as one JSON object")
    stats.add_argument(
        "--chart", type=Path, metavar="FILE.png", help="also draw the chart into FILE.png"
    )
    stats.add_argument(
        "--demo",
        action="store_true",
        help=f"not the bot's database: {demo.PEOPLE} made-up people over {demo.DAYS} days, "
        "played through the real engine",
    )
    stats.set_defaults(handler=_cmd_stats)

    migrate = commands.add_parser(
        "migrate-store",
        help="carry sessions, outcomes, cases and settings from SQLite to PostgreSQL",
        description="Copy a stopped bot's SQLite store into an empty PostgreSQL database "
        "(walks continue where they stopped; case numbers are kept). Then set "
        "FIXBOT_DATABASE_URL to the target and start the bot (or its replicas).",
    )
    migrate.add_argument(
        "--from",
        dest="source",
        required=True,
        metavar="URL",
        help="sqlite:///path/to/data-folder (or to its fixbot.sqlite3)",
    )
    migrate.add_argument(
        "--to", dest="target", required=True, metavar="URL", help="postgresql://user:pass@host/db"
    )
    migrate.set_defaults(handler=_cmd_migrate_store)

    gaps = commands.add_parser(
        "gaps", help="messages that got a question or a refusal, grouped by nearest intent"
    )
    gaps.add_argument("--json", action="store_true", help="the groups as one JSON object")
    gaps.add_argument(
        "--export", type=Path, metavar="FILE", help="write them as a labelled YAML skeleton"
    )
    gaps.set_defaults(handler=_cmd_gaps)


def _settings() -> Settings:
    try:
        return Settings()
    except OSError as exc:
        raise ConfigError(f"cannot read {ENV_FILE} ({exc.strerror})") from None
    except ValidationError as exc:
        wrong = "; ".join(_setting_error(e) for e in exc.errors())
        raise ConfigError(f"invalid setting(s): {wrong}; see .env.example") from None


def _setting_error(error: Any) -> str:
    """ "FIXBOT_STAFF_HOURS: 'Mon-Xyz ...' is not a day ..." (the value only where it is
    not a secret)."""
    name = str(error["loc"][0]).upper() if error.get("loc") else "?"
    if not name.startswith(("FIXBOT_", "TELEGRAM_")):
        name = f"FIXBOT_{name}"
    why = str(error.get("msg", "invalid")).removeprefix("Value error, ")
    secret = "TOKEN" in name or "SECRET" in name or "DATABASE_URL" in name
    value = "" if secret or "input" not in error else f" (got {str(error['input'])[:60]!r})"
    return f"{name}{value}: {why}"


def _configure_logging(level: str, log_messages: bool = False, form: str = "text") -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if form == "json":
        for handler in logging.getLogger().handlers:
            handler.setFormatter(JsonFormatter())
    # At INFO httpx logs every request URL, and Bot API URLs contain the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    if not log_messages:
        # At DEBUG python-telegram-bot logs whole updates and requests: people's messages,
        # names and ids. Only FIXBOT_LOG_MESSAGES=true lets them into the log.
        logging.getLogger("telegram").setLevel(max(logging.INFO, logging.getLogger().level))


def _print_content_problems(exc: ContentError) -> None:
    print(f"The content has {len(exc.problems)} problem(s):", file=sys.stderr)
    for problem in exc.problems:
        print(f"  {problem}", file=sys.stderr)


def _cmd_test(args: argparse.Namespace, settings: Settings) -> int:
    from bot import rehearsal

    files = args.files or rehearsal.files_in(settings.content_dir / rehearsal.CONVERSATIONS_DIR)
    if not files:
        raise ConfigError(
            f"no conversation tests: give FILES, or write some in "
            f"{settings.content_dir / rehearsal.CONVERSATIONS_DIR} (docs/content.md)"
        )
    engine = _engine(settings)
    results = [
        rehearsal.rehearse(engine, conversation, str(path))
        for path in files
        for conversation in rehearsal.load(path)
    ]
    failed = [r for r in results if not r.passed]
    for result in failed:
        print(result.report(), file=sys.stderr)
    passed = len(results) - len(failed)
    print(f"{passed} conversation{'s' if passed != 1 else ''} passed", end="")
    print(f", {len(failed)} failed" if failed else "")
    return EXIT_PROBLEMS if failed else EXIT_OK


def _cmd_map(args: argparse.Namespace, settings: Settings) -> int:
    from bot import maps

    catalog = _language_catalog(settings, args.language)
    if args.markdown or not args.topic:
        if args.markdown:
            print(maps.content_maps(catalog), end="")
        else:
            print("\n".join(maps.intent_map(i, catalog) for i in catalog.intents.values()), end="")
        return EXIT_OK
    if args.topic in catalog.intents:
        print(maps.intent_map(catalog.intents[args.topic], catalog), end="")
    elif args.topic in catalog.fixes:
        print(maps.fix_map(catalog.fixes[args.topic]), end="")
    else:
        known = ", ".join([*catalog.intents, *catalog.fixes])
        raise ConfigError(f"no intent or fix {args.topic!r}; the content has: {known}")
    return EXIT_OK


def _cmd_check(args: argparse.Namespace, settings: Settings) -> int:
    catalogs = load_catalogs(settings.content_dir)
    catalog = catalogs[ENGLISH]
    found = check_wording(settings.content_dir)
    errors = [p for p in found if not p.fallback]
    if errors:
        print(f"The wording has {len(errors)} problem(s):", file=sys.stderr)
        for problem in errors:
            where = f"{problem.file}:{problem.line}" if problem.line else problem.file
            print(
                f"  {where}: {problem.key}: {problem.message}".replace(": : ", ": "),
                file=sys.stderr,
            )
        return EXIT_PROBLEMS
    unspoken = _unspoken_staff_language(settings, catalogs)
    if unspoken is not None:
        print(unspoken, file=sys.stderr)
        return EXIT_PROBLEMS
    summary = catalog.summary()
    print(f"Content in {settings.content_dir} is valid:")
    print(
        f"  {summary['intents']} intents, {summary['fixes']} fixes, {summary['steps']} steps, "
        f"{summary['examples']} examples, {summary['off_topic_examples']} off-topic examples"
    )
    for intent in catalog.intents.values():
        print(
            f"  intent {intent.id:<16} {len(intent.examples):>3} examples → {', '.join(intent.fixes)}"
        )
    for code, other in catalogs.items():
        if code != ENGLISH:
            counted = other.summary()
            print(
                f"  language {code}: {counted['examples']} examples, "
                f"{counted['off_topic_examples']} off-topic examples"
            )
    left: dict[str, list[str]] = {}
    for problem in found:
        left.setdefault(problem.file, []).append(problem.key)
    for gap in translation_gaps(settings.content_dir):
        left.setdefault(gap.file, []).append(gap.path or gap.message)
    for file, keys in sorted(left.items()):
        shown = ", ".join(keys[:8]) + (f" and {len(keys) - 8} more" if len(keys) > 8 else "")
        print(f"  {file}: {len(keys)} text(s) not translated, English is used: {shown}")
    return EXIT_OK


def _cmd_health(args: argparse.Namespace, settings: Settings) -> int:
    if settings.health_port is None:
        raise ConfigError("FIXBOT_HEALTH_PORT is not set: the bot serves no /healthz to ask")
    host = "127.0.0.1" if settings.health_listen in ("0.0.0.0", "") else settings.health_listen
    url = f"http://{host}:{settings.health_port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=4) as response:
            print(response.read().decode())
            return EXIT_OK
    except urllib.error.HTTPError as exc:
        print(f"unhealthy: {exc.read().decode()}", file=sys.stderr)
    except OSError as exc:
        print(f"no answer from {url} ({getattr(exc, 'reason', exc)})", file=sys.stderr)
    return EXIT_PROBLEMS


def _language_catalog(settings: Settings, language: str | None) -> Catalog:
    """The catalog of `language` (English when None); ConfigError for one the content lacks."""
    catalogs = load_catalogs(settings.content_dir)
    return catalogs[_spoken(language, catalogs) if language else ENGLISH]


def _spoken(language: str, spoken: Iterable[str]) -> str:
    """--language's code as the content has it ("pt-BR" -> "pt"); ConfigError otherwise."""
    code = supported_code(language, spoken)
    if code is None:
        raise ConfigError(f"--language {language}: the content speaks {', '.join(spoken)}")
    return code


def _cmd_match(args: argparse.Namespace, settings: Settings) -> int:
    matcher = Matcher(_language_catalog(settings, args.language))
    if args.text:
        result = matcher.match(" ".join(args.text))
        print(match_json(result, matcher) if args.json else describe_match(result))
        return EXIT_OK
    # No message given: one a line from standard input, as `rasa shell nlu` reads them (at a
    # terminal, with a prompt). Lines are read as bytes and decoded leniently: binary junk
    # gets a result, not a crash.
    interactive = not args.json and sys.stdin.isatty()
    if interactive:
        print("Type a message to see how fixbot reads it; Ctrl-D to leave.", file=sys.stderr)
    while True:
        if interactive:
            sys.stderr.write("> ")
            sys.stderr.flush()
        raw = sys.stdin.buffer.readline()
        if not raw:
            break
        text = raw.decode("utf-8", errors="replace").rstrip("\r\n")
        if not text.strip() and not args.json:
            continue
        result = matcher.match(text)
        line = match_json(result, matcher) if args.json else describe_match(result)
        sys.stdout.write(line + "\n")
        sys.stdout.flush()
    return EXIT_OK


def match_json(result: Match, matcher: Matcher | None = None) -> str:
    """One line of `fixbot match --json`."""
    language = matcher.catalog.vocabulary.language if matcher is not None else ENGLISH
    line: dict[str, Any] = {
        "text": result.text,
        "language": language,
        "intent": result.intent,
        "decision": result.decision.value,
        "options": list(result.choices),
        "score": result.score,
        "candidates": [{"intent": c.intent, "score": c.score} for c in result.candidates],
    }
    if result.other_device is not None:
        line["other_device"] = result.other_device  # why a good match was not walked
    if result.decision is Decision.NONE and result.off_topic is not None:
        # what the message looked like instead: {"topic": "app_store", "score": 0.62}
        line["off_topic"] = {"topic": result.off_topic_topic, "score": result.off_topic.score}
    return json.dumps(line, ensure_ascii=False)


def describe_match(result: Match) -> str:
    """`fixbot match` for people: the decision, the candidates and the evidence."""
    lines = [f"message:   {result.text[:200]!r}"]
    if result.corrections:
        fixed = ", ".join(f"{typed} -> {read}" for typed, read in result.corrections)
        lines.append(f"typos:     {fixed}")
    lines.append(f"terms:     {' '.join(result.terms) or '(none)'}")
    choices = ", ".join(result.choices) or "no intent"
    lines.append(f"decision:  {result.decision.value} -> {choices}")
    lines.append(f"why:       {result.reason}")
    if result.candidates:
        lines.append("candidates:")
    for rank, candidate in enumerate(result.candidates, 1):
        lines.append(
            f"  {rank}. {candidate.intent:<16} {candidate.score:.2f}  (words {candidate.lexical:.2f}, "
            f"meaning {candidate.semantic:.2f})  best example {candidate.example!r}; "
            f"explains: {', '.join(candidate.matched) or '-'}"
        )
    if result.off_topic is not None:
        lines.append(
            f"off-topic: {result.off_topic.score:.2f}  closest {result.off_topic.example!r}"
            f" ({result.off_topic_topic})"
        )
    if result.second is not None:
        lines.append(f"another clause: {result.second.intent} {result.second.score:.2f}")
    return "\n".join(lines)


def _cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    catalog = _language_catalog(settings, args.language)
    matcher = Matcher(catalog)
    cases = load_case_files(args.files)
    report = evaluate(matcher, cases)
    held = None if args.no_held_out else _held_out(catalog, cases, matcher.thresholds)
    if args.json:
        summary = report.summary()
        if held is not None:
            summary["held_out"] = {
                k: v for k, v in held.summary().items() if k not in ("misses", "confusion")
            }
        print(json.dumps(summary, ensure_ascii=False, indent=2))
        return EXIT_OK
    names = ", ".join(str(f) for f in args.files)
    print(report.render(f"Evaluation of {names}", held))
    if len(args.files) > 1:
        print()
        print("\n".join(report.breakdown("By file, as shipped", lambda c: c.origin)))
        if held is not None:
            print("\n".join(held.breakdown("By file, held out", lambda c: c.origin)))
    print()
    print("\n".join(report.breakdown("By length, as shipped", lambda c: c.length, order=LENGTHS)))
    print()
    print("\n".join(report.breakdown("By source (5 messages or more)", _site, least=5)))
    clashes = collisions(matcher)
    print(f"\nContent examples that match another intent at least as well ({len(clashes)}):")
    for intent_id, example, rival in clashes:
        print(f"  {intent_id}: {example!r} -> {rival}")
    if args.loo:
        print()
        print(leave_one_out(catalog).render("Leave-one-out over the content"))
    return EXIT_OK


LENGTHS = tuple(band for _, band in LENGTH_BANDS)


def _site(case: Case) -> str:
    return case.source_group.split("/")[0]


def _held_out(catalog: Catalog, cases: list[Case], base: Thresholds) -> Report:
    """The cases decided with a blend and decision fitted on the other files (or sources)."""
    return held_out(match_blends(catalog, cases, base), base, folds_of(cases))


def _cmd_tune(args: argparse.Namespace, settings: Settings) -> int:
    if args.decision_only and not args.cases:
        print("fixbot tune: --decision-only needs --cases FILE", file=sys.stderr)
        return EXIT_USAGE
    catalog = _language_catalog(settings, args.language)
    if args.decision_only:
        best = Fit(Thresholds.of(catalog), Report())
    else:
        best = _fit_by_leave_one_out(catalog)
    measured: list[str] = []
    if args.cases:
        best, measured = _fit_on_cases(catalog, best.thresholds, args.cases)
    folder = settings.content_dir / "intents"
    code = catalog.vocabulary.language
    target = (folder if code == ENGLISH else folder / code) / MATCHER_FILE
    if args.dry_run:
        print(f"Not written (--dry-run); these would go to {target}.")
        return EXIT_OK
    target.write_text(tuning_yaml(best.thresholds, best.report, measured), encoding="utf-8")
    print(f"Wrote {target}.")
    return EXIT_OK


def _fit_by_leave_one_out(catalog: Catalog) -> Fit:
    """Every threshold fitted by leave-one-out over the content, with progress; the five
    best printed, the best returned."""
    started = time.monotonic()

    def progress(done: int, total: int) -> None:
        elapsed = time.monotonic() - started
        left = elapsed / done * (total - done)
        print(
            f"  leave-one-out {done}/{total}, {elapsed:.0f} s so far, about {left:.0f} s left",
            file=sys.stderr,
            flush=True,
        )

    fits = fit_thresholds(catalog, progress=progress)
    print("Best thresholds by leave-one-out utility (see bot/evaluation.py, UTILITY):")
    for fit in fits[:5]:
        t, r = fit.thresholds, fit.report
        print(
            f"  utility {r.utility:.3f}  accuracy {r.accuracy:.1%}  off-topic rejected "
            f"{r.off_topic_rejection:.1%}  questions {r.questions:.1%}  <- accept={t.accept} "
            f"confirm={t.confirm} margin={t.margin} example_weight={t.example_weight} "
            f"unknown_weight={t.unknown_weight} everyday_word_weight={t.everyday_word_weight}"
        )
    return fits[0]


def _fit_on_cases(catalog: Catalog, base: Thresholds, paths: list[Path]) -> tuple[Fit, list[str]]:
    """The blend and the decision fitted on labelled real messages, with the honest figure
    beside it: the same fit, held out by file (several files) or by source (one); and the
    lines that say so, for intents/_matcher.yaml."""
    cases = load_case_files(paths)
    reports = match_blends(catalog, cases, base)
    best = fit_blend(reports, base)
    held = held_out(reports, base, folds_of(cases))
    t = best.thresholds
    names = ", ".join(p.name for p in paths)
    how = "each file fitted on the others" if len(paths) > 1 else "by source"
    print(
        f"\nOn {names} ({len(cases)} messages): lexical_weight={t.lexical_weight} "
        f"semantic_floor={t.semantic_floor} accept={t.accept} confirm={t.confirm} "
        f"margin={t.margin} off_topic_lead={t.off_topic_lead}"
    )
    measured = [f"fitted on {names}"]
    for name, report in (("in sample", best.report), (f"held out ({how})", held)):
        line = f"{name}: {report.figures()}"
        print(f"  {line}")
        measured.append(line)
    if len(paths) > 1:
        for name, part in held.by(lambda c: c.origin).items():
            line = f"held out, {name}: {part.figures()}"
            print(f"  {line}")
            measured.append(line)
    return best, measured


def _keep_unanswered(settings: Settings) -> float:
    return settings.keep_unmatched_days * 24 * 3600.0


def _read_store(settings: Settings, read: Callable[[Store], Awaitable[_T]]) -> _T:
    """Read the bot's database beside a running bot (read-only, no lock taken)."""
    url = settings.database
    if url:

        async def shared() -> _T:
            async with await open_url(url) as store:
                return await read(store)

        return asyncio.run(shared())
    path = settings.data_dir / DATABASE_FILE
    if not path.is_file():
        raise ConfigError(
            f"no database at {path.resolve()} yet: run the bot first, or set FIXBOT_DATA_DIR"
        )

    async def reading() -> _T:
        async with await SQLiteStore.open(path, read_only=True) as store:
            return await read(store)

    return asyncio.run(reading())


def _cmd_gaps(args: argparse.Namespace, settings: Settings) -> int:
    rows = _read_store(settings, lambda store: store.unanswered())
    if args.export is not None:
        try:
            args.export.write_text(outcome_stats.gaps_yaml(rows, time.time()), encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot write {args.export} ({exc.strerror})") from None
        print(
            f"wrote {len(rows)} messages to {args.export}; label them, then: "
            f"fixbot eval {args.export}"
        )
        return EXIT_OK
    found = outcome_stats.gaps(rows)
    if args.json:
        groups = [outcome_stats.to_plain(g) for g in found]
        print(json.dumps({"total": len(rows), "groups": groups}, ensure_ascii=False, indent=2))
        return EXIT_OK
    if not found:
        print("No unanswered messages kept (see FIXBOT_KEEP_UNMATCHED_DAYS).")
    for gap in found:
        print(f"{gap.count:>5}  nearest {gap.nearest}")
        for at, text in gap.examples:
            day = time.strftime("%Y-%m-%d", time.gmtime(at))
            short = text if len(text) <= 100 else text[:99] + "…"
            print(f"       {day}  {short}")
    return EXIT_OK


def _cmd_migrate_store(args: argparse.Namespace, settings: Settings) -> int:
    from bot.store.factory import SQLITE, sqlite_path
    from bot.store.migrate import sqlite_to_postgres
    from bot.store.postgres import is_postgres_url, redacted

    if urlsplit(args.source).scheme != SQLITE:
        raise ConfigError(f"--from {redacted(args.source)}: give the SQLite store, sqlite:///path")
    if not is_postgres_url(args.target):
        raise ConfigError(f"--to {redacted(args.target)}: give postgresql://user:pass@host/db")
    password = urlsplit(args.target).password
    if password:
        _hide_from_logs(password)
    source = sqlite_path(args.source)
    carried = asyncio.run(sqlite_to_postgres(source, args.target))
    print(f"Carried {source} to {redacted(args.target)}: {carried}")
    print("Now set FIXBOT_DATABASE_URL to it and start the bot.")
    return EXIT_OK


def _cmd_stats(args: argparse.Namespace, settings: Settings) -> int:
    if args.days is not None and args.days < 1:
        raise ConfigError("--days must be 1 or more")
    catalog = load_catalog(settings.content_dir)
    now = time.time()
    rows: list[OutcomeRow]
    if args.demo:
        rows = asyncio.run(_demo_outcomes(catalog, now))
    else:
        rows = _read_store(settings, lambda s: s.outcomes())
    since = now - args.days * 86400 if args.days else None
    summary = outcome_stats.summarise(rows, now, since)
    # The learned order weighs every outcome kept, whatever --days says.
    orders = outcome_stats.learn_orders(outcome_stats.rebuild_walks(rows, now), catalog)
    intents, fixes = catalog.titles()
    if args.chart is not None:
        if args.demo:
            period = f"{demo.DAYS} days of made-up people (demo)"
        else:
            period = outcome_stats.period(summary)
        png = charts.outcomes_chart(summary, intents, fixes, period)
        try:
            args.chart.write_bytes(png)
        except OSError as exc:
            raise ConfigError(f"cannot write the chart to {args.chart}: {exc.strerror}") from None
        print(f"chart: {args.chart} ({charts.WIDTH}x{charts.HEIGHT} PNG)", file=sys.stderr)
    if args.json:
        data = summary.to_json()
        data["orders"] = {i: outcome_stats.to_plain(o) for i, o in orders.items()}
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return EXIT_OK
    names = {
        code: Wording.load(settings.content_dir, code).language_name
        for code in (ENGLISH, *languages_in(settings.content_dir))
    }
    print(outcome_stats.report(summary, intents, fixes, names))
    print(outcome_stats.orders_report(orders, fixes, settings.learn_order))
    return EXIT_OK


async def _demo_outcomes(catalog: Catalog, now: float) -> list[OutcomeRow]:
    async with await demo.demo_store(catalog, now) as store:
        return await store.outcomes()


def _engine(settings: Settings, handover: bool = False) -> Engine:
    """The engine every transport runs: all of the content's languages, English first."""
    languages = Languages.load(settings.content_dir)
    default = languages.default
    return Engine(
        default.catalog,
        default.matcher,
        default.wording,
        handover=handover,
        hours=settings.business_hours if handover else None,
        languages=languages,
    )


def _cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    engine = _engine(settings)
    language = _spoken(args.language, engine.languages) if args.language else None
    asyncio.run(_console(engine, settings, language))
    return EXIT_OK


async def _console(engine: Engine, settings: Settings, language: str | None = None) -> None:
    async with await open_store(
        settings.data_dir, keep_unanswered=_keep_unanswered(settings), url=settings.database
    ) as store:
        chat = ConsoleChat(
            Conversations(engine, store),
            sys.stdin,
            sys.stdout,
            color=sys.stdout.isatty(),
            again=_how_to_chat_again(),
            interactive=sys.stdin.isatty() and sys.stdout.isatty(),
            language=language,
        )
        await chat.run()


NO_TOKEN: Final = (
    "fixbot: no Telegram token (TELEGRAM_BOT_TOKEN is not set).\n"
    "To connect to Telegram, get a token from @BotFather (send it /newbot) and put\n"
    "TELEGRAM_BOT_TOKEN=... in {env} or the environment, then run again.\n"
)


PLAY_PORT: Final = 8765
PLAY_STAFF_CHAT: Final = -1001000000999
"""The playground's staff chat, when it has one and FIXBOT_STAFF_CHAT_ID names none."""


def _cmd_play(args: argparse.Namespace, settings: Settings) -> int:
    if not 0 <= args.port <= 65535:
        raise ConfigError("--port must be 0 to 65535")
    return _play(load_catalog(settings.content_dir), settings, args.port, args.staff)


def _play(catalog: Catalog, settings: Settings, port: int, staff: bool) -> int:
    staff_chat = settings.staff_chat_id or (PLAY_STAFF_CHAT if staff else None)
    engine = _engine(settings, handover=staff_chat is not None)
    _check_staff_language(settings, engine)
    asyncio.run(_playground(engine, settings, port, staff_chat))
    return EXIT_OK


async def _playground(engine: Engine, settings: Settings, port: int, staff: int | None) -> None:
    """The playground until Ctrl-C: the local Bot API, the real bot polling it over HTTP,
    and the page."""
    from bot.localapi import LocalBotApi
    from bot.localapi.playground import Playground, world
    from bot.localapi.server import random_token
    from bot.transports.telegram import TelegramConfig, build_application, polling
    from bot.transports.telegram.compose import compose

    stop = _stopped_by_signals()
    data = settings.data_dir / "playground"
    async with await open_store(data) as store:
        # The embedded Bot API continues past the update ids this data folder has seen, so
        # that nothing said after a restart looks like a repeat.
        first = max(await store.inbox_seen(), default=0) + 1
        async with LocalBotApi(random_token(), first_update_id=first) as api:
            playground = Playground(api, world(api, staff))
            services = compose(
                engine, store, _desk_config(settings, staff), None, settings.staff_language
            )
            application = build_application(TelegramConfig(api.token, api.base_url), services)
            async with polling(application, poll_timeout=10):
                try:
                    bound = await playground.start(port)
                except OSError as exc:
                    raise ConfigError(
                        f"the playground cannot listen on 127.0.0.1:{port} ({exc.strerror}); "
                        "choose another with `fixbot play --port N`"
                    ) from None
                print(f"fixbot playground: http://127.0.0.1:{bound}/", flush=True)
                print(f"(its walks are kept in {data}; stop with Ctrl-C)", file=sys.stderr)
                try:
                    await stop.wait()
                finally:
                    await playground.stop()


def _how_to_chat_again() -> str:
    """The command that brings this person back to the chat, as they can type it from
    where they are: `fixbot chat` when that is this fixbot, else this very Python (a bare
    `python -m bot` fails outside the virtual environment)."""
    found = shutil.which("fixbot")
    here = Path(sys.executable).parent
    if found and Path(found).resolve().parent == here.resolve():
        return "fixbot chat"
    python = Path(sys.executable)
    with contextlib.suppress(ValueError):
        python = python.relative_to(Path.cwd())
    return f"{shlex.quote(str(python))} -m bot chat"


def _cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    catalog = load_catalog(settings.content_dir)
    if not settings.has_token:
        print(NO_TOKEN.format(env=ENV_FILE), file=sys.stderr, end="")
        if args.without_token == "chat":
            print("Meanwhile, here is fixbot in this terminal.\n", file=sys.stderr)
            asyncio.run(_console(_engine(settings), settings))
            return EXIT_OK
        if args.without_token == "play":
            print("Meanwhile, here is fixbot in your browser.\n", file=sys.stderr)
            return _play(catalog, settings, PLAY_PORT, staff=False)
        print(
            "To try fixbot without a token: `fixbot chat` (or `make run`) chats in this terminal.",
            file=sys.stderr,
        )
        return EXIT_PROBLEMS
    if settings.webhook_url:
        _check_webhook_secret(settings)
    _hide_from_logs(settings.token)
    password = urlsplit(settings.database or "").password
    if password:
        _hide_from_logs(password)
    engine = _engine(settings, handover=settings.staff_chat_id is not None)
    _check_staff_language(settings, engine)
    asyncio.run(_serve(engine, settings))
    return EXIT_OK


WEBHOOK_SECRET: Final = re.compile(r"[A-Za-z0-9_-]{16,256}")
"""Telegram allows 1-256 of these characters; fewer than 16 can be guessed."""


def _check_webhook_secret(settings: Settings) -> None:
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else ""
    if not secret:
        raise ConfigError(
            "FIXBOT_WEBHOOK_URL is set but FIXBOT_WEBHOOK_SECRET is not: a webhook without a "
            "secret would take updates from anyone. Set FIXBOT_WEBHOOK_SECRET (16-256 of "
            "A-Z, a-z, 0-9, _ and -)."
        )
    if not WEBHOOK_SECRET.fullmatch(secret):
        wrong = [c for c in secret if not (c.isascii() and (c.isalnum() or c in "_-"))]
        if wrong:  # which ones stays unsaid: they are part of a secret
            why = f"holds {len(wrong)} character(s) Telegram does not allow"
        elif len(secret) < 16:
            why = f"is {len(secret)} characters long, under 16"
        else:
            why = f"is {len(secret)} characters long, over 256"
        raise ConfigError(f"FIXBOT_WEBHOOK_SECRET {why}: use 16-256 of A-Z, a-z, 0-9, _ and -.")


async def _serve(engine: Engine, settings: Settings) -> None:
    """Run the Telegram bot until SIGINT or SIGTERM, then shut down cleanly."""
    # Imported here so that `check`, `match`, `eval` and `chat` never load Telegram's stack.
    from telegram.error import InvalidToken, NetworkError

    from bot.transports.telegram import TelegramConfig, build_application
    from bot.transports.telegram.compose import compose
    from bot.transports.telegram.reports import ReportsConfig

    stop = _stopped_by_signals()
    conflict = asyncio.Event()

    def on_conflict() -> None:
        conflict.set()
        stop.set()

    keep = settings.keep_outcomes_days * 24 * 3600.0
    unanswered = _keep_unanswered(settings)
    async with await _open_store_retrying(settings, keep, unanswered) as store:
        if store.shared:
            log.info("data: %s (shared: several replicas may run)", _shown_database(settings))
        else:
            log.info("data: %s", (settings.data_dir / DATABASE_FILE).resolve())
        reports = ReportsConfig(admin_ids=settings.admin_ids, digest=settings.digest)
        services = compose(engine, store, _desk_config(settings), reports, settings.staff_language)
        services.conflict.give_up_after = settings.conflict_seconds
        config = TelegramConfig(
            settings.token,
            settings.telegram_base_url,
            max_sends_per_second=settings.max_sends_per_second,
            max_concurrent_updates=settings.max_concurrent_updates,
            takeover_after=settings.takeover_seconds,
        )
        application = build_application(config, services)
        runner, mode = _runner(application, settings, on_conflict)
        try:
            async with runner:
                log.info("fixbot is running (%s); stop with Ctrl-C or SIGTERM", mode)
                purging = asyncio.create_task(_purge_expired(store))
                learning = asyncio.create_task(_learn_orders(engine, store, settings.learn_order))
                await stop.wait()
                purging.cancel()
                learning.cancel()
            if conflict.is_set():
                raise ConfigError(
                    "another program was already receiving this bot's updates (Telegram answered "
                    f"409 for {settings.conflict_seconds:.0f} s); only one may poll a token: stop the other one, or give this "
                    "bot its own token"
                )
        except InvalidToken:
            raise ConfigError("Telegram refused the token: check TELEGRAM_BOT_TOKEN") from None
        except NetworkError as exc:
            raise ConfigError(
                f"cannot reach the Bot API at {settings.telegram_base_url} ({exc.message})"
            ) from None
    log.info("fixbot stopped")


def _stopped_by_signals() -> asyncio.Event:
    """An event set by SIGINT (Ctrl-C) or SIGTERM (docker stop, systemd), to stop cleanly."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    return stop


def _runner(
    application: Any, settings: Settings, on_conflict: Callable[[], None]
) -> tuple[AbstractAsyncContextManager[None], str]:
    """Long polling, or a webhook when FIXBOT_WEBHOOK_URL is set; and how to say which."""
    from bot.transports.telegram import polling, webhook

    retries = settings.start_retries
    health = (settings.health_listen, settings.health_port) if settings.health_port else None
    if settings.webhook_url and settings.webhook_secret:
        if settings.webhook_in_plain_http:
            log.warning(
                "the webhook is plain HTTP (%s): updates reach this bot unencrypted; fine on a "
                "private network beside a self-hosted Bot API, never across the internet",
                settings.webhook_url,
            )
        runner = webhook(
            application,
            settings.webhook_listen,
            settings.webhook_port,
            settings.webhook_url,
            settings.webhook_secret.get_secret_value(),
            settings.webhook_path,
            start_retries=retries,
            health_at=health,
        )
        return runner, f"webhook on {settings.webhook_listen}:{settings.webhook_port}"
    runner = polling(application, on_conflict=on_conflict, start_retries=retries, health_at=health)
    return runner, "long polling"


def _unspoken_staff_language(settings: Settings, spoken: Iterable[str]) -> str | None:
    """Why FIXBOT_STAFF_LANGUAGE cannot be used (one line), or None: unset, or spoken."""
    staff, codes = settings.staff_language, list(spoken)
    if staff is None or supported_code(staff, codes) is not None:
        return None
    return f"FIXBOT_STAFF_LANGUAGE={staff}: the content speaks {', '.join(codes)}"


def _check_staff_language(settings: Settings, engine: Engine) -> None:
    """Stop, before reaching Telegram, on a FIXBOT_STAFF_LANGUAGE the content does not speak
    (the composition root would quietly give the team the default language)."""
    unspoken = _unspoken_staff_language(settings, engine.languages)
    if unspoken is not None:
        raise ConfigError(unspoken)


def _desk_config(settings: Settings, chat_id: int | None = None) -> Any:
    """The staff desk's, when FIXBOT_STAFF_CHAT_ID (or `chat_id`) names a staff chat."""
    chat_id = chat_id if chat_id is not None else settings.staff_chat_id
    if chat_id is None:
        return None
    from bot.transports.telegram.desk import DeskConfig

    return DeskConfig(chat_id, settings.staff_remind_minutes * 60, settings.business_hours)


async def _learn_orders(
    engine: Engine, store: Outcomes, learn: bool, every: float = 3600.0
) -> None:
    """With FIXBOT_LEARN_ORDER, order each intent's fixes by what the outcomes show, at start
    and then every hour; without, the authored order stands."""
    while learn:
        try:
            walks = outcome_stats.rebuild_walks(await store.outcomes(), time.time())
            orders = outcome_stats.learn_orders(walks, engine.catalog)
            engine.orders = {i: o.learned for i, o in orders.items() if o.changed}
            for order in orders.values():
                if order.changed:
                    log.info("learned order for %s: %s", order.intent, ", ".join(order.learned))
        except Exception:
            log.exception("learning the fix order failed; trying again in %.0f minutes", every / 60)
        await asyncio.sleep(every)


async def _open_store_retrying(settings: Settings, keep: float, unanswered: float) -> Store:
    """The store FIXBOT_DATABASE_URL names (else SQLite); a database that does not answer at
    start is tried FIXBOT_START_RETRIES more times, 2, 4, 8... s apart (at most 30), each
    miss one line, then StoreError."""
    url = settings.database
    for attempt in range(settings.start_retries + 1):
        try:
            return await open_store(
                settings.data_dir, keep_outcomes=keep, keep_unanswered=unanswered, url=url
            )
        except StoreError as exc:
            if url is None or attempt == settings.start_retries:
                raise
            wait = min(2.0 ** (attempt + 1), 30.0)
            log.warning("%s; trying again in %.0f s", exc, wait)
            await asyncio.sleep(wait)
    raise AssertionError("unreachable")


def _shown_database(settings: Settings) -> str:
    from bot.store.postgres import redacted

    return redacted(settings.database or "")


async def _purge_expired(store: Upkeep, every: float = 3600.0) -> None:
    """Purge at start, then every hour; a failed purge is logged and tried again next time.
    Of several replicas sharing a store, the one elected for periodic work purges."""
    while True:
        try:
            if not await store.lead("periodic"):
                await asyncio.sleep(every)
                continue
            gone = await store.purge_expired()
            log.info("purged %d expired session(s) and outcomes past their keeping time", gone)
        except Exception:
            log.exception("purging failed; trying again in %.0f minutes", every / 60)
        await asyncio.sleep(every)


class _Redact(logging.Filter):
    """Replaces a secret in every log record, whoever logs it (httpx URLs hold the token)."""

    def __init__(self, secret: str) -> None:
        super().__init__()
        self.secret = secret

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self.secret in message:
            record.msg, record.args = message.replace(self.secret, "<token>"), None
        if record.exc_info and record.exc_text is None:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text and self.secret in record.exc_text:
            record.exc_text = record.exc_text.replace(self.secret, "<token>")
        return True


def _hide_from_logs(secret: str) -> None:
    for handler in logging.getLogger().handlers:
        handler.addFilter(_Redact(secret))
