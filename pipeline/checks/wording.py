"""文字关: serious misstatements, outdated organ names, traditional characters and typography.

Code, links and HTML comments are never read here (PostView.prose blanks them), so a sample of
code or a URL is never "corrected".
"""
from __future__ import annotations

import difflib
import re
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any, Iterator

import autocorrect_py
import opencc
import yaml

from pipeline.checks.model import Fix, Hit, PostView, Severity, html_comment_spans, rule
from pipeline.i18n import Text

# Official style (GB/T 15834 punctuation, no spaces between Chinese and digits): keep AutoCorrect's
# full-width punctuation rules, turn off its tech-community habit of spacing CJK from Latin/digits.
autocorrect_py.load_config("rules:\n  space-word: 0\n  space-punctuation: 1\n  fullwidth: 1\n")
# AutoCorrect's parser (pest) bounds the work of a call by a call limit, but only from its second
# call in a process on: the first runs unbounded (a line of 16,000 "[" took 3 s). A tiny first call
# here puts every real one under the limit, which then fails in about 0.1 s with ValueError.
autocorrect_py.lint_for("", "md")

# Text handed to AutoCorrect at once, in characters. Its parser recurses: a run of 48,000 '"' (or
# 150,000 '*') overflows the stack and kills the process, whatever the call limit; and it reaches
# the call limit on some text of 150 KB. A post up to this size is linted whole, as always; a
# longer one in chunks split at blank lines outside code; a line longer than this is never linted.
LINT_CHUNK = 16 * 1024
# AutoCorrect calls that may fail (reach the call limit, about 0.1 s each) in one post before the
# rest of its body is left unlinted: a post made of such text would otherwise cost seconds per MB.
LINT_FAILURES = 8
_TOGGLE = re.compile(r"autocorrect(?::[ ]*|-)(?:false|disable|true|enable)")
_TOGGLE_OFF = re.compile(r"autocorrect(?::[ ]*|-)(?:false|disable)")
_DISABLED = "<!-- autocorrect-disable -->\n"  # carries an author's switch into the next chunk

_CJK_DIGIT_SPACE = re.compile(r"(?<=[\u4e00-\u9fff])[ \t]+(?=\d)|(?<=\d)[ \t]+(?=[\u4e00-\u9fff])")
_T2S = opencc.OpenCC("t2s")

_MISSTATEMENT = Text("严重表述错误：“{wrong}”应为“{right}”。这类错误属于政务新媒体检查的单项否决项，请改正",
                     "Serious misstatement: '{wrong}' should be '{right}'. This is a single-veto item; fix it")
_OUTDATED = Text("“{wrong}”是机构改革前的旧称，现为“{right}”", "'{wrong}' is a pre-reform name; it is now '{right}'")
_OUTDATED_WAIVER = Text("。如确是回顾历史，请加忽略注释写明理由", ". For a historical mention add an ignore comment")
_TRADITIONAL = Text("发现繁体字“{found}”，简体应为“{simplified}”。人名等确需保留的，请由宣网部加入 checks.allowlists.traditional",
                    "Traditional characters '{found}'; simplified: '{simplified}'. Names to keep can be allowlisted")
_NOT_LINTED = Text(
    "排版检查跳过了从这里开始的 {lines} 行：内容过长或结构异常（例如大量连续的符号），排版工具无法处理。请检查这里是否有误粘贴的内容",
    "Typography was not checked for {lines} line(s) from here: too long or oddly structured (e.g. long runs of "
    "symbols) for the typography tool. Check for pasted garbage here")
_TYPOGRAPHY = Text("排版：“{old}”建议改为“{new}”（全角标点，中文与数字之间不加空格）。gzh check --fix 可自动修改",
                   "Typography: '{old}' → '{new}' (full-width punctuation, no space between Chinese and digits). "
                   "gzh check --fix rewrites it")


@dataclass(frozen=True)
class Entry:
    wrong: str
    right: str
    kind: str
    pattern: re.Pattern[str]


@lru_cache(maxsize=1)
def dictionary() -> tuple[str, tuple[Entry, ...]]:
    """The versioned misstatement dictionary shipped in pipeline/data/wording.yml."""
    text = resources.files("pipeline").joinpath("data", "wording.yml").read_text("utf-8")
    data = yaml.safe_load(text)
    entries = tuple(
        Entry(item["wrong"], item["right"], item["kind"], re.compile(item.get("pattern") or re.escape(item["wrong"])))
        for item in data["entries"]
    )
    return str(data["version"]), entries


def _dictionary_hits(view: PostView, outdated: bool) -> Iterator[Hit]:
    template = _OUTDATED if outdated else _MISSTATEMENT
    waiver = _OUTDATED_WAIVER() if outdated else ""
    matches = [
        (match.start(), match.end(), entry)
        for entry in dictionary()[1]
        if (entry.kind == "outdated") == outdated
        for match in entry.pattern.finditer(view.prose)
    ]
    taken_until = -1
    # Longest match first at each position; a shorter entry inside it (市总公会 in 扬州市总公会) is the same error.
    for start, end, entry in sorted(matches, key=lambda item: (item[0], item[0] - item[1])):
        if end <= taken_until:
            continue
        taken_until = end
        yield Hit(view.location(start), template(wrong=view.prose[start:end], right=entry.right), waiver=waiver)


