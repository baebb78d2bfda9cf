"""Post loading: find page bundles under content/, split front matter from body, build records.

A post is a folder `content/<department folder>/.../<post>/index.md` with its images beside it.
Loading never raises for bad content: a post whose front matter cannot be used still loads, with
its problems attached, so the checker can report them next to everything else in the body.
"""
from __future__ import annotations

import datetime as dt
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Iterable, Iterator

from pipeline import yamlsource
from pipeline.i18n import Text
from pipeline.yamlsource import Location, Problem, YamlDocument

CONTENT_DIR = "content"
POST_FILE = "index.md"
# A post file larger than this is never parsed: twice what WeChat takes, so nothing publishable is
# refused, and a bound on the time a check or render may take (Markdown parsing costs about 1 s a MB).
MAX_POST_BYTES = 2 * 1024 * 1024
BEIJING = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")
_FENCE = re.compile(r"^---[ \t]*$")

_NO_FRONT_MATTER = Text(
    "文件开头缺少元数据块。第一行写 ---，然后是 title、author、category 等字段，再用一行 --- 结束（可用 gzh new 生成模板）",
    "The file does not start with a front matter block: a line '---', the fields, then '---' (gzh new makes one)")
_UNCLOSED = Text("元数据块没有结束：请在字段后面加一行 ---", "The front matter block is not closed: add a line '---'")
_NOT_MAPPING = Text("元数据块应是“字段: 值”的形式", "Front matter must be 'key: value' lines")
_BAD_DATE = Text("“{value}”不是有效的日期或时间", "'{value}' is not a valid date or time")
_UNREADABLE = Text("无法读取文件：{error}", "Cannot read the file: {error}")
_LINKED = Text("index.md 或它所在的文件夹是符号链接，gzh 不读取链接指向的内容。请把文章文件夹和 index.md 作为普通文件提交",
               "index.md or a folder above it is a symbolic link; gzh does not read through it. Commit them as plain files")


@dataclass(frozen=True)
class Source:
    name: str
    url: str


@dataclass(frozen=True)
class SecrecyReview:
    """Art. 6(2): the department head's confidentiality pre-review, recorded in the post itself.

    The record sits in the reviewed text, so the head's approval of that exact commit (checked by
    the approval gate) is what makes the conclusion auditable: who, on which version, concluding what.
    """

    conclusion: str
    reviewer: str
    basis: str

    @property
    def needs_secrecy_office(self) -> bool:
        return self.conclusion != "可以公开"


@dataclass(frozen=True)
class Meta:
    title: str
    author: str
    category: str
    digest: str | None
    cover: str | None
    repost: bool
    source: Source | None
    comments: str
    publish_at: dt.datetime | None
    expires: dt.date | None
    secrecy: SecrecyReview
    mode: str | None = None                 # publish / mass / draft; None: the policy's default
    cover_crop: tuple[tuple[str, str], ...] = ()  # (("wide", "0_0_1_0.5"), ...)


@dataclass(frozen=True)
class Post:
    path: str                     # repository-relative, POSIX separators: what users see in reports
    folder: Path                  # the post's bundle folder on disk
    department_folder: str        # first folder under content/
    text: str                     # the whole file, as written
    body: str
    body_line: int                # 1-based line of the body's first line in the file
    document: YamlDocument | None  # parsed front matter, for locating fields
    meta: Meta | None             # None when the front matter has errors
    problems: tuple[Problem, ...]  # why the front matter is unusable, if it is

    def locate_field(self, *key_path: str | int) -> Location:
        if self.document is None:
            return Location(self.path, 1, 1)
        return self.document.locate(key_path)

    @property
    def bundle(self) -> str:
        """The post's folder, repository-relative: how the ledger names a post."""
        return str(PurePosixPath(self.path).parent)

    def body_location(self, body_offset: int) -> Location:
        """The file location of a character offset into the body."""
        line = self.body.count("\n", 0, body_offset)
        line_start = self.body.rfind("\n", 0, body_offset) + 1
        return Location(self.path, self.body_line + line, body_offset - line_start + 1)


def load_post(file: Path, root: Path) -> Post:
    rel = PurePosixPath(file.relative_to(root).as_posix())
    display = str(rel)
    department = rel.parts[1] if len(rel.parts) > 2 and rel.parts[0] == CONTENT_DIR else ""
    try:
        if first_link(file, root) is not None:
            raise OSError(_LINKED())
        text = file.read_text("utf-8-sig").replace("\r\n", "\n")
    except (OSError, UnicodeDecodeError) as error:
        problem = Problem(Location(display), "", _UNREADABLE(error=error))
        return Post(display, file.parent, department, "", "", 1, None, None, (problem,))
    return parse_post(text, display, file.parent, department)


def first_link(path: Path, root: Path) -> Path | None:
    """The first symbolic link on the way from the repository root to `path` (itself included), if any."""
    current = root
    for part in path.relative_to(root).parts:
        current = current / part
        if current.is_symlink():
            return current
    return None


def parse_post(text: str, display: str, folder: Path, department: str) -> Post:
    lines = text.split("\n")
    if not lines or not _FENCE.match(lines[0]):
        problem = Problem(Location(display), "", _NO_FRONT_MATTER())
        return Post(display, folder, department, text, text, 1, None, None, (problem,))
    end = next((index for index in range(1, len(lines)) if _FENCE.match(lines[index])), None)
    if end is None:
        problem = Problem(Location(display, 1, 1), "", _UNCLOSED())
        return Post(display, folder, department, text, "", len(lines) + 1, None, None, (problem,))
    body = "\n".join(lines[end + 1:])
    body_line = end + 2
    try:
        document = yamlsource.parse("\n".join(lines[1:end]), display, line_offset=1)
    except yamlsource.YamlSyntaxError as error:
        return Post(display, folder, department, text, body, body_line, None, None, error.problems)
    problems, meta = _meta(document)
    return Post(display, folder, department, text, body, body_line, document, meta, tuple(problems))


