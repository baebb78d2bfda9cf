"""The render stage: a post in, the exact article HTML WeChat receives out.

    Markdown body ─► markdown.py (WeChat-shaped HTML) ─► templates/article.html.j2 (header,
    source line, notes, references, footer) ─► css-inline (theme CSS into style attributes)
    ─► sanitize.py (WeChat's allowlist; classes removed)

Images go through a resolver, so the same render serves previews (local files) and publishing
(WeChat URLs). Themes and templates live in the repository's templates/ folder.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable, Mapping

import css_inline
import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup, escape

from pipeline.errors import GzhError
from pipeline.i18n import Text
from pipeline.policy import Policy
from pipeline.yamlsource import Problem
from pipeline.posts import MAX_POST_BYTES, Post
from pipeline.render.markdown import LINKS, render_markdown
from pipeline.render.sanitize import sanitize

TEMPLATES_DIR = "templates"
THEMES_DIR = "themes"
DEFAULT_THEME = "official"
MAX_CHARS = 20_000
MAX_BYTES = 1024 * 1024

_LABELS = {"notes": Text("注释", "Notes"), "references": Text("参考链接", "References")}
_NO_THEME = Text("找不到主题“{name}”（{path}）。可用的主题：{known}",
                 "Theme '{name}' not found ({path}). Available: {known}")
_NO_TEMPLATE = Text("找不到模板 {path}。templates/ 文件夹里应有 article.html.j2 及其引用的模板",
                    "Template {path} not found; templates/ must hold article.html.j2 and what it includes")
_NO_POLICY_THEME = Text("templates/themes/ 下没有“{theme}”主题。可用的主题：{known}",
                        "No theme '{theme}' under templates/themes/. Available: {known}")
_INVALID_POST = Text("{path} 的元数据有错误，无法排版。请先运行 gzh check {path} 并按提示修改",
                     "{path} has front matter errors and cannot be rendered; run gzh check {path} first")
_TOO_LARGE = Text("{path} 超过 {limit} MB，微信无法发布这么大的文章，因此不排版。请先运行 gzh check {path} 并按提示精简",
                  "{path} is over {limit} MB, far more than WeChat publishes, so it is not rendered; run gzh check {path}")
_TEMPLATE_ERROR = Text("模板 {path} 第 {line} 行有错误：{error}", "Template {path} line {line}: {error}")


class RenderError(GzhError):
    """A theme or template is missing or broken; raised by `pipeline.render`."""

    exit_code = 2


@dataclass(frozen=True)
class Rendered:
    html: str                       # the article body, exactly as sent to WeChat
    images: tuple[str, ...]         # local image paths the body uses, relative to the post folder
    references: tuple[tuple[str, str], ...]  # (url, link text) in reference order
    theme: str

    @property
    def too_big(self) -> bool:
        return len(self.html) >= MAX_CHARS or len(self.html.encode("utf-8")) >= MAX_BYTES


STRUCTURE_CSS = "_structure.css"


def themes(root: Path) -> list[str]:
    """Theme names: the CSS files under templates/themes/, except shared parts named _*.css."""
    return sorted(path.stem for path in (root / TEMPLATES_DIR / THEMES_DIR).glob("*.css") if not path.stem.startswith("_"))


def policy_theme_problems(policy: Policy, root: Path) -> list[Problem]:
    """The policy's default theme must exist, or every render would fail."""
    if not policy.theme or policy.theme in themes(root) or policy.theme_location is None:
        return []
    known = "、".join(themes(root)) or "—"
    return [Problem(policy.theme_location, "render.theme", _NO_POLICY_THEME(theme=policy.theme, known=known))]


def theme_for(post: Post, policy: Policy, override: str | None = None) -> str:
    """The --theme option, else the post's `theme`, else the policy's, else the default."""
    post_theme = post.document.data.get("theme") if post.document and isinstance(post.document.data, dict) else None
    return override or (post_theme if isinstance(post_theme, str) else None) or policy.theme or DEFAULT_THEME


