"""Which post files a command works on, from the paths given on the command line: the posts under
them (default: all of content/), or the one post a path names. Paths outside the repository and
paths that do not exist are usage errors; links are kept as links, for loading to refuse.
"""
from __future__ import annotations

from pathlib import Path

from pipeline import posts
from pipeline.errors import UsageError
from pipeline.i18n import Text

_MISSING = Text("找不到要检查的路径：{path}", "No such path to check: {path}")
_OUTSIDE = Text("“{path}”不在仓库里：gzh 只检查仓库 content/ 下的文章", "'{path}' is outside the repository; gzh checks posts under content/")
_NOT_A_POST = Text("“{path}”不是文章：请给出文章的 index.md 或其所在的文件夹",
                   "'{path}' is not a post: give a post's index.md or its folder")


def select_posts(root: Path, targets: list[str]) -> tuple[list[Path], list[Path]]:
    """Post files and stray Markdown files under the named paths (default: content/)."""
    paths = []
    for target in targets or [posts.CONTENT_DIR]:
        path = posts.inside(root, target)
        if path is None:
            raise UsageError(_OUTSIDE(path=target))
        if not path.exists():
            raise UsageError(_MISSING(path=target))
        paths.append(path)
    return posts.discover(paths)


def post_file(root: Path, target: str) -> Path:
    """The index.md of the one post `target` names (the file itself or its folder)."""
    path = posts.inside(root, target)
    if path is not None and path.is_dir():
        path = path / posts.POST_FILE
    if path is None or not path.is_file() or path.name != posts.POST_FILE:
        raise UsageError(_NOT_A_POST(path=target))
    return path  # a link stays a link: loading it refuses it with the reason
