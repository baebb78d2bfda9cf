"""`gzh render PATH`: print the article HTML exactly as it is sent to WeChat.

Image sources stay the post's relative file names here; publishing substitutes the WeChat URLs
of the uploaded images, and nothing else changes.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from pipeline import cli, output, posts, render
from pipeline.i18n import Text
from pipeline.policy import load_repository_policy
from pipeline.selection import post_file

_OUTPUT = Text("写入文件而不是屏幕", "write to a file instead of the screen")
_THEME = Text("使用指定的排版主题", "use this theme")
_WROTE = Text("已写入 {path}（{chars} 个字符）", "Wrote {path} ({chars} characters)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    cli.add_post(parser)
    parser.add_argument("-o", "--output", help=_OUTPUT())
    parser.add_argument("--theme", help=_THEME())


def run(args: argparse.Namespace, root: Path) -> int:
    return render_command(root, args.path, output_file=args.output, theme=args.theme)


def render_command(root: Path, target: str, *, output_file: str | None = None, theme: str | None = None) -> int:
    policy = load_repository_policy(root)
    post = posts.load_post(post_file(root, target), root)
    rendered = render.render_post(post, policy, root, theme=theme)
    if output_file:
        Path(output_file).write_text(rendered.html + "\n", "utf-8")
        output.error(_WROTE(path=output_file, chars=len(rendered.html)))
    else:
        output.write(rendered.html + "\n")
    return 0

