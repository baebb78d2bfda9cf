"""`gzh preview`: build the static preview site; with --screenshot, a phone-sized PNG per post."""
from __future__ import annotations

import argparse
from pathlib import Path

from pipeline import browser, cli, output, preview
from pipeline.i18n import Text
from pipeline.policy import load_repository_policy
from pipeline.selection import select_posts

_SCREENSHOT = Text("用 Chromium 为每篇文章截取手机宽度的图片", "take a phone-width PNG of each post with Chromium")

_BUILT = Text("预览网站已生成：{index}（{count} 篇）", "Preview site built: {index} ({count} posts)")
_SHOT = Text("截图：{path}", "Screenshot: {path}")
_PAGE_PROBLEM = Text("{page}：{problem}", "{page}: {problem}")
_OVERFLOW = Text("在手机宽度下超出屏幕 {px} 像素", "wider than the phone screen by {px} px")
_BROKEN = Text("图片未能加载：{src}", "image did not load: {src}")
_CONSOLE = Text("浏览器报错：{error}", "browser error: {error}")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    cli.add_paths(parser)
    cli.add_site(parser)
    parser.add_argument("--screenshot", action="store_true", help=_SCREENSHOT())


def run(args: argparse.Namespace, root: Path) -> int:
    return preview_command(root, args.paths, out=args.output, screenshot=args.screenshot)


def preview_command(root: Path, targets: list[str], *, out: str = cli.SITE, screenshot: bool = False) -> int:
    policy = load_repository_policy(root)
    files, _ = select_posts(root, targets)
    site = (root / out).resolve() if not Path(out).is_absolute() else Path(out)
    pages = preview.build_site(root, policy, files, site)
    output.write(_BUILT(index=site / "index.html", count=len(pages)) + "\n")
    if not screenshot:
        return 0
    problems = 0
    with browser.Browser() as chromium:
        for page in pages:
            png = site / "screenshots" / f"{page.page.parent.as_posix().removeprefix('posts/').replace('/', '--')}.png"
            report = chromium.inspect((site / page.page).as_uri(), png)
            output.write(_SHOT(path=png) + "\n")
            problems += _report_page_problems(str(page.page), report)
    return 1 if problems else 0


def _report_page_problems(page: str, report: browser.PageReport) -> int:
    problems = [_CONSOLE(error=error) for error in report.console_errors]
    problems += [_BROKEN(src=src) for src in report.broken_images]
    if report.overflow_px:
        problems.append(_OVERFLOW(px=report.overflow_px))
    for problem in problems:
        output.error(_PAGE_PROBLEM(page=page, problem=problem))
    return len(problems)

