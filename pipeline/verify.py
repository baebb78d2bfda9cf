"""Re-verification at publish time: was this exact content approved through the gate?

For a post about to be published: find the commit that brought its current version into the
branch (first-parent history), the pull request that merged it, and evaluate the gate again with
the policy as it stood on the branch just before that merge. Content that arrived without a
passing gate (a direct push, an admin bypass, a policy edited in the same pull request, a merge
that changed the approved text) is not published, and the administrator is alerted.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pipeline import forge as forge_module
from pipeline.forge import ForgeError
from pipeline.gate import evaluate_pull
from pipeline.gitrefs import open_repo, worktree_matches
from pipeline.i18n import Text
from pipeline.posts import Post

_DIRECT = Text("没有找到合并这篇文章的拉取请求（直接推送到主分支或绕过了审批），未经审批的内容不发布",
               "No pull request merged this post (a direct push or a bypass); unapproved content is not published")
_NOT_APPROVED = Text("合并它的拉取请求 #{number} 未通过审批（{state}）", "Pull request #{number} that merged it was not approved ({state})")
_CHANGED = Text("主分支上的内容与拉取请求 #{number} 中批准的版本不同", "The content on the branch differs from what pull request #{number} approved")
_NOT_AS_APPROVED = Text(
    "要发布的文件与拉取请求 #{number} 中批准的不是同一份（有符号链接、未提交的改动或多出的文件），未经审批的内容不发布",
    "The files to publish are not the bytes pull request #{number} approved (a link, an uncommitted change or an "
    "extra file); unapproved content is not published")
_OTHER_BRANCH = Text("带来这个版本的拉取请求 #{number} 合并到的是 {base}，不是发布分支，未经审批的内容不发布",
                     "Pull request #{number} that brought this version merged into {base}, not the publishing branch")
_NEVER_COMMITTED = Text("文章还没有提交到 git，不能核对审批", "The post is not committed, so its approval cannot be verified")
ALERT_TITLE = Text("【需处理】未经审批的内容进入主分支：{post}", "[Action needed] Unapproved content reached the branch: {post}")
ALERT_BODY = Text(
    "{mentions} 请处理：\n\n- 文章：`{post}`\n- 提交：{commit}\n- 原因：{reason}\n\n"
    "gzh 已拒绝发布。请核实来源：如内容确需发布，请通过拉取请求补齐审批后再合并；如是误操作或越权，请回退该提交并按第九条记录处置情况。",
    "{mentions} please handle:\n\n- Post: `{post}`\n- Commit: {commit}\n- Reason: {reason}\n\n"
    "gzh refused to publish it. Get it approved through a pull request, or revert the commit.")


@dataclass(frozen=True)
class Verification:
    approved: bool
    reason: str = ""
    pull: int | None = None
    commit: str = ""
    approvers: dict[str, str] = field(default_factory=dict)


class Verifier:
    """Looks up and re-evaluates the approval behind each post; one per publish run."""

    def __init__(self, root: Path, forge: forge_module.Forge) -> None:
        self.root, self.forge = root, forge
        self.repo = open_repo(root)

    def __call__(self, post: Post) -> Verification:
        commit = self.repo.git.log("--first-parent", "-1", "--format=%H", "--", post.bundle).strip()
        if not commit:
            return Verification(False, _NEVER_COMMITTED())
        try:
            pull = self.forge.pull_for_commit(commit)
        except ForgeError as error:  # e.g. an old Gitea without a reliable lookup: say so, publish nothing
            return Verification(False, str(error), commit=commit)
        if pull is None:
            return Verification(False, _DIRECT(), commit=commit)
        if pull.base_ref != self.forge.default_branch:
            return Verification(False, _OTHER_BRANCH(number=pull.number, base=pull.base_ref), pull.number, commit)
        parents = self.repo.commit(commit).parents
        report, _, _ = evaluate_pull(self.root, self.forge, pull.number,  # the full pull request, not the list's
                                     policy_sha=parents[0].hexsha if parents else None)
        if report.result.state != "success":
            return Verification(False, _NOT_APPROVED(number=pull.number, state="；".join(report.result.blockers) or
                                                     "、".join(tier.name for tier in report.result.missing)),
                                pull.number, commit)
        if self._tree(self.repo.head.commit.hexsha, post.bundle) != self._tree(report.pr.head_sha, post.bundle):
            return Verification(False, _CHANGED(number=pull.number), pull.number, commit)
        if not worktree_matches(self.repo, report.pr.head_sha, post.bundle, self.root):
            return Verification(False, _NOT_AS_APPROVED(number=pull.number), pull.number, commit)
        return Verification(True, pull=pull.number, commit=commit, approvers=report.result.approvers)

    def _tree(self, sha: str, folder: str) -> str:
        try:
            return (self.repo.commit(sha).tree / folder).hexsha
        except KeyError:
            return ""

    def alert(self, post: Post, verification: Verification, administrators: tuple[str, ...]) -> int:
        mentions = " ".join(f"@{user}" for user in administrators)
        body = ALERT_BODY(mentions=mentions, post=post.bundle, commit=verification.commit[:12] or "—",
                          reason=verification.reason)
        return self.forge.create_issue(ALERT_TITLE(post=post.bundle), body)
