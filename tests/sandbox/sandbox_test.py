"""The sandbox follows the documented API: fields, limits, quotas, error codes, async results."""
from __future__ import annotations

import io
import json
import socket
import struct
import time
import urllib.request
from pathlib import Path
from typing import Any, Iterator

import pytest
from PIL import Image

from pipeline.sandbox import Sandbox
from pipeline.wechat import WeChat, WeChatError


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    with Sandbox(tmp_path / "sandbox") as sandbox:
        sandbox.state.data["publish_seconds"] = 0.0
        yield sandbox


@pytest.fixture
def wechat(sandbox: Sandbox) -> WeChat:
    return WeChat(sandbox.credentials, sleep=lambda seconds: None)


def image(fmt: str = "PNG", size: tuple[int, int] = (8, 8)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size).save(buffer, fmt)
    return buffer.getvalue()


def article(wechat: WeChat, **changes: Any) -> dict[str, Any]:
    media_id, _ = wechat.add_image_material("c.png", image())
    return {"title": "标题", "author": "办公室", "content": "<p>正文</p>", "thumb_media_id": media_id, **changes}


def code_of(call: Any) -> int | None:
    with pytest.raises(WeChatError) as caught:
        call()
    return caught.value.code


@pytest.mark.parametrize(("changes", "code"), [
    ({"title": "字" * 33}, 45003), ({"author": "字" * 17}, 45110), ({"digest": "字" * 129}, 45004),
    ({"content": "字" * 20_000}, 45002), ({"content_source_url": "https://x/" + "a" * 1020}, 41039),
    ({"thumb_media_id": "nope"}, 40007), ({"pic_crop_235_1": "bad"}, 40002),
])
def test_draft_field_limits(wechat: WeChat, changes: dict[str, Any], code: int) -> None:
    assert code_of(lambda: wechat.draft_add(article(wechat, **changes))) == code


def test_limits_at_the_boundary_pass(wechat: WeChat) -> None:
    fields = {"title": "字" * 32, "author": "字" * 16, "digest": "字" * 128, "pic_crop_235_1": "0.1945_0_1_0.5236"}
    assert wechat.draft_add(article(wechat, **fields)).startswith("DRAFT")


def test_uploadimg_takes_small_jpg_and_png_only(wechat: WeChat) -> None:
    assert code_of(lambda: wechat.upload_image("a.gif", image("GIF"))) == 40005
    big = image("PNG") + b"\0" * (1024 * 1024)
    assert code_of(lambda: wechat.upload_image("a.png", big)) == 40009
    assert wechat.upload_image("a.jpg", image("JPEG"))


def test_content_is_filtered_like_wechat(wechat: WeChat, sandbox: Sandbox) -> None:
    own = wechat.upload_image("a.png", image())
    content = f'<p>x<img src="{own}"><img src="https://example.com/a.png"><script>alert(1)</script></p>'
    stored = wechat.draft_get(wechat.draft_add(article(wechat, content=content)))["news_item"][0]["content"]
    assert own in stored and "example.com" not in stored and "script" not in stored


def test_publishing_is_asynchronous_and_consumes_the_draft(wechat: WeChat, sandbox: Sandbox) -> None:
    sandbox.state.data["publish_seconds"] = 3600
    draft = wechat.draft_add(article(wechat))
    publish_id, _ = wechat.submit(draft)
    assert wechat.publish_status(publish_id)["publish_status"] == 1
    assert code_of(lambda: wechat.draft_get(draft)) == 40007
    sandbox.state.data["jobs"][publish_id]["done_at"] = 0
    answer = wechat.publish_status(publish_id)
    assert answer["publish_status"] == 0 and answer["article_detail"]["item"][0]["idx"] == 1


@pytest.mark.parametrize("status", [2, 3, 4])
def test_failure_statuses(wechat: WeChat, sandbox: Sandbox, status: int) -> None:
    sandbox.control("publish-outcomes", {"statuses": [status]})
    answer = wechat.publish_status(wechat.submit(wechat.draft_add(article(wechat)))[0])
    assert answer["publish_status"] == status and "article_id" not in answer
    assert wechat.published(0)["total_count"] == 0


def test_delete_is_one_based_and_marks_the_article(wechat: WeChat, sandbox: Sandbox) -> None:
    publish_id, _ = wechat.submit(wechat.draft_add(article(wechat)))
    article_id = wechat.publish_status(publish_id)["article_id"]
    wechat.delete_article(article_id, 1)
    assert wechat.publish_status(publish_id)["publish_status"] == 5
    assert wechat.get_article(article_id)["news_item"][0]["is_deleted"] is True
    assert wechat.published(0)["total_count"] == 0


