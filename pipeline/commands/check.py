"""`gzh check`: the pre-publication checks, on all posts, named paths, or what a PR changed."""
from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

from pipeline import cli, media, output, posts, render, repo, report as formats
from pipeline.checks import RULES, Report, check_posts, severities
from pipeline.checks.model import Fix, ShrinkImage
from pipeline.i18n import Text
from pipeline.policy import POLICY_FILE, Policy, load_repository_policy
from pipeline.selection import select_posts

_CHANGED = Text("只检查与 --base 相比改动过的文章", "check only posts changed since --base")
_BASE = Text("--changed 的比较基准（默认 origin/<目标分支> 或 origin/main）", "base for --changed")
_FORMAT = Text("输出格式：text、json 或 github（工作流注释）", "output format")
_STRICT = Text("有警告也视为失败", "fail on warnings too")
_FIX = Text("自动修改可安全修改的问题（排版、发文字号格式），缩小超过微信上限的 jpg、png 图片",
            "rewrite what is safe to rewrite and shrink jpg/png images over WeChat's limits")
_COLOR = Text("是否使用颜色", "colour output")
_LIST_RULES = Text("列出所有检查规则及其严重程度", "list the rules and their severities")
_FULL_RECHECK = Text("{path} 有改动，将检查全部文章。", "{path} changed, so every post is checked.")
_NOTHING_CHANGED = Text("与 {base} 相比没有改动的文章。", "No post changed since {base}.")
_FIXED = Text("已自动修改 {count} 处（{files} 个文件）。", "Fixed {count} problem(s) in {files} file(s).")
_SHRUNK = Text("已缩小图片 {path}：{before} → {after}，现为 {width}×{height} 像素，在微信的 {limit} 上限以内。请打开看一看是否仍然清楚。",
               "Shrank {path}: {before} → {after}, now {width}×{height} pixels, within WeChat's {limit} limit. "
               "Open it to check it is still sharp.")
_NOT_SHRUNK = Text("没有缩小图片 {path}：{reason}", "Did not shrink {path}: {reason}")
_RULES_HEADER = Text("规则编号", "rule")
_DEFAULT = Text("默认", "default")
_CURRENT = Text("当前", "current")
_OFF = Text("关闭", "off")

# A change to any of these can change the verdict on posts that did not change.
_GLOBAL_INPUTS = (POLICY_FILE, "pipeline/data")
_MAX_FIX_PASSES = 5


def add_arguments(parser: argparse.ArgumentParser) -> None:
    cli.add_paths(parser)
    parser.add_argument("--changed", action="store_true", help=_CHANGED())
    parser.add_argument("--base", help=_BASE())
    parser.add_argument("--format", choices=("text", "json", "github"), default="text", help=_FORMAT())
    parser.add_argument("--strict", action="store_true", help=_STRICT())
    parser.add_argument("--fix", action="store_true", help=_FIX())
    parser.add_argument("--color", choices=("auto", "always", "never"), default="auto", help=_COLOR())
    parser.add_argument("--list-rules", action="store_true", help=_LIST_RULES())


def run(args: argparse.Namespace, root: Path) -> int:
    if args.list_rules:
        return list_rules_command(root)
    return check_command(root, args.paths, changed=args.changed, base=args.base, fmt=args.format,
                         strict=args.strict, fix=args.fix, color=args.color)


def check_command(
    root: Path,
    targets: list[str],
    *,
    changed: bool = False,
    base: str | None = None,
    fmt: str = "text",
    strict: bool = False,
    fix: bool = False,
    color: str = "auto",
) -> int:
    policy = load_repository_policy(root)
    post_files, strays = _select(root, targets, changed, base or repo.default_base())
    report = _run(root, policy, post_files, strays)
    if fix:
        report = _fix(root, policy, post_files, strays, report)
    if fmt == "json":
        output.write(formats.render_json(report, strict))
    elif fmt == "github":
        output.write(formats.render_github(report, strict))
    else:
        output.write(formats.render_text(report, output.use_color(sys.stdout, color), strict))
    return 1 if report.failed(strict) else 0


def _run(root: Path, policy: Policy, post_files: list[Path], strays: list[Path]) -> Report:
    loaded = [posts.load_post(file, root) for file in post_files]
    links = posts.non_regular_entries(root / render.TEMPLATES_DIR, root)
    return check_posts(loaded, policy, root, [_relative(root, stray) for stray in strays], published_versions(root),
                       links)


