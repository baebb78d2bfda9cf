"""What to publish: the posts a run takes up, and for each the reason a run leaves it alone.

Chosen from the ledger's state, never from what changed since some earlier run, so a post a failed,
killed or narrower run left unfinished is taken up by the next plain run. Before any write a post is
looked at again (`Selector.reason_to_skip`): already live, failed before, failing the checks, not
approved, or scheduled for later.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from pipeline import assets, clock, posts, selection
from pipeline.checks import Severity, check_post
from pipeline.i18n import Text
from pipeline.ledger import Event, Kind, Ledger, PostState, Status, fold
from pipeline.policy import Policy
from pipeline.posts import Post
from pipeline.publish.outcome import Outcome, Result

_ALREADY = Text("已发布过，无需操作", "already published; nothing to do")
_IMMUTABLE = Text("这篇文章已经发布，发布后不能修改。如需更正，请新建一篇更正说明，或按 docs/publishing.md 的“更正”流程处理",
                  "This post is already published and cannot change. Publish a correction as a new post (docs/publishing.md)")
_SCHEDULED = Text("定时发布：{when} 之后的运行才会发布", "scheduled: published by a run after {when}")
_CHECK_FAILED = Text("未通过发布前检查（{count} 个错误），不发布。请运行 gzh check {path}", "fails the checks ({count} errors); run gzh check {path}")
_FAILED_BEFORE = Text("上次发布失败：{reason}。用 --retry-failed 重试", "failed before: {reason}; use --retry-failed")
_REMOVED = Text("已下线（{reason}），不会自动重新发布。如需恢复审批通过的版本，请运行 gzh republish {post}",
                "removed ({reason}); never published again by itself: restore the approved version with gzh republish {post}")
_UNAPPROVED = Text("未经审批，不发布：{reason}。已通知管理员", "not approved, not published: {reason}; the administrator is alerted")


def posts_to_publish(root: Path, ledger: Ledger, targets: list[str], *, retry_failed: bool = False) -> list[Path]:
    """Named posts; else every post on the branch whose approved version is not live yet.

    Left out: posts already live (or taken down or withdrawn: only `gzh republish` brings those back), a
    version that failed (unless retried) or was refused as unapproved (the administrator was alerted; a
    new version is tried again).
    """
    if targets:
        return selection.select_posts(root, targets)[0]
    states = fold(ledger.events)
    refused = {(event.post, event.data.get("version")) for event in ledger.events if event.kind is Kind.UNAPPROVED}
    chosen = []
    for file in posts.discover([root / posts.CONTENT_DIR])[0]:
        post = posts.load_post(file, root)
        state = states.get(post.bundle, PostState())
        if state.status in (Status.PUBLISHED, Status.TAKEN_DOWN) and not state.pending:
            continue
        version = assets.version(post) if post.meta else ""
        if failed_before(state, version, retry_failed) or (post.bundle, version) in refused:
            continue
        chosen.append(file)
    return chosen


def failed_before(state: PostState, version: str, retry_failed: bool) -> bool:
    """This very version failed in an earlier run, and failures are not being retried."""
    return state.status == Status.FAILED and state.version == version and not retry_failed


@dataclass
class Selector:
    """Why a run leaves a post alone, if it does; checks and approvals are worked out once a run."""

    root: Path
    policy: Policy
    ledger: Ledger
    now: Callable[[], dt.datetime]
    retry_failed: bool = False
    dry_run: bool = False
    # Re-verification of approvals (pipeline.verify); None only for the local sandbox without a forge.
    verifier: Callable[[Post], Any] | None = None
    alert: Callable[[Post, Any], Any] | None = None
    republish: frozenset[str] = frozenset()  # removed posts this run publishes again (gzh republish)
    _verified: dict[str, Any] = field(default_factory=dict)
    _checked: dict[str, list[Any]] = field(default_factory=dict)

    def reason_to_skip(self, post: Post, state: PostState, version: str) -> Outcome | None:
        title = post.meta.title if post.meta else post.path
        if state.status == Status.PUBLISHED:
            if state.version == version:
                return Outcome(post.bundle, title, Result.SKIPPED, _ALREADY(), state.url)
            return Outcome(post.bundle, title, Result.REFUSED, _IMMUTABLE(), state.url)
        if state.status == Status.TAKEN_DOWN and post.bundle not in self.republish:
            return Outcome(post.bundle, title, Result.REFUSED, _REMOVED(reason=state.reason, post=post.bundle))
        if failed_before(state, version, self.retry_failed):
            return Outcome(post.bundle, title, Result.FAILED, _FAILED_BEFORE(reason=state.reason))
        errors = self._check_errors(post)
        if errors or post.meta is None:
            return Outcome(post.bundle, title, Result.REFUSED, _CHECK_FAILED(count=len(errors), path=post.bundle))
        unapproved = self._unapproved(post, version)
        if unapproved is not None:
            return unapproved
        if post.meta.publish_at and post.meta.publish_at > self.now():
            if not self.dry_run and state.status != Status.SCHEDULED:
                self.ledger.append(Event(Kind.SCHEDULED, post.bundle, data={"version": version,
                                                                          "at": post.meta.publish_at.isoformat()}))
            return Outcome(post.bundle, title, Result.SCHEDULED, _SCHEDULED(when=clock.minute(post.meta.publish_at)))
        return None

    def approvers(self, post: Post) -> dict[str, Any]:
        """Who approved the post, as the re-verification found: recorded with its publish result."""
        verification = self._verified.get(post.bundle)
        if verification is None:
            return {}
        return {"approvers": verification.approvers, "pull": verification.pull, "merged_commit": verification.commit}

    def _check_errors(self, post: Post) -> list[Any]:
        """Check errors, once per post and run: the re-look after claiming needs only a fresh state."""
        if post.bundle not in self._checked:
            report = check_post(post, self.policy, self.root)
            self._checked[post.bundle] = [f for f in report.findings if f.severity is Severity.ERROR]
        return self._checked[post.bundle]

    def _unapproved(self, post: Post, version: str) -> Outcome | None:
        """Refuse content that reached the branch without a passing gate; alert once per version."""
        if self.verifier is None:
            return None
        if post.bundle not in self._verified:
            self._verified[post.bundle] = self.verifier(post)
        verification = self._verified[post.bundle]
        if verification.approved:
            return None
        alerted = any(event.kind is Kind.UNAPPROVED and event.post == post.bundle and event.data.get("version") == version
                      for event in self.ledger.events)
        if not alerted and not self.dry_run:
            issue = self.alert(post, verification) if self.alert else None
            self.ledger.append(Event(Kind.UNAPPROVED, post.bundle, data={
                "version": version, "reason": verification.reason, "commit": verification.commit, "issue": issue}))
        title = post.meta.title if post.meta else post.bundle
        return Outcome(post.bundle, title, Result.REFUSED, _UNAPPROVED(reason=verification.reason))
