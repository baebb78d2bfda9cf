"""`gzh publish`: publish approved posts to WeChat (new or changed since the last run, or named)."""
from __future__ import annotations

import os
from pathlib import Path

import git

from pipeline import output, posts
from pipeline.commands.check import load_checked_policy
from pipeline import forge as forge_module
from pipeline.commands.common import connect, ledger_branch, posts_to_publish
from pipeline.errors import GzhError
from pipeline.i18n import Text
from pipeline.ledger import SANDBOX_BRANCH, Event
from pipeline.publish import Outcome, Publisher
from pipeline.verify import Verifier
from pipeline.wechat import Credentials

STATUS_LABELS = {
    "published": Text("已发布", "published"), "mass": Text("已群发", "mass-sent"), "draft": Text("草稿", "draft"),
    "publishing": Text("发布中", "publishing"), "scheduled": Text("定时", "scheduled"), "skipped": Text("无需操作", "unchanged"),
    "refused": Text("不发布", "refused"), "failed": Text("失败", "failed"), "busy": Text("跳过", "busy"),
    "planned": Text("计划", "plan"),
}
_NOTHING = Text("没有需要发布的新文章或改动过的文章。", "No new or changed post to publish.")
_SUMMARY = Text("共 {count} 篇：{published} 篇已发布，{failed} 篇失败或不发布。", "{count} posts: {published} published, {failed} failed or refused.")
_NEED_FORGE = Text("发布到正式公众号前必须核对审批：请设置 GITHUB_REPOSITORY 和 GITHUB_TOKEN（或 GZH_FORGE_TOKEN），Gitea 另设 GZH_FORGE=gitea",
                   "Publishing to the real account re-verifies approvals: set GITHUB_REPOSITORY and GITHUB_TOKEN (or GZH_FORGE_TOKEN)")
_UNVERIFIED = Text("（本地沙盒、未配置代码托管平台：不核对审批）", "(local sandbox without a forge: approvals are not verified)")
_FAILURE_TITLE = Text("【发布失败】{count} 篇文章没有发布", "[Publishing failed] {count} post(s) not published")
_FAILURE_INTRO = Text("{mentions} 以下文章本次没有发布，请按原因处理后重新运行发布工作流：", "{mentions} these posts were not published; fix and re-run:")
_FAILURE_RUN = Text("运行记录：{url}", "Run: {url}")
_FAILURE_FILED = Text("已在代码托管平台上开问题 #{number} 通知管理员", "Opened issue #{number} for the administrator")
_DRY_RUN = Text("（演练：没有调用任何写接口，也没有写入账本）", "(dry run: no write calls, nothing recorded)")


def publish_command(root: Path, targets: list[str], *, dry_run: bool = False, retry_failed: bool = False,
                    mode: str | None = None, credentials: Credentials | None = None,
                    poll_delays: tuple[float, ...] | None = None, issue_on_failure: bool = False) -> int:
    policy = load_checked_policy(root)
    credentials = credentials or Credentials.from_environment()
    verifier = _verifier(root, credentials)
    wechat, ledger = connect(root, credentials)
    files = posts_to_publish(root, ledger, targets)
    if not files:
        output.write(_NOTHING() + "\n")
        return 0
    publisher = Publisher(root, policy, wechat, ledger, dry_run=dry_run, retry_failed=retry_failed, mode_override=mode,
                          verifier=verifier,
                          alert=(lambda post, v: verifier.alert(post, v, policy.members("administrator"))) if verifier else None)
    if poll_delays is not None:
        publisher.poll_delays = poll_delays
    outcomes = publisher.run([posts.load_post(file, root) for file in files])
    output.write(format_outcomes(outcomes))
    if dry_run:
        output.write(_DRY_RUN() + "\n")
    else:
        ledger.append(Event("run", data={"commit": _head(root), "outcomes": {o.post: o.status for o in outcomes}}))
    failures = [outcome for outcome in outcomes if outcome.status in ("failed", "refused")]
    if failures and issue_on_failure and forge_module.configured():
        _report_failures(failures, policy.members("administrator"))
    return 1 if failures else 0


def _report_failures(failures: list[Outcome], administrators: tuple[str, ...]) -> None:
    """One forge issue per failed run, so a failure in CI is never only in a log nobody reads."""
    run = os.environ.get("GITHUB_SERVER_URL", "") + "/" + os.environ.get("GITHUB_REPOSITORY", "")
    run += f"/actions/runs/{os.environ['GITHUB_RUN_ID']}" if os.environ.get("GITHUB_RUN_ID") else ""
    lines = [_FAILURE_INTRO(mentions=" ".join(f"@{user}" for user in administrators))]
    lines += [f"- `{outcome.post}`（{outcome.title}）：{outcome.message}" for outcome in failures]
    if os.environ.get("GITHUB_RUN_ID"):
        lines.append(_FAILURE_RUN(url=run))
    number = forge_module.from_environment().create_issue(_FAILURE_TITLE(count=len(failures)), "\n".join(lines))
    output.error(_FAILURE_FILED(number=number))
    if os.environ.get("GITHUB_OUTPUT"):  # the workflow's failure step then knows an issue already says why
        with open(os.environ["GITHUB_OUTPUT"], "a", encoding="utf-8") as step_output:
            step_output.write("filed=true\n")


def _verifier(root: Path, credentials: Credentials) -> Verifier | None:
    """Approvals are re-verified whenever a forge is configured, and always for the real account."""
    if forge_module.configured():
        return Verifier(root, forge_module.from_environment())
    if ledger_branch(credentials) != SANDBOX_BRANCH:
        raise GzhError(_NEED_FORGE())
    output.error(_UNVERIFIED())
    return None


def format_outcomes(outcomes: list[Outcome]) -> str:
    lines = []
    for outcome in outcomes:
        label = STATUS_LABELS.get(outcome.status, Text(outcome.status, outcome.status))()
        lines.append(output.pad(label, 10) + f"{outcome.title}  {outcome.url or outcome.message}")
        if outcome.url and outcome.message and outcome.status not in ("published", "skipped", "mass"):
            lines.append(" " * 10 + outcome.message)
    published = sum(1 for outcome in outcomes if outcome.status in ("published", "mass", "skipped"))
    failed = sum(1 for outcome in outcomes if outcome.status in ("failed", "refused"))
    lines.append(_SUMMARY(count=len(outcomes), published=published, failed=failed))
    return "\n".join(lines) + "\n"


def _head(root: Path) -> str:
    with git.Repo(root, search_parent_directories=True) as repository:
        return repository.head.commit.hexsha
