"""The report formats of `gzh check`.

`text` (grouped by file, coloured on a terminal), `json` (for tools) and `github` (workflow
commands that GitHub Actions and Gitea Actions turn into annotations on the diff).
"""
from __future__ import annotations

import json
from typing import Any

from pipeline.checks import Report, Severity, rule_label
from pipeline.i18n import Text
from pipeline.output import paint

_COLORS = {Severity.ERROR: "31", Severity.WARNING: "33", Severity.INFO: "36"}
_SUMMARY = Text("检查了 {posts} 篇文章：{errors} 个错误，{warnings} 个警告，{infos} 条提示。",
                "Checked {posts} post(s): {errors} error(s), {warnings} warning(s), {infos} info.")
_SECRECY = Text("需要保密委员会办公室复审（第六条第三款），原因：{reasons}",
                "Needs the secrecy office's review (Art. 6(3)); because of: {reasons}")
_SECRECY_COUNT = Text("{count} 篇需保密办复审。", "{count} post(s) need the secrecy office's review.")
_ALL_GOOD = Text("全部通过。", "All passed.")
# Warnings do not block, but "all passed" over a warning (an image publishing will have to shrink)
# would tell a clerk there is nothing to look at.
_WARNINGS_LEFT = Text("没有错误，可以提交；警告不阻止发布，但请逐条看一看。",
                      "No errors, so it can go ahead; warnings do not block, but read each one.")
_STRICT = Text("（--strict：警告也视为失败）", " (--strict: warnings fail too)")


def summary(report: Report, strict: bool = False) -> str:
    counts = {name: report.count(severity) for name, severity in
              (("errors", Severity.ERROR), ("warnings", Severity.WARNING), ("infos", Severity.INFO))}
    line = _SUMMARY(posts=len(report.posts), **counts)
    secrecy = sum(1 for post in report.posts if post.needs_secrecy_review)
    if secrecy:
        line += _SECRECY_COUNT(count=secrecy)
    if not report.failed(strict):
        line += _WARNINGS_LEFT() if counts["warnings"] else _ALL_GOOD()
    elif strict and not counts["errors"]:
        line += _STRICT()
    return line


def render_text(report: Report, color: bool, strict: bool = False) -> str:
    lines: list[str] = []
    groups: dict[str, list[Any]] = {}
    for finding in report.findings:
        groups.setdefault(finding.location.path, []).append(finding)
    secrecy = {post.path: post.secrecy_reasons for post in report.posts if post.needs_secrecy_review}
    for path in sorted(set(groups) | set(secrecy)):
        lines.append(paint(path, "1", color))
        for finding in groups.get(path, []):
            where = f"{finding.location.line}:{finding.location.col}"
            label = paint(finding.severity.label, _COLORS[finding.severity], color)
            lines.append(f"  {where:>7}  {label}  {finding.message}  [{rule_label(finding.rule_id)}]")
        if path in secrecy:
            reasons = "、".join(rule_label(reason) for reason in secrecy[path])
            lines.append("  " + paint(_SECRECY(reasons=reasons), "35", color))
        lines.append("")
    lines.append(paint(summary(report, strict), "1", color))
    return "\n".join(lines) + "\n"


def render_json(report: Report, strict: bool = False) -> str:
    document = {
        "summary": {
            "posts": len(report.posts),
            "errors": report.count(Severity.ERROR),
            "warnings": report.count(Severity.WARNING),
            "infos": report.count(Severity.INFO),
            "failed": report.failed(strict),
        },
        "posts": [
            {
                "path": post.path,
                "needs_secrecy_review": post.needs_secrecy_review,
                "secrecy_reasons": list(post.secrecy_reasons),
                "findings": [_finding_json(finding) for finding in post.findings],
            }
            for post in report.posts
        ],
        "other": [_finding_json(finding) for finding in report.other],
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def _finding_json(finding: Any) -> dict[str, Any]:
    return {
        "rule": finding.rule_id,
        "severity": finding.severity.value,
        "path": finding.location.path,
        "line": finding.location.line,
        "col": finding.location.col,
        "message": finding.message,
        "fixable": finding.fix is not None,
    }


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(report: Report, strict: bool = False) -> str:
    """Workflow commands (`::error file=…,line=…::msg`), understood by GitHub and Gitea Actions."""
    commands = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}
    lines = [
        f"::{commands[finding.severity]} file={_escape_property(finding.location.path)},"
        f"line={finding.location.line},col={finding.location.col},"
        f"title={_escape_property(rule_label(finding.rule_id))}::{_escape_data(finding.message)}"
        for finding in report.findings
    ]
    lines.append(summary(report, strict))
    return "\n".join(lines) + "\n"


