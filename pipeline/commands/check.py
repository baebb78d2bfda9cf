"""`gzh check`: the pre-publication checks, on all posts, named paths, or what a PR changed."""
from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

from pipeline import output, posts, render, repo, report as formats
from pipeline.checks import RULES, Report, check_posts, policy_problems, severities
from pipeline.checks.model import Fix
from pipeline.errors import ConfigError, UsageError
from pipeline.i18n import Text
from pipeline.policy import POLICY_FILE, Policy, format_problems, load_repository_policy

_MISSING = Text("找不到要检查的路径：{path}", "No such path to check: {path}")
_OUTSIDE = Text("“{path}”不在仓库里：gzh 只检查仓库 content/ 下的文章", "'{path}' is outside the repository; gzh checks posts under content/")
_FULL_RECHECK = Text("{path} 有改动，将检查全部文章。", "{path} changed, so every post is checked.")
_NOTHING_CHANGED = Text("与 {base} 相比没有改动的文章。", "No post changed since {base}.")
_FIXED = Text("已自动修改 {count} 处（{files} 个文件）。", "Fixed {count} problem(s) in {files} file(s).")
_RULES_HEADER = Text("规则编号", "rule")
_DEFAULT = Text("默认", "default")
_CURRENT = Text("当前", "current")
_OFF = Text("关闭", "off")

# A change to any of these can change the verdict on posts that did not change.
_GLOBAL_INPUTS = (POLICY_FILE, "pipeline/data")
_MAX_FIX_PASSES = 5


def load_checked_policy(root: Path) -> Policy:
    """The repository's policy, with what only the check stage can validate: rule ids and the theme."""
    policy = load_repository_policy(root)
    problems = policy_problems(policy) + render.policy_theme_problems(policy, root)
    if problems:
        raise ConfigError(format_problems(policy.path, problems))
    return policy


def check(
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
    policy = load_checked_policy(root)
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


def select_posts(root: Path, targets: list[str]) -> tuple[list[Path], list[Path]]:
    """Post files and stray Markdown files under the named paths (default: content/)."""
    paths = []
    for target in targets or [posts.CONTENT_DIR]:
        path = posts.inside(root, target)
        if path is None:
            raise UsageError(_OUTSIDE(path=target))
        if not path.exists():
            raise UsageError(_MISSING(path=target))
        paths.append(path)
    return posts.discover(paths)


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


def _apply_fixes(root: Path, report: Report) -> dict[str, int]:
    """Apply every non-overlapping fix, in each file from the end so earlier offsets stay valid."""
    by_file: dict[str, list[Fix]] = defaultdict(list)
    for finding in report.findings:
        if finding.fix is not None:
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


def list_rules(root: Path) -> int:
    """Print every rule with its default and its effective severity under this policy."""
    policy_file = root / POLICY_FILE
    levels = severities(load_checked_policy(root)) if policy_file.is_file() else {}
    lines = [output.pad(_RULES_HEADER(), 26) + output.pad(_DEFAULT(), 8) + _CURRENT()]
    for rule in RULES:
        current = levels.get(rule.id, rule.severity)
        current_label = current.label if current is not None else _OFF()
        lines.append(output.pad(rule.id, 26) + output.pad(rule.severity.label, 8) + output.pad(current_label, 8) + rule.title())
    output.write("\n".join(lines) + "\n")
    return 0

