"""Markdown tokens to WeChat-shaped HTML (before the theme is inlined and the result sanitized).

What WeChat needs that plain Markdown-to-HTML does not do:
- lists become <section>/<p> blocks with text markers: WeChat's editor adds a second bullet to
  nested <ul>/<ol> and drops list styles (peers' reports); task items get ☐/☑, never <input>;
- external links are not clickable in articles, so each becomes a numbered reference, listed once
  per URL under 参考链接 (http, https, mailto, tel, ftp); links to mp.weixin.qq.com articles stay links;
- GFM footnotes become a 注释 section;
- raw HTML never passes: comments (e.g. gzh-ignore) are dropped, anything else shows as text, and
  text after a comment on the same line stays;
- images are resolved through a mapping, so previews use local files and publishing WeChat URLs; an
  image title becomes its caption (图注);
- emphasis follows the CJK-friendly amendment (render/cjk.py), and paragraphs keep their leading
  full-width-space indent. Every transformation is listed in docs/rendering.md.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Callable, Sequence
from urllib.parse import unquote, urlsplit

from markdown_it import MarkdownIt
from markdown_it.common.normalize_url import normalizeLink
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict
from markupsafe import escape
from mdit_py_plugins.footnote import footnote_plugin
from mdit_py_plugins.front_matter import front_matter_plugin
from mdit_py_plugins.tasklists import tasklists_plugin

from pipeline.render.cjk import cjk_friendly
from pipeline.render.code import highlight_code

WECHAT_ARTICLE_HOSTS = ("mp.weixin.qq.com",)
WECHAT_IMAGE_HOSTS = ("mmbiz.qpic.cn", "mmbiz.qlogo.cn")
BULLETS = ("•", "◦", "▪")
TASK_OPEN, TASK_DONE = "☐", "☑"
LINK_SCHEMES = ("http://", "https://", "mailto:", "tel:", "ftp://")
LINKS = "gzh_links"  # our numbered references; markdown-it keeps its link definitions under env["references"]
_INDENT = re.compile(r"^(\u3000+)", re.M)
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
# Link destinations that markdown-it's normalizeLink (mdurl parse, punycode, percent-encoding) returns
# unchanged: a lowercase http(s) host, or none, and path, query and fragment of unreserved characters.
# Host and path cannot trade characters, so a long destination is matched in one pass.
_PLAIN_LINK = re.compile(
    r"(?:https?://[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?(?:/[A-Za-z0-9._~/-]*)?|[A-Za-z0-9._~/-]*)"
    r"(?:\?[A-Za-z0-9._~/=&-]*)?(?:#[A-Za-z0-9._~/=&-]*)?")

ImageResolver = Callable[[str], str]


def is_remote(src: str) -> bool:
    return src.startswith("//") or bool(urlsplit(src).scheme)


class WeChatRenderer(RendererHTML):
    """markdown-it renderer whose rules produce the shapes WeChat keeps (see module docstring)."""

    # -- lists: <section class="list"> with <p class="li"> items carrying a text marker ----------

    def bullet_list_open(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        env["lists"].append(["bullet", 0])
        return '<section class="list">'

    def ordered_list_open(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        start = int(tokens[idx].attrs.get("start", 1) or 1)
        env["lists"].append(["ordered", start - 1])
        return '<section class="list">'

    def bullet_list_close(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        if env["lists"]:  # the footnote plugin can emit unbalanced list tokens for odd input
            env["lists"].pop()
        return "</section>"

    ordered_list_close = bullet_list_close

    def list_item_open(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        kind = env["lists"][-1] if env["lists"] else ["bullet", 0]
        kind[1] += 1
        if kind[0] == "ordered":
            env["marker"] = f"{kind[1]}."
        elif "task-list-item" in str(tokens[idx].attrs.get("class", "")):
            env["marker"] = ""  # the checkbox itself is the marker
        else:
            env["marker"] = BULLETS[min(len(env["lists"]), len(BULLETS)) - 1]
        env["marker_class"] = "li-num" if kind[0] == "ordered" else "li"
        return "<section>"

    def list_item_close(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        prefix = self._flush_marker(env)  # an item with no paragraph of its own still shows its marker
        return f"{prefix}</section>"

    def _flush_marker(self, env: EnvType) -> str:
        marker = env.pop("marker", None)
        return "" if marker is None else f'<p class="{env.get("marker_class", "li")}">{_marker(marker)}</p>'

    def paragraph_open(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        marker = env.pop("marker", None)
        if marker is not None:
            return f'<p class="{env.get("marker_class", "li")}">{_marker(marker)}'
        if env["lists"]:
            ordered = env["lists"][-1][0] == "ordered"
            return '<p class="li-num-more">' if ordered else '<p class="li-more">'
        if env.get("in_note"):
            return '<p class="note-more">'
        return "<p>"

    def paragraph_close(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        return "</p>"

    # -- links: mp.weixin.qq.com stays clickable, everything else becomes a numbered reference ----

    def link_open(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        href = str(tokens[idx].attrs.get("href", ""))
        # urlsplit only where the host may be WeChat's (its hostname is lower case, so it is in href.lower())
        host = (urlsplit(href).hostname or "") if WECHAT_ARTICLE_HOSTS[0] in href.lower() else ""
        if host in WECHAT_ARTICLE_HOSTS or host.endswith("." + WECHAT_ARTICLE_HOSTS[0]):
            env["link_kinds"].append("wechat")
            return f'<a href="{escape(href)}">'
        if href.lower().startswith(LINK_SCHEMES):
            env["link_kinds"].append(href)
        else:
            env["link_kinds"].append("")  # in-page anchors and relative links go nowhere in WeChat
        return ""

    def link_close(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        kind = env["link_kinds"].pop() if env["link_kinds"] else ""
        if kind == "wechat":
            return "</a>"
        if not kind:
            return ""
        text = _link_text(tokens, idx)
        if text == kind or text in (kind.removeprefix("mailto:"), kind.removeprefix("tel:")):
            return ""  # a bare URL already shows itself
        references: dict[str, tuple[int, str]] = env[LINKS]
        number = references.setdefault(kind, (len(references) + 1, text))[0]
        return f"<sup>[{number}]</sup>"

    # -- images: through the resolver; foreign remote images are dropped (WeChat filters them) ---

    def image(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        token = tokens[idx]
        src = unquote(str(token.attrs.get("src", "")))
        alt = self.renderInlineAsText(token.children or [], options, env)
        if is_remote(src):
            if (urlsplit(src).hostname or "") not in WECHAT_IMAGE_HOSTS:
                return f"<span>{escape(alt)}</span>" if alt else ""
            url = src
        else:
            env["images"].append(src)
            url = env["resolve_image"](src)
        title = str(token.attrs.get("title") or "")
        caption = f'<span class="caption">{escape(title)}</span>' if title else ""  # 图注 under the photo
        return f'<img src="{escape(url)}" alt="{escape(alt)}">{caption}'

    # -- code ---------------------------------------------------------------------------------------

    def fence(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        token = tokens[idx]
        language = token.info.strip().split(" ")[0] if token.info else ""
        return f'<pre class="code"><code>{highlight_code(token.content, language)}</code></pre>'

    def code_block(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        return f'<pre class="code"><code>{highlight_code(tokens[idx].content, "")}</code></pre>'

    # -- raw HTML never passes through -------------------------------------------------------------

    def html_block(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        """Comments go; whatever else the block holds (text after `-->`, tags) shows as text."""
        content = _strip_comments(tokens[idx].content).strip()
        return f"<p>{escape(content)}</p>" if content else ""

    def html_inline(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        content = tokens[idx].content
        if content.startswith('<input class="task-list-item-checkbox"'):
            return escape(TASK_DONE if 'checked="checked"' in content else TASK_OPEN)
        if content.startswith("<!--"):
            return ""
        return str(escape(content))

    # -- line breaks: a soft break between Chinese characters is no space at all -----------------

    def softbreak(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        before = tokens[idx - 1].content[-1:] if idx > 0 else ""
        after = tokens[idx + 1].content[:1] if idx + 1 < len(tokens) else ""
        return "" if _is_cjk(before) or _is_cjk(after) else " "

    def hardbreak(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        return "<br>"

    # -- tables get a scrolling wrapper so a wide table never widens the page ----------------------

    def table_open(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        return '<section class="table-wrap"><table>'

    def table_close(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        return "</table></section>"

    # -- GFM footnotes become a 注释 section -------------------------------------------------------

    def footnote_ref(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        return f"<sup>[注{tokens[idx].meta['id'] + 1}]</sup>"

    def footnote_block_open(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        env["in_note"] = True
        return f'<section class="notes"><p class="section-title">{escape(env["labels"]["notes"])}</p>'

    def footnote_block_close(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        env["in_note"] = False
        return "</section>"

    def footnote_open(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        label = f"注{tokens[idx].meta['id'] + 1}："
        if idx + 1 < len(tokens) and tokens[idx + 1].type == "paragraph_open":
            env["marker"], env["marker_class"] = label, "note"
            return "<section>"
        return f'<section><p class="note">{escape(label)}</p>'  # a note that starts with a list keeps its label

    def footnote_close(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        flushed = self._flush_marker(env)
        env["marker_class"] = "li"
        return f"{flushed}</section>"

    def footnote_anchor(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        return ""  # back-links are in-page anchors, which WeChat does not follow

    def front_matter(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        return ""


def _strip_comments(html: str) -> str:
    """`re.sub(r"<!--.*?-->", "", html, flags=re.S)` in one pass: that regex rescans the rest of the
    block from every opener that has no `-->` after it (an HTML block of unclosed comments)."""
    parts, position = [], 0
    while (opener := html.find("<!--", position)) >= 0 and (closer := html.find("-->", opener + 4)) >= 0:
        parts.append(html[position:opener])
        position = closer + 3
    parts.append(html[position:])
    return "".join(parts)


def _marker(marker: str) -> str:
    """A list or note marker in a box of the hanging indent's width, so wrapped lines line up with the text."""
    return f'<span class="marker">{escape(marker)}</span>' if marker else ""


