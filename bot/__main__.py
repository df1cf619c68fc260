"""`python -m bot`: the same command line as the `fixbot` script."""

from bot.cli import main

raise SystemExit(main())
