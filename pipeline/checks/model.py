"""The records of the check stage: rules, what they find, and the view of a post they look at."""
from __future__ import annotations

import enum
import re
from bisect import bisect_right
from urllib.parse import unquote
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Callable, Iterable, Iterator, Mapping


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
class ShrinkImage:
    """Re-encode an image file in place under WeChat's limit for its use (`gzh check --fix`)."""

    path: Path   # the image file, inside the post folder (pipeline.assets resolved it)
    shown: str   # how the post names it, for messages
    cover: bool


@dataclass(frozen=True)
class Hit:
    """What a rule reports; the engine adds the rule id and the configured severity.

    `waiver` says how to keep the text on purpose (an ignore comment with a reason). It is a
    separate sentence because some text cannot carry an ignore comment (a reply to a follower is
    sent as typed), and advice that cannot be followed there must not be given there.
    """

    location: Location
    message: str
    fix: Fix | ShrinkImage | None = None
    waiver: str = ""


@dataclass(frozen=True)
class Finding:
    rule_id: str
    severity: Severity
    location: Location
    message: str
    secrecy: bool = False
    fix: Fix | ShrinkImage | None = None


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    title: Text  # what the rule requires, a sentence (gzh check --list-rules)
    # None for the few rules the engine decides itself (ignore comments, stray files)
    check: Callable[["PostView"], Iterable[Hit]] | None
    name: Text   # what it is about, a few words: how people read the rule next to its id
    secrecy: bool = False  # a hit means the secrecy office must also review the post (Art. 6(3))


def rule(rule_id: str, severity: Severity, title: Text, *, name: Text,
         secrecy: bool = False) -> Callable[[Callable[["PostView"], Iterable[Hit]]], Rule]:
    """Declare a check: `@rule("title-length", Severity.ERROR, Text(...), name=Text("标题长度", ...))` over `def f(view)`."""

    def declare(check: Callable[["PostView"], Iterable[Hit]]) -> Rule:
        return Rule(rule_id, severity, title, check, name, secrecy)

    return declare


# --- the view of one post that rules share ----------------------------------------------------

_URL = re.compile(r"https?://[^\s<>()\[\]\"'，。；！？、）】]+")
_BACKTICKS = re.compile(r"`+")
_NOT_NEWLINE = re.compile(r"[^\n]")


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

    @cached_property
    def _line_starts(self) -> list[int]:
        """Offset of every line of the file text, so a location is a binary search, not a count."""
        return line_starts(self.post.text)

    @cached_property
    def _body_line_starts(self) -> list[int]:
        return line_starts(self.post.body)

    def location(self, offset: int) -> Location:
        """File location of a character offset into the whole file text."""
        text = self.post.text
        if not 0 <= offset <= len(text):  # as str.count and str.rfind read an offset out of range
            line = text.count("\n", 0, offset) + 1
            return Location(self.post.path, line, offset - (text.rfind("\n", 0, offset) + 1) + 1)
        index = bisect_right(self._line_starts, offset) - 1
        return Location(self.post.path, index + 1, offset - self._line_starts[index] + 1)

    def line_end(self, offset: int) -> int:
        """Offset of the newline that ends the line holding `offset` (the text's length on the last line)."""
        starts = self._line_starts
        index = bisect_right(starts, offset)
        return starts[index] - 1 if 0 < index < len(starts) else len(self.post.text)

    def offset(self, line: int, col: int) -> int:
        """Offset in the file text of a 1-based line and column (the line past the end: the text's length)."""
        starts = self._line_starts
        return (starts[line - 1] if 0 < line <= len(starts) else line_start(self.post.text, line - 1)) + col - 1

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
        text = self.post.text
        spans: list[tuple[int, int]] = []
        starts = self._line_starts
        body_first_line = self.post.body_line - 1
        for body_line in sorted(self.code_lines):
            index = body_first_line + body_line
            if 0 <= index < len(starts):
                end = starts[index + 1] - 1 if index + 1 < len(starts) else len(text)
                spans.append((starts[index], end))
        spans.extend(self.url_spans)
        spans.extend(inline_code_spans(text, self.body_offset))
        spans.extend(html_comment_spans(text, self.body_offset))
        return blank_spans(text, spans)

    @cached_property
    def images(self) -> tuple[ImageRef, ...]:
        """Every image the post uses: the cover first, then body images in order."""
        refs = []
        finder = _Finder(self.post.body)
        cover = self.text_field("cover")
        if cover:
            refs.append(ImageRef(cover, self.post.locate_field("cover"), is_cover=True))
        for token in self.tokens:
            if token.type != "inline" or not token.children:
                continue
            block_start = self.body_line_start(token.map[0]) if token.map else 0
            block_end = self.body_line_start(token.map[1]) if token.map else len(self.post.body)
            for child in token.children:
                if child.type == "image":
                    src = unquote(str(child.attrs.get("src", "")))
                    found = finder.find(src, block_start, block_end) if src else -1
                    offset = self.body_offset + (found if found >= 0 else block_start)
                    refs.append(ImageRef(src, self.location(offset)))
        return tuple(refs)

    def body_line_start(self, line: int) -> int:
        """Offset within the body of its 0-based `line` (markdown-it token maps count this way)."""
        starts = self._body_line_starts
        return starts[line] if 0 <= line < len(starts) else line_start(self.post.body, line)

    def text_field(self, *key_path: str) -> str | None:
        """A front-matter text value even when other fields are invalid, so every problem shows at once."""
        value: object = self.post.document.data if self.post.document else None
        for key in key_path:
            value = value.get(key) if isinstance(value, dict) else None
        return value if isinstance(value, str) else None

    @cached_property
    def _url_starts(self) -> list[int]:
        return [span_start for span_start, _ in self.url_spans]

    def in_url(self, start: int, end: int) -> bool:
        """Whether text[start:end] lies inside one URL. URL spans are sorted and never overlap, so
        only the last one starting at or before `start` can hold it."""
        index = bisect_right(self._url_starts, start) - 1
        return index >= 0 and end <= self.url_spans[index][1]