@rule("misstatement", Severity.ERROR, Text("无国名、机构名、重要提法的严重表述错误", "No serious misstatements"),
      name=Text("严重表述错误", "misstatement"))
def misstatement(view: PostView) -> Iterator[Hit]:
    return _dictionary_hits(view, outdated=False)


@rule("outdated-name", Severity.WARNING, Text("不用机构改革前的旧称", "No pre-reform organ names"),
      name=Text("旧机构名称", "outdated name"))
def outdated_name(view: PostView) -> Iterator[Hit]:
    return _dictionary_hits(view, outdated=True)


@rule("traditional-chars", Severity.WARNING, Text("简体中文文章不夹繁体字", "No traditional characters"),
      name=Text("繁体字", "traditional characters"))
def traditional_chars(view: PostView) -> Iterator[Hit]:
    prose = view.prose
    simplified = _T2S.convert(prose)
    if simplified == prose:
        return
    allowed = _allowed_spans(prose, view.policy.allowed_values("traditional"))
    for start, end, replacement in _changed_runs(prose, simplified):
        if allowed.holds(start, end):
            continue
        yield Hit(view.location(start), _TRADITIONAL(found=prose[start:end], simplified=replacement))


class _Spans:
    """Whether some span holds text[start:end], by binary search over the spans sorted by start
    with the furthest end reached so far (spans of different values may overlap)."""

    def __init__(self, spans: list[tuple[int, int]]) -> None:
        spans.sort()
        self.starts = [start for start, _ in spans]
        self.reach: list[int] = []
        for _, end in spans:
            self.reach.append(max(end, self.reach[-1]) if self.reach else end)

    def holds(self, start: int, end: int) -> bool:
        index = bisect_right(self.starts, start) - 1
        return index >= 0 and end <= self.reach[index]


def _allowed_spans(text: str, values: frozenset[str]) -> _Spans:
    return _Spans([match.span() for value in values for match in re.finditer(re.escape(value), text)])


def _changed_runs(before: str, after: str) -> Iterator[tuple[int, int, str]]:
    """(start, end, replacement) for each run of `before` that the conversion changed."""
    if len(before) == len(after):  # t2s is character-for-character almost always: skip difflib
        index = 0
        while index < len(before):
            if before[index] == after[index]:
                index += 1
                continue
            start = index
            while index < len(before) and before[index] != after[index]:
                index += 1
            yield start, index, after[start:index]
        return
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            yield i1, i2, after[j1:j2]


@rule("typography", Severity.WARNING, Text("中文排版规范：全角标点，中文与数字间不加空格",
                                           "Chinese typography: full-width punctuation, no CJK-digit spaces"),
      name=Text("排版", "typography"))
def typography(view: PostView) -> Iterator[Hit]:
    yield from _field_typography(view)
    yield from _autocorrect_body(view)
    for match in _CJK_DIGIT_SPACE.finditer(view.prose, view.body_offset):
        start, end = match.span()
        before, after = view.post.text[max(start - 2, 0):start], view.post.text[end:end + 2]
        before, after = before.rsplit("\n", 1)[-1], after.split("\n", 1)[0]
        message = _TYPOGRAPHY(old=before + match.group(0) + after, new=before + after)
        yield Hit(view.location(start), message, Fix(start, end, ""))


def _field_typography(view: PostView) -> Iterator[Hit]:
    for field in ("title", "digest"):
        value = view.text_field(field)
        if not value or len(value) > LINT_CHUNK:  # far over WeChat's limits, which the length rules report
            continue
        try:
            fixed = autocorrect_py.format(value)
        except ValueError:  # AutoCorrect's call limit: a field it cannot parse is no field it can fix
            continue
        if fixed != value:
            location = view.post.locate_field(field)
            start = view.offset(location.line, location.col)
            fix = Fix(start, start + len(value), fixed) if view.post.text.startswith(value, start) else None
            yield Hit(location, _TYPOGRAPHY(old=value, new=fixed), fix)


def _autocorrect_body(view: PostView) -> Iterator[Hit]:
    body_start_line = view.post.body_line
    linter = _BodyLinter(view.post.body, view.code_lines)
    for first_line, result in linter.results():
        line = body_start_line + first_line + result.line - 1
        start = view.offset(line, result.col)
        fix = Fix(start, start + len(result.old), result.new) if view.post.text.startswith(result.old, start) else None
        old, new = _compact_diff(result.old, result.new)
        yield Hit(view.location(start + _excerpt_offset(result.old, old)), _TYPOGRAPHY(old=old, new=new), fix)
    for first_line, count in linter.skipped:
        yield Hit(view.location(view.offset(body_start_line + first_line, 1)), _NOT_LINTED(lines=count))