def render_post(post: Post, policy: Policy, root: Path, *, theme: str | None = None,
                image_urls: Mapping[str, str] | Callable[[str], str] | None = None) -> Rendered:
    """Render one post. `image_urls` maps a local image path to the URL to use (default: itself)."""
    if post.meta is None:
        raise RenderError(_INVALID_POST(path=post.path))
    if len(post.text.encode("utf-8")) > MAX_POST_BYTES:  # it could never be published; parsing it costs seconds
        raise RenderError(_TOO_LARGE(path=post.path, limit=MAX_POST_BYTES // 1024 // 1024))
    name = theme_for(post, policy, theme)
    resolve = _resolver(image_urls)
    labels = {key: text() for key, text in _LABELS.items()}
    body, env = render_markdown(post.body, resolve, labels)
    context = {
        "account": {"name": policy.account_name, "wechat_id": policy.wechat_id},
        "post": post.meta,
        "department": policy.department_by_folder(post.department_folder),
        "body": Markup(body),
        "references": _references_html(env[LINKS], labels["references"]),
    }
    template = _template(root, "article.html.j2")
    try:
        html = template.render(context)
    except jinja2.TemplateSyntaxError as error:
        raise RenderError(_TEMPLATE_ERROR(path=f"{TEMPLATES_DIR}/{error.name}", line=error.lineno, error=error.message)) from None
    except jinja2.TemplateError as error:  # SecurityError included: the sandbox refused something
        raise RenderError(_TEMPLATE_ERROR(path=f"{TEMPLATES_DIR}/{template.name}", line="?", error=error)) from None
    inlined = _INLINER.inline_fragment(html, _theme_css(root, name))
    references = tuple((url, text) for url, (_, text) in env[LINKS].items())
    return Rendered(sanitize(inlined).strip(), tuple(env["images"]), references, name)


def _resolver(image_urls: Mapping[str, str] | Callable[[str], str] | None) -> Callable[[str], str]:
    if image_urls is None:
        return lambda src: src
    if callable(image_urls):
        return image_urls
    return lambda src: image_urls.get(src, src)


def _references_html(references: dict[str, tuple[int, str]], title: str) -> Markup:
    if not references:
        return Markup("")
    items = "".join(
        f'<p class="note">[{number}] {escape(text)}：{escape(url)}</p>'
        for url, (number, text) in references.items()
    )
    return Markup(f'<section class="references"><p class="section-title">{escape(title)}</p>{items}</section>')


@lru_cache(maxsize=16)
def _environment(root: Path) -> jinja2.Environment:
    # Templates arrive by pull request and are rendered where the WeChat secret lives: the sandbox
    # refuses the attribute tricks (`__class__`, `__subclasses__`) that would reach Python itself.
    return ImmutableSandboxedEnvironment(
        loader=jinja2.FileSystemLoader(root / TEMPLATES_DIR),
        auto_reload=False,  # templates change between runs, not during one; serve clears the cache
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _template(root: Path, name: str) -> jinja2.Template:
    try:
        return _environment(root).get_template(name)
    except jinja2.TemplateNotFound as error:
        raise RenderError(_NO_TEMPLATE(path=f"{TEMPLATES_DIR}/{error.name}")) from None
    except jinja2.TemplateSyntaxError as error:
        raise RenderError(_TEMPLATE_ERROR(path=f"{TEMPLATES_DIR}/{error.name}", line=error.lineno, error=error.message)) from None


_INLINER = css_inline.CSSInliner(load_remote_stylesheets=False, keep_style_tags=False)


@lru_cache(maxsize=32)
def _theme_css(root: Path, name: str) -> str:
    """The shared structure (if the repository has it) followed by the theme, which may override it."""
    folder = root / TEMPLATES_DIR / THEMES_DIR
    structure = folder / STRUCTURE_CSS
    path = folder / f"{name}.css"
    if name.startswith("_"):
        path = folder / "missing.css"  # shared parts are not themes
    try:
        return (structure.read_text("utf-8") if structure.is_file() else "") + path.read_text("utf-8")
    except (FileNotFoundError, NotADirectoryError):
        known = "、".join(themes(root)) or "—"
        raise RenderError(_NO_THEME(name=name, path=f"{TEMPLATES_DIR}/{THEMES_DIR}/{name}.css", known=known)) from None


def clear_caches() -> None:
    """Forget loaded themes and templates (`gzh serve` calls this before each rebuild)."""
    _theme_css.cache_clear()
    _environment.cache_clear()
