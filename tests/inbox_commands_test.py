"""Article 8 from the forge: departments answer on their inbox issue (/答复, /已处理, /隐藏, /删除), abusive
comments are hidden or deleted with a record, and followers' personal data is masked wherever it is posted."""
from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from pipeline import answers
from pipeline.commands import inbox as inbox_command
from pipeline.inbox import fingerprint
from pipeline.inbox_syntax import parse
from pipeline.ledger import SANDBOX_BRANCH, Event, Kind, Ledger
from pipeline.posts import BEIJING
from tests.forge_fake import ForgeFake
from tests.operations_support import gzh, published, wechat_calls
from tests.support import Account


def _commented(account: Account, *contents: str, openid: str = "o-follower-1") -> str:
    """A published article with followers' comments; the msg_data_id."""
    published(account, "a")
    msg_data_id = next(iter(account.sandbox.state.data["articles"].values()))["msg_data_id"]
    for content in contents:
        account.sandbox.control("comment", {"msg_data_id": msg_data_id, "content": content, "openid": openid})
    return msg_data_id


def _inbox(account: Account, today: dt.date | None = None) -> int:
    return inbox_command.inbox_command(account.root, credentials=account.sandbox.credentials, today=today)


def _say(forge: ForgeFake, number: int, user: str, body: str, *, edited: bool = False) -> dict[str, Any]:
    """A person's comment on an issue, as the forge keeps it (edited: changed after it was written)."""
    created = forge._now()
    comment = {"id": next(forge._ids), "user": {"login": user}, "body": body, "created_at": created,
               "updated_at": forge._now() if edited else created}
    next(issue for issue in forge.issues if issue["number"] == number)["comments"].append(comment)
    return comment


def _replies(forge: ForgeFake, number: int) -> list[str]:
    issue = next(issue for issue in forge.issues if issue["number"] == number)
    return [comment["body"] for comment in issue["comments"] if comment["body"].startswith(answers.MARKER)]


def _thread(account: Account, msg_data_id: str) -> list[dict[str, Any]]:
    return account.sandbox.state.data["comments"][f"{msg_data_id}:0"]


def test_a_head_answers_from_the_issue_and_the_issue_closes(ops) -> None:
    account, forge = ops
    msg_data_id = _commented(account, "单位拖欠工资，怎么申请法律援助？")
    _inbox(account)
    (issue,) = forge.issues
    assert issue["title"] == "【留言】法律和权益保障部：1 条读者留言待答复"
    _say(forge, issue["number"], "liu-yang", "／答复 #1 您好，请拨打职工服务热线12351预约法律援助。")  # full-width slash
    assert _inbox(account) == 0
    assert _thread(account, msg_data_id)[0]["reply"]["content"] == "您好，请拨打职工服务热线12351预约法律援助。"
    assert _replies(forge, issue["number"]) == [f"{answers.MARKER}\n@liu-yang ✅ 已答复 #1"]
    assert issue["state"] == "closed"  # nothing waits any more
    answered = [event for event in Ledger(account.root, branch=SANDBOX_BRANCH).events if event.kind is Kind.ANSWERED]
    assert answered[-1].data["by"] == "liu-yang" and answered[-1].data["issue"] == issue["number"]


def test_a_refused_answer_says_why_and_nothing_is_sent(ops) -> None:
    account, forge = ops
    msg_data_id = _commented(account, "报名表在哪里下载？")
    _inbox(account)
    (issue,) = forge.issues
    _say(forge, issue["number"], "li-na", "/答复 1 请拨打13800138000咨询")
    calls = wechat_calls(account)
    _inbox(account)
    (refusal,) = _replies(forge, issue["number"])
    assert refusal.startswith(f"{answers.MARKER}\n@li-na ❌ 答复没有通过检查，未发送。")
    assert "再发一条评论 /答复 1 修改后的答复" in refusal and "138****8000" in refusal and "13800138000" not in refusal
    assert "reply" not in _thread(account, msg_data_id)[0] and issue["state"] == "open"
    assert "comment/reply/add" not in account.sandbox.control("calls")["calls"][calls:]