class _BodyLinter:
    """AutoCorrect over a body of any size: whole when short (as always), else in chunks it can take
    (see LINT_CHUNK). Chunks end at blank lines outside code blocks, where AutoCorrect's Markdown has
    nothing open; a paragraph longer than a chunk is cut between lines (never inside a code block).
    A chunk that still fails is retried one line, or one code block, at a time; a piece that fails
    alone, or is too long to try, is skipped and reported. An author's `<!-- autocorrect-disable -->`
    keeps its effect in the chunks after it, as in one call."""

    def __init__(self, body: str, code_lines: frozenset[int]) -> None:
        self.body = body
        self.lines = body.split("\n")
        self.code = code_lines
        self.failures = 0
        self.disabled = False
        self.skipped: list[tuple[int, int]] = []  # (0-based first line, line count) not linted

    def results(self) -> Iterator[tuple[int, Any]]:
        """(0-based body line where the linted text starts, AutoCorrect's result for a line)."""
        if len(self.body) <= LINT_CHUNK:
            found = self._lint(self.body)
            if found is not None:
                yield from found
                return
        for first, end in self._pack(self._pieces(0, len(self.lines), blank_only=True)):
            yield from self._chunk(first, end)

    def _text(self, first: int, end: int) -> str:
        return "\n".join(self.lines[first:end]) + ("\n" if end < len(self.lines) else "")

    def _pieces(self, first: int, end: int, blank_only: bool) -> list[tuple[int, int]]:
        """Line ranges that may be linted apart: split after each blank line outside code blocks, or
        (not blank_only) between any two lines that are not both inside code."""
        pieces, start = [], first
        for index in range(first, end - 1):
            if index in self.code and index + 1 in self.code:
                continue
            if not blank_only or (index not in self.code and not self.lines[index].strip()):
                pieces.append((start, index + 1))
                start = index + 1
        if start < end:
            pieces.append((start, end))
        return pieces

    def _pack(self, pieces: list[tuple[int, int]]) -> Iterator[tuple[int, int]]:
        """Consecutive pieces joined up to LINT_CHUNK characters; a longer piece cut between lines."""
        first = end = size = 0
        for start, stop in pieces:
            piece_size = sum(len(line) + 1 for line in self.lines[start:stop])
            if piece_size > LINT_CHUNK and stop - start > 1:
                finer = self._pieces(start, stop, blank_only=False)
                if len(finer) > 1:
                    if end > first:
                        yield first, end
                    yield from self._pack(finer)
                    first = end = stop
                    size = 0
                    continue
            if end > first and size + piece_size > LINT_CHUNK:
                yield first, end
                first = end = start
                size = 0
            if end == first:
                first = start
            end, size = stop, size + piece_size
        if end > first:
            yield first, end

    def _chunk(self, first: int, end: int) -> Iterator[tuple[int, Any]]:
        text = self._text(first, end)
        found = self._lint(text) if len(text) <= LINT_CHUNK else None
        if found is not None:
            yield from ((first + shift, result) for shift, result in found)
        else:
            pieces = self._pieces(first, end, blank_only=False)
            if len(pieces) > 1:
                for start, stop in pieces:
                    yield from self._chunk(start, stop)
                return
            self._skip(first, end)  # one line, or one code block, that AutoCorrect cannot take
        self._follow_switch(text)

    def _lint(self, text: str) -> list[tuple[int, Any]] | None:
        """[(line shift, result)], or None when AutoCorrect fails (or has failed too often)."""
        if self.failures >= LINT_FAILURES:
            return None
        prefix = _DISABLED if self.disabled else ""
        try:
            results = autocorrect_py.lint_for(prefix + text, "md").lines
        except ValueError:  # the parser's call limit
            self.failures += 1
            return None
        shift = -1 if prefix else 0
        return [(shift, result) for result in results]

    def _skip(self, first: int, end: int) -> None:
        if self.skipped and sum(self.skipped[-1]) == first:
            self.skipped[-1] = (self.skipped[-1][0], self.skipped[-1][1] + end - first)
        else:
            self.skipped.append((first, end - first))

    def _follow_switch(self, text: str) -> None:
        """AutoCorrect's own switch: a comment saying `autocorrect: false` (or `autocorrect-disable`)
        turns it off until one saying true (or enable); within one comment, off wins."""
        if "autocorrect" not in text:
            return
        for start, end in html_comment_spans(text):
            if _TOGGLE.search(text, start, end):
                self.disabled = _TOGGLE_OFF.search(text, start, end) is not None


def _compact_diff(old: str, new: str, context: int = 4) -> tuple[str, str]:
    """The changed part of a long line with a few characters around it, so messages stay short."""
    prefix = 0
    while prefix < min(len(old), len(new)) and old[prefix] == new[prefix]:
        prefix += 1
    suffix = 0
    while suffix < min(len(old), len(new)) - prefix and old[-1 - suffix] == new[-1 - suffix]:
        suffix += 1
    start = max(prefix - context, 0)
    return old[start:len(old) - max(suffix - context, 0)], new[start:len(new) - max(suffix - context, 0)]


def _excerpt_offset(old: str, shown: str) -> int:
    """Offset of the shown excerpt within `old`, so the location points at the change."""
    found = old.find(shown)
    return max(found, 0)
