"""Followers' messages pushed by WeChat: signed, parsed by wechatpy, recorded once, routed, tracked."""
from __future__ import annotations

import datetime as dt
import hashlib
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Iterator

import pytest

from pipeline.callback import PORT, CallbackServer, safe_mode
from pipeline.commands import inbox as inbox_command
from pipeline.errors import GzhError
from pipeline.ledger import SANDBOX_BRANCH, Ledger
from pipeline.main import main
from pipeline.policy import parse_policy
from pipeline.posts import BEIJING
from tests.notify_fake import OFFICE_KEY, POLICY_WITH_NOTIFICATIONS, RIGHTS_KEY, RobotFake, robots
from tests.support import Account, policy

__all__ = ["robots"]  # the fixture, imported for pytest

TOKEN = "callback-token"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 characters, as the MP console issues


@pytest.fixture(params=["plain", "safe"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Account, CallbackServer, str]]:
    from pipeline.sandbox import SANDBOX_APPID

    account = Account(tmp_path)
    aes = AES_KEY if request.param == "safe" else ""
    callback = CallbackServer(Ledger(account.root, branch=SANDBOX_BRANCH), policy(account.root), TOKEN,
                              crypto=safe_mode(TOKEN, aes, SANDBOX_APPID), port=0).start()
    yield account, callback, aes
    callback.stop()
    account.close()


def messages(account: Account) -> list:
    return [event for event in Ledger(account.root, branch=SANDBOX_BRANCH).events if event.kind == "message"]


def test_signed_message_is_recorded_once_and_routed(server) -> None:
    account, callback, aes = server
    for _ in range(2):  # WeChat retries when the answer is slow
        status, body = account.sandbox.push_message(callback.url, TOKEN, "我想咨询劳动争议仲裁怎么申请", msg_id=42, aes_key=aes)
        assert (status, body) == (200, "success")
    recorded = messages(account)
    assert len(recorded) == 1 and recorded[0].data["departments"] == ["rights"]
    assert recorded[0].data["content"] == "我想咨询劳动争议仲裁怎么申请"
    assert "o-follower" not in str(recorded[0].data)  # the follower's openid is kept only as a digest


def test_forged_message_is_refused_and_not_recorded(server) -> None:
    account, callback, aes = server
    status, _ = account.sandbox.push_message(callback.url, "wrong-token", "伪造的消息", aes_key=aes)
    assert status == 403 and messages(account) == []


def test_server_address_check_echoes_only_for_a_valid_signature(server) -> None:
    account, callback, aes = server
    signature = hashlib.sha1("".join(sorted([TOKEN, "1700000000", "n1"])).encode("utf-8")).hexdigest()
    with urllib.request.urlopen(f"{callback.url}?signature={signature}&timestamp=1700000000&nonce=n1&echostr=hello",
                                timeout=5) as response:
        assert response.read() == b"hello"
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(f"{callback.url}?signature=bad&timestamp=1&nonce=n&echostr=x", timeout=5)


def test_a_message_is_told_in_its_department_s_group_once_after_wechat_has_its_answer(server, robots: RobotFake) -> None:
    from pipeline.sandbox import SANDBOX_APPID

    account, _, aes = server
    callback = CallbackServer(Ledger(account.root, branch=SANDBOX_BRANCH), parse_policy(POLICY_WITH_NOTIFICATIONS, "gzh.yml"),
                              TOKEN, crypto=safe_mode(TOKEN, aes, SANDBOX_APPID), port=0).start()
    try:
        for _ in range(2):  # a retry by WeChat is recorded, and told, once
            assert account.sandbox.push_message(callback.url, TOKEN, "我想咨询劳动争议仲裁，电话13912345678", msg_id=7,
                                                aes_key=aes) == (200, "success")
        deadline = time.monotonic() + 10
        while not robots.texts(RIGHTS_KEY) and time.monotonic() < deadline:  # told after the answer, on its thread
            time.sleep(0.05)
        with callback.lock:  # the announcement holds it until it is done
            (text,) = robots.texts(RIGHTS_KEY)
    finally:
        callback.stop()
    assert text.startswith("**【后台消息】请在 ") and "139****5678" in text and "gzh inbox done 1" in text
    assert robots.texts(OFFICE_KEY) == []


