"""The approval gate's sticky comment: what a leader reads on a phone before approving.

For each changed post: title, department, category, author and digest; the cover as a thumbnail;
the department head's confidentiality conclusion and who gave it; every finding's Chinese text
(already masked by the checks); and the article itself as phone-width pictures, hosted on the
repository's own preview branch so only its members can see them. Then the tiers, what blocks a
merge, and the rules of approval. The pictures' addresses are kept in the comment (a hidden line),
so a later run for the same head commit reuses them instead of rendering again.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from typing import Callable

from pipeline.approval import GateResult
from pipeline.checks import PostReport, Severity, rule_label
from pipeline.gate import MARKER, GateReport
from pipeline.i18n import Text
from pipeline.policy import Policy
from pipeline.posts import BEIJING, Post

MAX_NOTES = 30
MAX_POSTS_SHOWN = 5       # posts shown in full; the rest are named (a comment is at most 65,536 characters)
MAX_FINDINGS_SHOWN = 20   # per post
SCREEN_WIDTH = 375        # CSS px: the pictures are twice as many pixels, sharp on a phone
COVER_SHOWN = 120

_STATE_TEXT = {
    "success": Text("审批已完成", "approved"),
    "pending": Text("待审批：还差 {missing}", "pending: waiting for {missing}"),
    "failure": Text("不能合并：{reason}", "blocked: {reason}"),
}
_HEADER = Text("### 审批进度：{state}", "### Approval: {state}")
_TIERS = Text("**审批环节**", "**Tiers**")
_DONE = Text("- ✅ **{tier}**：{who} 已批准（{commit}，{when}）", "- ✅ **{tier}**: approved by {who} ({commit}, {when})")
_WAITING = Text("- ⏳ **{tier}**：待 {who} 批准", "- ⏳ **{tier}**: waiting for {who}")
_OR = Text(" 或 ", " or ")
_STALE_ROW = Text("（批准的是旧版本：{who}，已请其重新审核）", " (stale: {who}, asked again)")
_NOTES = Text("**未计入的审核**", "**Not counted**")
_BLOCKERS = Text("**阻止合并**", "**Blocking**")
_CHECKS = Text("**发布前检查**：{posts} 篇文章，{errors} 个错误，{warnings} 个警告。", "**Checks**: {posts} posts, {errors} errors, {warnings} warnings.")
_SECRECY = Text("**需要保密委员会办公室复审**（第六条第三款）：{reasons}", "**Secrecy office review required** (Art. 6(3)): {reasons}")
_PREVIEW = Text("**预览**：{url}", "**Preview**: {url}")
_FOOTER = Text("只有对最新提交的“批准”审核才计入；评论（例如“同意”“LGTM”）不算批准。部门负责人如不能确定是否涉密，请加标签“{label}”或在审核意见中写 /保密复审；"
               "保密办复审请求只能由提出人（评论 /撤回保密复审）或保密委员会办公室撤回。",
               "Only an Approve review of the latest commit counts; comments do not. A department head unsure about secrecy adds the label '{label}' or writes /secrecy-review; "
               "only whoever made the referral (/withdraw-secrecy-review) or the secrecy office can withdraw it.")
_MORE_NOTES = Text("- ……另有 {count} 条未列出", "- … {count} more not listed")
_BYLINE = Text("{department} · {category} · 作者：{author}", "{department} · {category} · by {author}")
_DIGEST = Text("> 摘要：{digest}", "> Digest: {digest}")
_NO_DIGEST = Text("> 摘要：未填写（微信会取正文前 54 个字）", "> Digest: none (WeChat takes the first 54 characters)")
_COVER_ALT = Text("封面", "cover")
_CONCLUSION = Text("**保密审查**：{conclusion}（{reviewer}；依据：{basis}）", "**Confidentiality**: {conclusion} ({reviewer}; basis: {basis})")
_OFFICE = Text("，并需保密委员会办公室复审", "; the secrecy office must review it too")
_CLEAN = Text("**检查**：没有问题", "**Checks**: no problems")
_COUNTS = Text("**检查**：{errors} 个错误，{warnings} 个警告", "**Checks**: {errors} errors, {warnings} warnings")
_FINDING = Text("- {icon} 第 {line} 行 · {rule}：{message}", "- {icon} line {line} · {rule}: {message}")
_MORE_FINDINGS = Text("- ……另有 {count} 条，见预览或 gzh check", "- … {count} more: see the preview or gzh check")
_SCREENS = Text("手机上的样子（{count} 屏，宽 375）", "As a phone shows it ({count} screens, 375 wide)")
_SCREEN_ALT = Text("第 {number} 屏", "screen {number}")
_CUT = Text("文章较长，只显示前 {count} 屏；全文见预览。", "Long article: the first {count} screens; the rest is in the preview.")
_NO_SCREENS = Text("（手机截图暂不可用：{reason}）", "(no phone pictures: {reason})")
_FULL_TEXT = Text("[在代码托管平台上看全文]({url})", "[Full text on the forge]({url})")
_BAD_META = Text("元数据有错误，请按检查结果修改", "the front matter has errors; see the checks")
_OTHERS = Text("**另有 {count} 篇**：{titles}", "**{count} more**: {titles}")
_ICONS = {Severity.ERROR: "❌", Severity.WARNING: "⚠️", Severity.INFO: "ℹ️"}
_PICTURES = re.compile(r"<!-- gzh-pictures (\{.*?\}) -->")
_ASKED = re.compile(r"<!-- gzh-asked ([0-9a-f]+) ([^ ]*) -->")


@dataclass(frozen=True)
class Pictures:
    """Where a post's pictures are: its screens, top to bottom, and its cover."""

    screens: tuple[str, ...]
    cut: bool = False
    cover: str = ""


