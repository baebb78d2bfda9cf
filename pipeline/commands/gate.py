"""`gzh gate --pr N`: evaluate the approval tiers of a pull request and report on the forge.

Posts a commit status with the fixed context `gzh/approval` on the head commit, keeps one
sticky comment up to date (tier table, check summary, preview link) and requests reviews from
the tiers still missing. The facts are gathered by `pipeline.gate`.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
from pathlib import Path

from pipeline import forge as forge_module, output
from pipeline.approval import GateResult, Review
from pipeline.checks import Severity
from pipeline.errors import UsageError
from pipeline.gate import MARKER, GateReport, evaluate_pull
from pipeline.i18n import Text
from pipeline.policy import Policy
from pipeline.posts import BEIJING


_PR = Text("拉取请求编号（默认取自工作流事件）", "pull request number (default: from the workflow event)")
_HEAD_SHA = Text("按头提交查找拉取请求（派生仓库的审核事件没有编号时）", "find the pull request by its head commit")
_PREVIEW_URL = Text("预览网站的链接，写进审批评论", "link to the preview, put in the comment")
_STATE_TEXT = {
    "success": Text("审批已完成", "approved"),
    "pending": Text("待审批：还差 {missing}", "pending: waiting for {missing}"),
    "failure": Text("不能合并：{reason}", "blocked: {reason}"),
}
_HEADER = Text("### 审批进度：{state}", "### Approval: {state}")
_TABLE = Text("| 审批环节 | 可以批准的人 | 已批准 | 状态 |\n| --- | --- | --- | --- |",
              "| Tier | Who may approve | Approved | Status |\n| --- | --- | --- | --- |")
_DONE = Text("✅ 已批准", "✅ approved")
_WAITING = Text("⏳ 待批准", "⏳ waiting")
_STALE_ROW = Text("（旧版本的批准：{who}）", " (stale: {who})")
_NOTES = Text("**未计入的审核**", "**Not counted**")
_BLOCKERS = Text("**阻止合并**", "**Blocking**")
_CHECKS = Text("**发布前检查**：{posts} 篇文章，{errors} 个错误，{warnings} 个警告。", "**Checks**: {posts} posts, {errors} errors, {warnings} warnings.")
_SECRECY = Text("**需要保密委员会办公室复审**（第六条第三款）：{reasons}", "**Secrecy office review required** (Art. 6(3)): {reasons}")
_PREVIEW = Text("**预览**：{url}", "**Preview**: {url}")
_FOOTER = Text("只有对最新提交的“批准”审核才计入；评论（例如“同意”“LGTM”）不算批准。部门负责人如不能确定是否涉密，请加标签“{label}”或在审核意见中写 /保密复审；"
               "保密办复审请求只能由提出人（评论 /撤回保密复审）或保密委员会办公室撤回。",
               "Only an Approve review of the latest commit counts; comments do not. A department head unsure about secrecy adds the label '{label}' or writes /secrecy-review; "
               "only whoever made the referral (/withdraw-secrecy-review) or the secrecy office can withdraw it.")
MAX_NOTES = 30
_MORE_NOTES = Text("- ……另有 {count} 条未列出", "- … {count} more not listed")
_SUMMARY = Text("拉取请求 #{number}：{state}", "Pull request #{number}: {state}")
_REQUESTED = Text("已请求审核：{users}", "Review requested from: {users}")
_NO_PR_FOR_HEAD = Text("没有头提交为 {sha} 的未关闭拉取请求（可能已经又推送了新的提交，或已关闭）",
                       "No open pull request has head {sha} (pushed again since, or closed)")
_NO_PR = Text("请用 --pr 指定拉取请求编号（在工作流中会从事件中读取）", "Pass --pr N (in a workflow it comes from the event)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--pr", type=int, help=_PR())
    parser.add_argument("--head-sha", help=_HEAD_SHA())
    parser.add_argument("--preview-url", help=_PREVIEW_URL())


def run(args: argparse.Namespace, root: Path) -> int:
    return gate_command(root, pull_number(args.pr, args.head_sha), preview_url=args.preview_url)


def pull_number(pr: int | None = None, head_sha: str | None = None) -> int:
    """The pull request to evaluate: `--pr`; else the open one whose head is `--head-sha` (a review
    event relayed through workflow_run carries no number for a fork's pull request); else the
    workflow event's (pull_request, pull_request_target, pull_request_review, issue_comment)."""
    if pr:
        return pr
    if head_sha:
        found = forge_module.from_environment().open_pull_with_head(head_sha)
        if found is None:
            raise UsageError(_NO_PR_FOR_HEAD(sha=head_sha[:12]))
        return found
    path = os.environ.get("GITHUB_EVENT_PATH", "")
    try:
        event = json.loads(Path(path).read_text("utf-8")) if path else {}
    except (OSError, ValueError):
        event = {}
    issue = event.get("issue") if isinstance(event.get("issue"), dict) else {}
    number = ((event.get("pull_request") or {}).get("number") or event.get("number")
              or (issue.get("number") if issue.get("pull_request") else None))
    if not isinstance(number, int) or number <= 0:
        raise UsageError(_NO_PR())
    return number


def gate_command(root: Path, number: int, *, preview_url: str | None = None, request_reviews: bool = True) -> int:
    forge = forge_module.from_environment()
    report, policy, comments = evaluate_pull(root, forge, number)
    result, pr = report.result, report.pr
    if report.restore_label:  # the gate's own label is the lasting record of a referral (pipeline.referrals)
        if policy.secrecy_label in pr.labels:
            forge.remove_label(number, policy.secrecy_label)  # someone else's: its owner could withdraw it
        forge.add_label(number, policy.secrecy_label)
    description = state_description(result)
    forge.set_status(pr.head_sha, result.state, description, preview_url or "")
    forge.upsert_comment(number, MARKER, render_comment(report, policy, preview_url), comments)
    requested = next_reviewers(report, policy) if request_reviews else []
    if requested:
        forge.request_reviewers(number, requested)
    output.write(_SUMMARY(number=number, state=description) + "\n")
    if requested:
        output.write(_REQUESTED(users="、".join(f"@{user}" for user in requested)) + "\n")
    return 0


def state_description(result: GateResult) -> str:
    if result.state == "failure":
        return _STATE_TEXT["failure"](reason="；".join(result.blockers))
    if result.state == "pending":
        return _STATE_TEXT["pending"](missing="、".join(tier.name for tier in result.missing) or "—")
    return _STATE_TEXT["success"]()


def next_reviewers(report: GateReport, policy: Policy) -> list[str]:
    """Who is asked to review for the missing tiers (only the next one under strict order): whoever
    approved an older commit for it first (asked again: the text changed since), then the members who
    have not reviewed at all."""
    results = [result for result in report.result.tiers if result.approved_by is None]
    if policy.strict_order:
        results = results[:1]
    counted = {result.approved_by.user for result in report.result.tiers if result.approved_by}
    stale = {review.user for result in report.result.tiers for review in result.stale}
    users = [review.user for result in results for review in result.stale]
    users += [user for result in results for user in result.tier.members if user not in stale]
    return list(dict.fromkeys(user for user in users if user != report.pr.author and user not in counted))


def render_comment(report: GateReport, policy: Policy, preview_url: str | None) -> str:
    result = report.result
    lines = [MARKER, _HEADER(state=state_description(result)), "", _TABLE()]
    for tier_result in result.tiers:
        tier = tier_result.tier
        who = "、".join(f"{policy.person(user).name} @{user}" for user in tier.members) or "—"
        approved = _approval_text(tier_result.approved_by)
        status = _DONE() if tier_result.approved_by else _WAITING()
        if tier_result.stale:
            status += _STALE_ROW(who="、".join(f"@{review.user}" for review in tier_result.stale))
        lines.append(f"| {tier.name} | {who} | {approved} | {status} |")
    if result.blockers:
        lines += ["", _BLOCKERS()] + [f"- {text}" for text in result.blockers]
    if result.notes:
        shown = result.notes[:MAX_NOTES]  # a flood of comments must not push the comment past the forge's size limit
        lines += ["", _NOTES()] + [f"- {text}" for text in shown]
        if len(result.notes) > MAX_NOTES:
            lines.append(_MORE_NOTES(count=len(result.notes) - MAX_NOTES))
    if report.checks is not None:
        checks = report.checks
        lines += ["", _CHECKS(posts=len(checks.posts), errors=checks.count(Severity.ERROR),
                              warnings=checks.count(Severity.WARNING))]
    if report.secrecy_reasons:
        lines.append(_SECRECY(reasons="；".join(report.secrecy_reasons)))
    if preview_url:
        lines.append(_PREVIEW(url=preview_url))
    lines += ["", f"<sub>{_FOOTER(label=policy.secrecy_label)}</sub>"]
    return "\n".join(lines) + "\n"


def _approval_text(review: Review | None) -> str:
    if review is None:
        return "—"
    when = review.submitted_at
    try:
        when = dt.datetime.fromisoformat(when.replace("Z", "+00:00")).astimezone(BEIJING).strftime("%m-%d %H:%M")
    except ValueError:
        pass
    return f"@{review.user}（{review.commit_id[:7]}，{when}）"
