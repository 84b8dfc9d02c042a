"""The `masterplan` command line."""

from masterplan.cli.main import app, main

__all__ = ["app", "main"]
