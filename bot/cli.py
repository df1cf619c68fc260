"""The command line: `fixbot run | chat | check | match | eval`.

The only module that reads the environment, configures logging, prints and chooses exit codes.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from pydantic import ValidationError

from bot import __version__
from bot.catalog import Catalog, load_catalog
from bot.errors import ConfigError, ContentError, FixbotError
from bot.settings import Settings

log = logging.getLogger("fixbot")

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
        _configure_logging(settings.log_level)
        return int(args.handler(args, settings))
    except ContentError as exc:
        _print_content_problems(exc)
        return EXIT_PROBLEMS
    except FixbotError as exc:
        print(f"fixbot: {exc}", file=sys.stderr)
        return EXIT_PROBLEMS
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fixbot", description="A bot that walks people through fixing their own problems."
    )
    parser.add_argument("--version", action="version", version=f"fixbot {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = commands.add_parser("run", help="run the Telegram bot")
    run.set_defaults(handler=_cmd_run)

    check = commands.add_parser("check", help="validate the content (intents and fixes)")
    check.set_defaults(handler=_cmd_check)
    return parser


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        wrong = ", ".join(str(e["loc"][0]) for e in exc.errors())
        raise ConfigError(f"invalid setting(s): {wrong}; see .env.example") from None


def _configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper() if level.upper() in logging.getLevelNamesMapping() else "INFO",
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # At INFO httpx logs every request URL, and Bot API URLs contain the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)


def _load(settings: Settings) -> Catalog:
    return load_catalog(settings.content_dir)


def _print_content_problems(exc: ContentError) -> None:
    print(f"The content has {len(exc.problems)} problem(s):", file=sys.stderr)
    for problem in exc.problems:
        print(f"  {problem}", file=sys.stderr)


def _cmd_check(args: argparse.Namespace, settings: Settings) -> int:
    catalog = _load(settings)
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
    return EXIT_OK


def _cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    _load(settings)
    if not settings.has_token:
        print(
            "fixbot: no Telegram token. Set TELEGRAM_BOT_TOKEN in the environment or in .env\n"
            "(get one from @BotFather in Telegram: /newbot). Until then you can validate the\n"
            "content with `fixbot check`.",
            file=sys.stderr,
        )
        return EXIT_PROBLEMS
    print("fixbot: the Telegram transport is not built yet.", file=sys.stderr)
    return EXIT_PROBLEMS
