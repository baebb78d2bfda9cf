"""One run's posts, one at a time under the post's claim, then WeChat's answers polled together.

For each post: the selection's reasons to leave it alone (selection.py), the post's claim in the
ledger (one publisher per post), a second look now that the post is ours, then what an earlier,
interrupted run left (reconcile.py), and the writes (writes.py):

    intent without result   →  ask WeChat what happened before doing anything again
    draft/add lost          →  look for the draft in the newest drafts (same title, same content fingerprint)
    draft/update lost       →  draft/get: holding the new content, done; else update again
    freepublish/submit lost →  the draft is still there: not submitted; gone: find the article among
                               the newest published ones, by title and content fingerprint
"""
from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from pipeline import assets, media
from pipeline.i18n import Text
from pipeline.ledger import Event, Kind, Ledger, Phase, PostState, Status, fold
from pipeline.policy import Policy
from pipeline.posts import BEIJING, Post
from pipeline.publish.outcome import Outcome, Result
from pipeline.publish.selection import Selector
from pipeline.publish.writes import Writer
from pipeline.wechat import WeChat, WeChatError

POLL_DELAYS = (3.0, 6.0, 12.0, 24.0, 45.0)  # ≤ 5 polls a post a run: the daily poll quota is 100
PUBLISH_FAILURES = {
    2: Text("原创声明失败（状态 2）", "originality declaration failed (status 2)"),
    3: Text("发布失败（状态 3），微信未给出原因；可用 --retry-failed 重试", "publishing failed (status 3); retry with --retry-failed"),
    4: Text("平台审核不通过（状态 4），请在公众平台查看原因并修改", "rejected by platform review (status 4)"),
    5: Text("发布后已被删除（状态 5）", "deleted after publishing (status 5)"),
    6: Text("发布后被系统封禁（状态 6）", "banned by the platform after publishing (status 6)"),
}

_PUBLISHED = Text("已发布", "published")
_BUSY = Text("另一个发布任务（{holder}）正在处理这篇文章，本次跳过", "another publisher ({holder}) holds this post; skipped")
_DRAFTED = Text("已存入草稿箱", "saved to the draft box")
_STILL_PUBLISHING = Text("已提交，微信仍在处理；下次运行会继续查询结果", "submitted; WeChat is still processing, the next run checks again")
_LOST_SUBMIT = Text("提交时连接中断，微信已接收；发布结果下次运行时核对", "the submit answer was lost but WeChat took it; the next run reconciles")


@dataclass
class _Pending:
    post: Post
    publish_id: str
    version: str
    content_sha256: str


