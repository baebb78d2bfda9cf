"""The text, json and github report formats of gzh check (pipeline.report)."""
from __future__ import annotations

import json

from pipeline import report
from pipeline.checks import Finding, PostReport, Report, Severity
from pipeline.checks.model import Fix
from pipeline.yamlsource import Location

OFFICE, ODD = "content/office/a/index.md", "content/rights/b,c:d/index.md"
REPORT = Report(
    (PostReport(ODD, (Finding("title-length", Severity.ERROR, Location(ODD, 2, 8), "标题有 40 个字\n请缩短"),), False, ()),
     PostReport(OFFICE, (Finding("mobile-number", Severity.WARNING, Location(OFFICE, 11, 5), "手机号 100%", True,
                                 Fix(1, 2, "x")),), True, ("mobile-number", "address"))),
    (Finding("post-layout", Severity.INFO, Location("content/x.md"), "多余的文件"),),
)
SUMMARY = "检查了 2 篇文章：1 个错误，1 个警告，1 条提示。1 篇需保密办复审。"


def test_text_groups_findings_by_file_in_path_order_with_the_secrecy_reasons_and_a_summary() -> None:
    lines = report.render_text(REPORT, color=False).splitlines()
    assert lines[:4] == [OFFICE, "     11:5  警告  手机号 100%  [手机号码（mobile-number）]",
                         "  需要保密委员会办公室复审（第六条第三款），原因：手机号码（mobile-number）、个人住址（address）", ""]
    assert [line for line in lines if line.startswith("content/")] == [OFFICE, ODD, "content/x.md"]
    assert "      1:1  提示  多余的文件  [文章位置（post-layout）]" in lines and lines[-1] == SUMMARY


def test_text_is_coloured_only_when_asked() -> None:
    coloured = report.render_text(REPORT, color=True)
    assert f"\033[1m{OFFICE}\033[0m" in coloured and "\033[33m警告\033[0m" in coloured and "\033[31m错误\033[0m" in coloured
    assert "\033[" not in report.render_text(REPORT, color=False)


def test_json_shape() -> None:
    document = json.loads(report.render_json(REPORT))
    assert document["summary"] == {"posts": 2, "errors": 1, "warnings": 1, "infos": 1, "failed": True}
    assert [post["path"] for post in document["posts"]] == [ODD, OFFICE]  # the report's own order
    assert document["posts"][1] == {
        "path": OFFICE, "needs_secrecy_review": True, "secrecy_reasons": ["mobile-number", "address"],
        "findings": [{"rule": "mobile-number", "severity": "warning", "path": OFFICE, "line": 11, "col": 5,
                      "message": "手机号 100%", "fixable": True}]}
    assert document["other"][0]["severity"] == "info" and document["posts"][0]["findings"][0]["fixable"] is False


def test_github_annotations_are_escaped_workflow_commands_then_the_summary() -> None:
    assert report.render_github(REPORT).splitlines() == [
        "::error file=content/rights/b%2Cc%3Ad/index.md,line=2,col=8,title=标题长度（title-length）::标题有 40 个字%0A请缩短",
        f"::warning file={OFFICE},line=11,col=5,title=手机号码（mobile-number）::手机号 100%25",
        "::notice file=content/x.md,line=1,col=1,title=文章位置（post-layout）::多余的文件",
        SUMMARY,
    ]


def test_summary_says_all_passed_only_without_warnings_or_why_strict_failed() -> None:
    clean = Report((PostReport(OFFICE, (), False, ()),))
    warned = Report((PostReport(OFFICE, (Finding("address", Severity.WARNING, Location(OFFICE), "地址"),), False, ()),))
    assert report.summary(clean) == "检查了 1 篇文章：0 个错误，0 个警告，0 条提示。全部通过。"
    assert report.summary(warned) == ("检查了 1 篇文章：0 个错误，1 个警告，0 条提示。"
                                      "没有错误，可以提交；警告不阻止发布，但请逐条看一看。")
    assert report.summary(warned, strict=True) == "检查了 1 篇文章：0 个错误，1 个警告，0 条提示。（--strict：警告也视为失败）"
    assert json.loads(report.render_json(warned, strict=True))["summary"]["failed"] is True
