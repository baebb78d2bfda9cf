"""The writes: uploads, the draft, submit and mass send, each between an intent and a result event.

Every call that changes the account is preceded by an `intent` event and followed by a `result`
event, so a run killed in between leaves a pending intent that the next run reconciles
(reconcile.py) before it writes anything again. Images WeChat already holds are not sent again:
a content-hash cache, across posts and runs, kept as `upload` events.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline import assets, media, render, withdrawal
from pipeline.i18n import Text
from pipeline.ledger import Event, Kind, Ledger, Phase, PostState, Status, upload_cache
from pipeline.policy import Policy
from pipeline.posts import Post
from pipeline.publish.outcome import Outcome, Result
from pipeline.publish.reconcile import Reconciler
from pipeline.render.sanitize import fingerprint
from pipeline.wechat import AmbiguousWrite, WeChat, WeChatError

_MASS_DUPLICATE_CODE = 45065  # the same content mass-sent within 24 h

_MASS_QUOTA = Text("今天的群发次数（{count} 次）已用完，明天的运行会继续", "today's mass sends ({count}) are used; tomorrow's run continues")
_MASS_SENT = Text("已群发", "mass-sent")
_MASS_DUPLICATE = Text("24 小时内已群发过相同内容，按已群发记录", "the same content was mass-sent within 24 h; recorded as sent")


@dataclass
class Writer:
    root: Path
    policy: Policy
    wechat: WeChat
    ledger: Ledger
    mode_override: str | None = None
    _planned: set[tuple[str, bool]] = field(default_factory=set)  # uploads a dry run has counted already

    @property
    def reconciler(self) -> Reconciler:
        return Reconciler(self.wechat)

    def mode(self, post: Post, state: PostState) -> str:
        """draft, publish or mass: the run's override, else the post's, else the account's. A republished post
        is always published: it restores the article where it was, and its followers have had it once."""
        if state.correction:
            return "publish"
        return self.mode_override or (post.meta.mode if post.meta and post.meta.mode else self.policy.publish_mode)

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
        if state.correction:
            html = withdrawal.correction_html(state.correction) + html
        article = _article(post, html, cover["media_id"])
        return self._ensure_draft(post, state, version, article), fingerprint(html)

    def _body_image(self, post: Post, src: str) -> media.Upload:
        return media.body_image(assets.local_file(post.folder, src, post.path), assets.shown(src))

    def _cover_image(self, post: Post, images: tuple[str, ...]) -> media.Upload:
        return media.cover_image(*assets.cover_file(post, self.root, images))

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

    def _ensure_draft(self, post: Post, state: PostState, version: str, article: dict[str, Any]) -> str:
        """The draft holding exactly `article`: found after an interrupted write, updated, or added.

        An interrupted draft/add or draft/update is judged by the content WeChat holds (its
        fingerprint), never by the title: an update that did not happen is made again, so the old
        text is never published under the new version, and an add that did happen is not repeated.
        """
        bundle, content = post.bundle, fingerprint(article["content"])
        if state.pending == Kind.DRAFT:
            found = self.reconciler.draft_holding(state, article["title"], content)
            if found:
                self.ledger.append(Event(Kind.DRAFT, bundle, Phase.RESULT, {"media_id": found, "version": version, "recovered": True}))
                return found
        draft_id = state.draft_id or str(state.intent("media_id") or "")
        if draft_id and state.status in (Status.DRAFT, Status.FAILED, Status.SCHEDULED, Status.UNPUBLISHED) \
                and self.reconciler.draft_exists(draft_id):
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

    # -- submit and mass send ---------------------------------------------------------------------

    def submit(self, post: Post, draft_id: str, version: str, content_sha: str) -> str | None:
        """freepublish/submit; None when WeChat took it but the answer was lost (the draft is gone)."""
        data = {"media_id": draft_id, "version": version, "content_sha256": content_sha}
        self.ledger.append(Event(Kind.SUBMIT, post.bundle, Phase.INTENT, data))
        try:
            publish_id, msg_data_id = self.wechat.submit(draft_id)
        except AmbiguousWrite:
            if not self.reconciler.draft_exists(draft_id):
                return None
            publish_id, msg_data_id = self.wechat.submit(draft_id)  # the draft is still there: WeChat never acted
        self.ledger.append(Event(Kind.SUBMIT, post.bundle, Phase.RESULT, {**data, "publish_id": publish_id,
                                                                   "msg_data_id": msg_data_id}))
        return publish_id

    def mass_send(self, post: Post, draft_id: str, version: str, content: str, *, today: dt.date,
                  approvers: dict[str, Any]) -> Outcome:
        """message/mass/sendall within the account's daily quota; a repeat within 24 h is recorded as sent."""
        assert post.meta is not None
        bundle, title = post.bundle, post.meta.title
        sent_today = sum(1 for event in self.ledger.events if event.kind is Kind.MASS and event.phase is Phase.RESULT
                         and event.data.get("day") == today.isoformat())
        if sent_today >= self.policy.mass_per_day:
            return Outcome(bundle, title, Result.DRAFT, _MASS_QUOTA(count=self.policy.mass_per_day))
        client_msg_id = hashlib.sha256(f"{bundle}\0{version}".encode("utf-8")).hexdigest()[:32]
        self.ledger.append(Event(Kind.MASS, bundle, Phase.INTENT, {"media_id": draft_id, "clientmsgid": client_msg_id}))
        message = _MASS_SENT()
        try:
            answer = self.wechat.mass_send(draft_id, client_msg_id)
        except WeChatError as error:
            if error.code != _MASS_DUPLICATE_CODE:
                raise
            answer, message = {}, _MASS_DUPLICATE()
        url, article_id = self.reconciler.published(title, content)
        self.ledger.append(Event(Kind.MASS, bundle, Phase.RESULT, {
            "msg_id": str(answer.get("msg_id", "")), "msg_data_id": str(answer.get("msg_data_id", "")),
            "version": version, "day": today.isoformat(), "url": url, "article_id": article_id, **approvers}))
        return Outcome(bundle, title, Result.MASS, message, url, tuple(self.wechat.calls))

    # -- dry run ----------------------------------------------------------------------------------

    def plan(self, post: Post, state: PostState) -> Outcome:
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
        mode = self.mode(post, state)
        if mode == "publish":
            calls += ["freepublish/submit", "freepublish/get"]
        elif mode == "mass":
            calls.append("message/mass/sendall")
        return Outcome(post.bundle, post.meta.title, Result.PLANNED, " → ".join(calls), calls=tuple(calls))


def _article(post: Post, html: str, cover_media_id: str) -> dict[str, Any]:
    """The draft's article as WeChat's draft/add takes it."""
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
