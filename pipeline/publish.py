"""The publish stage: approved posts to WeChat, each side effect recorded before and after.

For one post: upload what WeChat has not seen (a content-hash cache, across posts and runs),
render with WeChat's image URLs, create the draft (or update the one made before), submit it,
then poll for the result. Every write is preceded by an `intent` event and followed by a
`result` event in the ledger, so a run killed at any point resumes by reconciling:

    intent without result   →  ask WeChat what happened before doing anything again
    draft/add lost          →  look for the draft in the newest drafts (same title, same content fingerprint)
    draft/update lost       →  draft/get: holding the new content, done; else update again
    freepublish/submit lost →  the draft is still there: not submitted; gone: find the article among
                               the newest published ones, by title and content fingerprint

A post's claim in the ledger makes sure only one publisher works on it at a time.
"""
from __future__ import annotations

import datetime as dt
import enum
import itertools
import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from pipeline import assets, media, render
from pipeline.render.sanitize import fingerprint
from pipeline.checks import Severity, check_post
from pipeline.i18n import Text
from pipeline.ledger import Event, Kind, Ledger, Phase, PostState, Status, fold, upload_cache
from pipeline.policy import Policy
from pipeline.posts import BEIJING, Post
from pipeline.wechat import AmbiguousWrite, WeChat, WeChatError

DEFAULT_COVER = "cover-default.jpg"
RECONCILE_PAGES = 3  # drafts or articles read (20 a page) when looking for what an interrupted write did
POLL_DELAYS = (3.0, 6.0, 12.0, 24.0, 45.0)  # ≤ 5 polls a post a run: the daily poll quota is 100
PUBLISH_FAILURES = {
    2: Text("原创声明失败（状态 2）", "originality declaration failed (status 2)"),
    3: Text("发布失败（状态 3），微信未给出原因；可用 --retry-failed 重试", "publishing failed (status 3); retry with --retry-failed"),
    4: Text("平台审核不通过（状态 4），请在公众平台查看原因并修改", "rejected by platform review (status 4)"),
    5: Text("发布后已被删除（状态 5）", "deleted after publishing (status 5)"),
    6: Text("发布后被系统封禁（状态 6）", "banned by the platform after publishing (status 6)"),
}

_PUBLISHED = Text("已发布", "published")
_ALREADY = Text("已发布过，无需操作", "already published; nothing to do")
_IMMUTABLE = Text("这篇文章已经发布，发布后不能修改。如需更正，请新建一篇更正说明，或按 docs/publishing.md 的“更正”流程处理",
                  "This post is already published and cannot change. Publish a correction as a new post (docs/publishing.md)")
_SCHEDULED = Text("定时发布：{when} 之后的运行才会发布", "scheduled: published by a run after {when}")
_CHECK_FAILED = Text("未通过发布前检查（{count} 个错误），不发布。请运行 gzh check {path}", "fails the checks ({count} errors); run gzh check {path}")
_BUSY = Text("另一个发布任务（{holder}）正在处理这篇文章，本次跳过", "another publisher ({holder}) holds this post; skipped")
_DRAFTED = Text("已存入草稿箱", "saved to the draft box")
_STILL_PUBLISHING = Text("已提交，微信仍在处理；下次运行会继续查询结果", "submitted; WeChat is still processing, the next run checks again")
_FAILED_BEFORE = Text("上次发布失败：{reason}。用 --retry-failed 重试", "failed before: {reason}; use --retry-failed")
_MASS_QUOTA = Text("今天的群发次数（{count} 次）已用完，明天的运行会继续", "today's mass sends ({count}) are used; tomorrow's run continues")
_MASS_SENT = Text("已群发", "mass-sent")
_MASS_DUPLICATE = Text("24 小时内已群发过相同内容，按已群发记录", "the same content was mass-sent within 24 h; recorded as sent")
_UNAPPROVED = Text("未经审批，不发布：{reason}。已通知管理员", "not approved, not published: {reason}; the administrator is alerted")
_LOST_SUBMIT = Text("提交时连接中断，微信已接收；发布结果下次运行时核对", "the submit answer was lost but WeChat took it; the next run reconciles")


def _holds(item: dict[str, Any], title: str, content: str) -> bool:
    """Whether a draft's or article's first item is this article: same title, same content fingerprint."""
    return item.get("title") == title and fingerprint(str(item.get("content", ""))) == content


