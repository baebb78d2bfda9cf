"""Code blocks for WeChat: Pygments colours as inline styles, whitespace kept as <br> and &nbsp;.

WeChat's editor collapses whitespace and reflows <pre> text, so line breaks become <br> and
every space becomes a non-breaking space; the highlighting survives as inline `style` attributes.
"""
from __future__ import annotations

import re
from functools import lru_cache

from markupsafe import escape
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer
from pygments.lexers import TextLexer, get_lexer_by_name
from pygments.util import ClassNotFound

_FORMATTER = HtmlFormatter(nowrap=True, noclasses=True, style="friendly")
_TEXT_BETWEEN_TAGS = re.compile(r"(^|>)([^<]+)")


@lru_cache(maxsize=64)
def _lexer(language: str) -> Lexer:
    try:
        return get_lexer_by_name(language, stripnl=False, ensurenl=False)
    except ClassNotFound:
        return TextLexer(stripnl=False, ensurenl=False)


def highlight_code(code: str, language: str) -> str:
    """Inline-styled HTML for a code block's contents (no wrapper element)."""
    code = code.rstrip("\n")
    html = highlight(code, _lexer(language.lower()), _FORMATTER) if language else str(escape(code))
    html = html.rstrip("\n")
    # Spaces only in text, never inside tags: '<span style="color: red">' must keep its space.
    html = _TEXT_BETWEEN_TAGS.sub(lambda match: match.group(1) + match.group(2).replace(" ", "&nbsp;"), html)
    return html.replace("\t", "&nbsp;" * 4).replace("\n", "<br>")