def _is_cjk(char: str) -> bool:
    return bool(char) and ("\u2e80" <= char <= "\u9fff" or "\uf900" <= char <= "\ufaff" or "\uff00" <= char <= "\uffef"
                           or "\u3000" <= char <= "\u303f")


def _link_text(tokens: Sequence[Token], close_index: int) -> str:
    """The text of the link that closes at `close_index`: a walk back to its opening only (never a
    copy of the tokens before it, which made a paragraph of many links quadratic)."""
    depth, parts = 0, []
    for index in range(close_index - 1, -1, -1):
        token = tokens[index]
        if token.type == "link_close":
            depth += 1
        elif token.type == "link_open":
            if depth == 0:
                break
            depth -= 1
        elif token.type in ("text", "code_inline"):
            parts.append(token.content)
    return "".join(reversed(parts))


def _normalize_link(url: str) -> str:
    """markdown-it's normalizeLink, skipping its URL parse for plain destinations (a third of the cost
    of parsing a link); tested equal on every destination the pattern takes."""
    return url if _PLAIN_LINK.fullmatch(url) else normalizeLink(url)


def parser() -> MarkdownIt:
    md = (
        MarkdownIt("commonmark", {"html": True, "typographer": False}, renderer_cls=WeChatRenderer)
        .enable(["table", "strikethrough"])
        .use(front_matter_plugin)
        .use(footnote_plugin)
        .use(tasklists_plugin)
        .use(cjk_friendly)
    )
    md.validateLink = lambda url: not url.lower().startswith(("javascript:", "vbscript:", "data:text"))  # type: ignore[method-assign]
    md.normalizeLink = _normalize_link  # type: ignore[method-assign]
    # Plugins install their own render rules over the renderer's methods; ours must win.
    for name in ("footnote_ref", "footnote_block_open", "footnote_block_close", "footnote_open",
                 "footnote_close", "footnote_anchor", "front_matter"):
        md.add_render_rule(name, getattr(WeChatRenderer, name))
    return md