def test_daily_quota_of_deletes(wechat: WeChat, sandbox: Sandbox) -> None:
    sandbox.control("quotas", {"freepublish/delete": 1})
    ids = [wechat.publish_status(wechat.submit(wechat.draft_add(article(wechat)))[0])["article_id"] for _ in range(2)]
    wechat.delete_article(ids[0], 1)
    assert code_of(lambda: wechat.delete_article(ids[1], 1)) == 45009


def test_batchget_pages_by_twenty(wechat: WeChat) -> None:
    for index in range(23):
        wechat.draft_add(article(wechat, title=f"第{index}篇"))
    first, second = wechat.draft_batchget(0), wechat.draft_batchget(20)
    assert (first["total_count"], first["item_count"], second["item_count"]) == (23, 20, 3)
    assert code_of(lambda: wechat.draft_batchget(0, 21)) == 40002


def test_mass_send_once_a_day_and_clientmsgid_dedup(wechat: WeChat) -> None:
    answer = wechat.mass_send(wechat.draft_add(article(wechat)), "v1")
    assert answer["msg_data_id"]
    assert code_of(lambda: wechat.mass_send(wechat.draft_add(article(wechat)), "v1")) == 45065
    assert code_of(lambda: wechat.mass_send(wechat.draft_add(article(wechat)), "v2")) == 45028


def test_comments_need_a_published_article_and_a_count_under_50(wechat: WeChat, sandbox: Sandbox) -> None:
    answer = wechat.mass_send(wechat.draft_add(article(wechat)), "c")
    msg_data_id = answer["msg_data_id"]
    sandbox.state.add_follower_comment(msg_data_id, 0, "请问报名截止到哪天？", "openid-1")
    listed = wechat.list_comments(msg_data_id, 0, 0)
    assert listed["total"] == 1 and listed["comment"][0]["content"] == "请问报名截止到哪天？"
    wechat.reply_comment(msg_data_id, 0, 1, "截止到12月20日。")
    assert code_of(lambda: wechat.reply_comment(msg_data_id, 0, 1, "再答一次")) == 88005
    assert code_of(lambda: wechat.list_comments(msg_data_id, 0, 0, count=50)) == 88010
    assert code_of(lambda: wechat.list_comments("999", 0, 0)) == 88001


def test_state_survives_a_restart(tmp_path: Path) -> None:
    with Sandbox(tmp_path / "s") as first:
        wechat = WeChat(first.credentials, sleep=lambda seconds: None)
        draft = wechat.draft_add(article(wechat))
    with Sandbox(tmp_path / "s") as second:
        again = WeChat(second.credentials, sleep=lambda seconds: None)
        assert again.draft_get(draft)["news_item"][0]["title"] == "标题"


def test_wrong_method_and_missing_token(sandbox: Sandbox) -> None:
    with urllib.request.urlopen(sandbox.url + "cgi-bin/stable_token", timeout=5) as response:
        assert json.loads(response.read())["errcode"] == 43002
    with urllib.request.urlopen(sandbox.url + "cgi-bin/draft/count", timeout=5) as response:
        assert json.loads(response.read())["errcode"] == 41001


def test_basic_token_supersedes_the_previous_one(sandbox: Sandbox) -> None:
    state = sandbox.state
    old = state.basic_token(state.appid, state.secret)["access_token"]
    state.basic_token(state.appid, state.secret)
    state.check_token(old)  # within the five-minute hand-over both work
    state.data["tokens"][old]["superseded_at"] -= 301
    with pytest.raises(Exception) as caught:
        state.check_token(old)
    assert getattr(caught.value, "errcode", None) == 40001


def test_comment_moderation_endpoints(wechat: WeChat, sandbox: Sandbox) -> None:
    msg_data_id = wechat.mass_send(wechat.draft_add(article(wechat)), "m")["msg_data_id"]
    for text in ("第一条", "第二条"):
        sandbox.state.add_follower_comment(msg_data_id, 0, text, "openid")
    key = {"msg_data_id": msg_data_id, "index": 0}
    wechat._post("comment/markelect", {**key, "user_comment_id": 1}, write=True)
    assert [c["content"] for c in wechat._post("comment/list", {**key, "begin": 0, "count": 10, "type": 2}, write=False)["comment"]] == ["第一条"]
    wechat._post("comment/unmarkelect", {**key, "user_comment_id": 1}, write=True)
    wechat._post("comment/delete", {**key, "user_comment_id": 2}, write=True)
    assert wechat.list_comments(msg_data_id, 0, 0)["total"] == 1
    assert code_of(lambda: wechat._post("comment/reply/delete", {**key, "user_comment_id": 1}, write=True)) == 88009
    wechat.reply_comment(msg_data_id, 0, 1, "谢谢关注")
    wechat._post("comment/reply/delete", {**key, "user_comment_id": 1}, write=True)
    wechat._post("comment/close", key, write=True)
    wechat._post("comment/open", key, write=True)
    assert code_of(lambda: wechat._post("comment/delete", {**key, "user_comment_id": 9}, write=True)) == 88008


