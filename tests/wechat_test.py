"""The WeChat client through real HTTP to the sandbox."""
from __future__ import annotations

import io
from pathlib import Path
from typing import Iterator

import pytest
from PIL import Image

from pipeline.errors import GzhError
from pipeline.sandbox import SANDBOX_SECRET, Sandbox
from pipeline.wechat import AmbiguousWrite, Credentials, WeChat, WeChatError, message_for, redact


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
    monkeypatch.delenv("WECHAT_API_BASE", raising=False)
    assert Credentials.from_environment().api_base == "https://api.weixin.qq.com/cgi-bin/"
    monkeypatch.delenv("WECHAT_SECRET")
    with pytest.raises(GzhError, match="WECHAT_SECRET"):
        Credentials.from_environment()
