"""All terminal output goes through here: writing, colour detection, column padding."""
from __future__ import annotations

import os
import sys
import threading
import unicodedata
from typing import IO, Callable


def use_color(stream: IO[str], choice: str = "auto") -> bool:
    if choice != "auto":
        return choice == "always"
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return hasattr(stream, "isatty") and stream.isatty()


def pad(text: str, width: int) -> str:
    """Left-align in a terminal column: CJK characters take two cells."""
    cells = sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)
    return text + " " * max(width - cells, 1)


def paint(text: str, code: str, color: bool) -> str:
    return f"\033[{code}m{text}\033[0m" if color else text


def write(text: str, stream: IO[str] | None = None) -> None:
    (stream or sys.stdout).write(text)


def error(text: str) -> None:
    sys.stderr.write(text.rstrip("\n") + "\n")


def step_output(**values: object) -> None:
    """Outputs for the workflow's later steps (GITHUB_OUTPUT; the trusted service gives its jobs one too)."""
    if os.environ.get("GITHUB_OUTPUT"):
        with open(os.environ["GITHUB_OUTPUT"], "a", encoding="utf-8") as outputs:
            outputs.writelines(f"{key}={value}\n" for key, value in values.items())


def wait_for_interrupt(stop: Callable[[], None]) -> int:
    """Keep a foreground server running until Ctrl+C, then stop it; the exit code is 0 either way."""
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        stop()
    return 0
