"""What the command modules share on the command line: the parser class (a Chinese usage error that
points to --help), the arguments several verbs take (post paths, one post, a port, the preview
folder, a verb), and the interface each `pipeline/commands/<verb>.py` offers `pipeline.main`.

Help texts are built when the parser is, after `--lang` has been read, so they follow it.
"""
from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import NoReturn, Protocol

from pipeline import clock
from pipeline.i18n import Text

SITE = "site"

_USAGE_ERROR = Text("{prog}：参数有误：{message}。用 {prog} --help 查看用法", "{prog}: bad arguments: {message}. See {prog} --help")
_PATHS = Text("要检查的文章文件或文件夹（默认 content/）", "post files or folders (default: content/)")
_POST = Text("文章的 index.md 或文章文件夹", "a post's index.md or folder")
_PORT = Text("端口（默认 {port}）", "port (default {port})")
_SITE = Text("输出文件夹（默认 {folder}/）", "output folder (default {folder}/)")
_TODAY = Text("把这一天当作今天（演练用）：YYYY-MM-DD，或 +天数（今天之后第几天，例如 +15）；期限、未更新天数、过期和超时都按它判断",
              "take this date as today (rehearsals): YYYY-MM-DD, or +days from today (e.g. +15), for deadlines, "
              "timeliness, expiry and overdue items")
_BAD_DATE = Text("“{value}”不是日期，请写成 YYYY-MM-DD（例如 2026-09-30）或 +天数（例如 +15）",
                 "'{value}' is not a date; write YYYY-MM-DD (e.g. 2026-09-30) or +days (e.g. +15)")


class Parser(argparse.ArgumentParser):
    """argparse with a Chinese lead-in and a pointer to --help on usage errors."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, _USAGE_ERROR(prog=self.prog, message=message) + "\n")


class Command(Protocol):
    """A module under `pipeline/commands/`, imported by `pipeline.main` only when its verb is given.

    It declares its arguments on the verb's parser and runs with the parsed arguments and the
    repository root. A module whose verb needs no repository sets `REPOSITORY = False` and gets None.
    """

    def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace, root: Path) -> int: ...


def add_paths(parser: argparse.ArgumentParser, help: Text = _PATHS) -> None:  # noqa: A002 - argparse's name
    """Post files or folders, any number; none means all of content/."""
    parser.add_argument("paths", nargs="*", help=help())


def add_post(parser: argparse.ArgumentParser) -> None:
    """One post, by its index.md or its folder."""
    parser.add_argument("path", help=_POST())


def add_port(parser: argparse.ArgumentParser, default: int) -> None:
    parser.add_argument("-p", "--port", type=int, default=default, help=_PORT(port=default))


def add_site(parser: argparse.ArgumentParser) -> None:
    """Where the preview site is written."""
    parser.add_argument("-o", "--output", default=SITE, help=_SITE(folder=SITE))


def add_today(parser: argparse.ArgumentParser, *verbs: argparse.ArgumentParser) -> None:
    """`--today YYYY-MM-DD` (`pipeline.clock`), before the second word or after it on each of `verbs`.

    The second words' copies default to nothing at all: argparse copies a verb's defaults over the
    values already parsed, which would drop a date given before the verb."""
    parser.add_argument("--today", type=_date, help=_TODAY())
    for verb in verbs:
        verb.add_argument("--today", type=_date, default=argparse.SUPPRESS, help=_TODAY())


def _date(value: str) -> dt.date:
    """A date, or `+N`: N days after today in Beijing, so a written rehearsal script works on any day."""
    try:
        if value.startswith("+") and value[1:].isdigit():
            return clock.now().date() + dt.timedelta(days=int(value[1:]))
        return dt.datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise argparse.ArgumentTypeError(_BAD_DATE(value=value)) from None


def add_verbs(parser: argparse.ArgumentParser, dest: str, *, required: bool = True,
              help: Text | None = None) -> argparse._SubParsersAction:  # noqa: A002 - argparse's name
    """A second word after the verb (`gzh sandbox serve`, `gzh inbox reply`), stored in `dest`."""
    return parser.add_subparsers(dest=dest, required=required, metavar="VERB", parser_class=Parser,
                                 help=help() if help else None)
