"""The records of the check stage: rules, what they find, and the view of a post they look at."""
from __future__ import annotations

import enum
import re
from urllib.parse import unquote
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Callable, Iterable, Mapping


from pipeline.i18n import Text
from pipeline.policy import Policy
from pipeline.posts import Post
from pipeline.yamlsource import Location


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def label(self) -> str:
        return _SEVERITY_LABELS[self]()

    @property
    def rank(self) -> int:
        return ("error", "warning", "info").index(self.value)


_SEVERITY_LABELS = {
    Severity.ERROR: Text("错误", "error"),
    Severity.WARNING: Text("警告", "warning"),
    Severity.INFO: Text("提示", "info"),
}


@dataclass(frozen=True)
class Fix:
    """Replace text[start:end] of the post file with `replacement` (used by `gzh check --fix`)."""

    start: int
    end: int
    replacement: str


@dataclass(frozen=True)
class Hit:
    """What a rule reports; the engine adds the rule id and the configured severity."""

    location: Location
    message: str
    fix: Fix | None = None


@dataclass(frozen=True)
class Finding:
    rule_id: str
    severity: Severity
    location: Location
    message: str
    secrecy: bool = False
    fix: Fix | None = None


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    title: Text
    # None for the few rules the engine decides itself (ignore comments, stray files)
    check: Callable[["PostView"], Iterable[Hit]] | None
    secrecy: bool = False  # a hit means the secrecy office must also review the post (Art. 6(3))


def rule(rule_id: str, severity: Severity, title: Text, *, secrecy: bool = False) -> Callable[[Callable[["PostView"], Iterable[Hit]]], Rule]:
    """Declare a check: `@rule("title-length", Severity.ERROR, Text(...))` over `def f(view)`."""

    def declare(check: Callable[["PostView"], Iterable[Hit]]) -> Rule:
        return Rule(rule_id, severity, title, check, secrecy)

    return declare


# --- the view of one post that rules share ----------------------------------------------------

_URL = re.compile(r"https?://[^\s<>()\[\]\"'，。；！？、）】]+")
_INLINE_CODE = re.compile(r"(`+)(?!`).+?(?<!`)\1")
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)


@dataclass(frozen=True)
class ImageRef:
    src: str
    location: Location
    is_cover: bool = False


@dataclass
class PostView:
    """A post plus what several rules need from it, each computed once and only if asked for."""

    post: Post
    policy: Policy
    root: Path
    published: Mapping[str, tuple[str, str]] = field(default_factory=dict)  # bundle → (version, url)

    @property
    def path(self) -> str:
        return self.post.path

    @cached_property
    def body_offset(self) -> int:
        """Character offset of the body within the file text."""
        return len(self.post.text) - len(self.post.body)

    def location(self, offset: int) -> Location:
        """File location of a character offset into the whole file text."""
        text = self.post.text
        line = text.count("\n", 0, offset) + 1
        return Location(self.post.path, line, offset - (text.rfind("\n", 0, offset) + 1) + 1)

    @cached_property
    def parsed(self) -> tuple[list, dict]:
        """The renderer's own tokens and parse facts (footnotes): checks see what will be rendered."""
        from pipeline.render.markdown import parse  # the render stage imports the checks' records

        return parse(self.post.body)

    @property
    def tokens(self) -> list:
        return self.parsed[0]

    def body_find(self, needle: str, from_line: int = 0, at: int = 0) -> Location:
        """Where character `at` of `needle` stands, at its first place in the body at or after the
        0-based body line (else the start of that line)."""
        start = self.body_line_start(from_line)
        found = self.post.body.find(needle, start)
        return self.location(self.body_offset + (found + at if found >= 0 else start))

    @cached_property
    def code_lines(self) -> frozenset[int]:
        """0-based body lines inside fenced or indented code blocks."""
        lines: set[int] = set()
        for token in self.tokens:
            if token.type in ("fence", "code_block") and token.map:
                lines.update(range(*token.map))
        return frozenset(lines)

    @cached_property
    def url_spans(self) -> tuple[tuple[int, int], ...]:
        return tuple(match.span() for match in _URL.finditer(self.post.text))

    @cached_property
    def prose(self) -> str:
        """The file text with code, URLs and HTML comments blanked out, offsets preserved.

        Wording rules read this so that code samples and links are never "corrected".
        """
        chars = list(self.post.text)

        def blank(start: int, end: int) -> None:
            for index in range(start, end):
                if chars[index] != "\n":
                    chars[index] = " "

        lines = self.post.text.split("\n")
        offset = 0
        body_first_line = self.post.body_line - 1
        for index, line in enumerate(lines):
            if index - body_first_line in self.code_lines:
                blank(offset, offset + len(line))
            offset += len(line) + 1
        for start, end in self.url_spans:
            blank(start, end)
        for pattern in (_INLINE_CODE, _HTML_COMMENT):
            for match in pattern.finditer(self.post.text, self.body_offset):
                blank(*match.span())
        return "".join(chars)

    @cached_property
    def images(self) -> tuple[ImageRef, ...]:
        """Every image the post uses: the cover first, then body images in order."""
        refs = []
        cover = self.text_field("cover")
        if cover:
            refs.append(ImageRef(cover, self.post.locate_field("cover"), is_cover=True))
        for token in self.tokens:
            if token.type != "inline" or not token.children:
                continue
            block_start = self.body_line_start(token.map[0]) if token.map else 0
            for child in token.children:
                if child.type == "image":
                    src = unquote(str(child.attrs.get("src", "")))
                    found = self.post.body.find(src, block_start) if src else -1
                    offset = self.body_offset + (found if found >= 0 else block_start)
                    refs.append(ImageRef(src, self.location(offset)))
        return tuple(refs)

    def body_line_start(self, line: int) -> int:
        """Offset within the body of its 0-based `line` (markdown-it token maps count this way)."""
        return line_start(self.post.body, line)

    def text_field(self, *key_path: str) -> str | None:
        """A front-matter text value even when other fields are invalid, so every problem shows at once."""
        value: object = self.post.document.data if self.post.document else None
        for key in key_path:
            value = value.get(key) if isinstance(value, dict) else None
        return value if isinstance(value, str) else None

    def in_url(self, start: int, end: int) -> bool:
        return any(span_start <= start and end <= span_end for span_start, span_end in self.url_spans)


def line_start(text: str, line: int) -> int:
    """Offset of the 0-based `line` in `text` (its length when there are fewer lines)."""
    offset = 0
    for _ in range(line):
        offset = text.find("\n", offset) + 1
        if offset == 0:
            return len(text)
    return offset
