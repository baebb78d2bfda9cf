"""What a person sees on the forge fakes (tests/forge_fake.py) in a browser.

`pull_page` renders a pull request's conversation the way the forge renders comments: CommonMark with
GFM tables, strikethrough and autolinks (bare http(s):// and www. addresses), a line break for each
newline (both forges do so in comments), raw HTML kept but sanitized with an allowlist close to
GitHub's (img, details/summary, sub/sup, tables, links, code, lists, headings …; no script, style,
class, id or event handler). Each flavour has its own plain template and CSS under
tests/resources/forge_pages/, fitting a 375 px wide phone.

`issue_page` renders an issue the same way (its body as the first comment, then the comments);
`new_issue_page` the "new issue" page of a YAML issue form read from the repository's default branch
(`.github/ISSUE_TEMPLATE/<file>`; Gitea takes any path from the root), each field as the forge shows it,
or the blank issue when the form is missing or invalid, as both forges fall back.

`screenshot_page` opens any of those pages (`screenshot_pull`: a pull request's) in the system's
Chromium as `pipeline.browser.Browser` does (its launch arguments, 375 × 812, device scale 2, its inspection), signed in with the fake's session
cookie, and saves a full-page PNG once the page and every image have loaded:

    report = screenshot_pull(fake, 7, Path("docs/images/gate-comment-github.png"), login="li-na")
    assert report.broken_images == ()
    screenshot_page(fake, fake.new_issue_url("submit-post.yml"), Path("docs/images/form-github.png"), login="li-na")
"""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
import nh3
import yaml
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
    for comment in pull.comments:
        comments.append(_comment(fake, comment))
    return _TEMPLATES.get_template(f"{fake.flavour}.html.j2").render(
        css=_css(fake), repository=fake.repository, pull=pull,
        state="merged" if pull.merged else "open", head=pull.head_ref or f"dept/{pull.number}", comments=comments)


def _css(fake: "ForgeFake") -> str:
    return (RESOURCES / f"{fake.flavour}.css").read_text("utf-8")


def _comment(fake: "ForgeFake", comment: dict[str, Any], action: str = "commented") -> dict[str, Any]:
    ghost = "ghost" if fake.flavour == "github" else "Ghost"  # what each forge shows for a deleted account
    login = (comment.get("user") or {}).get("login") or ghost
    created = comment.get("created_at") or "2026-11-28T08:00:00Z"
    return {"id": comment["id"], "login": login, "initial": login[:1].upper(), "date": _date(created),
            "edited": comment.get("updated_at", created) != created, "action": action,
            "html": comment_html(comment["body"])}


def issue_page(fake: "ForgeFake", issue: dict[str, Any]) -> str:
    """An issue's page in the fake's flavour: title, state, labels, who opened it; the body rendered as a
    comment (GitHub heads it "opened", Gitea "commented"), then the comments."""
    author = (issue.get("user") or {}).get("login") or ("ghost" if fake.flavour == "github" else "Ghost")
    created = issue.get("created_at") or "2026-11-28T08:00:00Z"
    opening = {"id": issue["number"], "user": {"login": author}, "body": issue.get("body") or "",
               "created_at": created, "updated_at": created if not issue.get("edits") else issue.get("updated_at", created)}
    if not opening["body"]:
        opening["body"] = "_No description provided._"
    comments = [_comment(fake, opening, "opened" if fake.flavour == "github" else "commented")]
    comments += [_comment(fake, comment) for comment in issue.get("comments", [])]
    shown = {"number": issue["number"], "title": issue["title"], "state": issue["state"], "author": author,
             "date": _date(created), "count": len(issue.get("comments", [])), "labels": list(issue.get("labels", []))}
    return _TEMPLATES.get_template(f"{fake.flavour}-issue.html.j2").render(
        css=_css(fake), repository=fake.repository, issue=shown, comments=comments)


_FIELD_TYPES = ("markdown", "input", "textarea", "dropdown", "checkboxes")
_WORDS = {
    "github": {"required": "Required", "write": "Write", "preview": "Preview",
               "attach": "Paste, drop, or click to add files", "none": "None"},
    "gitea": {"required": "Required", "write": "Write", "preview": "Preview",
              "attach": "Drop files or click here to upload.", "none": "Select"},
}