def _meta(document: YamlDocument) -> tuple[list[Problem], Meta | None]:
    if not isinstance(document.data, dict):
        return [Problem(document.locate(()), "", _NOT_MAPPING())], None
    problems = yamlsource.validate(document, yamlsource.load_schema("post"))
    data = document.data
    publish_at = _parse_when(document, "publish_at", problems)
    expires = _parse_when(document, "expires", problems)
    if problems:
        return problems, None
    source = data.get("source")
    secrecy = data["secrecy"]
    return [], Meta(
        title=data["title"],
        author=data["author"],
        category=data["category"],
        digest=data.get("digest"),
        cover=data.get("cover"),
        repost=data.get("repost", False),
        source=Source(source["name"], source["url"]) if source else None,
        comments=data.get("comments", "open"),
        publish_at=publish_at if isinstance(publish_at, dt.datetime) else None,
        expires=expires if isinstance(expires, dt.date) and not isinstance(expires, dt.datetime) else None,
        secrecy=SecrecyReview(secrecy["conclusion"], secrecy["reviewer"], secrecy["basis"]),
        mode=data.get("mode"),
        cover_crop=tuple(sorted(data.get("cover_crop", {}).items())),
    )


def _parse_when(document: YamlDocument, key: str, problems: list[Problem]) -> dt.date | dt.datetime | None:
    value = document.data.get(key)
    if not isinstance(value, str):
        return None
    try:
        return parse_datetime(value) if key == "publish_at" else parse_date(value)
    except ValueError:
        if not any(problem.key_path == key for problem in problems):  # the schema said it already
            problems.append(Problem(document.locate((key,)), key, _BAD_DATE(value=value)))
        return None


def parse_date(value: str) -> dt.date:
    year, month, day = (int(part) for part in value.strip().split("-"))
    return dt.date(year, month, day)


def parse_datetime(value: str) -> dt.datetime:
    """`2026-12-01 09:00` in Beijing time (the account's clock); a bare date means midnight."""
    date_part, _, time_part = value.strip().replace("T", " ").partition(" ")
    day = parse_date(date_part)
    hour, minute, second = ([int(part) for part in time_part.split(":")] + [0, 0, 0])[:3] if time_part else (0, 0, 0)
    return dt.datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=BEIJING)


# --- discovery ---------------------------------------------------------------------------------

def discover(targets: Iterable[Path]) -> tuple[list[Path], list[Path]]:
    """Post files (index.md) and stray Markdown files under the given files or folders.

    Order is stable and duplicates are dropped. Folders are walked without following symbolic
    links, so a link cannot pull files from outside the repository into a post. A stray is a
    Markdown file that is not a post's index.md (README.md files excepted): probably a mistake,
    since it would never be published.
    """
    posts: dict[Path, None] = {}
    strays: dict[Path, None] = {}
    for target in targets:
        for file in _markdown_under(target):
            (posts if _is_post_file(file) else strays)[file] = None
    return list(posts), list(strays)


def _markdown_under(target: Path) -> Iterator[Path]:
    if target.is_file():
        yield target
        return
    for folder, subfolders, files in os.walk(target):
        subfolders.sort()
        for name in sorted(files):
            if name.lower().endswith((".md", ".markdown")) and name.upper() != "README.MD":
                yield Path(folder) / name


def _is_post_file(file: Path) -> bool:
    return file.name == POST_FILE and file.parent.parent.name != CONTENT_DIR and file.parent.name != CONTENT_DIR


def non_regular_entries(folder: Path, root: Path) -> list[str]:
    """Symbolic links and other non-regular files in `folder`, or linked folders above it up to `root`.

    Repository-relative paths. Nothing is followed: a link is reported, never read through.
    """
    found: list[str] = []
    link = first_link(folder, root)
    if link is not None:
        return [link.relative_to(root).as_posix()]  # everything below is somewhere else
    if not folder.is_dir():
        return found
    for current, folders, files in os.walk(folder):
        folders.sort()  # walked in order, so the report is stable
        for name in folders + sorted(files):
            entry = Path(current) / name
            mode = entry.lstat().st_mode
            if not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)):
                found.append(entry.relative_to(root).as_posix())
    return found


def inside(root: Path, target: str | Path) -> Path | None:
    """`target` (absolute, or relative to `root`) as an absolute path inside the repository, or None.

    Normalised without following links (`..` is resolved by name), so a link is loaded as the link
    it is, and refused there, rather than silently replaced by whatever it points at.
    """
    path = Path(os.path.abspath(root / target))
    return path if path.is_relative_to(root) else None


def bundle_of(path: PurePosixPath, root: Path) -> Path | None:
    """The post folder a changed file belongs to (index.md or one of its images), if any."""
    if len(path.parts) < 3 or path.parts[0] != CONTENT_DIR:
        return None
    for depth in range(len(path.parts), 2, -1):
        candidate = root.joinpath(*path.parts[:depth])
        if (candidate / POST_FILE).is_file():
            return candidate / POST_FILE
    return None
