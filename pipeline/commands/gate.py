"""`gzh gate --pr N`: evaluate the approval tiers of a pull request and report on the forge.

Posts a commit status with the fixed context `gzh/approval` on the head commit, keeps one
sticky comment up to date (each post as a phone shows it, its findings and secrecy conclusion, the
tiers: `pipeline.comment`, pictures: `pipeline.snapshots`) and requests reviews from the tiers still
missing, asking again whoever approved an older commit. The facts are gathered by `pipeline.gate`.
"""
from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

from pipeline import forge as forge_module, notify, output, snapshots
from pipeline.comment import asked_before, render_comment, state_description
from pipeline.errors import UsageError
from pipeline.gate import MARKER, GateReport, evaluate_pull, own_sticky
from pipeline.i18n import Text
from pipeline.policy import Policy


_PR = Text("拉取请求编号（默认取自工作流事件）", "pull request number (default: from the workflow event)")
_HEAD_SHA = Text("按头提交查找拉取请求（派生仓库的审核事件没有编号时）", "find the pull request by its head commit")
_PREVIEW_URL = Text("预览网站的链接，写进审批评论", "link to the preview, put in the comment")
_PICTURES = Text("把文章拍成手机截图放进审批评论（需要 Chromium；图片推送到本仓库的 gzh-preview-pr-N 分支）",
                 "put phone pictures of the posts in the comment (needs Chromium; pushed to the gzh-preview-pr-N branch)")
_REMOTE = Text("预览图片推送到的远端（默认 origin）", "remote the pictures are pushed to (default origin)")
_WAITING_TITLE = Text("拉取请求 #{number} 等待您审批", "Pull request #{number} waits for your approval")
_WAITING_LINE = Text("{titles}：待批准的环节为 {tiers}。打开链接即可在手机上看文章截图、检查结果和审批进度，在页面上批准或提出修改意见。",
                     "{titles}: waiting for {tiers}. The link shows the article as a phone does, the checks and the tiers.")
_SUMMARY = Text("拉取请求 #{number}：{state}", "Pull request #{number}: {state}")
_REQUESTED = Text("已请求审核：{users}", "Review requested from: {users}")
_NO_PR_FOR_HEAD = Text("没有头提交为 {sha} 的未关闭拉取请求（可能已经又推送了新的提交，或已关闭）",
                       "No open pull request has head {sha} (pushed again since, or closed)")
_NO_PR = Text("请用 --pr 指定拉取请求编号（在工作流中会从事件中读取）", "Pass --pr N (in a workflow it comes from the event)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--pr", type=int, help=_PR())
    parser.add_argument("--head-sha", help=_HEAD_SHA())
    parser.add_argument("--preview-url", help=_PREVIEW_URL())
    parser.add_argument("--pictures", action="store_true", help=_PICTURES())
    parser.add_argument("--remote", default="origin", help=_REMOTE())


def run(args: argparse.Namespace, root: Path) -> int:
    return gate_command(root, pull_number(args.pr, args.head_sha), preview_url=args.preview_url,
                        pictures=args.pictures, remote=args.remote)


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


def gate_command(root: Path, number: int, *, preview_url: str | None = None, request_reviews: bool = True,
                 pictures: bool = False, remote: str = "origin") -> int:
    forge = forge_module.from_environment()
    with tempfile.TemporaryDirectory() as folder:
        report, policy, comments = evaluate_pull(root, forge, number, workdir=Path(folder))
        gallery = snapshots.gallery(root, forge, report, policy, comments, Path(folder), remote, take_new=pictures)
    result, pr = report.result, report.pr
    if report.restore_label:  # the gate's own label is the lasting record of a referral (pipeline.referrals)
        if policy.secrecy_label in pr.labels:
            forge.remove_label(number, policy.secrecy_label)  # someone else's: its owner could withdraw it
        forge.add_label(number, policy.secrecy_label)
    description = state_description(result)
    forge.set_status(pr.head_sha, result.state, description, preview_url or "")
    requested = next_reviewers(report, policy) if request_reviews else []
    asked = asked_before(own_sticky(comments, forge.login), pr.head_sha)
    warnings = notify.notify(policy, _waiting_notice(report, policy), people=[user for user in requested if user not in asked])
    asked |= set(requested)
    body = render_comment(report, policy, preview_url, gallery, lambda path: forge.file_url(pr.head_sha, path), asked)
    forge.upsert_comment(number, MARKER, body, comments)
    if requested:
        forge.request_reviewers(number, requested)
    output.write(_SUMMARY(number=number, state=description) + "\n")
    if requested:
        output.write(_REQUESTED(users="、".join(f"@{user}" for user in requested)) + "\n")
    for warning in warnings:
        output.error(warning)
    return 0


def _waiting_notice(report: GateReport, policy: Policy) -> notify.Notice:
    """"Waiting for your approval", once per person and head commit, with the pull request's page:
    the comment there shows the article as a phone does."""
    pr = report.pr
    titles = "、".join(f"《{post.meta.title}》" for post in report.posts if post.meta) or pr.title
    tiers = "、".join(tier.name for tier in report.result.missing)
    return notify.Notice(f"approval:{pr.number}:{pr.head_sha[:12]}", _WAITING_TITLE(number=pr.number),
                         (_WAITING_LINE(titles=titles, tiers=tiers),), link=pr.url)


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
