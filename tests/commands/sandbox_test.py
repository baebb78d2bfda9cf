"""`gzh sandbox tamper|delete|ban|comment|message|fault|quota` drive a running sandbox (and a running
callback server) over HTTP, as an administrator rehearsing from a second terminal would."""
from __future__ import annotations

import datetime as dt
import socket
from pathlib import Path
from typing import Iterator

import pytest

from pipeline.callback import CallbackServer, safe_mode
from pipeline.ledger import SANDBOX_BRANCH, Kind, Ledger, PostState, fold
from pipeline.posts import BEIJING
from pipeline.sandbox import SANDBOX_APPID
from pipeline.wechat import WeChat, WeChatError
from tests.operations_support import gzh, patrol, published
from tests.support import Account, policy

TOKEN = "callback-token"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"


@pytest.fixture
def account(tmp_path: Path) -> Iterator[Account]:
    account = Account(tmp_path)
    yield account
    account.close()


def articles(account: Account) -> dict[str, dict]:
    with account.sandbox.state.lock:
        account.sandbox.state._finish_due_jobs()
        return dict(account.sandbox.state.data["articles"])


def states(account: Account) -> list[PostState]:
    """Each post's record in the ledger gzh publish wrote, in folder order."""
    return [state for _, state in sorted(fold(Ledger(account.root, branch=SANDBOX_BRANCH).events).items())]


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_tamper_delete_and_ban_by_folder_url_and_article_id_are_what_the_patrol_finds(
        account: Account, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    published(account, "a", "b", "c")
    first, second, third = states(account)
    code, out, _ = gzh(account, monkeypatch, capsys, "sandbox", "tamper", str(account.root / "content/office/a") + "/",
                       "--content", "<p>被人改过的正文</p>")
    assert code == 0 and f"已在沙盒中篡改 content/office/a（article_id {first.article_id}）" in out
    code, out, _ = gzh(account, monkeypatch, capsys, "sandbox", "delete", second.url)
    assert code == 0 and "已在沙盒中删除 content/office/b" in out
    code, out, _ = gzh(account, monkeypatch, capsys, "sandbox", "ban", third.article_id)
    assert code == 0 and "已在沙盒中封禁 content/office/c" in out
    live = articles(account)
    assert live[first.article_id]["news_item"][0]["content"] == "<p>被人改过的正文</p>"
    assert [live[outcome.article_id]["status"] for outcome in (first, second, third)] == [0, 5, 6]
    code, report = patrol(account, capsys)
    assert code == 1 and "篡改" in report and "删除" in report and "封禁" in report


def test_a_comment_at_a_given_time_is_collected_with_that_time(account: Account, monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    published(account, "a")
    (outcome,) = states(account)
    code, out, _ = gzh(account, monkeypatch, capsys, "sandbox", "comment", "content/office/a", "--text", "报名表在哪里下载？",
                       "--openid", "o-reader-1", "--at", "2026-09-30 10:05")
    assert code == 0 and "读者留言（第 1 条，2026-09-30 10:05）已加到 content/office/a 下" in out
    (thread,) = account.sandbox.state.data["comments"].values()
    expected = int(dt.datetime(2026, 9, 30, 10, 5, tzinfo=BEIJING).timestamp())
    assert thread == [{"user_comment_id": 1, "create_time": expected, "content": "报名表在哪里下载？", "comment_type": 0,
                       "openid": "o-reader-1"}]
    # five working days after 30 September 2026 (National Day holiday between) is 13 October: late on the 14th
    code, out, _ = gzh(account, monkeypatch, capsys, "inbox", "--today", "2026-10-14")
    assert "报名表在哪里下载" in out and "超期 1 条" in out
    code, out, _ = gzh(account, monkeypatch, capsys, "sandbox", "comment", outcome.article_id, "--text", "第二条")
    assert code == 0 and "第 2 条" in out


@pytest.fixture(params=["plain", "safe"])
def callback(request: pytest.FixtureRequest, account: Account,
             monkeypatch: pytest.MonkeyPatch) -> Iterator[CallbackServer]:
    aes = AES_KEY if request.param == "safe" else ""
    server = CallbackServer(Ledger(account.root, branch=SANDBOX_BRANCH), policy(account.root), TOKEN,
                            crypto=safe_mode(TOKEN, aes, SANDBOX_APPID), port=0).start()
    monkeypatch.setenv("WECHAT_CALLBACK_TOKEN", TOKEN)
    if aes:
        monkeypatch.setenv("WECHAT_AES_KEY", aes)
    yield server
    server.stop()


def test_a_message_reaches_the_running_callback_server_as_wechat_pushes_it(
        account: Account, callback: CallbackServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = gzh(account, monkeypatch, capsys, "sandbox", "message", "--text", "我想咨询劳动争议仲裁]]>怎么申请",
                       "--openid", "o-reader-2", "--at", "2026-10-08 09:30", "--to", callback.url)
    mode = "安全模式，已加密" if callback.crypto else "明文模式"
    assert code == 0 and f"后台消息（2026-10-08 09:30）已推送到 {callback.url}（{mode}）" in out
    (message,) = [event for event in Ledger(account.root, branch=SANDBOX_BRANCH).events if event.kind is Kind.MESSAGE]
    assert message.data["content"] == "我想咨询劳动争议仲裁]]>怎么申请" and message.data["departments"] == ["rights"]
    assert message.data["create_time"] == int(dt.datetime(2026, 10, 8, 9, 30, tzinfo=BEIJING).timestamp())
    assert "o-reader-2" not in str(message.data)


def test_a_message_the_callback_server_refuses_says_which_setting_differs(
        account: Account, callback: CallbackServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("WECHAT_CALLBACK_TOKEN", "another-token")
    code, _, err = gzh(account, monkeypatch, capsys, "sandbox", "message", "--text", "你好", "--to", callback.url)
    assert code == 1 and "回调服务拒绝了这条消息（403" in err and "WECHAT_CALLBACK_TOKEN" in err
    if callback.crypto:  # the server is in safe mode, this side is not
        monkeypatch.setenv("WECHAT_CALLBACK_TOKEN", TOKEN)
        monkeypatch.delenv("WECHAT_AES_KEY")
        code, _, err = gzh(account, monkeypatch, capsys, "sandbox", "message", "--text", "你好", "--to", callback.url)
        assert code == 1 and "WECHAT_AES_KEY" in err and "Traceback" not in err
    assert not [event for event in Ledger(account.root, branch=SANDBOX_BRANCH).events if event.kind is Kind.MESSAGE]


def test_a_fault_and_a_quota_set_from_the_command_line(account: Account, monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = gzh(account, monkeypatch, capsys, "sandbox", "fault", "draft/batchget", "--errcode", "45009", "--count", "2")
    assert code == 0 and out == "接下来 2 次调用 draft/batchget 时返回错误码 45009。\n"
    wechat = WeChat(account.sandbox.credentials, attempts=1, sleep=lambda seconds: None)
    for _ in range(2):
        with pytest.raises(WeChatError) as refused:
            wechat.draft_batchget(0)
        assert refused.value.code == 45009
    assert wechat.draft_batchget(0)["total_count"] == 0
    code, out, _ = gzh(account, monkeypatch, capsys, "sandbox", "quota", "freepublish/delete", "0")
    assert code == 0 and account.sandbox.state.data["quotas"]["freepublish/delete"] == 0


@pytest.mark.parametrize(("argv", "exit_code", "message"), [
    (["tamper", "content/office/none"], 1, "发布记录（账本分支 gzh-ledger-sandbox）中没有“content/office/none”"),
    (["ban", "ARTunknown00000"], 1, "沙盒中没有 article_id 为 ARTunknown00000 的文章"),
    (["comment", "content/office/a", "--text", "x", "--at", "2026-09-30"], 2, "不是时间，请写成 \"YYYY-MM-DD HH:MM\""),
    (["fault", "draft/nothing"], 1, "沙盒没有接口 draft/nothing"),
    (["message", "--text", "x"], 1, "请设置 WECHAT_CALLBACK_TOKEN"),
])
def test_mistakes_are_explained_without_a_traceback(account: Account, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str], argv: list[str], exit_code: int,
                                                    message: str) -> None:
    published(account, "a")
    code, out, err = gzh(account, monkeypatch, capsys, "sandbox", *argv)
    assert code == exit_code and message in err and "Traceback" not in err + out


def test_nothing_running_is_said_plainly(account: Account, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    published(account, "a")
    port = closed_port()
    monkeypatch.setenv("WECHAT_CALLBACK_TOKEN", TOKEN)
    code, _, err = gzh(account, monkeypatch, capsys, "sandbox", "message", "--text", "x", "--to", f"http://127.0.0.1:{port}/")
    assert code == 1 and f"连不上回调服务 http://127.0.0.1:{port}/" in err and "gzh callback serve" in err
    account.sandbox.stop()
    code, _, err = gzh(account, monkeypatch, capsys, "sandbox", "delete", "content/office/a")
    assert code == 1 and f"连不上沙盒 {account.sandbox.url}" in err and "gzh sandbox serve" in err


def test_only_a_sandbox_on_this_machine_is_driven(account: Account, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    from pipeline.main import main

    monkeypatch.setenv("WECHAT_API_BASE", "https://api.weixin.qq.com/cgi-bin/")
    code = main(["--root", str(account.root), "sandbox", "ban", "ARTsomething1"])
    err = capsys.readouterr().err
    assert code == 2 and "不是本机的沙盒" in err