_PARSER = parser()
_BLOCK_GAPS = re.compile(r">\n+<")  # newlines markdown-it leaves between blocks: bytes WeChat would count


def new_env(resolve_image: ImageResolver, labels: dict[str, str]) -> dict[str, Any]:
    return {"lists": [], "link_kinds": [], LINKS: {}, "images": [], "resolve_image": resolve_image, "labels": labels}


def keep_indents(markdown: str) -> str:
    """Leading full-width spaces (a paragraph indent) as entities, which markdown-it does not strip;
    fenced code is left alone, where an entity would show as written."""
    if "\u3000" not in markdown:
        return markdown
    lines, fence = markdown.split("\n"), ""
    for index, line in enumerate(lines):
        opening = _FENCE.match(line)
        if fence:
            fence = "" if opening and opening.group(1)[0] == fence[0] and len(opening.group(1)) >= len(fence) else fence
        elif opening:
            fence = opening.group(1)
        else:
            lines[index] = _INDENT.sub(lambda match: "&#12288;" * len(match.group(1)), line)
    return "\n".join(lines)


def parse(markdown: str) -> tuple[list[Token], dict[str, Any]]:
    """The tokens gzh renders, with the same parser configuration (footnotes, tasks, CJK emphasis),
    so the checks see exactly what will be rendered.

    The last two bodies' parses are kept: parsing is most of a render, and one body is parsed for
    its checks, its files and its render in turn. Callers only read the tokens (rendering does not
    change them) and the parse facts (link definitions, footnotes), never write to them.
    """
    return _parse_cached(markdown)


@lru_cache(maxsize=2)
def _parse_cached(markdown: str) -> tuple[list[Token], dict[str, Any]]:
    env = new_env(lambda src: src, {})
    return _PARSER.parse(keep_indents(markdown), env), env


def clear_parse_cache() -> None:
    """Forget kept parses (benchmarks start each run cold)."""
    _parse_cached.cache_clear()


def render_markdown(markdown: str, resolve_image: ImageResolver, labels: dict[str, str]) -> tuple[str, dict[str, Any]]:
    """HTML for a Markdown body, and the render's side facts: images used, references, footnotes."""
    tokens, parse_env = parse(markdown)
    env = new_env(resolve_image, labels)
    env.update((key, value) for key, value in parse_env.items() if key not in env)  # references, footnotes
    return _BLOCK_GAPS.sub("><", _PARSER.renderer.render(tokens, _PARSER.options, env)), env