def line_start(text: str, line: int) -> int:
    """Offset of the 0-based `line` in `text` (its length when there are fewer lines)."""
    offset = 0
    for _ in range(line):
        offset = text.find("\n", offset) + 1
        if offset == 0:
            return len(text)
    return offset


def line_starts(text: str) -> list[int]:
    """Offset of each line of `text`: [0, and one past every newline]."""
    starts = [0]
    starts.extend(match.end() for match in re.finditer("\n", text))
    return starts


def blank_spans(text: str, spans: Iterable[tuple[int, int]]) -> str:
    """`text` with every character inside the spans, except newlines, replaced by a space."""
    parts: list[str] = []
    done = 0
    for start, end in sorted(spans):
        start = max(start, done)
        if end <= start:
            continue
        parts.append(text[done:start])
        parts.append(_NOT_NEWLINE.sub(" ", text[start:end]))
        done = end
    parts.append(text[done:])
    return "".join(parts)


def html_comment_spans(text: str, start: int = 0) -> Iterator[tuple[int, int]]:
    """Spans of `<!-- ... -->` comments from `start`, as `re.finditer(r"<!--.*?-->", re.S)` finds
    them, in one pass: an opener with no `-->` after it is no comment, and neither is any later one
    (the regex would rescan the rest of the text from every such opener)."""
    position = start
    while True:
        opener = text.find("<!--", position)
        if opener < 0:
            return
        closer = text.find("-->", opener + 4)
        if closer < 0:
            return
        yield opener, closer + 3
        position = closer + 3


def inline_code_spans(text: str, start: int = 0) -> Iterator[tuple[int, int]]:
    """Spans of `code` from `start`, exactly as `re.finditer(r"(`+)(?!`).+?(?<!`)\\1", text, start)`
    finds them, in linear time (the regex backtracks through every shorter run and rescans the rest
    of the line from each backtick: quadratic on a long run or on a line of unclosed backticks)."""
    position = start
    while True:
        first = text.find("`", position)
        if first < 0:
            return
        line_end = text.find("\n", first)
        line_end = len(text) if line_end < 0 else line_end
        runs = [match.span() for match in _BACKTICKS.finditer(text, first, line_end)]
        yield from _line_code_spans(runs)
        position = line_end + 1


def _line_code_spans(runs: list[tuple[int, int]]) -> Iterator[tuple[int, int]]:
    """The regex's matches among the backtick runs of one line. From a backtick at `p` whose run
    ends at `r`, it needs a later run on the line at least `r - p` long and closes on the first such
    run; so a run of length L, followed by runs whose longest is M, opens at `r - min(L, M)` (and
    nowhere when M is 0), and the rest of the closing run starts the next attempt."""
    count = len(runs)
    longest_after = [0] * (count + 1)
    for index in range(count - 1, -1, -1):
        longest_after[index] = max(longest_after[index + 1], runs[index][1] - runs[index][0])
    index = 0
    while index + 1 < count:
        begin, end = runs[index]
        length = min(end - begin, longest_after[index + 1])
        closing = index + 1
        while runs[closing][1] - runs[closing][0] < length:
            closing += 1
        yield end - length, runs[closing][0] + length
        rest = runs[closing][0] + length
        if rest < runs[closing][1]:
            runs[closing] = (rest, runs[closing][1])  # longest_after[closing + 1:] is unaffected
            index = closing
        else:
            index = closing + 1


class _Finder:
    """`text.find(needle, start)` for image sources, with every block's own lines searched first.

    A source written differently in the file (percent-encoded, an entity, a reference definition) is
    not in its block; the search then goes on to the end of the text as before, but the answer is
    remembered per source, and those searches share a budget, so thousands of such images cannot
    each rescan a megabyte."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.budget = 4 * len(text) + 1_000_000
        self.last: dict[str, tuple[int, int]] = {}

    def find(self, needle: str, start: int, end: int) -> int:
        found = self.text.find(needle, start, end)
        if found >= 0:
            return found
        last_start, last_found = self.last.get(needle, (-1, -2))
        if last_start <= start and (last_found == -1 or start <= last_found):
            return last_found
        if self.budget <= 0:
            return -1
        after = max(start, end - len(needle) + 1)  # text[start:end] holds no needle; one may straddle `end`
        found = self.text.find(needle, after)
        self.budget -= (found if found >= 0 else len(self.text)) - after
        self.last[needle] = (start, found)
        return found