class Result(enum.StrEnum):
    """What one run did with one post (the value is what reports and JSON show)."""

    PUBLISHED = "published"
    MASS = "mass"                      # mass-sent to all followers
    DRAFT = "draft"                    # left in the draft box (draft mode)
    PUBLISHING = "publishing"          # submitted; WeChat's answer comes with a later run
    PUBLISHING_WAIT = "publishing-wait"  # submitted in this run; polled before the run ends
    SCHEDULED = "scheduled"
    SKIPPED = "skipped"                # already published as it is
    REFUSED = "refused"                # not approved, failing checks, changed after publishing
    FAILED = "failed"
    BUSY = "busy"                      # another publisher holds the post
    PLANNED = "planned"                # --dry-run


@dataclass(frozen=True)
class Outcome:
    post: str
    title: str
    status: Result
    message: str
    url: str = ""
    calls: tuple[str, ...] = ()


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
    _pending: list[_Pending] = field(default_factory=list)
    _verified: dict[str, Any] = field(default_factory=dict)
    _checked: dict[str, list[Any]] = field(default_factory=dict)
    _planned: set[tuple[str, bool]] = field(default_factory=set)  # uploads a dry run has counted already

    # -- the run ---------------------------------------------------------------------------------

    def run(self, posts: list[Post]) -> list[Outcome]:
        outcomes = [self._publish_one(post) for post in posts]
        finished = self._poll_all()
        return [finished.get(outcome.post, outcome) for outcome in outcomes]

    def states(self) -> dict[str, PostState]:
        return fold(self.ledger.events)

    def _publish_one(self, post: Post) -> Outcome:
        title = post.meta.title if post.meta else post.path
        state = self.states().get(post.bundle, PostState())
        version = assets.version(post)
        skip = self._reason_to_skip(post, state, version)
        if skip is not None:
            return skip
        if self.dry_run:
            return self._plan(post, state)
        holder = self.ledger.claim(post.bundle)
        if holder is not None:
            return Outcome(post.bundle, title, Result.BUSY, _BUSY(holder=holder))
        released = False
        try:
            # Look again now that the post is ours: the previous holder may have just finished it.
            state = self.states().get(post.bundle, PostState())
            skip = self._reason_to_skip(post, state, version)
            if skip is not None:
                return skip
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

    def _reason_to_skip(self, post: Post, state: PostState, version: str) -> Outcome | None:
        title = post.meta.title if post.meta else post.path
        if state.status == Status.PUBLISHED:
            if state.version == version:
                return Outcome(post.bundle, title, Result.SKIPPED, _ALREADY(), state.url)
            return Outcome(post.bundle, title, Result.REFUSED, _IMMUTABLE(), state.url)
        if state.status == Status.FAILED and state.version == version and not self.retry_failed:
            return Outcome(post.bundle, title, Result.FAILED, _FAILED_BEFORE(reason=state.reason))
        errors = self._check_errors(post)
        if errors or post.meta is None:
            return Outcome(post.bundle, title, Result.REFUSED, _CHECK_FAILED(count=len(errors), path=post.bundle))
        unapproved = self._unapproved(post, version)
        if unapproved is not None:
            return unapproved
        if post.meta.publish_at and post.meta.publish_at > self.now():
            if not self.dry_run and state.status != "scheduled":
                self.ledger.append(Event(Kind.SCHEDULED, post.bundle, data={"version": version,
                                                                          "at": post.meta.publish_at.isoformat()}))
            return Outcome(post.bundle, title, Result.SCHEDULED, _SCHEDULED(when=post.meta.publish_at.strftime("%Y-%m-%d %H:%M")))
        return None

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

    def _approvers(self, post: Post) -> dict[str, Any]:
        verification = self._verified.get(post.bundle)
        if verification is None:
            return {}
        return {"approvers": verification.approvers, "pull": verification.pull, "merged_commit": verification.commit}

    def _mode(self, post: Post) -> str:
        return self.mode_override or (post.meta.mode if post.meta and post.meta.mode else self.policy.publish_mode)

    def _publish_claimed(self, post: Post, state: PostState, version: str) -> Outcome:
        assert post.meta is not None
        title = post.meta.title
        if state.status == Status.PUBLISHING and state.publish_id:  # submitted by an earlier run: wait for it
            self._pending.append(_Pending(post, state.publish_id, state.version, state.content_sha256))
            return Outcome(post.bundle, title, Result.PUBLISHING_WAIT, _STILL_PUBLISHING())
        if state.pending == Kind.SUBMIT and state.draft_id and not self._draft_exists(state.draft_id):
            return self._reconcile_lost_submit(post, state)  # WeChat took the draft; never submit twice
        draft_id, content_sha = self.prepare_draft(post, state, version)
        mode = self._mode(post)
        if mode == "draft":
            return Outcome(post.bundle, title, Result.DRAFT, _DRAFTED(), calls=tuple(self.wechat.calls))
        if mode == "mass":
            return self._mass_send(post, draft_id, version, content_sha)
        publish_id = self._submit(post, draft_id, version, content_sha)
        if publish_id is None:
            return self._reconcile_lost_submit(post, self.states().get(post.bundle, state))
        self._pending.append(_Pending(post, publish_id, version, content_sha))
        return Outcome(post.bundle, title, Result.PUBLISHING_WAIT, _STILL_PUBLISHING())

    def _reconcile_lost_submit(self, post: Post, state: PostState) -> Outcome:
        """The submit's answer was lost but the draft is gone: find the article it became."""
        assert post.meta is not None
        url, article_id = self._find_published_url(post.meta.title, str(state.intent("content_sha256")))
        if not url:
            return Outcome(post.bundle, post.meta.title, Result.PUBLISHING, _LOST_SUBMIT())
        self.ledger.append(Event(Kind.PUBLISH, post.bundle, Phase.RESULT, {
            "publish_id": "", "article_id": article_id, "url": url, "version": state.intent("version"),
            "content_sha256": state.intent("content_sha256"), "recovered": True, **self._approvers(post)}))
        return Outcome(post.bundle, post.meta.title, Result.PUBLISHED, _PUBLISHED(), url, tuple(self.wechat.calls))

    # -- images and the draft ---------------------------------------------------------------------

    def prepare_draft(self, post: Post, state: PostState, version: str) -> tuple[str, str]:
        """Uploads, render and draft for the post's current version; returns (draft id, content hash)."""
        assert post.meta is not None
        cache = upload_cache(self.ledger.events)
        new_uploads: list[dict[str, Any]] = []
        rendered = render.render_post(post, self.policy, self.root)
        urls = {src: self._upload(self._body_image(post, src), cache, new_uploads)["url"]
                for src in dict.fromkeys(rendered.images)}
        cover = self._upload(self._cover_image(post, rendered.images), cache, new_uploads)
        if new_uploads:
            self.ledger.append(Event(Kind.UPLOAD, post.bundle, Phase.RESULT, {"uploads": new_uploads}))
        html = render.render_post(post, self.policy, self.root, image_urls=urls).html
        article = self._article(post, html, cover["media_id"])
        content_sha = fingerprint(html)
        return self._ensure_draft(post, state, version, article), content_sha

    def _body_image(self, post: Post, src: str) -> media.Upload:
        return media.body_image(assets.local_file(post.folder, src, post.path), assets.shown(src))

    def _cover_image(self, post: Post, images: tuple[str, ...]) -> media.Upload:
        """The `cover` field, else the first body image, else the repository's default cover."""
        assert post.meta is not None
        src = post.meta.cover or (images[0] if images else None)
        if src is None:
            folder, src, shown_as = self.root / render.TEMPLATES_DIR, DEFAULT_COVER, render.TEMPLATES_DIR
        else:
            folder, shown_as = post.folder, post.path
        return media.cover_image(assets.local_file(folder, src, shown_as), assets.shown(src))

    def _upload(self, upload: media.Upload, cache: dict[tuple[str, bool], dict[str, str]],
                new_uploads: list[dict[str, Any]]) -> dict[str, str]:
        key = (upload.sha256, upload.via_material)
        if key not in cache:
            if upload.via_material:
                media_id, url = self.wechat.add_image_material(upload.filename, upload.data)
            else:
                media_id, url = "", self.wechat.upload_image(upload.filename, upload.data)
            cache[key] = {"sha256": upload.sha256, "via_material": upload.via_material, "media_id": media_id,
                          "url": url.replace("http://mmbiz.qpic.cn", "https://mmbiz.qpic.cn")}
            new_uploads.append(cache[key])
        return cache[key]

    def _article(self, post: Post, html: str, cover_media_id: str) -> dict[str, Any]:
        meta = post.meta
        assert meta is not None
        article: dict[str, Any] = {
            "title": meta.title, "author": meta.author, "digest": meta.digest or "", "content": html,
            "content_source_url": meta.source.url if meta.source else "", "thumb_media_id": cover_media_id,
            "need_open_comment": int(meta.comments != "closed"), "only_fans_can_comment": int(meta.comments == "followers"),
        }
        for name, value in meta.cover_crop:
            article["pic_crop_235_1" if name == "wide" else "pic_crop_1_1"] = value
        return article

    def _ensure_draft(self, post: Post, state: PostState, version: str, article: dict[str, Any]) -> str:
        """The draft holding exactly `article`: found after an interrupted write, updated, or added.

        An interrupted draft/add or draft/update is judged by the content WeChat holds (its
        fingerprint), never by the title: an update that did not happen is made again, so the old
        text is never published under the new version, and an add that did happen is not repeated.
        """
        bundle, content = post.bundle, fingerprint(article["content"])
        if state.pending == Kind.DRAFT:
            found = self._draft_holding(state, article["title"], content)
            if found:
                self.ledger.append(Event(Kind.DRAFT, bundle, Phase.RESULT, {"media_id": found, "version": version, "recovered": True}))
                return found
        draft_id = state.draft_id or str(state.intent("media_id") or "")
        if draft_id and state.status in (Status.DRAFT, Status.FAILED, Status.SCHEDULED, Status.UNPUBLISHED) \
                and self._draft_exists(draft_id):
            if state.draft_version != version or state.pending == Kind.DRAFT:
                self.ledger.append(Event(Kind.DRAFT, bundle, Phase.INTENT, {"media_id": draft_id, "update": True,
                                                                           "content_sha256": content}))
                self.wechat.draft_update(draft_id, article)
                self.ledger.append(Event(Kind.DRAFT, bundle, Phase.RESULT, {"media_id": draft_id, "version": version}))
            return draft_id
        self.ledger.append(Event(Kind.DRAFT, bundle, Phase.INTENT, {"version": version, "content_sha256": content}))
        media_id = self.wechat.draft_add(article)
        self.ledger.append(Event(Kind.DRAFT, bundle, Phase.RESULT, {"media_id": media_id, "version": version}))
        return media_id

    def _draft_exists(self, media_id: str) -> bool:
        try:
            self.wechat.draft_get(media_id)
            return True
        except WeChatError as error:
            if error.code == 40007:
                return False
            raise

    def _draft_holding(self, state: PostState, title: str, content: str) -> str | None:
        """The draft an interrupted write left holding this very content, if any.

        An update names its draft: one draft/get tells. An add does not: the newest drafts are read,
        at most RECONCILE_PAGES pages of 20, and matched by title and content fingerprint.
        """
        media_id = str(state.intent("media_id") or "")
        if media_id:
            try:
                items = self.wechat.draft_get(media_id).get("news_item") or [{}]
            except WeChatError as error:
                if error.code == 40007:
                    return None
                raise
            return media_id if _holds(items[0], title, content) else None
        for page in range(RECONCILE_PAGES):
            answer = self.wechat.draft_batchget(page * 20, no_content=False)
            for item in answer.get("item", []):
                if _holds(item["content"]["news_item"][0], title, content):
                    return str(item["media_id"])
            if (page + 1) * 20 >= int(answer.get("total_count", 0)):
                break
        return None

    # -- submit and poll ---------------------------------------------------------------------------

    def _submit(self, post: Post, draft_id: str, version: str, content_sha: str) -> str | None:
        """freepublish/submit, recorded before and after; None when WeChat took it but the answer was lost."""
        data = {"media_id": draft_id, "version": version, "content_sha256": content_sha}
        self.ledger.append(Event(Kind.SUBMIT, post.bundle, Phase.INTENT, data))
        try:
            publish_id, msg_data_id = self.wechat.submit(draft_id)
        except AmbiguousWrite:
            if not self._draft_exists(draft_id):
                return None
            publish_id, msg_data_id = self.wechat.submit(draft_id)  # the draft is still there: WeChat never acted
        self.ledger.append(Event(Kind.SUBMIT, post.bundle, Phase.RESULT, {**data, "publish_id": publish_id,
                                                                   "msg_data_id": msg_data_id}))
        return publish_id

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
                "version": pending.version, "content_sha256": pending.content_sha256, **self._approvers(post)}),
                Event(Kind.RELEASE, bundle))
            return Outcome(bundle, title, Result.PUBLISHED, _PUBLISHED(), url, tuple(self.wechat.calls))
        reason = PUBLISH_FAILURES.get(status, Text("状态 {status}", "status {status}"))(status=status)
        self.ledger.append(Event(Kind.FAILED, bundle, Phase.RESULT, {"publish_id": pending.publish_id, "status": status,
                                                              "reason": reason, "version": pending.version}),
                           Event(Kind.RELEASE, bundle))
        return Outcome(bundle, title, Result.FAILED, reason)

    # -- mass send -----------------------------------------------------------------------------------

    def _mass_send(self, post: Post, draft_id: str, version: str, content: str) -> Outcome:
        assert post.meta is not None
        bundle, title = post.bundle, post.meta.title
        today = self.now().date().isoformat()
        sent_today = sum(1 for event in self.ledger.events if event.kind is Kind.MASS and event.phase is Phase.RESULT
                         and event.data.get("day") == today)
        if sent_today >= self.policy.mass_per_day:
            return Outcome(bundle, title, Result.DRAFT, _MASS_QUOTA(count=self.policy.mass_per_day))
        client_msg_id = hashlib.sha256(f"{bundle}\0{version}".encode("utf-8")).hexdigest()[:32]
        self.ledger.append(Event(Kind.MASS, bundle, Phase.INTENT, {"media_id": draft_id, "clientmsgid": client_msg_id}))
        message = _MASS_SENT()
        try:
            answer = self.wechat.mass_send(draft_id, client_msg_id)
        except WeChatError as error:
            if error.code != 45065:
                raise
            answer, message = {}, _MASS_DUPLICATE()
        url, article_id = self._find_published_url(title, content)
        self.ledger.append(Event(Kind.MASS, bundle, Phase.RESULT, {
            "msg_id": str(answer.get("msg_id", "")), "msg_data_id": str(answer.get("msg_data_id", "")),
            "version": version, "day": today, "url": url, "article_id": article_id, **self._approvers(post)}))
        return Outcome(bundle, title, Result.MASS, message, url, tuple(self.wechat.calls))

    def _find_published_url(self, title: str, content: str) -> tuple[str, str]:
        """The live article holding this very content (title and fingerprint), among the newest
        RECONCILE_PAGES pages of freepublish/batchget: its quota is 100 calls a day."""
        for item in itertools.islice(self.wechat.all_published(no_content=False), RECONCILE_PAGES * 20):
            first = item["content"]["news_item"][0]
            if _holds(first, title, content):
                return str(first.get("url", "")), str(item["article_id"])
        return "", ""

    # -- dry run ---------------------------------------------------------------------------------------

    def _plan(self, post: Post, state: PostState) -> Outcome:
        """The calls a real run would make, exactly: an image already on WeChat, or planned for an
        earlier post of this run, is not counted again."""
        assert post.meta is not None
        known = set(upload_cache(self.ledger.events))
        rendered = render.render_post(post, self.policy, self.root)
        bodies = [self._body_image(post, src) for src in dict.fromkeys(rendered.images)]
        wanted = [(upload.sha256, upload.via_material) for upload in bodies]
        wanted.append((self._cover_image(post, rendered.images).sha256, True))  # covers are always material
        calls = []
        for key in dict.fromkeys(wanted):
            if key not in known and key not in self._planned:
                self._planned.add(key)
                calls.append("material/add_material" if key[1] else "media/uploadimg")
        calls.append("draft/update" if state.draft_id and state.status == Status.DRAFT else "draft/add")
        mode = self._mode(post)
        if mode == "publish":
            calls += ["freepublish/submit", "freepublish/get"]
        elif mode == "mass":
            calls.append("message/mass/sendall")
        return Outcome(post.bundle, post.meta.title, Result.PLANNED, " → ".join(calls), calls=tuple(calls))
