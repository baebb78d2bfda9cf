"""The WeChat client through real HTTP to the sandbox."""
from __future__ import annotations

import io
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

import pytest
from PIL import Image

from pipeline.errors import GzhError
from pipeline.sandbox import SANDBOX_SECRET, Sandbox
from pipeline.redact import redact
from pipeline.wechat import AmbiguousWrite, Credentials, WeChat, WeChatError, message_for


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    with Sandbox(tmp_path / "sandbox") as sandbox:
        yield sandbox


def client(sandbox: Sandbox, sleeps: list[float] | None = None) -> WeChat:
    recorded = sleeps if sleeps is not None else []
    return WeChat(sandbox.credentials, backoff=0.5, sleep=recorded.append)


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (1, 2, 3)).save(buffer, "PNG")
    return buffer.getvalue()


def test_tokens_come_from_stable_token_and_are_shared(sandbox: Sandbox) -> None:
    first, second = client(sandbox), client(sandbox)
    first.upload_image("a.png", png())
    second.upload_image("b.png", png())
    first.upload_image("c.png", png())  # the first job's token still works after the second fetched one
    endpoints = [call["endpoint"] for call in sandbox.calls()]
    assert "token" not in endpoints and endpoints.count("stable_token") == 2
    assert all(call["errcode"] == 0 for call in sandbox.calls())


def test_revoked_token_is_replaced_once_and_the_upload_resent_whole(sandbox: Sandbox) -> None:
    wechat = client(sandbox)
    wechat.upload_image("a.png", png())
    sandbox.control("revoke-tokens")
    assert wechat.upload_image("b.png", png()).startswith(sandbox.url + "mmbiz/")
    uploads = sandbox.calls("media/uploadimg")
    assert [call["errcode"] for call in uploads] == [0, 40001, 0]


def test_busy_is_retried_with_exponential_backoff_then_given_up(sandbox: Sandbox) -> None:
    sleeps: list[float] = []
    sandbox.control("faults", {"faults": [{"endpoint": "draft/count", "errcode": -1, "count": 5}]})
    with pytest.raises(WeChatError) as caught:
        client(sandbox, sleeps)._call("draft/count", "get", write=False)
    assert sleeps == [0.5, 1.0] and "微信系统繁忙（-1）" in str(caught.value)
    assert len(sandbox.calls("draft/count")) == 3  # bounded: wechatpy alone would retry without end


def test_quota_is_not_retried_and_explained(sandbox: Sandbox) -> None:
    sandbox.control("quotas", {"draft/count": 0})
    with pytest.raises(WeChatError) as caught:
        client(sandbox)._call("draft/count", "get", write=False)
    assert caught.value.code == 45009 and "今天的接口调用次数已用完（45009）" in str(caught.value)
    assert len(sandbox.calls("draft/count")) == 1


def test_dropped_connection_retries_reads_but_not_writes(sandbox: Sandbox) -> None:
    wechat = client(sandbox)
    sandbox.control("faults", {"faults": [{"endpoint": "draft/count", "drop": "before"},
                                          {"endpoint": "freepublish/submit", "drop": "before"}]})
    assert wechat._call("draft/count", "get", write=False)["total_count"] == 0
    with pytest.raises(AmbiguousWrite, match="连接中断"):
        wechat.submit("DRAFT-none")


def test_wrong_secret_and_whitelist_errors_are_explained(sandbox: Sandbox) -> None:
    wrong = WeChat(Credentials(sandbox.credentials.appid, "wrong", sandbox.credentials.api_base))
    with pytest.raises(WeChatError) as caught:
        wrong.check_credentials()
    assert caught.value.code == 40125 and "WECHAT_SECRET" in str(caught.value)
    assert "IP 白名单" in message_for("stable_token", 40164)


def test_unreachable_api_is_a_network_error(tmp_path: Path) -> None:
    wechat = WeChat(Credentials("wx", "s", "http://127.0.0.1:9/cgi-bin/"), sleep=lambda seconds: None)
    with pytest.raises(WeChatError, match="无法连接微信接口"):
        wechat.check_credentials()


