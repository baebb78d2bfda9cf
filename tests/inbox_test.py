"""Article 8: followers' comments routed to departments, answered, and alerted when overdue."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from pipeline.commands import inbox as inbox_command
from pipeline.inbox import Comment, add_working_days, overdue_findings
from pipeline.policy import load_policy
from pipeline.posts import BEIJING
from tests.notify_fake import LEADERS_TOKEN, OFFICE_KEY, RIGHTS_KEY, robots, with_notifications
from tests.operations_support import TODAY, published, run_workflow
from tests.support import PROJECT

__all__ = ["robots"]  # the fixture, imported for pytest


def test_comment_is_routed_to_the_right_department_and_answered(ops, capsys) -> None:
    account, forge = ops
    published(account, "a")
    msg_data_id = next(iter(account.sandbox.state.data["articles"].values()))["msg_data_id"]
    account.sandbox.control("comment", {"msg_data_id": msg_data_id, "content": "请问单位拖欠工资，怎么申请法律援助？"})
    assert inbox_command.inbox_command(account.root, credentials=account.sandbox.credentials) == 0
    out = capsys.readouterr().out
    assert "## 办公室（1 条待答复）" in out and "## 法律和权益保障部（1 条待答复）" in out and "#1" in out
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


def test_unanswered_comment_is_alerted_after_the_deadline(ops, capsys) -> None:
    account, forge = ops
    published(account, "a")
    msg_data_id = next(iter(account.sandbox.state.data["articles"].values()))["msg_data_id"]
    account.sandbox.control("comment", {"msg_data_id": msg_data_id, "content": "报名表在哪里下载？"})
    inbox_command.inbox_command(account.root, credentials=account.sandbox.credentials, today=TODAY + dt.timedelta(days=14))
    assert "超期留言：新开问题 1 个" in capsys.readouterr().out
    assert "留言超过 5 个工作日未答复" in forge.issues[0]["title"] and "@li-na" in forge.issues[0]["body"]


def test_comments_are_told_in_the_departments_groups_once_and_escalated_when_overdue(ops, robots, capsys, monkeypatch) -> None:
    account, forge = ops
    monkeypatch.setenv("GITHUB_SERVER_URL", "https://forge.example")
    with_notifications(account.root)
    outcome = published(account, "a")[0]
    msg_data_id = next(iter(account.sandbox.state.data["articles"].values()))["msg_data_id"]
    account.sandbox.control("comment", {"msg_data_id": msg_data_id, "content": "单位拖欠工资，怎么申请法律援助？电话13912345678"})
    for _ in range(2):  # every run asks again; the ledger lets each through once
        assert inbox_command.inbox_command(account.root, credentials=account.sandbox.credentials) == 0
    (office,), (rights,) = robots.texts(OFFICE_KEY), robots.texts(RIGHTS_KEY)
    assert office == rights and office.startswith("**【读者留言】请在 ")
    assert "读者在《文章a》下留言" in office and "139****5678" in office and "13912345678" not in office
    assert "gzh inbox reply 1" in office and f"[查看详情]({outcome.url})" in office
    assert "⚠" not in capsys.readouterr().out
    inbox_command.inbox_command(account.root, credentials=account.sandbox.credentials, today=TODAY + dt.timedelta(days=14))
    late = robots.texts(OFFICE_KEY)[1]
    assert late.startswith("**【留言·已超期】留言超过 5 个工作日未答复**")
    assert f"[查看详情](https://forge.example/{forge.repository}/issues/" in late
    assert len(robots.texts(LEADERS_TOKEN)) == 1 and len(robots.texts(RIGHTS_KEY)) == 1  # the management group, not rights


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


def test_overdue_comments_warn_and_fail_past_three_months() -> None:
    rules = load_policy(PROJECT / "gzh.yml")
    created = dt.datetime(2026, 3, 2, 9, 30, tzinfo=BEIJING)
    due = add_working_days(created.date(), rules.reply_within_days)

    def comment(number: int, answered: bool = False, departments: tuple[str, ...] = ("office",)) -> Comment:
        return Comment(number, f"m:0:{number}", "content/office/a", "文章", "报名表在哪里下载？", created,
                       departments, answered, due)

    items = [comment(1), comment(2, answered=True), comment(3, departments=())]
    assert overdue_findings(items, rules, due) == []  # due today is not yet overdue
    late = overdue_findings(items, rules, due + dt.timedelta(days=1))
    assert [(finding.key, finding.severity, finding.department) for finding in late] == [
        ("comment:m:0:1", "warn", "office"), ("comment:m:0:3", "warn", "")]  # the answered one is not chased
    assert f"{rules.reply_within_days} 个工作日" in late[0].title and "gzh inbox reply 1" in late[0].detail
    ceiling = overdue_findings(items[:1], rules, created.date() + dt.timedelta(days=91))
    assert ceiling[0].severity == "fail" and "3 个月" in ceiling[0].title