def issue_form(text: str) -> dict[str, Any]:
    """A YAML issue form (GitHub's syntax, which Gitea reads too) as the page shows it; ValueError with the
    reason when the forge would refuse it (then both show the blank issue instead)."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ValueError(f"not YAML: {error}") from error
    if not isinstance(data, dict) or not all(isinstance(data.get(key), str) and data[key] for key in ("name", "description")):
        raise ValueError("name and description are required")
    body = data.get("body")
    if not isinstance(body, list) or not any(isinstance(item, dict) and item.get("type") != "markdown" for item in body):
        raise ValueError("body must hold at least one non-markdown field")
    fields: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, item in enumerate(body):
        kind = item.get("type") if isinstance(item, dict) else None
        if kind not in _FIELD_TYPES:
            raise ValueError(f"body[{index}]: type must be one of {', '.join(_FIELD_TYPES)}")
        attributes = item.get("attributes") or {}
        ident = str(item.get("id") or "")
        if ident:
            if ident in seen or not re.fullmatch(r"[A-Za-z0-9_-]+", ident):
                raise ValueError(f"body[{index}]: id {ident!r} is repeated or not made of letters, digits, - and _")
            seen.add(ident)
        if kind == "markdown":
            if not isinstance(attributes.get("value"), str):
                raise ValueError(f"body[{index}]: markdown needs attributes.value")
            fields.append({"type": kind, "id": ident, "html": comment_html(attributes["value"])})
            continue
        label = attributes.get("label")
        if not isinstance(label, str) or not label.strip():
            raise ValueError(f"body[{index}]: attributes.label is required")
        field: dict[str, Any] = {
            "type": kind, "id": ident or f"field-{index}", "label": label,
            "description_html": comment_html(str(attributes["description"])) if attributes.get("description") else "",
            "required": bool((item.get("validations") or {}).get("required")), "placeholder": str(attributes.get("placeholder") or ""),
            "value": str(attributes.get("value") or ""), "render": attributes.get("render"),
            "multiple": bool(attributes.get("multiple")), "default": attributes.get("default"), "options": [],
        }
        if kind == "dropdown":
            options = attributes.get("options")
            if not isinstance(options, list) or not options or len(set(map(str, options))) != len(options):
                raise ValueError(f"body[{index}]: dropdown needs distinct options")
            field["options"] = [str(option) for option in options]
        elif kind == "checkboxes":
            options = attributes.get("options")
            if not isinstance(options, list) or not options or not all(isinstance(o, dict) and o.get("label") for o in options):
                raise ValueError(f"body[{index}]: checkboxes need options with a label")
            field["options"] = [{"html": _inline(str(option["label"])), "required": bool(option.get("required"))}
                                for option in options]
        fields.append(field)
    labels = data.get("labels") or []
    labels = [part.strip() for part in labels.split(",")] if isinstance(labels, str) else [str(label) for label in labels]
    return {"name": data["name"], "description": data["description"], "title": str(data.get("title") or ""),
            "labels": labels, "fields": fields}


def _inline(text: str) -> str:
    """A checkbox's label: markdown without the paragraph around it."""
    html = comment_html(text).strip()
    return html.removeprefix("<p>").removesuffix("</p>") if html.count("<p>") == 1 else html


def new_issue_page(fake: "ForgeFake", template: str) -> str:
    """The "new issue" page for `?template=…`: GitHub takes a file name under .github/ISSUE_TEMPLATE/,
    Gitea a path from the repository's root; read from the default branch of git_dir."""
    path = template if fake.flavour == "gitea" else f".github/ISSUE_TEMPLATE/{template}"
    content = fake.blob("branch", "main", path) if template and (fake.flavour == "gitea" or "/" not in template) else None
    form, error = None, ""
    if content is not None and path.endswith((".yml", ".yaml")):
        try:
            form = issue_form(content.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as problem:
            error = str(problem)
    elif template:
        error = "no such form on the default branch"
    return _TEMPLATES.get_template(f"{fake.flavour}-new-issue.html.j2").render(
        css=_css(fake), repository=fake.repository, form=form, error=error, template=template,
        words=_WORDS[fake.flavour])


def _date(stamp: str) -> str:
    """'2026-11-28T08:01:00Z' as the forges print a date: 'Nov 28, 2026'."""
    when = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return f"{when:%b} {when.day}, {when.year}"


def screenshot_pull(fake: "ForgeFake", number: int, out_png: Path, *, login: str | None = None) -> PageReport:
    """A full-page PNG of pull request `number`'s conversation as `login` (default: its author) sees it
    on a phone; returns what the browser found (console errors, broken images, overflow)."""
    return screenshot_page(fake, fake.pull_url(number), out_png, login=login or fake.pulls[number].author)


def screenshot_page(fake: "ForgeFake", path: str, out_png: Path, *, login: str) -> PageReport:
    """A full-page PNG of a page of the fake (`path`: an address, or a path under its web root such as
    `/owner/repo/issues/3`) as `login` sees it on a phone; returns what the browser found (console
    errors, broken images, overflow).

    The same Chromium, launch arguments, viewport and inspection as `pipeline.browser.Browser`, which has
    no way to add a cookie, so the Playwright calls are made here.
    """
    from playwright.sync_api import sync_playwright

    executable = browser.chromium_path()
    if executable is None:
        raise RuntimeError("Chromium not found (apt-get install chromium, or set GZH_CHROMIUM)")
    url = path if "://" in path else fake.web + "/" + path.lstrip("/")
    errors: list[str] = []
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=browser._ARGS, headless=True)
        try:
            context = chromium.new_context(viewport={"width": browser.PHONE_WIDTH, "height": browser.PHONE_HEIGHT},
                                           device_scale_factor=2, is_mobile=True)
            context.add_cookies([fake.web_cookie(login)])  # type: ignore[list-item]
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