@dataclass(frozen=True)
class Gallery:
    """The pictures of one head commit's posts (bundle → Pictures), or why there are none."""

    head: str
    posts: dict[str, Pictures]
    missing_reason: str = ""

    def marker(self) -> str:
        data = {"head": self.head, "posts": {bundle: {"screens": list(item.screens), "cut": item.cut, "cover": item.cover}
                                              for bundle, item in self.posts.items()}}
        return f"<!-- gzh-pictures {json.dumps(data, ensure_ascii=False, separators=(',', ':'))} -->"


def earlier_gallery(body: str, head: str, trusted_prefix: str) -> Gallery | None:
    """The pictures an earlier run of the gate put in the comment for this head, if any.

    Anyone who may edit the comment could edit this line too: only addresses on the repository's
    own preview branch, under this head's folder, are taken.
    """
    match = _PICTURES.search(body)
    try:
        data = json.loads(match.group(1)) if match else {}
        if data.get("head") != head:
            return None
        posts = {str(bundle): Pictures(tuple(str(url) for url in item["screens"]), bool(item["cut"]), str(item["cover"]))
                 for bundle, item in data["posts"].items()}
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    urls = [url for item in posts.values() for url in (*item.screens, item.cover) if url]
    if not all(url.startswith(trusted_prefix) for url in urls):
        return None
    return Gallery(head, posts)


def asked_before(body: str, head: str) -> set[str]:
    """Who was already told (through the group robots) that this head waits for their approval."""
    match = _ASKED.search(body)
    return set(filter(None, match.group(2).split(","))) if match and match.group(1) == head else set()


def asked_marker(head: str, users: set[str]) -> str:
    return f"<!-- gzh-asked {head} {','.join(sorted(users))} -->"


def state_description(result: GateResult) -> str:
    if result.state == "failure":
        return _STATE_TEXT["failure"](reason="；".join(result.blockers))
    if result.state == "pending":
        return _STATE_TEXT["pending"](missing="、".join(tier.name for tier in result.missing) or "—")
    return _STATE_TEXT["success"]()


def render_comment(report: GateReport, policy: Policy, preview_url: str | None = None,
                   gallery: Gallery | None = None, file_url: Callable[[str], str] | None = None,
                   asked: set[str] | None = None) -> str:
    """The comment's Markdown: the state, each changed post as a reviewer sees it, the tiers, the rules."""
    lines = [MARKER, _HEADER(state=state_description(report.result))]
    lines += _posts_section(report, policy, gallery, file_url)
    lines += ["", *_tiers_section(report.result, policy)]
    lines += _findings_summary(report)
    if preview_url:
        lines.append(_PREVIEW(url=preview_url))
    lines += ["", f"<sub>{_FOOTER(label=policy.secrecy_label)}</sub>"]
    if gallery is not None and gallery.posts:
        lines.append(gallery.marker())
    if asked:
        lines.append(asked_marker(report.pr.head_sha, asked))
    return "\n".join(lines) + "\n"


def _posts_section(report: GateReport, policy: Policy, gallery: Gallery | None,
                   file_url: Callable[[str], str] | None) -> list[str]:
    reports = {post_report.path: post_report for post_report in (report.checks.posts if report.checks else ())}
    lines: list[str] = []
    for post in report.posts[:MAX_POSTS_SHOWN]:
        pictures = gallery.posts.get(post.bundle) if gallery else None
        lines += ["", "---", *_post_lines(post, reports.get(post.path), policy, pictures)]
        if gallery is not None and pictures is None and gallery.missing_reason:
            lines += ["", _NO_SCREENS(reason=gallery.missing_reason)]
        if file_url is not None:
            lines += ["", _FULL_TEXT(url=file_url(post.path))]
    others = report.posts[MAX_POSTS_SHOWN:]
    if others:
        titles = "、".join(f"《{post.meta.title}》" if post.meta else post.bundle for post in others)
        lines += ["", _OTHERS(count=len(others), titles=titles)]
    return lines + (["", "---"] if report.posts else [])