def test_mass_sent_articles_are_not_listed_by_freepublish_batchget(wechat: WeChat, sandbox: Sandbox) -> None:
    """Like the real API: freepublish/batchget lists what freepublish published, never mass sends."""
    wechat.mass_send(wechat.draft_add(article(wechat, title="群发的文章")), "m1")
    assert wechat.published(0)["total_count"] == 0


def test_chinese_sent_as_unicode_escapes_is_refused(sandbox: Sandbox) -> None:
    """WeChat would show `\\u5e02\\u603b` literally: the sandbox refuses such a body (errcode 47001)."""
    token = json.loads(urllib.request.urlopen(urllib.request.Request(
        sandbox.url + "cgi-bin/stable_token", data=json.dumps({
            "grant_type": "client_credential", "appid": sandbox.credentials.appid,
            "secret": sandbox.credentials.secret}).encode(), method="POST"), timeout=5).read())["access_token"]

    def draft_add(body: bytes) -> dict[str, Any]:
        request = urllib.request.Request(f"{sandbox.url}cgi-bin/draft/add?access_token={token}", data=body, method="POST")
        return json.loads(urllib.request.urlopen(request, timeout=5).read())

    escaped = json.dumps({"articles": [{"title": "市总工会", "content": "<p>正文</p>", "thumb_media_id": "x"}]})
    assert draft_add(escaped.encode())["errcode"] == 47001
    quoted = json.dumps({"articles": [{"title": "编码 \\u5e02", "content": "<p>x</p>", "thumb_media_id": "x"}]},
                        ensure_ascii=False)  # a literal backslash-u in the text is fine
    assert draft_add(quoted.encode("utf-8")).get("errcode") != 47001


def test_a_refused_control_is_answered_not_dropped(sandbox: Sandbox) -> None:
    """Before, an unknown article or a malformed fault killed the handler and the connection with it."""
    def raw(action: str, body: bytes) -> dict[str, Any]:
        request = urllib.request.Request(sandbox.url + "_sandbox/" + action, data=body, method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read().decode("utf-8"))

    assert raw("article", b'{"article_id": "ARTnone", "do": "ban"}') == {"ok": False, "errcode": 53600, "error": "invalid article_id"}
    assert raw("faults", b'{"faults": [{"endpoint": "draft/add", "errcod": 1}]}')["ok"] is False
    assert raw("faults", b'{"faults": [{"endpoint": "draft/nothing"}]}')["error"] == "unknown endpoint draft/nothing"
    assert raw("quotas", b"not json")["errcode"] == 47001
    assert raw("comment", b'{"article_id": "ARTnone", "content": "x"}')["errcode"] == 53600
    assert sandbox.state.data["quotas"]["draft/add"] == 1000 and not sandbox.server.controls.faults


def test_a_caller_that_hangs_up_before_its_answer_leaves_no_traceback(
        sandbox: Sandbox, wechat: WeChat, capsys: pytest.CaptureFixture[str]) -> None:
    """A rehearsal kills a caller while the sandbox holds its answer back; the held answer then meets a
    closed socket. socketserver printed that traceback into whichever test's output was current."""
    token = wechat._client.access_token
    sandbox.control("faults", {"faults": [{"endpoint": "draft/count", "hold": 0.3}]})
    with socket.create_connection(sandbox.server.server_address[:2]) as caller:
        caller.sendall(f"GET /cgi-bin/draft/count?access_token={token} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        time.sleep(0.1)  # the sandbox has acted and holds the answer
        caller.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # hang up: a reset
    deadline = time.monotonic() + 5
    while sandbox.server.controls.faults[0].count and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.6)  # past the hold: the answer has met the closed socket
    assert capsys.readouterr().err == ""
    assert wechat.draft_batchget(0)["total_count"] == 0  # and the sandbox still answers


def test_a_follower_comment_names_its_article_and_its_time(sandbox: Sandbox, wechat: WeChat) -> None:
    media_id = wechat.draft_add(article(wechat))
    wechat.submit(media_id)
    (article_id,) = _articles(sandbox)
    comment = sandbox.control("comment", {"article_id": article_id, "content": "何时报名？", "create_time": 1790000000})
    assert comment["create_time"] == 1790000000 and comment["user_comment_id"] == 1
    msg_data_id = sandbox.state.data["articles"][article_id]["msg_data_id"]
    assert wechat.list_comments(msg_data_id, 0, 0)["comment"] == [comment]


def _articles(sandbox: Sandbox) -> list[str]:
    with sandbox.state.lock:
        sandbox.state._finish_due_jobs()
        return list(sandbox.state.data["articles"])
