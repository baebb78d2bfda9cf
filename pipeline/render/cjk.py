"""CJK-friendly emphasis: `这是**“重点”**，` and `**《工会法》**第三条` are emphasis, as writers mean.

CommonMark's flanking rules treat Unicode punctuation next to a delimiter run as a reason not to
open or close emphasis unless whitespace or punctuation is on the other side; Chinese has no spaces,
so bold around “quoted” or 《titled》 text fails and literal `**` shows. This follows the CJK-friendly
amendment (the markdown-cjk-friendly specification draft): a CJK character counts like punctuation
where that *allows* a run to open or close, and never where punctuation would *forbid* it. Where no
CJK character is involved the result is exactly CommonMark's.

Written here rather than taken from the PyPI plugin mdit-py-cjk-friendly (same rule): that package
pins markdown-it-py below 4 and patches `StateInline.scanDelims` for the whole process at import;
this one is a subclass used by gzh's parser only, so the reference parser in the tests stays plain
CommonMark. The cost is one character-class test per delimiter run (docs/benchmarks.md).
"""
from __future__ import annotations

import re

from markdown_it import MarkdownIt
from markdown_it.common.utils import isMdAsciiPunct, isPunctChar, isWhiteSpace
from markdown_it.parser_inline import ParserInline
from markdown_it.rules_inline.state_inline import Scanned, StateInline
from markdown_it.token import Token
from markdown_it.utils import EnvType

CJK = re.compile(
    "[\u1100-\u11ff\u2e80-\u2fdf\u2ff0-\u303f\u3040-\u30ff\u3100-\u312f\u3130-\u318f\u3190-\u31ff"
    "\u3200-\u4dbf\u4e00-\u9fff\ua960-\ua97f\uac00-\ud7ff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef"
    "\U00020000-\U0003134f]")


def is_cjk(char: str) -> bool:
    return bool(char) and CJK.match(char) is not None


def _punctuation(char: str) -> bool:
    return isMdAsciiPunct(ord(char)) or isPunctChar(char)


class CJKStateInline(StateInline):
    def scanDelims(self, start: int, canSplitWord: bool) -> Scanned:  # noqa: N802, N803 - markdown-it's names
        scanned = super().scanDelims(start, canSplitWord)
        if scanned.can_open and scanned.can_close:
            return scanned
        last = self.src[start - 1] if start > 0 else " "
        end = start + scanned.length
        following = self.src[end] if end < self.posMax else " "
        last_cjk, next_cjk = is_cjk(last), is_cjk(following)  # each class once: a run of 50,000 marks
        if not (last_cjk or next_cjk):
            return scanned
        last_punctuation, next_punctuation = _punctuation(last), _punctuation(following)
        last_blocks = last_punctuation and not last_cjk
        next_blocks = next_punctuation and not next_cjk
        last_allows = last_punctuation or last_cjk
        next_allows = next_punctuation or next_cjk
        last_space, next_space = isWhiteSpace(ord(last)), isWhiteSpace(ord(following))
        left = not next_space and (not next_blocks or last_space or last_allows)
        right = not last_space and (not last_blocks or next_space or next_allows)
        can_open = left and (canSplitWord or not right or last_allows)
        can_close = right and (canSplitWord or not left or next_allows)
        return Scanned(can_open, can_close, scanned.length)


class CJKParserInline(ParserInline):
    def parse(self, src: str, md: MarkdownIt, env: EnvType, tokens: list[Token]) -> list[Token]:
        state = CJKStateInline(src, md, env, tokens)
        self.tokenize(state)
        for rule in self.ruler2.getRules(""):
            rule(state)
        return state.tokens


def cjk_friendly(md: MarkdownIt) -> None:
    """Use CJK-friendly emphasis in this parser only (its inline rules are kept as they are)."""
    md.inline.__class__ = CJKParserInline