def published_versions(root: Path) -> dict[str, tuple[str, str]]:
    """What the real account's ledger (as this clone has it) says is published: folder → (version, URL)."""
    from pipeline.ledger import fold, read_branch  # only here: most checks never need git

    return {bundle: (state.version, state.url) for bundle, state in fold(read_branch(root)).items()
            if state.status == "published"}


def _relative(root: Path, path: Path) -> str:
    return path.relative_to(root).as_posix()  # discovery yields paths under the (absolute) targets


def _select(root: Path, targets: list[str], changed: bool, base: str) -> tuple[list[Path], list[Path]]:
    if changed:
        return _changed_posts(root, base)
    return select_posts(root, targets)


def _changed_posts(root: Path, base: str) -> tuple[list[Path], list[Path]]:
    changed = repo.changed_files(root, base)
    for path in changed:
        if any(path.is_relative_to(name) for name in _GLOBAL_INPUTS):
            output.error(_FULL_RECHECK(path=path))
            return posts.discover([root / posts.CONTENT_DIR])
    files: dict[Path, None] = {}
    strays: list[Path] = []
    for path in changed:
        bundle = posts.bundle_of(path, root)
        if bundle is not None:
            files[bundle] = None
        elif path.parts[0] == posts.CONTENT_DIR and path.suffix.lower() in (".md", ".markdown"):
            strays.extend(posts.discover([root / path])[1])
    if not files and not strays:
        output.error(_NOTHING_CHANGED(base=base))
    return list(files), strays


def _fix(root: Path, policy: Policy, post_files: list[Path], strays: list[Path], report: Report) -> Report:
    """Fix, re-check, and repeat while fixes overlapped, so one --fix leaves nothing fixable."""
    if _shrink_images(root, report):
        report = _run(root, policy, post_files, strays)
    total, files = 0, set()
    for _ in range(_MAX_FIX_PASSES):
        applied = _apply_fixes(root, report)
        if not applied:
            break
        total += sum(applied.values())
        files.update(applied)
        report = _run(root, policy, post_files, strays)
    if total:
        output.error(_FIXED(count=total, files=len(files)))
    return report


def _shrink_images(root: Path, report: Report) -> int:
    """Shrink each oversized image once (for its strictest use, when a post uses it twice); say what each became."""
    images: dict[Path, ShrinkImage] = {}
    for finding in report.findings:
        if isinstance(finding.fix, ShrinkImage):
            known = images.get(finding.fix.path)
            images[finding.fix.path] = finding.fix if known is None or known.cover else known
    for image in images.values():
        path = _relative(root, image.path)
        try:
            done = media.shrink_file(image.path, image.shown, cover=image.cover)
        except media.ImageRefused as refused:
            output.error(_NOT_SHRUNK(path=path, reason=refused))
            continue
        output.error(_SHRUNK(path=path, before=media.megabytes(done.before), after=media.megabytes(done.after),
                             width=done.size[0], height=done.size[1], limit=media.megabytes(done.limit)))
    return len(images)


def _apply_fixes(root: Path, report: Report) -> dict[str, int]:
    """Apply every non-overlapping fix, in each file from the end so earlier offsets stay valid."""
    by_file: dict[str, list[Fix]] = defaultdict(list)
    for finding in report.findings:
        if isinstance(finding.fix, Fix):
            by_file[finding.location.path].append(finding.fix)
    applied: dict[str, int] = {}
    for path, fixes in by_file.items():
        file = root / path
        text = file.read_text("utf-8-sig").replace("\r\n", "\n")
        last_start = len(text) + 1
        for item in sorted(set(fixes), key=lambda fix: fix.start, reverse=True):
            if item.end <= last_start:  # an overlapping fix waits for the next pass
                text = text[:item.start] + item.replacement + text[item.end:]
                last_start = item.start
                applied[path] = applied.get(path, 0) + 1
        file.write_text(text, "utf-8")
    return applied


def list_rules_command(root: Path) -> int:
    """Print every rule with its default and its effective severity under this policy."""
    policy_file = root / POLICY_FILE
    levels = severities(load_repository_policy(root)) if policy_file.is_file() else {}
    lines = [output.pad(_RULES_HEADER(), 26) + output.pad(_DEFAULT(), 8) + _CURRENT()]
    for rule in RULES:
        current = levels.get(rule.id, rule.severity)
        current_label = current.label if current is not None else _OFF()
        lines.append(output.pad(rule.id, 26) + output.pad(rule.severity.label, 8) + output.pad(current_label, 8) + rule.title())
    output.write("\n".join(lines) + "\n")
    return 0

