"""fixbot: a bot that walks people through fixing their own problems, one step at a time."""

__version__ = "0.1.0"
