"""The files a post uses, resolved in one place for the checks, previews, publishing and versions.

A post is untrusted input that `gzh publish` later reads with the WeChat credentials at hand, so
every file a post names goes through `resolve`: a plain relative path to a regular file inside
the post's own folder, reached without following any symbolic link. Anything else is refused
with a reason, never read. The images a post uses are taken from the renderer's own tokens
(`render.markdown.parse`), so footnotes, tables, link texts and reference definitions are covered
exactly as they will be rendered, and the cover from the front matter.
"""
from __future__ import annotations

import enum
import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Iterable, Iterator
from urllib.parse import unquote

from pipeline.errors import GzhError
from pipeline.i18n import Text
from pipeline.posts import POST_FILE, Post
from pipeline.render import TEMPLATES_DIR
from pipeline.render.markdown import is_remote, parse


class Refusal(enum.Enum):
    REMOTE = "remote"          # a URL, not a file (the image rules decide which hosts are fine)
    INVALID = "invalid"        # control characters or a name the file system cannot hold
    OUTSIDE = "outside"        # absolute, '..', or a drive: leaves the post folder
    LINKED = "linked"          # a symbolic link on the way: never read through
    MISSING = "missing"
    NOT_FILE = "not-file"      # a folder, a device, a pipe


@dataclass(frozen=True)
class Asset:
    src: str                    # as the post wrote it (percent-decoded, as the renderer sees it)
    path: Path | None           # the regular file inside the post folder; None when refused
    refusal: Refusal | None


def resolve(folder: Path, src: str) -> Asset:
    """Where `src` leads from the post `folder`, refusing anything but a regular file inside it."""
    refusal = _syntax_refusal(src)
    if refusal is not None:
        return Asset(src, None, refusal)
    path = folder
    parts = PurePosixPath(src.replace("\\", "/")).parts
    for index, part in enumerate(parts):
        path = path / part
        try:
            mode = os.lstat(path).st_mode
        except (FileNotFoundError, NotADirectoryError):
            return Asset(src, None, Refusal.MISSING)
        except (OSError, ValueError):  # a name too long for the file system, and the like
            return Asset(src, None, Refusal.INVALID)
        if stat.S_ISLNK(mode):
            return Asset(src, None, Refusal.LINKED)
        last = index == len(parts) - 1
        if (last and not stat.S_ISREG(mode)) or (not last and not stat.S_ISDIR(mode)):
            return Asset(src, None, Refusal.NOT_FILE if last else Refusal.MISSING)
    return Asset(src, path, None)


def _syntax_refusal(src: str) -> Refusal | None:
    if is_remote(src):
        return Refusal.REMOTE
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in src):
        return Refusal.INVALID
    parts = PurePosixPath(src.replace("\\", "/")).parts
    if not parts or src.startswith(("/", "\\")) or ".." in parts:
        return Refusal.OUTSIDE
    return None


def body_images(tokens: Iterable) -> Iterator[str]:
    """Local image paths in render order, as the renderer's `image` rule receives them."""
    for token in tokens:
        if token.type == "inline" and token.children:
            for child in token.children:
                if child.type == "image":
                    src = unquote(str(child.attrs.get("src", "")))
                    if not is_remote(src):
                        yield src


def cover_src(post: Post) -> str | None:
    """The `cover` field as written, even when other front-matter fields are invalid."""
    data = post.document.data if post.document else None
    value = data.get("cover") if isinstance(data, dict) else None
    return value if isinstance(value, str) else None


DEFAULT_COVER = "cover-default.jpg"


def cover_file(post: Post, root: Path, body_images: tuple[str, ...]) -> tuple[Path, str]:
    """(file, name as shown) of the post's cover: the `cover` field, else its first body image, else the
    repository's default cover in templates/. Refused as `local_file` refuses."""
    src = (post.meta.cover if post.meta else None) or (body_images[0] if body_images else None)
    if src is None:
        return local_file(root / TEMPLATES_DIR, DEFAULT_COVER, TEMPLATES_DIR), DEFAULT_COVER
    return local_file(post.folder, src, post.path), shown(src)


def used_files(post: Post) -> list[tuple[str, Path]]:
    """(name within the folder, path) of every regular file the post uses: index.md, the cover and
    its local images, each once. Refused references are left out: the checks report them."""
    names = [POST_FILE, *(name for name in [cover_src(post)] if name), *body_images(parse(post.body)[0])]
    files: dict[str, Path] = {}
    for name in names:
        asset = resolve(post.folder, name)
        if asset.path is not None:
            files.setdefault(asset.path.relative_to(post.folder).as_posix(), asset.path)
    return sorted(files.items(), key=lambda item: PurePosixPath(item[0]).parts)  # the order versions always used


def version(post: Post) -> str:
    """A digest of the files the post uses: a changed word or image is a new version.

    Only those files are read, so a large or linked file that sits in the folder unused costs
    nothing. For a folder holding just the post and its images, this equals the digest of the
    whole folder that earlier versions of gzh recorded.
    """
    digest = hashlib.sha256()
    for name, path in used_files(post):
        digest.update(name.encode("utf-8") + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


class AssetRefused(GzhError):
    """A post names a file that publishing must not read."""

    exit_code = 1


_REFUSED = Text("{path}：不读取“{src}”（{reason}）。请运行 gzh check {path}，按提示修改",
                "{path}: '{src}' is not read ({reason}); run gzh check {path}")
_REASONS = {
    Refusal.REMOTE: Text("不是本地文件", "not a local file"),
    Refusal.INVALID: Text("路径含控制字符", "control characters in the path"),
    Refusal.OUTSIDE: Text("在文章文件夹之外", "outside the post folder"),
    Refusal.LINKED: Text("是符号链接", "a symbolic link"),
    Refusal.MISSING: Text("文件不存在", "no such file"),
    Refusal.NOT_FILE: Text("不是普通文件", "not a regular file"),
}


def local_file(folder: Path, src: str, shown_as: str) -> Path:
    """The regular file `src` names inside `folder`, or AssetRefused saying why not."""
    asset = resolve(folder, src)
    if asset.path is None:
        assert asset.refusal is not None
        raise AssetRefused(_REFUSED(path=shown_as, src=shown(src), reason=_REASONS[asset.refusal]()))
    return asset.path


def shown(src: str) -> str:
    """A path as a report can show it: control characters escaped, long ones cut."""
    visible = "".join(char if char.isprintable() else f"\\x{ord(char):02x}" for char in src)
    return visible if len(visible) <= 80 else visible[:77] + "…"