def test_delete_index_zero_is_refused_locally(sandbox: Sandbox) -> None:
    with pytest.raises(ValueError):
        client(sandbox).delete_article("ART", 0)


def test_secrets_are_redacted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WECHAT_SECRET", SANDBOX_SECRET)
    text = f"GET /cgi-bin/x?access_token=abc123&x=1 secret={SANDBOX_SECRET} {SANDBOX_SECRET}"
    assert redact(text) == "GET /cgi-bin/x?access_token=***&x=1 secret=*** ***"
    assert SANDBOX_SECRET not in repr(Credentials("wx", SANDBOX_SECRET))


def test_credentials_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WECHAT_APPID", "wx1")
    monkeypatch.setenv("WECHAT_SECRET", "s")
    assert Credentials.from_environment().api_base == "http://127.0.0.1:9/cgi-bin/"  # the default, stubbed by tests/conftest.py
    monkeypatch.delenv("WECHAT_SECRET")
    with pytest.raises(GzhError, match="WECHAT_SECRET"):
        Credentials.from_environment()


class _Relay(ThreadingHTTPServer):
    """A fixed-IP relay in front of WeChat that answers with whatever `body` holds (a gateway's error page)."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _RelayHandler)
        self.body, self.token_body, self.requests = b"", json.dumps({"access_token": "T", "expires_in": 7200}).encode(), 0


class _RelayHandler(BaseHTTPRequestHandler):
    server: _Relay

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length") or 0))
        self.server.requests += "stable_token" not in self.path
        body = self.server.token_body if "stable_token" in self.path else self.server.body
        self.send_response(200)
        self.send_header("content-type", "text/html")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def relay() -> Iterator[_Relay]:
    server = _Relay()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def relayed(relay: _Relay) -> WeChat:
    return WeChat(Credentials("wx", "s", f"http://127.0.0.1:{relay.server_address[1]}/cgi-bin/"), sleep=lambda seconds: None)


@pytest.mark.parametrize("body", [b"<html><body>502 Bad Gateway</body></html>", b"[]", b"42", b"\xff\xfe", b""])
def test_a_relays_error_page_is_explained_and_reads_are_retried(relay: _Relay, body: bytes) -> None:
    relay.body = body
    with pytest.raises(WeChatError, match="不是预期的格式（不是 JSON 对象）.*WECHAT_API_BASE"):
        relayed(relay).upload_image("a.png", png())
    assert relay.requests == 3  # a read: retried like a network error


def test_a_write_answered_by_an_error_page_is_ambiguous_and_sent_once(relay: _Relay) -> None:
    relay.body = b"<html>504 Gateway Timeout</html>"
    with pytest.raises(AmbiguousWrite):
        relayed(relay).draft_add({"title": "x"})
    assert relay.requests == 1


@pytest.mark.parametrize("call, field", [
    (lambda wechat: wechat.upload_image("a.png", png()), "url"),
    (lambda wechat: wechat.submit("M"), "publish_id"),
    (lambda wechat: next(iter(wechat.all_published()))["content"]["news_item"], "content"),
])
def test_an_empty_object_names_the_missing_field(relay: _Relay, call, field: str) -> None:
    relay.body = b'{"total_count": 1, "item": [{}]}' if field == "content" else b"{}"
    with pytest.raises(WeChatError, match=f"缺少字段 {field}"):
        call(relayed(relay))


@pytest.mark.parametrize("token_body", [b"<html>blocked</html>", b"{}", b'{"access_token": 5}', b"[1]"])
def test_a_malformed_token_answer_is_explained(relay: _Relay, token_body: bytes) -> None:
    relay.token_body = token_body
    with pytest.raises(WeChatError) as raised:
        relayed(relay).check_credentials()
    assert "stable_token" in str(raised.value) and "Traceback" not in str(raised.value)


def test_a_token_quoted_as_json_in_an_api_error_is_masked_in_the_message() -> None:
    message = message_for("draft/add", 99999, 'invalid credential, {"access_token": "TOKEN-abc-123"} rid: 1')
    assert "TOKEN-abc-123" not in message and '"access_token": "***"' in message