def test_only_the_owner_s_heads_and_the_administrators_may_and_each_comment_runs_once(ops) -> None:
    account, forge = ops
    msg_data_id = _commented(account, "单位拖欠工资，怎么申请法律援助？")
    _inbox(account)
    number = forge.issues[0]["number"]
    _say(forge, number, "li-na", "/答复 1 您好")  # the article's department is told, not the owner
    _say(forge, number, "liu-yang", "/答复 1 您好，请拨打12351。", edited=True)  # perhaps rewritten by someone else
    _say(forge, number, "liu-yang", "/答复 您好")  # no number
    _say(forge, number, "liu-yang", "/答复 9 您好")
    _say(forge, number, "wu-fang", "讨论：/答复 1 不是命令")  # not at the start: left alone
    for _ in range(2):
        _inbox(account)
    denied, edited, usage, missing = (reply.split("\n", 1)[1].split(" ", 1)[1] for reply in _replies(forge, number))
    assert denied == ("❌ li-na 不能对 #1 执行这个命令：只有法律和权益保障部负责人（刘洋（liu-yang））和管理员（孙浩（sun-hao））可以，未执行")
    assert edited == "❌ 这条评论发出后被改过（改动可能出自别人），不执行。请重新发一条评论"
    assert usage == "❌ 命令要写成“/答复 编号 答复内容”，例如 /答复 12 您好，……，未执行"
    assert missing == "❌ 没有编号为 #9 的留言。先运行 gzh inbox 查看编号"
    assert "reply" not in _thread(account, msg_data_id)[0]
    recorded = [event for event in Ledger(account.root, branch=SANDBOX_BRANCH).events if event.kind == Kind.COMMAND]
    assert [event.data["outcome"] for event in recorded] == ["refused"] * 4  # once each, though run twice
    _say(forge, number, "sun-hao", "/已处理 1 已电话答复")  # an administrator may, for any department
    _inbox(account)
    assert _replies(forge, number)[-1].endswith("✅ 已记录 #1 已答复") and forge.issues[0]["state"] == "closed"


def test_a_message_past_its_window_is_refused_from_the_forge_too(ops) -> None:
    account, forge = ops
    created = dt.datetime(2026, 11, 2, 9, 30, tzinfo=BEIJING)
    Ledger(account.root, branch=SANDBOX_BRANCH).append(Event(Kind.MESSAGE, data={
        "key": "msg:1", "content": "会员服务卡丢了怎么补办？", "create_time": int(created.timestamp()), "type": "text",
        "openid_sha256": "f1", "departments": ["organization"]}))
    _inbox(account, dt.date(2026, 11, 5))
    (issue,) = forge.issues
    assert "已过 48 小时回复时限（2026-11-04 09:30）" in issue["body"]
    _say(forge, issue["number"], "chen-gang", "/答复 1 您好")
    _inbox(account, dt.date(2026, 11, 5))
    (refusal,) = _replies(forge, issue["number"])
    assert "已于 2026-11-04 09:30 截止" in refusal and "（/答复 留言编号 答复内容）" in refusal
    assert "答复后发评论 /已处理 1 怎么答复的 记入账本" in refusal


@pytest.mark.parametrize("verb, action", [("隐藏", "hidden"), ("删除", "deleted")])
def test_an_abusive_comment_is_hidden_or_deleted_from_the_forge_with_a_record(ops, verb: str, action: str) -> None:
    account, forge = ops
    msg_data_id = _commented(account, "骂人的话")
    _inbox(account)
    number = forge.issues[0]["number"]
    _say(forge, number, "li-na", f"/{verb} 1 辱骂他人")
    _inbox(account)
    comment = _thread(account, msg_data_id)[0]
    assert comment.get("deleted", False) is (action == "deleted") and comment["comment_type"] == 0
    (moderated,) = [event for event in Ledger(account.root, branch=SANDBOX_BRANCH).events if event.kind is Kind.MODERATED]
    assert (moderated.data["action"], moderated.data["reason"], moderated.data["by"]) == (action, "辱骂他人", "li-na")
    assert f"✅ 已{verb} #1" in _replies(forge, number)[0] and forge.issues[0]["state"] == "closed"


