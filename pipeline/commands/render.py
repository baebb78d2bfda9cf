"""`gzh render PATH`: print the article HTML exactly as it is sent to WeChat.

Image sources stay the post's relative file names here; publishing substitutes the WeChat URLs
of the uploaded images, and nothing else changes.
"""
from __future__ import annotations

from pathlib import Path

from pipeline import output, posts, render
from pipeline.errors import ConfigError, UsageError
from pipeline.i18n import Text
from pipeline.policy import format_problems, load_repository_policy

_NOT_A_POST = Text("“{path}”不是文章：请给出文章的 index.md 或其所在的文件夹",
                   "'{path}' is not a post: give a post's index.md or its folder")
_WROTE = Text("已写入 {path}（{chars} 个字符）", "Wrote {path} ({chars} characters)")


def render_command(root: Path, target: str, *, output_file: str | None = None, theme: str | None = None) -> int:
    policy = load_repository_policy(root)  # not the check stage's loader: a render stays light to start
    problems = render.policy_theme_problems(policy, root)
    if problems:
        raise ConfigError(format_problems(policy.path, problems))
    post = posts.load_post(post_file(root, target), root)
    rendered = render.render_post(post, policy, root, theme=theme)
    if output_file:
        Path(output_file).write_text(rendered.html + "\n", "utf-8")
        output.error(_WROTE(path=output_file, chars=len(rendered.html)))
    else:
        output.write(rendered.html + "\n")
    return 0


def post_file(root: Path, target: str) -> Path:
    path = posts.inside(root, target)
    if path is not None and path.is_dir():
        path = path / posts.POST_FILE
    if path is None or not path.is_file() or path.name != posts.POST_FILE:
        raise UsageError(_NOT_A_POST(path=target))
    return path  # a link stays a link: loading it refuses it with the reason
