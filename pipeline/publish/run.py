"""One publishing run, as `gzh publish` and `gzh demo` make it: the policy, the approvals verifier,
the client and the ledger, the posts to publish (selection.py), the Publisher, the `run` event that
records what the run did, and a forge issue when a post failed.

The report goes to `write` as soon as the posts are done (before the ledger is written, so a failed
push still leaves it on the screen); notes on the way (approvals not verified, an issue opened) go
to `notify`. The commands pass the terminal's standard output and error.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import git

from pipeline import forge as forge_module, output, posts
from pipeline.connect import connect, ledger_branch
from pipeline.errors import GzhError
from pipeline.i18n import Text
from pipeline.ledger import SANDBOX_BRANCH, Event, Kind, Ledger
from pipeline.policy import Policy, load_repository_policy
from pipeline.publish.outcome import Outcome, Result
from pipeline.publish.publisher import Publisher
from pipeline.publish.selection import posts_to_publish
from pipeline.verify import Verifier
from pipeline.wechat import Credentials, WeChat

STATUS_LABELS = {
    Result.PUBLISHED: Text("已发布", "published"), Result.MASS: Text("已群发", "mass-sent"), Result.DRAFT: Text("草稿", "draft"),
    Result.PUBLISHING: Text("发布中", "publishing"), Result.PUBLISHING_WAIT: Text("发布中", "publishing"),
    Result.SCHEDULED: Text("定时", "scheduled"), Result.SKIPPED: Text("无需操作", "unchanged"),
    Result.REFUSED: Text("不发布", "refused"), Result.FAILED: Text("失败", "failed"), Result.BUSY: Text("跳过", "busy"),
    Result.PLANNED: Text("计划", "plan"),
}
_NOTHING = Text("没有需要发布的文章：每篇文章都已发布，或上次失败、未经审批（用 --retry-failed 重试失败的文章）。",
                "Nothing to publish: every post is live, or failed or was refused before (--retry-failed retries failures).")
_SUMMARY = Text("共 {count} 篇：{published} 篇已发布，{failed} 篇失败或不发布。", "{count} posts: {published} published, {failed} failed or refused.")
_NEED_FORGE = Text("发布到正式公众号前必须核对审批：请设置 GITHUB_REPOSITORY 和 GITHUB_TOKEN（或 GZH_FORGE_TOKEN），Gitea 另设 GZH_FORGE=gitea",
                   "Publishing to the real account re-verifies approvals: set GITHUB_REPOSITORY and GITHUB_TOKEN (or GZH_FORGE_TOKEN)")
_UNVERIFIED = Text("（本地沙盒、未配置代码托管平台：不核对审批）", "(local sandbox without a forge: approvals are not verified)")
_FAILURE_TITLE = Text("【发布失败】{count} 篇文章没有发布", "[Publishing failed] {count} post(s) not published")
_FAILURE_INTRO = Text("{mentions} 以下文章本次没有发布，请按原因处理后重新运行发布工作流：", "{mentions} these posts were not published; fix and re-run:")
_FAILURE_RUN = Text("运行记录：{url}", "Run: {url}")
_FAILURE_FILED = Text("已在代码托管平台上开问题 #{number} 通知管理员", "Opened issue #{number} for the administrator")
_DRY_RUN = Text("（演练：没有调用任何写接口，也没有写入账本）", "(dry run: no write calls, nothing recorded)")
_FAILED = (Result.FAILED, Result.REFUSED)
_LIVE = (Result.PUBLISHED, Result.MASS, Result.SKIPPED)


@dataclass(frozen=True)
class Run:
    outcomes: tuple[Outcome, ...]
    dry_run: bool = False

    @property
    def failures(self) -> tuple[Outcome, ...]:
        return tuple(outcome for outcome in self.outcomes if outcome.status in _FAILED)

    @property
    def exit_code(self) -> int:
        return 1 if self.failures else 0

    def text(self) -> str:
        """Each post's line and the summary; or that there was nothing to publish."""
        if not self.outcomes:
            return _NOTHING() + "\n"
        return format_outcomes(self.outcomes) + (_DRY_RUN() + "\n" if self.dry_run else "")


@dataclass(frozen=True)
class Edges:
    """What a run works with: the policy, the approvals verifier (None only for the local sandbox without a
    forge), the WeChat client and the ledger."""

    policy: Policy
    verifier: Verifier | None
    wechat: WeChat
    ledger: Ledger