def test_abusive_comments_are_hidden_and_deleted_from_the_command_line(ops, capsys, monkeypatch) -> None:
    account, _ = ops
    msg_data_id = _commented(account, "广告：加微信买发票", "骂人的话")
    assert gzh(account, monkeypatch, capsys, "inbox")[0] == 0
    code, out, _ = gzh(account, monkeypatch, capsys, "inbox", "hide", "2", "--reason", "辱骂他人")
    assert code == 0 and out.strip() == "已隐藏 #2（从精选留言中移除，读者不再看到）。原因：辱骂他人"
    code, out, _ = gzh(account, monkeypatch, capsys, "inbox", "delete", "1", "--reason", "广告")
    assert code == 0 and out.strip() == "已删除 #1。原因：广告"
    code, _, err = gzh(account, monkeypatch, capsys, "inbox", "delete", "1", "--reason", "广告")
    assert code == 1 and err.strip() == "#1 已经删除了"
    code, _, err = gzh(account, monkeypatch, capsys, "inbox", "reply", "2", "--text", "您好")
    assert code == 1 and err.strip() == "#2 已隐藏（不当留言），不再答复"
    thread = _thread(account, msg_data_id)
    assert thread[0]["deleted"] and not thread[1].get("deleted") and thread[1]["comment_type"] == 0
    code, out, _ = gzh(account, monkeypatch, capsys, "inbox")
    assert "未答复 0 条" in out
    by = [event.data["by"] for event in Ledger(account.root, branch=SANDBOX_BRANCH).events if event.kind is Kind.MODERATED]
    assert by == ["sun-hao", "sun-hao"]


def test_personal_data_is_masked_everywhere_and_repeated_complaints_are_grouped(ops, capsys) -> None:
    account, forge = ops
    complaint = "食堂饭菜太贵了，我的电话13912345678"
    _commented(account, complaint, "食堂饭菜 太贵了，我的电话 139 1234 5678", "报名表在哪里下载？", openid="o-secret-openid")
    _inbox(account)
    out = capsys.readouterr().out
    assert "13912345678" not in out and "139****5678" in out and "  同样的留言 2 条：#1、#2" in out
    (issue,) = forge.issues
    assert "13912345678" not in issue["body"] and "139 1234 5678" not in issue["body"]
    assert "同样的留言 2 条：#1、#2" in issue["body"] and issue["body"].count("**#") == 2
    comments = [event for event in Ledger(account.root, branch=SANDBOX_BRANCH).events if event.kind is Kind.COMMENT]
    assert comments[0].data["content"] == "食堂饭菜太贵了，我的电话139****5678"
    assert comments[0].data["content_sha256"] == comments[1].data["content_sha256"] == fingerprint(complaint)
    assert "o-secret-openid" not in str([event.data for event in comments]) and len(comments[0].data["openid_sha256"]) == 64


def test_a_follower_cannot_plant_a_mention_or_a_link_in_the_issue(ops) -> None:
    account, forge = ops
    _commented(account, "@sun-hao 看这里 [点我](https://evil.example) ## 标题 www.evil.cn 见 #1 GH-1")
    _inbox(account)
    body = forge.issues[0]["body"]
    assert "@sun-hao 看这里" not in body and "＠sun-hao" in body and "](https://evil.example)" not in body
    # bare links and issue references the forge would turn into links by itself
    assert "https://evil" not in body and "www.evil" not in body and " #1 " not in body and "GH-1" not in body


@pytest.mark.parametrize("body, parsed", [
    ("/答复 12 您好，\n第二行", ("reply", 12, "您好，\n第二行")),
    ("  ／已处理 ＃１２ 已电话答复", ("done", 12, "已电话答复")),
    ("/隐藏12 辱骂", ("hide", 12, "辱骂")),
    ("/删除 3", ("delete", 3, "")),
    ("/删除线 3 x", None),
    ("请 /答复 12 您好", None),
    ("/保密复审", None),
])
def test_commands_are_read_from_the_start_of_a_comment(body: str, parsed: tuple[str, int, str] | None) -> None:
    command = parse(body)
    assert (None if command is None else (command.verb, command.number, command.text)) == parsed


def test_the_inbox_workflow_runs_on_a_command_comment_without_putting_it_in_a_script() -> None:
    """inbox.yml answers within a minute (issue_comment), and the comment reaches gzh only through the forge."""
    import yaml

    from tests.support import PROJECT

    workflow = yaml.safe_load((PROJECT / ".github" / "workflows" / "inbox.yml").read_text("utf-8"))
    assert workflow[True]["issue_comment"] == {"types": ["created"]}  # YAML 1.1 reads the key `on` as True
    job = workflow["jobs"]["inbox"]
    assert "startsWith(github.event.comment.body, '／')" in job["if"] and "!github.event.issue.pull_request" in job["if"]
    scripts = [step.get("run", "") + str(step.get("env", {})) for step in job["steps"]]
    assert not any("github.event" in script for script in scripts)
