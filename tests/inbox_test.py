"""Article 8: followers' comments routed to departments, answered, and alerted when overdue."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from pipeline.clock import add_working_days
from pipeline.commands import inbox as inbox_command
from pipeline.errors import GzhError
from pipeline.inbox import Comment, department_findings
from pipeline.ledger import SANDBOX_BRANCH, Event, Kind, Ledger
from pipeline.policy import load_policy
from pipeline.posts import BEIJING
from tests.notify_fake import LEADERS_TOKEN, OFFICE_KEY, RIGHTS_KEY, robots, with_notifications
from tests.operations_support import TODAY, gzh, published, run_workflow, wechat_calls
from tests.support import PROJECT

__all__ = ["robots"]  # the fixture, imported for pytest


def test_comment_is_routed_to_the_right_department_and_answered(ops, capsys) -> None:
    account, forge = ops
    published(account, "a")
    msg_data_id = next(iter(account.sandbox.state.data["articles"].values()))["msg_data_id"]
    account.sandbox.control("comment", {"msg_data_id": msg_data_id, "content": "请问单位拖欠工资，怎么申请法律援助？"})
    assert inbox_command.inbox_command(account.root, credentials=account.sandbox.credentials) == 0
    out = capsys.readouterr().out
    # the keyword's department answers; the article's own is told, not asked
    assert "## 法律和权益保障部（1 条待答复）" in out and "  已告知 办公室" in out and "## 办公室" not in out
    refused = pytest.raises(Exception, inbox_command.reply_command, account.root, 1, "请拨打13800138000咨询",
                            credentials=account.sandbox.credentials)
    assert str(refused.value) == (  # what to change in the reply; an ignore comment is no option there
        "答复没有通过检查，未发送。答复会原样显示在文章的留言区，所有读者都能看到，请按下面的提示修改答复，"
        "再运行 gzh inbox reply 1 --text \"……\"：\n"
        "  - 手机号码：发现手机号码 138****8000。公开个人手机号须经本人同意：请删除，或改用单位公开电话")
    ignored = "<!-- gzh-ignore mobile-number: 本人同意公开号码 -->\n请拨打13800138000咨询"
    refused = pytest.raises(Exception, inbox_command.reply_command, account.root, 1, ignored,
                            credentials=account.sandbox.credentials)
    assert "138****8000" in str(refused.value)  # readers would see the comment; it waives nothing
    assert inbox_command.reply_command(account.root, 1, "您好，请拨打职工服务热线12351预约法律援助。",
                                       credentials=account.sandbox.credentials) == 0
    comment = account.sandbox.state.data["comments"][f"{msg_data_id}:0"][0]
    assert comment["reply"]["content"].startswith("您好")
    inbox_command.inbox_command(account.root, credentials=account.sandbox.credentials)
    assert "未答复 0 条" in capsys.readouterr().out


def test_a_comment_opens_its_department_s_issue_on_arrival_due_on_its_reply_date(ops, capsys) -> None:
    account, forge = ops
    published(account, "a")
    msg_data_id = next(iter(account.sandbox.state.data["articles"].values()))["msg_data_id"]
    account.sandbox.control("comment", {"msg_data_id": msg_data_id, "content": "报名表在哪里下载？"})
    inbox_command.inbox_command(account.root, credentials=account.sandbox.credentials)
    assert "各部门的留言问题：新开 1 个" in capsys.readouterr().out
    (issue,) = forge.issues
    assert issue["title"] == "【留言】办公室：1 条读者留言待答复" and "@li-na" in issue["body"]
    assert "**#1**　《文章a》" in issue["body"] and f"答复期限 {add_working_days(TODAY, 5)}" in issue["body"]
    assert "> 报名表在哪里下载？" in issue["body"] and "/答复 编号 答复内容" in issue["body"]


def test_comments_are_told_to_the_owner_and_for_information_to_the_article_s_department_once(ops, robots, capsys, monkeypatch) -> None:
    account, forge = ops
    monkeypatch.setenv("GITHUB_SERVER_URL", "https://forge.example")
    with_notifications(account.root)
    outcome = published(account, "a")[0]
    msg_data_id = next(iter(account.sandbox.state.data["articles"].values()))["msg_data_id"]
    account.sandbox.control("comment", {"msg_data_id": msg_data_id, "content": "单位拖欠工资，怎么申请法律援助？电话13912345678"})
    for _ in range(2):  # every run asks again; the ledger lets each through once
        assert inbox_command.inbox_command(account.root, credentials=account.sandbox.credentials) == 0
    (office,), rights = robots.texts(OFFICE_KEY), robots.texts(RIGHTS_KEY)
    answer = next(text for text in rights if text.startswith("**【读者留言】请在 "))
    assert "读者在《文章a》下留言" in answer and "139****5678" in answer and "13912345678" not in answer
    assert "gzh inbox reply 1" in answer and "/答复 1" in answer and f"[查看详情]({outcome.url})" in answer
    assert office.startswith("**【读者留言·知悉】已转法律和权益保障部答复**") and "139****5678" in office
    assert "本部门知悉即可" in office and "gzh inbox reply" not in office
    assert "⚠" not in capsys.readouterr().out
    inbox_command.inbox_command(account.root, credentials=account.sandbox.credentials, today=TODAY + dt.timedelta(days=14))
    late = [text for text in robots.texts(RIGHTS_KEY) if "已超期" in text]
    assert late and f"[查看详情](https://forge.example/{forge.repository}/issues/" in late[0]
    assert len(robots.texts(LEADERS_TOKEN)) == 1 and len(robots.texts(OFFICE_KEY)) == 1  # the management group, not the told


def test_the_inbox_workflow_runs_this_command(ops, tmp_path: Path) -> None:
    """inbox.yml's own script, run as the runner would (it must not drift from the command)."""
    account, forge = ops
    published(account, "a")
    step = run_workflow(account, forge, tmp_path, "inbox.yml", "inbox")
    assert step.returncode == 0 and "# 读者留言" in step.stdout, step.stderr


