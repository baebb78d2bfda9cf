"""Render stage: Markdown body to the HTML sent to WeChat.

For now this is markdown-it-py with the GFM extensions WeChat posts use; themes, inline styles,
link references and image URL mapping build on it (see docs/architecture.md).
"""
from __future__ import annotations

from markdown_it import MarkdownIt
from mdit_py_plugins.footnote import footnote_plugin
from mdit_py_plugins.tasklists import tasklists_plugin

# Raw HTML stays off: a post's Markdown never passes HTML through to the article.
_MARKDOWN = (
    MarkdownIt("commonmark", {"html": False})
    .enable(["table", "strikethrough"])
    .use(footnote_plugin)
    .use(tasklists_plugin)
)


def body_html(markdown: str) -> str:
    return _MARKDOWN.render(markdown)