def _post_lines(post: Post, post_report: PostReport | None, policy: Policy, pictures: Pictures | None) -> list[str]:
    meta = post.meta
    if meta is None:
        return [f"#### {post.bundle}", _BAD_META()]
    department = policy.department_by_folder(post.department_folder)
    category = policy.category(meta.category)
    lines = [f"#### 《{_inline(meta.title)}》",
             _BYLINE(department=department.name if department else post.department_folder,
                     category=category.name if category else meta.category, author=_inline(meta.author)), ""]
    lines.append(_DIGEST(digest=_inline(meta.digest)) if meta.digest else _NO_DIGEST())
    if pictures is not None and pictures.cover:
        lines += ["", f'<img src="{pictures.cover}" width="{COVER_SHOWN}" alt="{_COVER_ALT()}">']
    review = meta.secrecy
    office = _OFFICE() if post_report is not None and post_report.needs_secrecy_review else ""
    lines += ["", _CONCLUSION(conclusion=_inline(review.conclusion), reviewer=_reviewer(review.reviewer, policy),
                              basis=_inline(review.basis)) + office, ""]
    lines += _finding_lines(post_report)
    if pictures is not None and pictures.screens:
        lines += _screen_lines(pictures)
    return lines


def _finding_lines(post_report: PostReport | None) -> list[str]:
    findings = sorted(post_report.findings if post_report else (), key=lambda f: (f.severity.rank, f.location.line))
    if not findings:
        return [_CLEAN()]
    counts = _COUNTS(errors=sum(f.severity is Severity.ERROR for f in findings),
                     warnings=sum(f.severity is Severity.WARNING for f in findings))
    lines = [counts]
    lines += [_FINDING(icon=_ICONS[f.severity], line=f.location.line, message=_inline(f.message),
                       rule=rule_label(f.rule_id, code=True)) for f in findings[:MAX_FINDINGS_SHOWN]]
    if len(findings) > MAX_FINDINGS_SHOWN:
        lines.append(_MORE_FINDINGS(count=len(findings) - MAX_FINDINGS_SHOWN))
    return lines


def _screen_lines(pictures: Pictures) -> list[str]:
    lines = ["", f"<details open><summary>{_SCREENS(count=len(pictures.screens))}</summary>", ""]
    lines += [f'<img src="{url}" width="{SCREEN_WIDTH}" alt="{_SCREEN_ALT(number=number)}">'
              for number, url in enumerate(pictures.screens, 1)]
    if pictures.cut:
        lines += ["", _CUT(count=len(pictures.screens))]
    return lines + ["", "</details>"]


def _tiers_section(result: GateResult, policy: Policy) -> list[str]:
    """One line a tier (a list reads on a phone where a four-column table does not)."""
    lines = [_TIERS(), ""]
    for tier_result in result.tiers:
        tier, review = tier_result.tier, tier_result.approved_by
        if review is not None:
            lines.append(_DONE(tier=tier.name, who=f"{policy.person(review.user).name} @{review.user}",
                               commit=review.commit_id[:7], when=_when(review.submitted_at)))
            continue
        who = _OR().join(f"{policy.person(user).name} @{user}" for user in tier.members) or "—"
        stale = _STALE_ROW(who="、".join(f"@{stale.user}" for stale in tier_result.stale)) if tier_result.stale else ""
        lines.append(_WAITING(tier=tier.name, who=who) + stale)
    if result.blockers:
        lines += ["", _BLOCKERS()] + [f"- {text}" for text in result.blockers]
    if result.notes:
        shown = result.notes[:MAX_NOTES]  # a flood of comments must not push the comment past the forge's size limit
        lines += ["", _NOTES()] + [f"- {text}" for text in shown]
        if len(result.notes) > MAX_NOTES:
            lines.append(_MORE_NOTES(count=len(result.notes) - MAX_NOTES))
    return lines


def _findings_summary(report: GateReport) -> list[str]:
    lines = []
    if report.checks is not None:
        checks = report.checks
        lines += ["", _CHECKS(posts=len(checks.posts), errors=checks.count(Severity.ERROR),
                              warnings=checks.count(Severity.WARNING))]
    if report.secrecy_reasons:
        lines.append(_SECRECY(reasons="；".join(report.secrecy_reasons)))
    return lines


def _when(stamp: str) -> str:
    try:
        return dt.datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone(BEIJING).strftime("%m-%d %H:%M")
    except ValueError:
        return stamp


def _reviewer(reviewer: str, policy: Policy) -> str:
    """Who gave the conclusion: the person's name when the policy knows the login (never an @mention)."""
    name = policy.person(reviewer).name
    return f"{_inline(name)} {_inline(reviewer)}" if name != reviewer else _inline(reviewer)


def _inline(text: str | None) -> str:
    """A post's own words inside the comment's Markdown: one line, no HTML, no mentions or table breaks."""
    flat = " ".join(str(text or "").split())
    flat = flat.replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|")
    return flat.replace("@", "@\u200b")  # a post cannot ping people through the gate's comment