def test_a_reply_is_due_after_working_days_only() -> None:
    friday = dt.date(2026, 11, 27)
    assert add_working_days(friday, 1) == dt.date(2026, 11, 30)  # Monday: the weekend does not count
    assert add_working_days(friday, 5) == dt.date(2026, 12, 4)
    assert add_working_days(dt.date(2026, 11, 28), 0) == dt.date(2026, 11, 28)


def test_working_days_skip_public_holidays_and_count_adjusted_weekend_workdays() -> None:
    # National Day 2026: 1-7 October off, Saturday 10 October a working day (调休)
    assert add_working_days(dt.date(2026, 9, 30), 1) == dt.date(2026, 10, 8)
    assert add_working_days(dt.date(2026, 9, 30), 3) == dt.date(2026, 10, 10)
    assert add_working_days(dt.date(2026, 9, 30), 5) == dt.date(2026, 10, 13)


def test_working_days_are_monday_to_friday_in_a_year_the_calendar_does_not_know() -> None:
    # chinese_calendar raises NotImplementedError for 2099: its National Day counts, its weekend does not
    assert add_working_days(dt.date(2099, 9, 30), 1) == dt.date(2099, 10, 1)
    assert add_working_days(dt.date(2099, 10, 2), 1) == dt.date(2099, 10, 5)


def test_a_comment_before_national_day_is_due_after_it(ops, capsys) -> None:
    account, _ = ops
    created = dt.datetime(2026, 9, 30, 10, 0, tzinfo=BEIJING)
    Ledger(account.root, branch=SANDBOX_BRANCH).append(Event(Kind.COMMENT, "content/office/a", data={
        "key": "m:0:1", "content": "报名表在哪里下载？", "create_time": int(created.timestamp()), "departments": ["office"]}))
    assert inbox_command.inbox_command(account.root, credentials=account.sandbox.credentials,
                                       today=dt.date(2026, 10, 13)) == 0
    out = capsys.readouterr().out
    assert "答复期限 2026-10-13" in out and "已超期" not in out  # Mon-Fri would have made it 2026-10-07


def _message(account, created: dt.datetime, follower: str = "f1", number: int = 1) -> None:
    Ledger(account.root, branch=SANDBOX_BRANCH).append(Event(Kind.MESSAGE, data={
        "key": f"msg:{number}", "content": "会员服务卡丢了怎么补办？", "create_time": int(created.timestamp()),
        "type": "text", "openid_sha256": follower, "departments": ["office"]}))


def test_a_message_inside_its_48_hours_is_answered_in_the_console_and_the_window_is_listed(ops, capsys) -> None:
    account, _ = ops
    _message(account, dt.datetime(2026, 11, 2, 9, 30, tzinfo=BEIJING))
    inbox_command.inbox_command(account.root, credentials=account.sandbox.credentials, today=dt.date(2026, 11, 3))
    assert "　可回复至 2026-11-04 09:30" in capsys.readouterr().out
    refused = pytest.raises(GzhError, inbox_command.reply_command, account.root, 1, "您好",
                            credentials=account.sandbox.credentials, today=dt.date(2026, 11, 3))
    assert str(refused.value) == (
        "#1 是读者发给公众号的后台消息，接口不能答复：请在 2026-11-04 09:30 前（微信只允许在读者最后一条消息后 48 小时内回复）"
        "在公众平台“内容与互动 → 消息”中回复，然后运行 gzh inbox done 1 --note \"……\"")


