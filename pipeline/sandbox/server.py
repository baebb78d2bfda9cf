"""The sandbox's HTTP face: WeChat's URLs and answers, fault injection, and readable articles.

    /cgi-bin/<endpoint>?access_token=…   the API (JSON in, JSON out, errors as HTTP 200 + errcode)
    /s/<article_id>                      a published article as a page, like mp.weixin.qq.com/s/…
    /mmbiz/<image_id>                    an uploaded image, like mmbiz.qpic.cn
    /_sandbox/…                          rehearsal controls: faults, token revocation, call log
"""
from __future__ import annotations

import dataclasses
import email.parser
import email.policy
import html
import json
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

from pipeline.errors import HttpServer
from pipeline.sandbox.state import ApiError, SandboxState

Handler = Callable[[SandboxState, dict[str, Any], dict[str, bytes]], Any]


def _int(value: Any, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ApiError(40002, "invalid argument") from None


def _float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ApiError(40002, "invalid argument") from None


# endpoint -> (HTTP method, handler(state, json_or_query, files))
ROUTES: dict[str, tuple[str, Handler]] = {
    "media/uploadimg": ("POST", lambda s, q, f: s.upload_image(f.get("media"))),
    "material/add_material": ("POST", lambda s, q, f: s.add_material(str(q.get("type", "")), f.get("media"))),
    "material/get_material": ("POST", lambda s, q, f: s.get_material(str(q.get("media_id", "")))),
    "material/del_material": ("POST", lambda s, q, f: s.del_material(str(q.get("media_id", "")))),
    "material/batchget_material": ("POST", lambda s, q, f: s.batchget_material(
        str(q.get("type", "")), _int(q.get("offset", 0)), _int(q.get("count", 20)))),
    "material/get_materialcount": ("GET", lambda s, q, f: s.material_count()),
    "draft/add": ("POST", lambda s, q, f: s.draft_add(q.get("articles"))),
    "draft/get": ("POST", lambda s, q, f: s.draft_get(str(q.get("media_id", "")))),
    "draft/update": ("POST", lambda s, q, f: s.draft_update(str(q.get("media_id", "")), _int(q.get("index", 0)),
                                                            q.get("articles"))),
    "draft/delete": ("POST", lambda s, q, f: s.draft_delete(str(q.get("media_id", "")))),
    "draft/count": ("GET", lambda s, q, f: s.draft_count()),
    "draft/batchget": ("POST", lambda s, q, f: s.draft_batchget(
        _int(q.get("offset", 0)), _int(q.get("count", 20)), bool(_int(q.get("no_content", 0))))),
    "freepublish/submit": ("POST", lambda s, q, f: s.submit(str(q.get("media_id", "")))),
    "freepublish/get": ("POST", lambda s, q, f: s.publish_get(str(q.get("publish_id", "")))),
    "freepublish/delete": ("POST", lambda s, q, f: s.publish_delete(str(q.get("article_id", "")), _int(q.get("index", 0)))),
    "freepublish/getarticle": ("POST", lambda s, q, f: s.get_article(str(q.get("article_id", "")))),
    "freepublish/batchget": ("POST", lambda s, q, f: s.publish_batchget(
        _int(q.get("offset", 0)), _int(q.get("count", 20)), bool(_int(q.get("no_content", 0))))),
    "message/mass/sendall": ("POST", lambda s, q, f: s.mass_sendall(q)),
    "message/mass/preview": ("POST", lambda s, q, f: s.mass_preview(q)),
    "comment/list": ("POST", lambda s, q, f: s.comment_list(str(q.get("msg_data_id", "")), _int(q.get("index", 0)),
                                                            _int(q.get("begin", 0)), _int(q.get("count", 0)),
                                                            _int(q.get("type", 0)))),
    "comment/reply/add": ("POST", lambda s, q, f: s.comment_reply(*_comment_key(q), str(q.get("content", "")))),
    "comment/reply/delete": ("POST", lambda s, q, f: s.comment_reply_delete(*_comment_key(q))),
    "comment/open": ("POST", lambda s, q, f: s.comment_switch(str(q.get("msg_data_id", "")), _int(q.get("index", 0)), True)),
    "comment/close": ("POST", lambda s, q, f: s.comment_switch(str(q.get("msg_data_id", "")), _int(q.get("index", 0)), False)),
    "comment/markelect": ("POST", lambda s, q, f: s.comment_mark(*_comment_key(q), True)),
    "comment/unmarkelect": ("POST", lambda s, q, f: s.comment_mark(*_comment_key(q), False)),
    "comment/delete": ("POST", lambda s, q, f: s.comment_delete(*_comment_key(q))),
}


ENDPOINTS = ("stable_token", "token", *ROUTES)  # everything under /cgi-bin/ a fault can target


def _comment_key(query: dict[str, Any]) -> tuple[str, int, int]:
    return str(query.get("msg_data_id", "")), _int(query.get("index", 0)), _int(query.get("user_comment_id", 0))


@dataclass
class Fault:
    """Make the next `count` calls of `endpoint` fail: an errcode, a delay, or a dropped connection.

    `drop="before"` closes the connection without acting; `drop="after"` acts, then closes it without
    an answer (the ambiguous case a publisher must reconcile). `hold` acts, then waits that many
    seconds before answering: time for a rehearsal to kill the caller in between.
    """

    endpoint: str
    count: int = 1
    errcode: int | None = None
    delay: float = 0.0
    drop: str | None = None
    hold: float = 0.0


@dataclass
class Controls:
    faults: list[Fault] = field(default_factory=list)
    calls: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take_fault(self, endpoint: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.endpoint == endpoint and fault.count > 0:
                    fault.count -= 1
                    return fault
        return None


def _fault(item: Any) -> Fault:
    """A fault as the control gives it; unknown fields or endpoints are refused, not ignored."""
    known = {field.name for field in dataclasses.fields(Fault)}
    if not isinstance(item, dict) or not set(item) <= known or not isinstance(item.get("endpoint"), str):
        raise ApiError(40002, f"a fault has the fields {sorted(known)}, endpoint required")
    if item["endpoint"] not in ENDPOINTS:
        raise ApiError(40002, f"unknown endpoint {item['endpoint']}")
    if item.get("drop") not in (None, "before", "after"):
        raise ApiError(40002, "drop is before or after")
    return Fault(**item)


class _Drop(Exception):
    """Close the connection without an answer."""


class SandboxHandler(BaseHTTPRequestHandler):
    server: "SandboxServer"
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the stdlib's name
        return

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        self._dispatch("GET")

    def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        query = {key: values[-1] for key, values in parse_qs(url.query).items()}
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            if url.path.startswith("/cgi-bin/"):
                self._api(method, url.path.removeprefix("/cgi-bin/"), query, body)
            elif url.path.startswith("/_sandbox/"):
                self._control(url.path.removeprefix("/_sandbox/"), body)
            elif url.path.startswith("/s/"):
                self._article_page(url.path.removeprefix("/s/"))
            elif url.path.startswith("/mmbiz/"):
                self._image(url.path.removeprefix("/mmbiz/"))
            elif url.path == "/":
                self._index()
            else:
                self._send(404, b"not found", "text/plain")
        except _Drop:
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)

    # -- the API -------------------------------------------------------------------------------------

    def _api(self, method: str, endpoint: str, query: dict[str, str], body: bytes) -> None:
        state, controls = self.server.state, self.server.controls
        fault = controls.take_fault(endpoint)
        if fault and fault.delay:
            time.sleep(fault.delay)
        if fault and fault.drop == "before":
            raise _Drop
        if fault and fault.errcode is not None:
            self._record(endpoint, fault.errcode)
            return self._json({"errcode": fault.errcode, "errmsg": "injected fault"})
        try:
            with state.lock:
                answer = self._execute(state, method, endpoint, query, body)
                state.save()
        except ApiError as error:
            self._record(endpoint, error.errcode)
            return self._json({"errcode": error.errcode, "errmsg": error.errmsg})
        self._record(endpoint, 0)
        if fault and fault.hold:
            time.sleep(fault.hold)
        if fault and fault.drop == "after":
            raise _Drop
        if isinstance(answer, bytes):
            return self._send(200, answer, "image/jpeg")
        self._json({"errcode": 0, "errmsg": "ok", **answer} if endpoint not in ("token", "stable_token") else answer)

    def _execute(self, state: SandboxState, method: str, endpoint: str, query: dict[str, str], body: bytes) -> Any:
        if endpoint == "stable_token":
            if method != "POST":
                raise ApiError(43002, "require POST method")
            data = _json_body(body)
            state.count_call(endpoint)
            return state.stable_token(str(data.get("appid", "")), str(data.get("secret", "")),
                                      bool(data.get("force_refresh", False)))
        if endpoint == "token":
            state.count_call(endpoint)
            return state.basic_token(query.get("appid", ""), query.get("secret", ""))
        route = ROUTES.get(endpoint)
        if route is None:
            raise ApiError(48001, "api unauthorized")
        expected, handler = route
        if method != expected:
            raise ApiError(43002 if expected == "POST" else 43001, f"require {expected} method")
        state.check_token(query.get("access_token"))
        state.count_call(endpoint)
        files: dict[str, bytes] = {}
        if self.headers.get("Content-Type", "").startswith("multipart/form-data"):
            files = _multipart(self.headers["Content-Type"], body)
            data: dict[str, Any] = dict(query)
        else:
            data = {**query, **_api_body(body)} if method == "POST" else dict(query)
        return handler(state, data, files)

    def _record(self, endpoint: str, errcode: int) -> None:
        with self.server.controls.lock:
            self.server.controls.calls.append({"endpoint": endpoint, "errcode": errcode, "time": time.time()})

    # -- rehearsal controls ----------------------------------------------------------------------------

    def _control(self, action: str, body: bytes) -> None:
        """A rehearsal control (docs/sandbox.md); a refusal is answered as {"ok": false, "errcode", "error"},
        never by dropping the connection, so `gzh sandbox` can say what was wrong."""
        try:
            self._json(self._controlled(action, _json_body(body) if body else {}))
        except ApiError as error:
            self._json({"ok": False, "errcode": error.errcode, "error": error.errmsg})

    def _controlled(self, action: str, data: dict[str, Any]) -> dict[str, Any]:
        state, controls = self.server.state, self.server.controls
        if action == "faults":
            faults = [_fault(item) for item in data.get("faults", [])]
            with controls.lock:
                controls.faults.extend(faults)
            return {"ok": True}
        if action == "calls":
            with controls.lock:
                return {"calls": list(controls.calls)}
        with state.lock:
            result = self._state_control(state, action, data)
            state.save()
        return result

    def _state_control(self, state: SandboxState, action: str, data: dict[str, Any]) -> dict[str, Any]:
        if action == "revoke-tokens":
            state.revoke_tokens()
        elif action == "publish-outcomes":
            state.data["publish_outcomes"].extend(_int(value) for value in data.get("statuses", []))
        elif action == "quotas":
            state.data["quotas"].update({key: _int(value) for key, value in data.items()})
        elif action == "publish-seconds":
            state.data["publish_seconds"] = _float(data.get("seconds", 0))
        elif action == "article":
            return state.rehearse_article(str(data.get("article_id", "")), str(data.get("do", "")), str(data.get("content", "")))
        elif action == "comment":
            # msg_data_id as comment/list takes it, or the article_id the ledger and the patrol know
            msg_data_id = str(data.get("msg_data_id") or state.msg_data_id(str(data.get("article_id", ""))))
            create_time = _int(data["create_time"]) if data.get("create_time") is not None else None
            return state.add_follower_comment(msg_data_id, _int(data.get("index", 0)), str(data.get("content", "")),
                                              str(data.get("openid") or "o-follower"), create_time)
        else:
            return {"ok": False, "error": f"unknown control {action}"}
        return {"ok": True}

    # -- pages -------------------------------------------------------------------------------------------

    def _article_page(self, article_id: str) -> None:
        state = self.server.state
        with state.lock:
            state._finish_due_jobs()
            article = state.data["articles"].get(article_id)
        if article is None or article["status"] != 0:
            note = "该内容已被发布者删除" if article and article["status"] == 5 else "此内容因违规无法查看"
            body = f"<!doctype html><meta charset=utf-8><title>{note}</title><p>{note}</p>"
            return self._send(404, body.encode("utf-8"), "text/html; charset=utf-8")
        item = next((i for i in article["news_item"] if not i["is_deleted"]), article["news_item"][0])
        page = (f"<!doctype html><html lang=zh-CN><head><meta charset=utf-8>"
                f"<meta name=viewport content='width=device-width,initial-scale=1'><title>{html.escape(item['title'])}</title>"
                f"</head><body style='max-width:677px;margin:0 auto;padding:20px 16px'>"
                f"<h1 style='font-size:22px'>{html.escape(item['title'])}</h1>"
                f"<p style='color:#999'>{html.escape(item['author'])} 本地沙盒</p>"
                f"<div id=js_content>{item['content']}</div></body></html>")
        self._send(200, page.encode("utf-8"), "text/html; charset=utf-8")

    def _image(self, image_id: str) -> None:
        state = self.server.state
        path = state.folder / "media" / image_id
        if image_id not in state.data["images"] or not path.is_file():
            return self._send(404, b"not found", "text/plain")
        kind = state.data["images"][image_id]["type"]
        self._send(200, path.read_bytes(), f"image/{'jpeg' if kind == 'jpg' else kind}")

    def _index(self) -> None:
        state = self.server.state
        with state.lock:
            state._finish_due_jobs()
            live = [(key, value) for key, value in state.data["articles"].items() if value["status"] == 0]
        rows = "".join(f"<li><a href='/s/{key}'>{html.escape(value['news_item'][0]['title'])}</a></li>" for key, value in live)
        page = f"<!doctype html><meta charset=utf-8><title>微信沙盒</title><h1>已发布的文章（{len(live)}）</h1><ul>{rows}</ul>"
        self._send(200, page.encode("utf-8"), "text/html; charset=utf-8")

    # -- plumbing ----------------------------------------------------------------------------------------

    def _json(self, data: dict[str, Any]) -> None:
        self._send(200, json.dumps(data, ensure_ascii=False).encode("utf-8"), "application/json; charset=utf-8")

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class SandboxServer(HttpServer):

    def __init__(self, address: tuple[str, int], state: SandboxState) -> None:
        super().__init__(address, SandboxHandler)
        self.state = state
        self.controls = Controls()


# WeChat reads the body as UTF-8 text and does not decode JSON's \uXXXX escapes of non-ASCII
# characters in what it stores and shows: a client that escapes Chinese (json.dumps' default
# ensure_ascii=True) publishes "\u5e02\u603b..." instead of 市总. The sandbox refuses such a body
# outright, so a client that escapes is caught in tests instead of garbling a live article.
_ESCAPED_NON_ASCII = re.compile(rb"(?<!\\)(?:\\\\)*\\u(?:00[89a-fA-F][0-9a-fA-F]|0[1-9a-fA-F][0-9a-fA-F]{2}|[1-9a-fA-F][0-9a-fA-F]{3})")


def _api_body(body: bytes) -> dict[str, Any]:
    """A WeChat API request's JSON, refused as WeChat would garble it (the sandbox's own controls
    and stable_token, which carries no text, take any JSON)."""
    if _ESCAPED_NON_ASCII.search(body):
        raise ApiError(47001, "data format error: non-ASCII text must be sent as UTF-8, not \\u escapes")
    return _json_body(body)


def _json_body(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body.decode("utf-8") or "{}")
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ApiError(47001, "data format error") from None
    if not isinstance(data, dict):
        raise ApiError(47001, "data format error")
    return data


def _multipart(content_type: str, body: bytes) -> dict[str, bytes]:
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode("latin-1") + body)
    files: dict[str, bytes] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if name:
            files[str(name)] = part.get_payload(decode=True) or b""
    return files
