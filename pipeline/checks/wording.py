"""文字关: serious misstatements, outdated organ names, traditional characters and typography.

Code, links and HTML comments are never read here (PostView.prose blanks them), so a sample of
code or a URL is never "corrected".
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Iterator

import autocorrect_py
import opencc
import yaml

from pipeline.checks.model import Fix, Hit, PostView, Severity, line_start, rule
from pipeline.i18n import Text

# Official style (GB/T 15834 punctuation, no spaces between Chinese and digits): keep AutoCorrect's
# full-width punctuation rules, turn off its tech-community habit of spacing CJK from Latin/digits.
autocorrect_py.load_config("rules:\n  space-word: 0\n  space-punctuation: 1\n  fullwidth: 1\n")

_CJK_DIGIT_SPACE = re.compile(r"(?<=[\u4e00-\u9fff])[ \t]+(?=\d)|(?<=\d)[ \t]+(?=[\u4e00-\u9fff])")
_T2S = opencc.OpenCC("t2s")

_MISSTATEMENT = Text("严重表述错误：“{wrong}”应为“{right}”。这类错误属于政务新媒体检查的单项否决项，请改正",
                     "Serious misstatement: '{wrong}' should be '{right}'. This is a single-veto item; fix it")
_OUTDATED = Text("“{wrong}”是机构改革前的旧称，现为“{right}”。如确是回顾历史，请加忽略注释写明理由",
                 "'{wrong}' is a pre-reform name; it is now '{right}'. For a historical mention add an ignore comment")
_TRADITIONAL = Text("发现繁体字“{found}”，简体应为“{simplified}”。人名等确需保留的，请由宣网部加入 checks.allowlists.traditional",
                    "Traditional characters '{found}'; simplified: '{simplified}'. Names to keep can be allowlisted")
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
        yield Hit(view.location(start), template(wrong=view.prose[start:end], right=entry.right))


@rule("misstatement", Severity.ERROR, Text("无国名、机构名、重要提法的严重表述错误", "No serious misstatements"))
def misstatement(view: PostView) -> Iterator[Hit]:
    return _dictionary_hits(view, outdated=False)


@rule("outdated-name", Severity.WARNING, Text("不用机构改革前的旧称", "No pre-reform organ names"))
def outdated_name(view: PostView) -> Iterator[Hit]:
    return _dictionary_hits(view, outdated=True)


@rule("traditional-chars", Severity.WARNING, Text("简体中文文章不夹繁体字", "No traditional characters"))
def traditional_chars(view: PostView) -> Iterator[Hit]:
    prose = view.prose
    simplified = _T2S.convert(prose)
    if simplified == prose:
        return
    allowed = _allowed_spans(prose, view.policy.allowed_values("traditional"))
    for start, end, replacement in _changed_runs(prose, simplified):
        if any(a_start <= start and end <= a_end for a_start, a_end in allowed):
            continue
        yield Hit(view.location(start), _TRADITIONAL(found=prose[start:end], simplified=replacement))


def _allowed_spans(text: str, values: frozenset[str]) -> list[tuple[int, int]]:
    return [match.span() for value in values for match in re.finditer(re.escape(value), text)]


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
                                           "Chinese typography: full-width punctuation, no CJK-digit spaces"))
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
        if not value:
            continue
        fixed = autocorrect_py.format(value)
        if fixed != value:
            location = view.post.locate_field(field)
            start = _offset(view.post.text, location.line, location.col)
            fix = Fix(start, start + len(value), fixed) if view.post.text.startswith(value, start) else None
            yield Hit(location, _TYPOGRAPHY(old=value, new=fixed), fix)


def _autocorrect_body(view: PostView) -> Iterator[Hit]:
    body_start_line = view.post.body_line
    for result in autocorrect_py.lint_for(view.post.body, "md").lines:
        line = body_start_line + result.line - 1
        start = _offset(view.post.text, line, result.col)
        fix = Fix(start, start + len(result.old), result.new) if view.post.text.startswith(result.old, start) else None
        old, new = _compact_diff(result.old, result.new)
        yield Hit(view.location(start + _excerpt_offset(result.old, old)), _TYPOGRAPHY(old=old, new=new), fix)


def _offset(text: str, line: int, col: int) -> int:
    """Offset of a 1-based line and column."""
    return line_start(text, line - 1) + col - 1


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