def test_messages_are_tracked_by_the_inbox_and_marked_done(server, capsys) -> None:
    account, callback, aes = server
    account.sandbox.push_message(callback.url, TOKEN, "会员服务卡丢了怎么补办？", aes_key=aes)
    credentials = account.sandbox.credentials
    today = dt.datetime.now(BEIJING).date()
    inbox_command.inbox_command(account.root, credentials=credentials, today=today)
    out = capsys.readouterr().out
    assert "## 组织部（1 条待答复）" in out and "#1《后台消息》" in out
    with pytest.raises(GzhError, match="在公众平台“内容与互动 → 消息”中回复"):
        inbox_command.reply_command(account.root, 1, "您好", credentials=credentials)
    assert inbox_command.done_command(account.root, 1, "已在后台回复补办流程", credentials=credentials) == 0
    inbox_command.inbox_command(account.root, credentials=credentials, today=today)
    assert "未答复 0 条" in capsys.readouterr().out


WHERE_THE_KEY_IS = ("。请从公众平台“设置与开发 → 基本配置 → 服务器配置 → 消息加解密密钥”原样复制 43 个字符的 EncodingAESKey（不要加 =）；"
                    "消息加解密方式为明文模式时不要设置 WECHAT_AES_KEY")


@pytest.mark.parametrize(("key", "problem"), [
    (AES_KEY[:-1], "WECHAT_AES_KEY 有 42 个字符，消息加解密密钥应为 43 个字符"),
    (AES_KEY + "A", "WECHAT_AES_KEY 有 44 个字符，消息加解密密钥应为 43 个字符"),
    (AES_KEY + "=", "WECHAT_AES_KEY 含有字母、数字、+ 和 / 以外的字符（例如空格、引号或结尾的 =）"),
    (AES_KEY[:-1] + "-", "WECHAT_AES_KEY 含有字母、数字、+ 和 / 以外的字符（例如空格、引号或结尾的 =）"),
], ids=["short", "long", "trailing-equals", "not-base64"])
def test_a_malformed_aes_key_is_refused_at_start_up_with_where_to_find_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], key: str, problem: str) -> None:
    account = Account(tmp_path)
    try:
        for name, value in {"WECHAT_CALLBACK_TOKEN": TOKEN, "WECHAT_AES_KEY": key, "WECHAT_APPID": "wx1"}.items():
            monkeypatch.setenv(name, value)
        assert main(["--root", str(account.root), "callback", "serve", "--port", "0"]) == 1  # not 3: no assertion
    finally:
        account.close()
    err = capsys.readouterr().err
    assert problem + WHERE_THE_KEY_IS in err and "Traceback" not in err and key not in err


def test_safe_mode_needs_the_appid_to_check_messages_against() -> None:
    with pytest.raises(GzhError) as raised:
        safe_mode(TOKEN, AES_KEY, "")
    assert str(raised.value) == ("设置了 WECHAT_AES_KEY（安全模式）时还要设置 WECHAT_APPID：解密每条消息时都要核对它"
                                 "（公众平台“设置与开发 → 基本配置”中的开发者ID(AppID)）")
    assert safe_mode(TOKEN, "", "") is None  # plaintext mode needs neither


def test_safe_mode_refuses_a_plaintext_message_and_records_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from pipeline.sandbox import SANDBOX_APPID

    account = Account(tmp_path)
    callback = CallbackServer(Ledger(account.root, branch=SANDBOX_BRANCH), policy(account.root), TOKEN,
                              crypto=safe_mode(TOKEN, AES_KEY, SANDBOX_APPID), port=0).start()
    try:
        status, body = account.sandbox.push_message(callback.url, TOKEN, "明文的消息", aes_key="")  # signed, not encrypted
        assert (status, body) == (403, "safe mode: encrypted messages only")
        assert messages(account) == []
        assert capsys.readouterr().out == (
            "拒绝了一条未加密的消息（403，未记录）：设置了 WECHAT_AES_KEY（安全模式）时，微信只推送加密的消息。"
            "如果公众平台“服务器配置”的消息加解密方式是明文模式，请改为安全模式，或者不设置 WECHAT_AES_KEY\n")
    finally:
        callback.stop()
        account.close()


def test_a_message_encrypted_for_another_appid_is_refused_not_crashed(tmp_path: Path) -> None:
    account = Account(tmp_path)
    callback = CallbackServer(Ledger(account.root, branch=SANDBOX_BRANCH), policy(account.root), TOKEN,
                              crypto=safe_mode(TOKEN, AES_KEY, "wx-another-account"), port=0).start()
    try:
        assert account.sandbox.push_message(callback.url, TOKEN, "消息", aes_key=AES_KEY) == (400, "invalid message")
        assert messages(account) == []
    finally:
        callback.stop()
        account.close()


def test_the_help_states_the_port_the_server_listens_on(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["callback", "serve", "--help"]) == 0
    out = capsys.readouterr().out
    assert f"端口（默认 {PORT}）" in out and "监听地址（默认 0.0.0.0）" in out
    assert CallbackServer.__init__.__kwdefaults__["port"] == PORT  # the one constant, not a second literal