def test_a_message_past_its_48_hours_is_refused_without_asking_wechat(ops, capsys, monkeypatch) -> None:
    account, _ = ops
    _message(account, dt.datetime(2026, 11, 2, 9, 30, tzinfo=BEIJING))
    code, out, _ = gzh(account, monkeypatch, capsys, "inbox", "--today", "2026-11-05")
    assert code == 0 and "　已过 48 小时回复时限（2026-11-04 09:30），须改用其他方式答复" in out
    calls = wechat_calls(account)
    code, out, err = gzh(account, monkeypatch, capsys, "inbox", "reply", "1", "--text", "您好", "--today", "2026-11-05")
    assert code == 1 and err.strip() == (
        "#1 是读者发给公众号的后台消息，微信只允许在读者最后一条消息后 48 小时内回复，已于 2026-11-04 09:30 截止，"
        "公众号已无法答复，未发送。请改用其他方式：读者在文章下留过言的，在该文章的留言区答复（gzh inbox reply 留言编号）；"
        "留下了电话的，打电话答复。答复后运行 gzh inbox done 1 --note \"怎么答复的\" 记入账本")
    assert wechat_calls(account) == calls


def test_a_follower_s_newer_message_reopens_the_window_for_the_older_one(ops, capsys) -> None:
    account, _ = ops
    _message(account, dt.datetime(2026, 11, 2, 9, 30, tzinfo=BEIJING))
    _message(account, dt.datetime(2026, 11, 4, 20, 0, tzinfo=BEIJING), number=2)
    _message(account, dt.datetime(2026, 11, 2, 9, 0, tzinfo=BEIJING), follower="f2", number=3)
    inbox_command.inbox_command(account.root, credentials=account.sandbox.credentials, today=dt.date(2026, 11, 5))
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if line.startswith("- #")]
    assert [line.rsplit("　", 1)[1] for line in lines] == [  # one follower's twins once, the other's apart
        "可回复至 2026-11-06 20:00", "已过 48 小时回复时限（2026-11-04 09:00），须改用其他方式答复"]
    assert "  同样的留言 2 条：#1、#2" in out


@pytest.mark.parametrize("verb", [["inbox"], ["inbox", "done", "1", "--note", "x"], ["patrol"],
                                  ["emergency", "takedown", "content/office/a", "--reason", "x"]])
def test_a_malformed_today_is_a_chinese_usage_error(ops, capsys, monkeypatch, verb: list[str]) -> None:
    account, _ = ops
    code, out, err = gzh(account, monkeypatch, capsys, *verb, "--today", "2026-13-01")
    assert code == 2 and "参数有误：argument --today: “2026-13-01”不是日期，请写成 YYYY-MM-DD（例如 2026-09-30）或 +天数（例如 +15）。" in err
    assert "Traceback" not in err


def test_each_department_s_finding_is_due_on_its_earliest_reply_and_fails_past_three_months() -> None:
    rules = load_policy(PROJECT / "gzh.yml")
    created = dt.datetime(2026, 3, 2, 9, 30, tzinfo=BEIJING)

    def comment(number: int, days: int = 0, answered: bool = False, departments: tuple[str, ...] = ("office",)) -> Comment:
        when = created + dt.timedelta(days=days)
        return Comment(number, f"m:0:{number}", "content/office/a", "文章", "报名表在哪里下载？", when, departments,
                       answered, add_working_days(when.date(), rules.reply_within_days))

    items = [comment(1, days=7), comment(2), comment(3, answered=True), comment(4, departments=()),
             comment(5, departments=("rights", "office"))]
    now = dt.datetime(2026, 3, 3, 9, 0, tzinfo=BEIJING)
    found = {finding.key: finding for finding in department_findings(items, rules, now)}
    assert sorted(found) == ["department:administrator", "department:office", "department:rights"]
    office = found["department:office"]
    assert (office.department, office.severity, office.due) == ("office", "warn", "2026-03-09")  # #2's, the earlier
    assert office.title == "办公室：2 条读者留言待答复" and "**#2**" in office.detail and "#3" not in office.detail
    assert "已告知：办公室" in found["department:rights"].detail and found["department:administrator"].department == ""
    late = department_findings(items, rules, now + dt.timedelta(days=91))
    assert {finding.severity for finding in late} == {"fail"} and "超过 3 个月" in late[0].detail