def open_edges(root: Path, credentials: Credentials | None, notify: Callable[[str], None]) -> Edges:
    """The policy first: a mistake in gzh.yml is reported before missing credentials are."""
    policy = load_repository_policy(root)
    credentials = credentials or Credentials.from_environment()
    verifier = _verifier(root, credentials, notify)
    return Edges(policy, verifier, *connect(root, credentials))


def publish(root: Path, targets: list[str], *, write: Callable[[str], None], notify: Callable[[str], None],
            credentials: Credentials | None = None, dry_run: bool = False, retry_failed: bool = False,
            mode: str | None = None, poll_delays: tuple[float, ...] | None = None,
            issue_on_failure: bool = False, edges: Edges | None = None, corrections: dict[str, str] | None = None) -> Run:
    """One run; `edges` when the caller opened them already (gzh republish read the ledger first), `corrections`
    for the removed posts it publishes again."""
    edges = edges or open_edges(root, credentials, notify)
    policy, verifier, ledger = edges.policy, edges.verifier, edges.ledger
    files = posts_to_publish(root, ledger, targets, retry_failed=retry_failed)
    if not files:
        write(Run((), dry_run).text())
        return Run((), dry_run)
    publisher = Publisher(root, policy, edges.wechat, ledger, dry_run=dry_run, retry_failed=retry_failed,
                          mode_override=mode, verifier=verifier, corrections=corrections or {},
                          alert=(lambda post, v: verifier.alert(post, v, policy.members("administrator"))) if verifier else None)
    if poll_delays is not None:
        publisher.poll_delays = poll_delays
    run = Run(tuple(publisher.run([posts.load_post(file, root) for file in files])), dry_run)
    write(run.text())
    if not dry_run:
        ledger.append(Event(Kind.RUN, data={"commit": _head(root), "outcomes": {o.post: o.status for o in run.outcomes}}))
    if run.failures and issue_on_failure and forge_module.configured():
        _report_failures(run.failures, policy.members("administrator"), notify)
    return run


def format_outcomes(outcomes: tuple[Outcome, ...] | list[Outcome]) -> str:
    lines = []
    for outcome in outcomes:
        label = STATUS_LABELS[outcome.status]()
        lines.append(output.pad(label, 10) + f"{outcome.title}  {outcome.url or outcome.message}")
        if outcome.url and outcome.message and outcome.status not in _LIVE:
            lines.append(" " * 10 + outcome.message)
    published = sum(1 for outcome in outcomes if outcome.status in _LIVE)
    failed = sum(1 for outcome in outcomes if outcome.status in _FAILED)
    lines.append(_SUMMARY(count=len(outcomes), published=published, failed=failed))
    return "\n".join(lines) + "\n"


def _verifier(root: Path, credentials: Credentials, notify: Callable[[str], None]) -> Verifier | None:
    """Approvals are re-verified whenever a forge is configured, and always for the real account."""
    if forge_module.configured():
        return Verifier(root, forge_module.from_environment())
    if ledger_branch(credentials) != SANDBOX_BRANCH:
        raise GzhError(_NEED_FORGE())
    notify(_UNVERIFIED())
    return None


def _report_failures(failures: tuple[Outcome, ...], administrators: tuple[str, ...],
                     notify: Callable[[str], None]) -> None:
    """One forge issue per failed run, so a failure in CI is never only in a log nobody reads."""
    run = os.environ.get("GITHUB_SERVER_URL", "") + "/" + os.environ.get("GITHUB_REPOSITORY", "")
    run += f"/actions/runs/{os.environ['GITHUB_RUN_ID']}" if os.environ.get("GITHUB_RUN_ID") else ""
    lines = [_FAILURE_INTRO(mentions=" ".join(f"@{user}" for user in administrators))]
    lines += [f"- `{outcome.post}`（{outcome.title}）：{outcome.message}" for outcome in failures]
    if os.environ.get("GITHUB_RUN_ID"):
        lines.append(_FAILURE_RUN(url=run))
    number = forge_module.from_environment().create_issue(_FAILURE_TITLE(count=len(failures)), "\n".join(lines))
    notify(_FAILURE_FILED(number=number))
    output.step_output(filed="true")  # the workflow's failure step then knows an issue already says why


def _head(root: Path) -> str:
    with git.Repo(root, search_parent_directories=True) as repository:
        return repository.head.commit.hexsha
