"""Log lines on stderr, written exactly as the paddlex-rs CLI writes them.

Colours (green info, yellow warnings, red errors) only when stderr is a
terminal and ``NO_COLOR`` is unset, the CLI's rule (PaddleX colours always).
The lines go to ``sys.stderr`` as it is at the time of writing, so notebooks
and ``contextlib.redirect_stderr`` see them.
"""

import os
import sys


def _colored() -> bool:
    if "NO_COLOR" in os.environ:
        return False
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def _write(level: str, message: str) -> None:
    from . import _native

    sys.stderr.write(_native.log_line(level, message, _colored()) + "\n")
    sys.stderr.flush()


def info(message: str) -> None:
    """An info line (green)."""
    _write("info", message)


def warning(message: str) -> None:
    """A warning line (yellow)."""
    _write("warning", message)