@dataclass
class Publisher:
    root: Path
    policy: Policy
    wechat: WeChat
    ledger: Ledger
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(BEIJING)
    sleep: Callable[[float], None] = time.sleep
    poll_delays: tuple[float, ...] = POLL_DELAYS
    retry_failed: bool = False
    dry_run: bool = False
    mode_override: str | None = None
    # Re-verification of approvals (pipeline.verify); None only for the local sandbox without a forge.
    verifier: Callable[[Post], Any] | None = None
    alert: Callable[[Post, Any], Any] | None = None
    # Removed posts this run publishes again (gzh republish), each with the correction note it opens with.
    corrections: dict[str, str] = field(default_factory=dict)
    _pending: list[_Pending] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.selector = Selector(self.root, self.policy, self.ledger, self.now, self.retry_failed, self.dry_run,
                                 self.verifier, self.alert, frozenset(self.corrections))
        self.writer = Writer(self.root, self.policy, self.wechat, self.ledger, self.mode_override)

    def run(self, posts: list[Post]) -> list[Outcome]:
        outcomes = [self._publish_one(post) for post in posts]
        finished = self._poll_all()
        return [finished.get(outcome.post, outcome) for outcome in outcomes]

    def _state(self, post: Post) -> PostState:
        return fold(self.ledger.events).get(post.bundle, PostState())

    def _publish_one(self, post: Post) -> Outcome:
        title = post.meta.title if post.meta else post.path
        version = assets.version(post)
        skip = self.selector.reason_to_skip(post, self._state(post), version)
        if skip is not None:
            return skip
        if self.dry_run:
            return self.writer.plan(post, self._state(post))
        holder = self.ledger.claim(post.bundle)
        if holder is not None:
            return Outcome(post.bundle, title, Result.BUSY, _BUSY(holder=holder))
        released = False
        try:
            # Look again now that the post is ours: the previous holder may have just finished it.
            state = self._state(post)
            skip = self.selector.reason_to_skip(post, state, version)
            if skip is not None:
                return skip
            if state.status == Status.TAKEN_DOWN:  # let through only to be republished: the note first, before any write
                state = self._reopen(post, state)
            outcome = self._publish_claimed(post, state, version)
            released = outcome.status is Result.PUBLISHING_WAIT
            return outcome
        except WeChatError as error:
            self.ledger.append(Event(Kind.ERROR, post.bundle, data={"reason": str(error), "code": error.code}),
                               Event(Kind.RELEASE, post.bundle))
            released = True
            return Outcome(post.bundle, title, Result.FAILED, str(error), calls=tuple(self.wechat.calls))
        except (assets.AssetRefused, media.ImageRefused) as refused:  # the checks said so; never read it anyway
            return Outcome(post.bundle, title, Result.REFUSED, str(refused), calls=tuple(self.wechat.calls))
        finally:
            if not released:
                self.ledger.append(Event(Kind.RELEASE, post.bundle))

    def _reopen(self, post: Post, state: PostState) -> PostState:
        """Record the correction note and the removed article: every later write, in this run or after a
        kill, renders the same note, so the new article is found again by its content and made once."""
        self.ledger.append(Event(Kind.REPUBLISH, post.bundle, data={
            "note": self.corrections[post.bundle], "article_id": state.article_id, "url": state.url, "reason": state.reason}))
        return self._state(post)

    def _publish_claimed(self, post: Post, state: PostState, version: str) -> Outcome:
        assert post.meta is not None
        title = post.meta.title
        if state.status == Status.PUBLISHING and state.publish_id:  # submitted by an earlier run: wait for it
            self._pending.append(_Pending(post, state.publish_id, state.version, state.content_sha256))
            return Outcome(post.bundle, title, Result.PUBLISHING_WAIT, _STILL_PUBLISHING())
        if state.pending == Kind.SUBMIT and state.draft_id and not self.writer.reconciler.draft_exists(state.draft_id):
            return self._reconcile_lost_submit(post, state)  # WeChat took the draft; never submit twice
        draft_id, content_sha = self.writer.prepare_draft(post, state, version)
        mode = self.writer.mode(post, state)
        if mode == "draft":
            return Outcome(post.bundle, title, Result.DRAFT, _DRAFTED(), calls=tuple(self.wechat.calls))
        if mode == "mass":
            return self.writer.mass_send(post, draft_id, version, content_sha, today=self.now().date(),
                                         approvers=self.selector.approvers(post))
        publish_id = self.writer.submit(post, draft_id, version, content_sha)
        if publish_id is None:
            return self._reconcile_lost_submit(post, self._state(post))
        self._pending.append(_Pending(post, publish_id, version, content_sha))
        return Outcome(post.bundle, title, Result.PUBLISHING_WAIT, _STILL_PUBLISHING())

    def _reconcile_lost_submit(self, post: Post, state: PostState) -> Outcome:
        """The submit's answer was lost but the draft is gone: find the article it became."""
        assert post.meta is not None
        url, article_id = self.writer.reconciler.published(post.meta.title, str(state.intent("content_sha256")))
        if not url:
            return Outcome(post.bundle, post.meta.title, Result.PUBLISHING, _LOST_SUBMIT())
        self.ledger.append(Event(Kind.PUBLISH, post.bundle, Phase.RESULT, {
            "publish_id": "", "article_id": article_id, "url": url, "version": state.intent("version"),
            "content_sha256": state.intent("content_sha256"), "recovered": True, "article": post.meta.title,
            **self.selector.approvers(post)}))
        return Outcome(post.bundle, post.meta.title, Result.PUBLISHED, _PUBLISHED(), url, tuple(self.wechat.calls))

    # -- polling -----------------------------------------------------------------------------------

    def _poll_all(self) -> dict[str, Outcome]:
        finished: dict[str, Outcome] = {}
        for delay in self.poll_delays:
            if not self._pending:
                break
            self.sleep(delay)
            still = []
            for pending in self._pending:
                outcome = self._poll(pending)
                if outcome is None:
                    still.append(pending)
                else:
                    finished[pending.post.bundle] = outcome
            self._pending = still
        for pending in self._pending:  # WeChat is still busy: the next run picks it up
            self.ledger.append(Event(Kind.RELEASE, pending.post.bundle))
            finished[pending.post.bundle] = Outcome(pending.post.bundle, pending.post.meta.title if pending.post.meta else "",
                                                    Result.PUBLISHING, _STILL_PUBLISHING())
        self._pending = []
        return finished

    def _poll(self, pending: _Pending) -> Outcome | None:
        post, bundle = pending.post, pending.post.bundle
        title = post.meta.title if post.meta else bundle
        try:
            answer = self.wechat.publish_status(pending.publish_id)
        except WeChatError as error:
            self.ledger.append(Event(Kind.RELEASE, bundle))
            return Outcome(bundle, title, Result.PUBLISHING, f"{_STILL_PUBLISHING()}（{error}）")
        status = int(answer.get("publish_status", 1))
        if status == 1:
            return None
        if status == 0:
            items = answer.get("article_detail", {}).get("item", [])
            url = str(items[0]["article_url"]) if items else ""
            self.ledger.append(Event(Kind.PUBLISH, bundle, Phase.RESULT, {
                "publish_id": pending.publish_id, "article_id": answer.get("article_id", ""), "url": url,
                "version": pending.version, "content_sha256": pending.content_sha256, "article": title,
                **self.selector.approvers(post)}),
                Event(Kind.RELEASE, bundle))
            return Outcome(bundle, title, Result.PUBLISHED, _PUBLISHED(), url, tuple(self.wechat.calls))
        reason = PUBLISH_FAILURES.get(status, Text("状态 {status}", "status {status}"))(status=status)
        self.ledger.append(Event(Kind.FAILED, bundle, Phase.RESULT, {"publish_id": pending.publish_id, "status": status,
                                                              "reason": reason, "version": pending.version}),
                           Event(Kind.RELEASE, bundle))
        return Outcome(bundle, title, Result.FAILED, reason)
