"""The preview stage: a static site where each post is framed as WeChat's reader shows it.

    site/index.html                      every post with department, category and check status
    site/posts/<dept>/<post>/index.html  the article at phone width, check results beside it
    site/posts/<dept>/<post>/<images>    the post's images, so the page works offline
    site/assets/preview.css              the frame's own style (templates/preview/preview.css)

The article body in a page is the exact render sent to WeChat, images pointing at local copies.
"""
from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup

from pipeline import assets, media, posts, render
from pipeline.checks import PostReport, Severity, check_posts, rule_label
from pipeline.i18n import Text
from pipeline.policy import Policy
from pipeline.render import RenderError

PREVIEW_TEMPLATES = "preview"

_STATUS_OK = Text("通过", "passed")
_STATUS_WARN = Text("通过（{warnings} 个警告）", "passed ({warnings} warnings)")
_STATUS_FAIL = Text("{errors} 个错误，{warnings} 个警告", "{errors} errors, {warnings} warnings")
_SUMMARY = Text("共 {count} 篇：{passed} 篇通过，{failed} 篇有错误，{secrecy} 篇需保密办复审。",
                "{count} posts: {passed} passed, {failed} with errors, {secrecy} need the secrecy office.")


@dataclass(frozen=True)
class PreviewPage:
    post: posts.Post
    report: PostReport
    page: PurePosixPath          # site-relative path of the page
    rendered: render.Rendered | None


def build_site(root: Path, policy: Policy, files: list[Path], out: Path, today: dt.date | None = None) -> list[PreviewPage]:
    """Write the preview site for `files` into `out` (replacing what was there) and return its pages."""
    loaded = [posts.load_post(file, root) for file in files]
    report = check_posts(loaded, policy, root)
    if out.exists():
        shutil.rmtree(out)
    (out / "assets").mkdir(parents=True)
    shutil.copy(_templates(root) / "preview.css", out / "assets" / "preview.css")
    environment = _environment(root)
    # the account's date, Beijing's: a CI runner's clock is on UTC, eight hours behind in the evening
    today = today or dt.datetime.now(posts.BEIJING).date()
    pages = [_write_post(root, policy, post, post_report, out, environment, today)
             for post, post_report in zip(loaded, report.posts)]
    _write_index(policy, pages, out, environment)
    return pages


def page_path(post: posts.Post) -> PurePosixPath:
    relative = PurePosixPath(post.path).parent.relative_to(posts.CONTENT_DIR)
    return PurePosixPath("posts") / relative / "index.html"


def _templates(root: Path) -> Path:
    return root / render.TEMPLATES_DIR / PREVIEW_TEMPLATES


def _environment(root: Path) -> jinja2.Environment:
    return ImmutableSandboxedEnvironment(loader=jinja2.FileSystemLoader(_templates(root)), autoescape=True,
                                         undefined=jinja2.StrictUndefined)


def _write_post(root: Path, policy: Policy, post: posts.Post, report: PostReport, out: Path,
                environment: jinja2.Environment, today: dt.date) -> PreviewPage:
    page = page_path(post)
    folder = out / page.parent
    folder.mkdir(parents=True, exist_ok=True)
    try:
        rendered: render.Rendered | None = render.render_post(post, policy, root)
    except RenderError:
        rendered = None  # the check results on the page say why
    if rendered:
        _copy_images(post, rendered, folder)
    meta = post.meta
    department = policy.department_by_folder(post.department_folder)
    category = policy.category(meta.category) if meta else None
    status_class, status_text = _status(report)
    html = environment.get_template("post.html.j2").render(
        root_prefix="../" * (len(page.parts) - 1),
        title=meta.title if meta else post.path,
        author=meta.author if meta else "",
        account_name=policy.account_name,
        date=(meta.publish_at.date() if meta and meta.publish_at else today).isoformat(),
        body=Markup(rendered.html) if rendered else None,
        source_url=meta.source.url if meta and meta.source else None,
        department_name=department.name if department else post.department_folder,
        category_name=category.name if category else "",
        status_class=status_class,
        status_text=status_text,
        secrecy="、".join(rule_label(reason) for reason in report.secrecy_reasons),
        size=len(rendered.html) if rendered else None,
        findings=[{"severity": f.severity.value, "label": f.severity.label, "line": f.location.line,
                   "message": f.message, "rule": rule_label(f.rule_id)} for f in report.findings],
    )
    (out / page).write_text(html, "utf-8")
    return PreviewPage(post, report, page, rendered)


def _copy_images(post: posts.Post, rendered: render.Rendered, folder: Path) -> None:
    for image in dict.fromkeys(rendered.images):
        source = assets.resolve(post.folder, image).path
        # only regular files inside the post folder, and only images within the pixel budget: the check
        # reports the others and the page shows them broken, so no browser (the gate's camera included)
        # ever decodes a bomb from a pull request
        if source is not None and _within_budget(source, image):
            target = folder / image
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, target)


def _within_budget(source: Path, src: str) -> bool:
    try:
        media.inspect(source, src)
        return True
    except media.ImageRefused:
        return False


def _status(report: PostReport) -> tuple[str, str]:
    errors, warnings = report.count(Severity.ERROR), report.count(Severity.WARNING)
    if errors:
        return "fail", _STATUS_FAIL(errors=errors, warnings=warnings)
    if warnings:
        return "warn", _STATUS_WARN(warnings=warnings)
    return "ok", _STATUS_OK()


def _write_index(policy: Policy, pages: list[PreviewPage], out: Path, environment: jinja2.Environment) -> None:
    rows = []
    for page in pages:
        meta = page.post.meta
        department = policy.department_by_folder(page.post.department_folder)
        category = policy.category(meta.category) if meta else None
        status_class, status_text = _status(page.report)
        rows.append({
            "href": str(page.page), "title": meta.title if meta else page.post.path,
            "department": department.name if department else page.post.department_folder,
            "category": category.name if category else "", "status": status_text,
            "status_class": status_class, "secrecy": page.report.needs_secrecy_review,
        })
    failed = sum(1 for page in pages if page.report.count(Severity.ERROR))
    secrecy = sum(1 for page in pages if page.report.needs_secrecy_review)
    summary = _SUMMARY(count=len(pages), passed=len(pages) - failed, failed=failed, secrecy=secrecy)
    html = environment.get_template("index.html.j2").render(account_name=policy.account_name, rows=rows, summary=summary)
    (out / "index.html").write_text(html, "utf-8")
