"""Rules on what the renderer cannot keep: check warns, so the preview never says 通过 for a post
that will look wrong (literal asterisks, a footnote that shows as [^x], a note nobody cites)."""
from __future__ import annotations

import re
from typing import Iterator

from pipeline.checks.model import Hit, PostView, Severity, rule
from pipeline.i18n import Text

_UNDEFINED_NOTE = re.compile(r"\[\^([^\]\s]+)\]")
_LITERAL = re.compile(r"\*\*|__")

_EMPHASIS = Text(
    "这里的“{marks}”不会变成加粗，会原样显示。请检查两边的 {marks} 是否成对、中间是否多了空格（例如 **重点** 而不是 ** 重点 **）",
    "'{marks}' here will not become bold and shows as typed. Check the pair and remove inner spaces (**bold**, not ** bold **)")
_UNDEFINED = Text("注释 [^{label}] 没有定义，会原样显示为“[^{label}]”。请在文末写 [^{label}]: 注释内容，或删除这个标记",
                  "Footnote [^{label}] is not defined and shows as typed. Add [^{label}]: text at the end, or remove it")
_UNUSED = Text("注释 [^{label}] 定义了，但正文没有引用，不会出现在文章里。请在正文相应位置加 [^{label}]，或删除这条注释",
               "Footnote [^{label}] is defined but never cited, so it is not shown. Cite it with [^{label}] or remove it")


def _texts(view: PostView) -> Iterator[tuple[int, str]]:
    """(0-based body line of the block, text) of every plain-text run the renderer will show."""
    for token in view.tokens:
        if token.type == "inline" and token.children:
            line = token.map[0] if token.map else 0
            for child in token.children:
                if child.type == "text":
                    yield line, child.content


@rule("emphasis-literal", Severity.WARNING, Text("加粗、强调标记成对生效，不会原样显示", "Emphasis marks pair up and never show"),
      name=Text("加粗标记", "emphasis marks"))
def emphasis_literal(view: PostView) -> Iterator[Hit]:
    for line, text in _texts(view):
        for match in _LITERAL.finditer(text):
            yield Hit(view.body_find(text, line, match.start()), _EMPHASIS(marks=match.group(0)))


@rule("footnote-undefined", Severity.WARNING, Text("引用的注释都有定义", "Every cited footnote is defined"),
      name=Text("未定义的注释", "undefined footnote"))
def footnote_undefined(view: PostView) -> Iterator[Hit]:
    for line, text in _texts(view):
        for match in _UNDEFINED_NOTE.finditer(text):
            yield Hit(view.body_find(text, line, match.start()), _UNDEFINED(label=match.group(1)))


@rule("footnote-unused", Severity.WARNING, Text("定义的注释都在正文中引用", "Every footnote defined is cited"),
      name=Text("未引用的注释", "unused footnote"))
def footnote_unused(view: PostView) -> Iterator[Hit]:
    references = view.parsed[1].get("footnotes", {}).get("refs", {})
    for key, used in references.items():
        if used == -1:
            label = key[1:]
            yield Hit(view.body_find(f"[^{label}]:"), _UNUSED(label=label))
