"""WeChat's field limits, checked before review so nothing fails at publish time.

Figures: draft/add in the WeChat reference (title 32, author 16, digest 128 characters;
content_source_url 1 KB; content under 20,000 characters and 1 MB).
"""
from __future__ import annotations

from typing import Iterator

from pipeline import render
from pipeline.render import RenderError
from pipeline.checks.model import Hit, PostView, Severity, rule
from pipeline.i18n import Text

TITLE_MAX = 32
AUTHOR_MAX = 16
DIGEST_MAX = 128
SOURCE_URL_MAX_BYTES = 1024
BODY_MAX_CHARS = render.MAX_CHARS
BODY_MAX_BYTES = render.MAX_BYTES
# The rules that read only the front matter and the post's place, which still run on a larger file.
FIELD_RULES = frozenset({
    "front-matter", "non-regular-file", "department-unknown", "category-unknown", "repost-source",
    "secrecy-reviewer", "secrecy-review-requested", "theme-unknown", "title-length", "author-length",
    "digest-length", "source-url-length", "published-changed",
})

_TOO_LONG = Text("{field}有 {actual} 个字，微信最多允许 {limit} 个，请删减 {excess} 个字",
                 "{field} has {actual} characters; WeChat allows {limit}. Remove {excess}")
_URL_TOO_LONG = Text("来源链接有 {actual} 字节，微信最多允许 {limit} 字节，请换用较短的链接",
                     "The source link is {actual} bytes; WeChat allows {limit}. Use a shorter link")
_BODY_TEXT_TOO_BIG = Text(
    "正文的文字就有 {chars} 个字符，转换成网页只会更多，超过微信的上限（少于 {max_chars} 个字符且小于 1 MB）。请精简正文或拆成两篇",
    "The body's text alone has {chars} characters, and its HTML has more: over WeChat's limit (under {max_chars} "
    "characters and 1 MB). Shorten it or split it in two")
_BODY_TOO_BIG = Text(
    "正文转换成网页后有 {chars} 个字符（{size} KB），超过微信的上限（少于 {max_chars} 个字符且小于 1 MB）。请精简正文或拆成两篇",
    "The body renders to {chars} characters ({size} KB), over WeChat's limit (under {max_chars} characters "
    "and 1 MB). Shorten it or split it in two")
FILE_TOO_LARGE = Text(
    "文件有 {size} MB，超过检查能处理的上限 {limit} MB，因此没有检查正文。微信正文上限为 1 MB（且少于 2 万字符），"
    "这篇文章无法发布：请精简正文或拆成几篇；图片请作为文件放进文章文件夹，不要把图片数据写进正文",
    "The file is {size} MB, over the {limit} MB that gzh check reads, so the body was not checked. WeChat takes at "
    "most 1 MB (under 20,000 characters): shorten the post or split it; keep images as files in the post folder")
_EMPTY_BODY = Text("正文是空的，请在第二个 --- 下面写正文", "The body is empty; write it below the second ---")
_FIELDS = {"title": Text("标题", "The title"), "author": Text("作者", "The author"), "digest": Text("摘要", "The digest")}


def _length_hits(view: PostView, field: str, limit: int) -> Iterator[Hit]:
    value = view.text_field(field)
    if value and len(value) > limit:
        message = _TOO_LONG(field=_FIELDS[field](), actual=len(value), limit=limit, excess=len(value) - limit)
        yield Hit(view.post.locate_field(field), message)


@rule("title-length", Severity.ERROR, Text(f"标题不超过 {TITLE_MAX} 个字", f"Title at most {TITLE_MAX} characters"),
      name=Text("标题长度", "title length"))
def title_length(view: PostView) -> Iterator[Hit]:
    return _length_hits(view, "title", TITLE_MAX)


@rule("author-length", Severity.ERROR, Text(f"作者不超过 {AUTHOR_MAX} 个字", f"Author at most {AUTHOR_MAX} characters"),
      name=Text("作者长度", "author length"))
def author_length(view: PostView) -> Iterator[Hit]:
    return _length_hits(view, "author", AUTHOR_MAX)


@rule("digest-length", Severity.ERROR, Text(f"摘要不超过 {DIGEST_MAX} 个字", f"Digest at most {DIGEST_MAX} characters"),
      name=Text("摘要长度", "digest length"))
def digest_length(view: PostView) -> Iterator[Hit]:
    return _length_hits(view, "digest", DIGEST_MAX)


@rule("source-url-length", Severity.ERROR, Text("来源链接不超过 1 KB", "Source link at most 1 KB"),
      name=Text("来源链接长度", "source link length"))
def source_url_length(view: PostView) -> Iterator[Hit]:
    url = view.text_field("source", "url")
    size = len(url.encode("utf-8")) if url else 0
    if size > SOURCE_URL_MAX_BYTES:
        yield Hit(view.post.locate_field("source", "url"), _URL_TOO_LONG(actual=size, limit=SOURCE_URL_MAX_BYTES))


@rule("body-empty", Severity.ERROR, Text("正文不为空", "The body is not empty"), name=Text("正文为空", "empty body"))
def body_empty(view: PostView) -> Iterator[Hit]:
    if view.post.document and not view.post.body.strip():
        yield Hit(view.location(view.body_offset), _EMPTY_BODY())


def _text_length(tokens: list) -> int:
    """Characters of text and code the renderer writes out as they are (escaping only adds to them)."""
    total = 0
    for token in tokens:
        if token.type in ("fence", "code_block"):
            total += len(token.content)
        for child in token.children or ():
            if child.type in ("text", "code_inline"):
                total += len(child.content)
    return total


@rule("body-size", Severity.ERROR, Text("正文网页少于 2 万字符且小于 1 MB", "Body HTML under 20,000 characters and 1 MB"),
      name=Text("正文大小", "body size"))
def body_size(view: PostView) -> Iterator[Hit]:
    """Measured on the real render (theme styles included), since that is what WeChat counts."""
    if view.post.meta is None:
        return  # unrenderable until the front matter is fixed; front-matter reports why
    text = _text_length(view.tokens)
    if text >= BODY_MAX_CHARS:  # the HTML holds every character of text: no need to render to know
        yield Hit(view.location(view.body_offset), _BODY_TEXT_TOO_BIG(chars=text, max_chars=BODY_MAX_CHARS))
        return
    try:
        html = render.render_post(view.post, view.policy, view.root).html  # reuses the rules' parse
    except RenderError:
        return  # a missing theme or template is reported by theme-unknown or as a configuration error
    size = len(html.encode("utf-8"))
    if len(html) >= BODY_MAX_CHARS or size >= BODY_MAX_BYTES:
        message = _BODY_TOO_BIG(chars=len(html), size=round(size / 1024), max_chars=BODY_MAX_CHARS)
        yield Hit(view.location(view.body_offset), message)
