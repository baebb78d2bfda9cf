"""The sandbox's account: what a real Official Account holds, kept in a folder between runs.

Every public method is one documented endpoint (../shared/reference wechat-api §1-5): the same
fields, limits, daily quotas and error codes. A method returns the JSON answer, or raises
`ApiError(errcode, errmsg)` which the server sends as WeChat does: HTTP 200 with errcode.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import secrets
import threading
import time
from pathlib import Path
from typing import Any

BEIJING = dt.timezone(dt.timedelta(hours=8))
TOKEN_SECONDS = 7200
TOKEN_GRACE_SECONDS = 300
IMAGE_TYPES = {b"\xff\xd8\xff": "jpg", b"\x89PNG": "png", b"GIF8": "gif", b"BM": "bmp"}

# Daily quotas of a new account ([LIMITS] in the reference); tests may lower them.
DEFAULT_QUOTAS = {
    "token": 2000, "stable_token": 500_000, "media/uploadimg": 100_000, "material/add_material": 100_000,
    "material/get_material": 500, "material/del_material": 1000, "material/batchget_material": 1000,
    "material/get_materialcount": 1000,
    "draft/add": 1000, "draft/get": 500, "draft/delete": 1000, "draft/update": 1000, "draft/count": 1000,
    "draft/batchget": 1000,
    "freepublish/submit": 100, "freepublish/get": 100, "freepublish/delete": 10, "freepublish/getarticle": 100,
    "freepublish/batchget": 100,
    "message/mass/sendall": 100, "message/mass/preview": 100,
    "comment/list": 1000, "comment/reply/add": 1000, "comment/reply/delete": 1000, "comment/open": 1000,
    "comment/close": 1000, "comment/markelect": 1000, "comment/unmarkelect": 1000, "comment/delete": 1000,
}
MASS_SENDS_PER_DAY = 1  # a verified subscription account: one successful mass send a day


class ApiError(Exception):
    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(errcode, errmsg)
        self.errcode, self.errmsg = errcode, errmsg


def _today() -> str:
    return dt.datetime.now(BEIJING).date().isoformat()


def _new_id(prefix: str = "") -> str:
    return prefix + secrets.token_hex(12)


class SandboxState:
    """The account's data, one lock around it, written to `folder` after every change."""

    def __init__(self, folder: Path, appid: str, secret: str, base_url: str = "") -> None:
        self.folder, self.appid, self.secret, self.base_url = folder, appid, secret, base_url
        (folder / "media").mkdir(parents=True, exist_ok=True)
        self.lock = threading.RLock()
        self.data: dict[str, Any] = self._load()

    # -- persistence ---------------------------------------------------------------------------------

    def _load(self) -> dict[str, Any]:
        path = self.folder / "state.json"
        data = json.loads(path.read_text("utf-8")) if path.exists() else {}
        for key in ("tokens", "quota", "images", "materials", "drafts", "jobs", "articles", "mass", "comments"):
            data.setdefault(key, {})
        data.setdefault("quotas", dict(DEFAULT_QUOTAS))
        data.setdefault("publish_seconds", 0.3)
        data.setdefault("publish_outcomes", [])  # queued publish_status values for the next jobs (faults)
        return data

    def save(self) -> None:
        path = self.folder / "state.json"
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(self.data, ensure_ascii=False, indent=1), "utf-8")
        temporary.replace(path)

    # -- quotas and tokens -----------------------------------------------------------------------------

    def count_call(self, endpoint: str) -> None:
        """Count one call against the day's quota; 45009 once it is used up."""
        day = self.data["quota"].setdefault(_today(), {})
        limit = self.data["quotas"].get(endpoint)
        if limit is not None and day.get(endpoint, 0) >= limit:
            raise ApiError(45009, "reach max api daily quota limit")
        day[endpoint] = day.get(endpoint, 0) + 1

    def _check_credentials(self, appid: str, secret: str) -> None:
        if not appid:
            raise ApiError(41002, "appid missing")
        if appid != self.appid:
            raise ApiError(40013, "invalid appid")
        if not secret:
            raise ApiError(41004, "appsecret missing")
        if secret != self.secret:
            raise ApiError(40125, "invalid appsecret")

    def stable_token(self, appid: str, secret: str, force_refresh: bool) -> dict[str, Any]:
        """Normal mode returns the current token while it is valid, so callers never clash."""
        self._check_credentials(appid, secret)
        now = time.time()
        current = self.data["tokens"].get(self.data.get("stable_current", ""))
        if force_refresh or not current or current["expires_at"] - now < TOKEN_GRACE_SECONDS or current.get("revoked"):
            if current:
                current["superseded_at"] = now
            token = _new_id("sandbox-stable-")
            self.data["tokens"][token] = {"expires_at": now + TOKEN_SECONDS, "kind": "stable"}
            self.data["stable_current"] = token
            current = self.data["tokens"][token]
        else:
            token = self.data["stable_current"]
        return {"access_token": token, "expires_in": int(current["expires_at"] - now)}

    def basic_token(self, appid: str, secret: str) -> dict[str, Any]:
        """cgi-bin/token: every fetch supersedes the previous token (both valid for 5 minutes)."""
        self._check_credentials(appid, secret)
        now = time.time()
        for entry in self.data["tokens"].values():
            if entry["kind"] == "basic" and "superseded_at" not in entry:
                entry["superseded_at"] = now
        token = _new_id("sandbox-basic-")
        self.data["tokens"][token] = {"expires_at": now + TOKEN_SECONDS, "kind": "basic"}
        return {"access_token": token, "expires_in": TOKEN_SECONDS}

    def check_token(self, token: str | None) -> None:
        if not token:
            raise ApiError(41001, "access_token missing")
        entry = self.data["tokens"].get(token)
        now = time.time()
        if entry is None:
            raise ApiError(40014, "invalid access_token")
        if entry.get("revoked") or now - entry.get("superseded_at", now) > TOKEN_GRACE_SECONDS:
            raise ApiError(40001, "invalid credential, access_token is invalid or not latest")
        if now > entry["expires_at"]:
            raise ApiError(42001, "access_token expired")

    def revoke_tokens(self) -> None:
        """Rehearsal: as if someone force-refreshed the token, every issued token stops working."""
        for entry in self.data["tokens"].values():
            entry["revoked"] = True

    # -- images and materials ----------------------------------------------------------------------------

    def _store_image(self, data: bytes, kind: str) -> tuple[str, str]:
        image_id = hashlib.sha256(data).hexdigest()[:24] + "-" + secrets.token_hex(4)
        (self.folder / "media" / image_id).write_bytes(data)
        self.data["images"][image_id] = {"kind": kind, "type": _image_type(data), "size": len(data)}
        return image_id, f"{self.base_url}/mmbiz/{image_id}"

    def upload_image(self, data: bytes | None) -> dict[str, Any]:
        if not data:
            raise ApiError(41005, "media data missing")
        if _image_type(data) not in ("jpg", "png"):
            raise ApiError(40005, "invalid file type")
        if len(data) >= 1024 * 1024:
            raise ApiError(40009, "invalid image size")
        _, url = self._store_image(data, "uploadimg")
        return {"url": url}

    def add_material(self, media_type: str, data: bytes | None) -> dict[str, Any]:
        if media_type != "image":
            raise ApiError(40004, "invalid media type")
        if not data:
            raise ApiError(41005, "media data missing")
        if _image_type(data) is None:
            raise ApiError(40005, "invalid file type")
        if len(data) > 10 * 1024 * 1024:
            raise ApiError(40006, "invalid file size")
        image_id, url = self._store_image(data, "material")
        media_id = _new_id("MAT")
        self.data["materials"][media_id] = {"image_id": image_id, "url": url, "name": image_id,
                                            "update_time": int(time.time())}
        return {"media_id": media_id, "url": url}

    def _material(self, media_id: str) -> dict[str, Any]:
        material = self.data["materials"].get(media_id)
        if material is None:
            raise ApiError(40007, "invalid media_id")
        return material

    def get_material(self, media_id: str) -> bytes:
        return (self.folder / "media" / self._material(media_id)["image_id"]).read_bytes()

    def del_material(self, media_id: str) -> dict[str, Any]:
        self._material(media_id)
        del self.data["materials"][media_id]
        return {}

    def batchget_material(self, media_type: str, offset: int, count: int) -> dict[str, Any]:
        if media_type not in ("image", "video", "voice", "news"):
            raise ApiError(40004, "invalid media type")
        if not 1 <= count <= 20:
            raise ApiError(40002, "invalid count")
        items = [{"media_id": key, "name": value["name"], "update_time": value["update_time"], "url": value["url"]}
                 for key, value in self.data["materials"].items()] if media_type == "image" else []
        return {"total_count": len(items), "item_count": len(items[offset:offset + count]),
                "item": items[offset:offset + count]}

    def material_count(self) -> dict[str, Any]:
        return {"voice_count": 0, "video_count": 0, "image_count": len(self.data["materials"]), "news_count": 0}

    # -- drafts ---------------------------------------------------------------------------------------------

    def _validate_article(self, article: Any) -> dict[str, Any]:
        if not isinstance(article, dict):
            raise ApiError(40002, "invalid article")
        title, author, digest = str(article.get("title", "")), str(article.get("author", "")), str(article.get("digest", ""))
        content, source = str(article.get("content", "")), str(article.get("content_source_url", ""))
        if not title:
            raise ApiError(44003, "empty news data: title")
        if len(title) > 32:
            raise ApiError(45003, "title size out of limit")
        if len(author) > 16:
            raise ApiError(45110, "author size out of limit")
        if len(digest) > 128:
            raise ApiError(45004, "description size out of limit")
        if not content:
            raise ApiError(44003, "empty news data: content")
        if len(content) >= 20_000 or len(content.encode("utf-8")) >= 1024 * 1024:
            raise ApiError(45002, "content size out of limit")
        if len(source.encode("utf-8")) > 1024:
            raise ApiError(41039, "invalid content_source_url")
        thumb = str(article.get("thumb_media_id", ""))
        if not thumb:
            raise ApiError(40007, "invalid media_id: thumb_media_id missing")
        self._material(thumb)
        clean = {
            "title": title, "author": author, "digest": digest or _text(content)[:54],
            "content": self._filter_content(content), "content_source_url": source, "thumb_media_id": thumb,
            "need_open_comment": int(article.get("need_open_comment", 0)),
            "only_fans_can_comment": int(article.get("only_fans_can_comment", 0)),
        }
        for crop in ("pic_crop_235_1", "pic_crop_1_1"):
            if article.get(crop):
                if not re.fullmatch(r"[01](\.\d{1,6})?(_[01](\.\d{1,6})?){3}", str(article[crop])):
                    raise ApiError(40002, f"invalid {crop}")
                clean[crop] = str(article[crop])
        return clean

    def _filter_content(self, content: str) -> str:
        """As WeChat does: scripts removed, images not hosted by the account filtered out."""
        content = re.sub(r"<script\b.*?</script>", "", content, flags=re.S | re.I)
        own = re.escape(self.base_url + "/mmbiz/")
        return re.sub(r"<img\b(?![^>]*\bsrc=\"" + own + r")[^>]*>", "", content, flags=re.I)

    def draft_add(self, articles: Any) -> dict[str, Any]:
        if not isinstance(articles, list) or not 1 <= len(articles) <= 8:
            raise ApiError(40002, "invalid articles")
        media_id = _new_id("DRAFT")
        self.data["drafts"][media_id] = {"news_item": [self._validate_article(a) for a in articles],
                                         "update_time": int(time.time())}
        return {"media_id": media_id}

    def _draft(self, media_id: str) -> dict[str, Any]:
        draft = self.data["drafts"].get(media_id)
        if draft is None:
            raise ApiError(40007, "invalid media_id")
        return draft

    def draft_get(self, media_id: str) -> dict[str, Any]:
        return {"news_item": self._draft(media_id)["news_item"]}

    def draft_update(self, media_id: str, index: int, article: Any) -> dict[str, Any]:
        draft = self._draft(media_id)
        if not 0 <= index < len(draft["news_item"]):
            raise ApiError(40114, "invalid index")
        draft["news_item"][index] = self._validate_article(article)
        draft["update_time"] = int(time.time())
        return {}

    def draft_delete(self, media_id: str) -> dict[str, Any]:
        self._draft(media_id)
        del self.data["drafts"][media_id]
        return {}

    def draft_count(self) -> dict[str, Any]:
        return {"total_count": len(self.data["drafts"])}

    def draft_batchget(self, offset: int, count: int, no_content: bool) -> dict[str, Any]:
        if not 1 <= count <= 20 or offset < 0:
            raise ApiError(40002, "invalid offset or count")
        ordered = sorted(self.data["drafts"].items(), key=lambda item: -item[1]["update_time"])
        page = ordered[offset:offset + count]
        items = [{"media_id": key, "update_time": value["update_time"],
                  "content": {"news_item": [_without_content(a) if no_content else a for a in value["news_item"]]}}
                 for key, value in page]
        return {"total_count": len(ordered), "item_count": len(items), "item": items}

    # -- publishing -----------------------------------------------------------------------------------------

    def submit(self, media_id: str) -> dict[str, Any]:
        draft = self._draft(media_id)
        publish_id = str(secrets.randbelow(10**10) + 2 * 10**9)
        outcome = self.data["publish_outcomes"].pop(0) if self.data["publish_outcomes"] else 0
        self.data["jobs"][publish_id] = {"news_item": draft["news_item"], "status": 1, "outcome": outcome,
                                         "done_at": time.time() + self.data["publish_seconds"],
                                         "msg_data_id": str(secrets.randbelow(10**9) + 10**9)}
        del self.data["drafts"][media_id]  # a submitted draft leaves the draft box
        return {"publish_id": publish_id, "msg_data_id": self.data["jobs"][publish_id]["msg_data_id"]}

    def _finish_due_jobs(self) -> None:
        now = time.time()
        for publish_id, job in self.data["jobs"].items():
            if job["status"] == 1 and now >= job["done_at"]:
                job["status"] = job["outcome"]
                if job["status"] == 0:
                    job["article_id"] = _new_id("ART")
                    self.data["articles"][job["article_id"]] = {
                        "news_item": [{**item, "url": f"{self.base_url}/s/{job['article_id']}?idx={index + 1}",
                                       "thumb_url": self._material(item["thumb_media_id"])["url"], "is_deleted": False}
                                      for index, item in enumerate(job["news_item"])],
                        "update_time": int(now), "publish_id": publish_id, "status": 0,
                        "msg_data_id": job["msg_data_id"]}

    def publish_get(self, publish_id: str) -> dict[str, Any]:
        self._finish_due_jobs()
        job = self.data["jobs"].get(str(publish_id))
        if job is None:
            raise ApiError(40002, "invalid publish_id")
        answer: dict[str, Any] = {"publish_id": publish_id, "publish_status": job["status"]}
        if job["status"] in (2, 4):
            answer["fail_idx"] = [1]
        article = self.data["articles"].get(job.get("article_id", ""))
        if article:
            answer["publish_status"] = article["status"]  # 5 deleted, 6 banned after success
            answer["article_id"] = job["article_id"]
            answer["article_detail"] = {"count": len(article["news_item"]), "item": [
                {"idx": index + 1, "article_url": item["url"]} for index, item in enumerate(article["news_item"])]}
        return answer

    def _article(self, article_id: str) -> dict[str, Any]:
        self._finish_due_jobs()
        article = self.data["articles"].get(article_id)
        if article is None:
            raise ApiError(53600, "invalid article_id")
        return article

    def publish_delete(self, article_id: str, index: int) -> dict[str, Any]:
        article = self._article(article_id)
        targets = range(len(article["news_item"])) if index == 0 else [index - 1]  # 0 deletes all
        if index < 0 or index > len(article["news_item"]):
            raise ApiError(40114, "invalid index")
        for position in targets:
            article["news_item"][position]["is_deleted"] = True
        if all(item["is_deleted"] for item in article["news_item"]):
            article["status"] = 5
        return {}

    def get_article(self, article_id: str) -> dict[str, Any]:
        return {"news_item": self._article(article_id)["news_item"]}

    def publish_batchget(self, offset: int, count: int, no_content: bool) -> dict[str, Any]:
        self._finish_due_jobs()
        if not 1 <= count <= 20 or offset < 0:
            raise ApiError(40002, "invalid offset or count")
        # Like the real API: only what freepublish published; mass-sent articles are not listed.
        live = [(key, value) for key, value in self.data["articles"].items() if value["status"] == 0 and not value.get("mass")]
        live.sort(key=lambda item: -item[1]["update_time"])
        items = [{"article_id": key, "update_time": value["update_time"], "content": {"news_item": [
            _without_content(item) if no_content else item for item in value["news_item"]]}}
            for key, value in live[offset:offset + count]]
        return {"total_count": len(live), "item_count": len(items), "item": items}

    # -- mass send and preview ------------------------------------------------------------------------------

    def mass_sendall(self, body: dict[str, Any]) -> dict[str, Any]:
        media_id = str(body.get("mpnews", {}).get("media_id", ""))
        client_msg_id = str(body.get("clientmsgid", ""))
        if len(client_msg_id.encode("utf-8")) > 64:
            raise ApiError(45067, "clientmsgid size out of limit")
        now = time.time()
        for msg_id, sent in self.data["mass"].items():
            if client_msg_id and sent["clientmsgid"] == client_msg_id and now - sent["time"] < 86400:
                raise ApiError(45065, f"clientmsgid exist, msg_id {msg_id}")
        draft = self._draft(media_id)
        today = [sent for sent in self.data["mass"].values() if sent["day"] == _today()]
        if len(today) >= MASS_SENDS_PER_DAY:
            raise ApiError(45028, "has no masssend quota")
        msg_id = str(secrets.randbelow(10**9) + 10**9)
        msg_data_id = str(secrets.randbelow(10**9) + 10**9)
        article_id = _new_id("ART")
        self.data["articles"][article_id] = {
            "news_item": [{**item, "url": f"{self.base_url}/s/{article_id}?idx={index + 1}",
                           "thumb_url": self._material(item["thumb_media_id"])["url"], "is_deleted": False}
                          for index, item in enumerate(draft["news_item"])],
            "update_time": int(now), "publish_id": "", "status": 0, "msg_data_id": msg_data_id, "mass": True}
        self.data["mass"][msg_id] = {"clientmsgid": client_msg_id, "time": now, "day": _today(),
                                     "msg_data_id": msg_data_id, "article_id": article_id}
        del self.data["drafts"][media_id]
        return {"msg_id": msg_id, "msg_data_id": msg_data_id}

    def mass_preview(self, body: dict[str, Any]) -> dict[str, Any]:
        if not body.get("towxname") and not body.get("touser"):
            raise ApiError(40003, "invalid openid")
        self._draft(str(body.get("mpnews", {}).get("media_id", "")))
        return {"msg_id": str(secrets.randbelow(10**9) + 10**9)}

    # -- comments -------------------------------------------------------------------------------------------

    def _comment_thread(self, msg_data_id: str, index: int) -> list[dict[str, Any]]:
        if not any(a.get("msg_data_id") == str(msg_data_id) for a in self.data["articles"].values()):
            raise ApiError(88001, "msg_data not exists")
        return self.data["comments"].setdefault(f"{msg_data_id}:{index}", [])

    def comment_list(self, msg_data_id: str, index: int, begin: int, count: int, kind: int) -> dict[str, Any]:
        if count <= 0 or count >= 50:
            raise ApiError(88010, "count range error")
        thread = [c for c in self._comment_thread(msg_data_id, index) if not c.get("deleted")]
        chosen = [c for c in thread if kind == 0 or (kind == 2) == bool(c["comment_type"])]
        return {"total": len(chosen), "comment": chosen[begin:begin + count]}

    def comment_reply(self, msg_data_id: str, index: int, user_comment_id: int, content: str) -> dict[str, Any]:
        comment = self._comment(msg_data_id, index, user_comment_id)
        if comment.get("reply"):
            raise ApiError(88005, "already reply")
        if not content or len(content) > 1000:
            raise ApiError(88007, "reply content is empty or too long")
        comment["reply"] = {"content": content, "create_time": int(time.time())}
        return {}

    def _comment(self, msg_data_id: str, index: int, user_comment_id: int) -> dict[str, Any]:
        thread = self._comment_thread(msg_data_id, index)
        comment = next((c for c in thread if c["user_comment_id"] == int(user_comment_id)), None)
        if comment is None or comment.get("deleted"):
            raise ApiError(88008, "comment not exists")
        return comment

    def comment_switch(self, msg_data_id: str, index: int, is_open: bool) -> dict[str, Any]:
        self._comment_thread(msg_data_id, index)
        self.data.setdefault("comments_closed", {})[f"{msg_data_id}:{index}"] = not is_open
        return {}

    def comment_mark(self, msg_data_id: str, index: int, user_comment_id: int, elected: bool) -> dict[str, Any]:
        self._comment(msg_data_id, index, user_comment_id)["comment_type"] = int(elected)
        return {}

    def comment_delete(self, msg_data_id: str, index: int, user_comment_id: int) -> dict[str, Any]:
        self._comment(msg_data_id, index, user_comment_id)["deleted"] = True
        return {}

    def comment_reply_delete(self, msg_data_id: str, index: int, user_comment_id: int) -> dict[str, Any]:
        comment = self._comment(msg_data_id, index, user_comment_id)
        if not comment.get("reply"):
            raise ApiError(88009, "reply not exists")
        del comment["reply"]
        return {}

    def rehearse_article(self, article_id: str, action: str, content: str = "") -> dict[str, Any]:
        """Rehearsals of what happens to a live article outside the pipeline: deleted in the web
        console, banned by the platform, or its content tampered with (Art. 9)."""
        article = self._article(article_id)
        if action == "delete":
            for item in article["news_item"]:
                item["is_deleted"] = True
            article["status"] = 5
        elif action == "ban":
            article["status"] = 6
        elif action == "tamper":
            article["news_item"][0]["content"] = content or article["news_item"][0]["content"] + "<p>被篡改的内容</p>"
        else:
            raise ApiError(40002, f"unknown rehearsal {action}")
        return {"ok": True}

    def msg_data_id(self, article_id: str) -> str:
        """The id that keys an article's comments (what freepublish/submit answered), for a rehearsal
        that names the article the way the ledger and the patrol do."""
        return str(self._article(article_id)["msg_data_id"])

    def add_follower_comment(self, msg_data_id: str, index: int, content: str, openid: str,
                             create_time: int | None = None) -> dict[str, Any]:
        """Rehearsal: a follower leaves a comment on a published article, now or at `create_time` (Unix
        seconds), so a rehearsal set on another day (`--today`) finds it as old as it should be."""
        if not content:
            raise ApiError(40002, "empty comment content")
        thread = self._comment_thread(msg_data_id, index)
        comment = {"user_comment_id": len(thread) + 1, "create_time": int(time.time()) if create_time is None else create_time,
                   "content": content, "comment_type": 0, "openid": openid}
        thread.append(comment)
        return comment


def _image_type(data: bytes) -> str | None:
    return next((kind for magic, kind in IMAGE_TYPES.items() if data.startswith(magic)), None)


def _text(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html)


def _without_content(article: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in article.items() if key != "content"}
