"""Article 7(2): findings as forge issues, one per finding, closed by the re-check that no longer sees it."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from pipeline import forge as forge_module
from pipeline.findings import sync
from pipeline.ledger import SANDBOX_BRANCH, Ledger
from pipeline.patrol import Finding
from tests.forge_fake import ForgeFake
from tests.notify_fake import LEADERS_TOKEN, OFFICE_KEY, RIGHTS_KEY, RobotFake, robots, with_notifications
from tests.operations_support import TODAY, patrol, published
from tests.support import init_git, make_root, policy

__all__ = ["robots"]  # the fixture, imported for pytest


def test_fixed_finding_is_closed_by_the_next_patrol_and_nothing_duplicates(ops, capsys) -> None:
    account, forge = ops
    published(account, "a")
    later = TODAY + dt.timedelta(days=12)
    patrol(account, capsys, later)
    patrol(account, capsys, later)  # a re-run: the same finding, the same issue
    assert len(forge.issues) == 1 and "已 12 天没有发布新内容" in forge.issues[0]["title"]
    assert "整改期限：" in forge.issues[0]["body"]
    published(account, "b")  # the department publishes: the finding is fixed
    code, out = patrol(account, capsys, TODAY)
    assert "复查通过关闭 1 个" in out and len(forge.issues) == 1
    issue = forge.issues[0]
    assert issue["state"] == "closed" and "复查：问题已整改，自动关闭" in issue["comments"][0]["body"]
    if forge.flavour == "gitea":
        assert issue["due_date"] == f"{(later + dt.timedelta(days=3)).isoformat()}T23:59:59+08:00"


def test_the_patrol_and_the_inbox_each_close_only_their_own_issues(fake: ForgeFake, tmp_path: Path) -> None:
    root = make_root(tmp_path)
    init_git(root)
    rules, ledger, forge = policy(root), Ledger(root, branch=SANDBOX_BRANCH), forge_module.from_environment()
    stale = Finding("stale", "timeliness", "warn", "已 12 天没有发布新内容", "详情")  # no department: the administrator's
    office = Finding("comment:m:0:1", "comment", "warn", "留言超过 5 个工作日未答复", "详情", "content/office/a", "office")
    assert sync(forge, ledger, rules, [stale], TODAY).counts == {"opened": 1, "updated": 0, "closed": 0}
    assert sync(forge, ledger, rules, [office], TODAY, scope="inbox", label="留言").counts == {"opened": 1, "updated": 0, "closed": 0}
    assert sync(forge, ledger, rules, [], TODAY, scope="inbox", label="留言").counts == {"opened": 0, "updated": 0, "closed": 1}
    patrol_issue, inbox_issue = fake.issues
    assert patrol_issue["state"] == "open" and inbox_issue["state"] == "closed"
    assert patrol_issue["title"] == "【巡查】已 12 天没有发布新内容" and "@sun-hao" in patrol_issue["body"]
    assert inbox_issue["title"] == "【留言】留言超过 5 个工作日未答复" and "@li-na" in inbox_issue["body"]
    assert sync(forge, ledger, rules, [stale], TODAY + dt.timedelta(days=1)).counts == {"opened": 0, "updated": 1, "closed": 0}
    assert len(fake.issues) == 2 and f"首次发现：{TODAY.isoformat()}" in fake.issues[0]["body"]


def test_an_issue_opened_is_told_to_its_department_and_an_overdue_one_to_the_management_group_too(
        fake: ForgeFake, robots: RobotFake, tmp_path: Path) -> None:
    root = make_root(tmp_path)
    with_notifications(root)
    init_git(root)
    rules, ledger, forge = policy(root), Ledger(root, branch=SANDBOX_BRANCH), forge_module.from_environment()
    tampered = Finding("tampered:content/rights/a", "tampered", "fail", "线上内容与审批通过的版本不一致", "《a》的正文不同",
                       "content/rights/a", "rights")
    late_comment = Finding("comment:m:0:1", "comment", "warn", "留言超过 5 个工作日未答复", "读者问[这里](http://x)",
                           "content/office/a", "office")
    assert sync(forge, ledger, rules, [tampered], TODAY).warnings == ()
    assert sync(forge, ledger, rules, [late_comment], TODAY, scope="inbox", label="留言", overdue=True).warnings == ()
    (opened,) = robots.texts(RIGHTS_KEY)
    due = (TODAY + dt.timedelta(days=rules.due_days)).isoformat()
    assert opened.startswith("**【巡查】线上内容与审批通过的版本不一致**") and f"**办理期限：{due}**" in opened
    assert "责任部门：法律和权益保障部" in opened
    (comment,) = robots.texts(OFFICE_KEY)
    assert comment.startswith("**【留言·已超期】留言超过 5 个工作日未答复**") and "读者问［这里］（http://x）" in comment
    assert len(robots.texts(LEADERS_TOKEN)) == 1
    sync(forge, ledger, rules, [tampered], TODAY + dt.timedelta(days=rules.due_days))  # due today: not late yet
    assert len(robots.texts(LEADERS_TOKEN)) == 1
    for days in (1, 2):
        sync(forge, ledger, rules, [tampered], TODAY + dt.timedelta(days=rules.due_days + days))
    assert [text.split("\n")[0] for text in robots.texts(RIGHTS_KEY)] == [
        "**【巡查】线上内容与审批通过的版本不一致**", "**【巡查·已超期】线上内容与审批通过的版本不一致**"]
    assert len(robots.texts(LEADERS_TOKEN)) == 2  # once, however long it stays late
