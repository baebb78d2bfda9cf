"""What a person sees on the forge fakes (tests/forge_fake.py) in a browser.

`pull_page` renders a pull request's conversation the way the forge renders comments: CommonMark with
GFM tables, strikethrough and autolinks (bare http(s):// and www. addresses), a line break for each
newline (both forges do so in comments), raw HTML kept but sanitized with an allowlist close to
GitHub's (img, details/summary, sub/sup, tables, links, code, lists, headings …; no script, style,
class, id or event handler). Each flavour has its own plain template and CSS under
tests/resources/forge_pages/, fitting a 375 px wide phone.

`screenshot_pull` opens that page in the system's Chromium as `pipeline.browser.Browser` does
(its launch arguments, 375 × 812, device scale 2, its inspection), signed in with the fake's session
cookie, and saves a full-page PNG once the page and every image have loaded:

    report = screenshot_pull(fake, 7, Path("docs/images/gate-comment-github.png"), login="li-na")
    assert report.broken_images == ()
"""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
import nh3
from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token

from pipeline import browser
from pipeline.browser import PageReport

if TYPE_CHECKING:
    from tests.forge_fake import FakePull, ForgeFake

RESOURCES = Path(__file__).resolve().parent / "resources" / "forge_pages"

# GFM's extended autolinks, simplified: trailing punctuation is not part of the address.
_BARE_URL = re.compile(r"(?:https?://|www\.)[^\s<>\"]*[^\s<>\"?!.,:;*_~'()\[\]]")

# Close to GitHub's sanitizer (html-pipeline's allowlist) for what comments use.
_TAGS = {"img", "details", "summary", "sub", "sup", "table", "thead", "tbody", "tfoot", "tr", "th", "td",
         "a", "code", "pre", "blockquote", "ul", "ol", "li", "p", "h1", "h2", "h3", "h4", "h5", "h6",
         "strong", "em", "b", "i", "del", "s", "ins", "kbd", "br", "hr", "div", "span"}
_ATTRIBUTES = {"img": {"src", "width", "height", "alt", "title", "align"}, "a": {"href", "title"},
               "details": {"open"}, "ol": {"start"}, "th": {"align", "style"}, "td": {"align", "style"},
               "p": {"align"}, "div": {"align"}}


def _autolink(state: StateCore) -> None:
    """Bare addresses in text become links, outside links and code (GFM's autolink extension)."""
    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        children: list[Token] = []
        depth = 0
        for token in block.children:
            depth += {"link_open": 1, "link_close": -1}.get(token.type, 0)
            if token.type != "text" or depth or not _BARE_URL.search(token.content):
                children.append(token)
                continue
            position = 0
            for match in _BARE_URL.finditer(token.content):
                if match.start() > position:
                    children.append(_text(token.content[position:match.start()]))
                address = match.group(0)
                href = address if "://" in address else f"http://{address}"
                opening = Token("link_open", "a", 1, attrs={"href": state.md.normalizeLink(href)})
                children += [opening, _text(address), Token("link_close", "a", -1)]
                position = match.end()
            if position < len(token.content):
                children.append(_text(token.content[position:]))
        block.children = children


def _text(content: str) -> Token:
    token = Token("text", "", 0)
    token.content = content
    return token


_MARKDOWN = (MarkdownIt("commonmark", {"html": True, "breaks": True})
             .enable(["table", "strikethrough"]))
_MARKDOWN.core.ruler.push("gfm_autolink", _autolink)


def _del(renderer: Any, tokens: list[Token], index: int, options: Any, env: Any) -> str:
    tokens[index].tag = "del"  # GFM writes strikethrough as <del>, markdown-it as <s>
    return str(renderer.renderToken(tokens, index, options, env))


_MARKDOWN.add_render_rule("s_open", _del)
_MARKDOWN.add_render_rule("s_close", _del)


def comment_html(body: str) -> str:
    """A comment's markdown as the forge shows it: rendered, then sanitized."""
    return nh3.clean(_MARKDOWN.render(body), tags=_TAGS, attributes=_ATTRIBUTES,
                     url_schemes={"http", "https", "mailto"}, link_rel="nofollow",
                     filter_style_properties={"text-align"})


_TEMPLATES = jinja2.Environment(loader=jinja2.FileSystemLoader(RESOURCES), autoescape=True,
                                undefined=jinja2.StrictUndefined)


def pull_page(fake: "ForgeFake", pull: "FakePull") -> str:
    """The conversation page of a pull request in the fake's flavour."""
    comments: list[dict[str, Any]] = []
    ghost = "ghost" if fake.flavour == "github" else "Ghost"  # what each forge shows for a deleted account
    for comment in pull.comments:
        login = (comment.get("user") or {}).get("login") or ghost
        comments.append({"id": comment["id"], "login": login, "initial": login[:1].upper(),
                         "date": _date(comment["created_at"]), "edited": comment["updated_at"] != comment["created_at"],
                         "html": comment_html(comment["body"])})
    return _TEMPLATES.get_template(f"{fake.flavour}.html.j2").render(
        css=(RESOURCES / f"{fake.flavour}.css").read_text("utf-8"), repository=fake.repository, pull=pull,
        state="merged" if pull.merged else "open", head=f"dept/{pull.number}", comments=comments)


def _date(stamp: str) -> str:
    """'2026-11-28T08:01:00Z' as the forges print a date: 'Nov 28, 2026'."""
    when = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return f"{when:%b} {when.day}, {when.year}"


def screenshot_pull(fake: "ForgeFake", number: int, out_png: Path, *, login: str | None = None) -> PageReport:
    """A full-page PNG of pull request `number`'s conversation as `login` (default: its author) sees it
    on a phone; returns what the browser found (console errors, broken images, overflow).

    The same Chromium, launch arguments, viewport and inspection as `pipeline.browser.Browser`, which has
    no way to add a cookie, so the Playwright calls are made here.
    """
    from playwright.sync_api import sync_playwright

    executable = browser.chromium_path()
    if executable is None:
        raise RuntimeError("Chromium not found (apt-get install chromium, or set GZH_CHROMIUM)")
    url, errors = fake.pull_url(number), []
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=browser._ARGS, headless=True)
        try:
            context = chromium.new_context(viewport={"width": browser.PHONE_WIDTH, "height": browser.PHONE_HEIGHT},
                                           device_scale_factor=2, is_mobile=True)
            context.add_cookies([fake.web_cookie(login or fake.pulls[number].author)])  # type: ignore[list-item]
            page = context.new_page()
            page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.on("requestfailed", lambda request: errors.append(f"{request.url}: {request.failure}"))
            page.goto(url, wait_until="load")  # after every image has loaded or failed
            page.wait_for_function("Array.from(document.images).every(img => img.complete)")
            facts = page.evaluate(browser._INSPECT)
            out_png.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(out_png), full_page=True)
        finally:
            chromium.close()
    return PageReport(url, tuple(errors), tuple(facts["broken"]), int(facts["overflow"]))
