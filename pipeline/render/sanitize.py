"""The last step of every render: keep only what WeChat's article body keeps.

An allowlist (nh3, the Rust ammonia sanitizer) of tags, attributes, URL schemes and CSS
properties. Whatever a theme, a template or a post tries beyond it is removed, not trusted.
"""
from __future__ import annotations

import hashlib
import re
from html import unescape

import nh3

TAGS = {
    "section", "p", "span", "br", "hr", "strong", "b", "em", "i", "del", "s", "u", "sup", "sub",
    "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "code",
    "table", "thead", "tbody", "tr", "th", "td", "img", "a",
}
ATTRIBUTES = {
    "*": {"style"},
    "img": {"src", "alt"},
    "a": {"href"},
    "th": {"colspan", "rowspan"},
    "td": {"colspan", "rowspan"},
}
STYLE_PROPERTIES = {
    "color", "background-color", "font-size", "font-weight", "font-style", "font-family",
    "line-height", "letter-spacing", "text-align", "text-indent", "text-decoration", "word-break",
    "white-space", "vertical-align", "display", "width", "min-width", "max-width", "height", "overflow-x",
    "margin", "margin-top", "margin-right", "margin-bottom", "margin-left",
    "padding", "padding-top", "padding-right", "padding-bottom", "padding-left",
    "border", "border-top", "border-right", "border-bottom", "border-left", "border-radius", "border-collapse",
}


def sanitize(html: str) -> str:
    return nh3.clean(
        html,
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes={"http", "https"},
        link_rel=None,
        strip_comments=True,
        filter_style_properties=STYLE_PROPERTIES,
    )


def readable_text(html: str) -> str:
    """What a reader sees of an article: its text, one sentence per line (for comparing versions)."""
    text = unescape(nh3.clean(html, tags=set()))
    text = re.sub(r"\s+", " ", text).strip()
    return re.sub(r"(?<=[。！？；])\s*", "\n", text).strip()


def fingerprint(html: str) -> str:
    """A digest of an article's text, images and links, insensitive to how its HTML is formatted.

    Recorded at publish time and compared by the patrol: WeChat may reformat markup and styles,
    but a changed word, picture or link is a changed article.
    """
    sources = re.findall(r"<img\b[^>]*\bsrc=\"([^\"]*)\"", html)
    links = re.findall(r"<a\b[^>]*\bhref=\"([^\"]*)\"", html)
    return hashlib.sha256("\n".join([readable_text(html), *sources, *links]).encode("utf-8")).hexdigest()
