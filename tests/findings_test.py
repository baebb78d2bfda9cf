"""Article 7(2): findings as forge issues, one per finding, closed by the re-check that no longer sees it."""
from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

from pipeline import forge as forge_module
from pipeline.findings import open_issues, sync
from pipeline.ledger import SANDBOX_BRANCH, Ledger
from pipeline.patrol import Finding
from pipeline.policy import Policy
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


def _setup(tmp_path: Path, notifications: bool = True) -> tuple[Path, Policy, Ledger, forge_module.Forge]:
    root = make_root(tmp_path)
    if notifications:
        with_notifications(root)
    init_git(root)
    return root, policy(root), Ledger(root, branch=SANDBOX_BRANCH), forge_module.from_environment()


EXPIRED = Finding("expired:content/rights/a", "expired", "warn", "已过期的通知仍在线上：《维权须知》", "《维权须知》已过期",
                  "content/rights/a", "rights")
TAMPERED = Finding("tampered:content/rights/a", "tampered", "fail", "线上内容与审批通过的版本不一致（疑似被篡改）：《维权须知》",
                   "《维权须知》的正文不同", "content/rights/a", "rights", "-原文\n+篡改")
DUTY = {0: "zhao-min", 1: "qian-li", 2: "zhao-min", 3: "qian-li", 4: "wang-jun", 5: "zhao-min", 6: "qian-li"}[TODAY.weekday()]


def test_an_issue_opened_is_told_to_its_department_and_an_overdue_one_to_the_management_group_too(
        fake: ForgeFake, robots: RobotFake, tmp_path: Path) -> None:
    _, rules, ledger, forge = _setup(tmp_path)
    late_comment = Finding("comment:m:0:1", "comment", "warn", "留言超过 5 个工作日未答复", "读者问[这里](http://x)",
                           "content/office/a", "office", due=(TODAY - dt.timedelta(days=1)).isoformat())
    assert sync(forge, ledger, rules, [EXPIRED], TODAY).warnings == ()
    assert sync(forge, ledger, rules, [late_comment], TODAY, scope="inbox", label="留言").warnings == ()
    (opened,) = robots.texts(RIGHTS_KEY)
    due = (TODAY + dt.timedelta(days=rules.due_days)).isoformat()
    assert opened.startswith("**【巡查】已过期的通知仍在线上：《维权须知》**") and f"**办理期限：{due}**" in opened
    assert "责任部门：法律和权益保障部" in opened
    (comment,) = robots.texts(OFFICE_KEY)
    assert comment.startswith("**【留言·已超期】留言超过 5 个工作日未答复**") and "读者问［这里］（http://x）" in comment
    assert len(robots.texts(LEADERS_TOKEN)) == 1
    sync(forge, ledger, rules, [EXPIRED], TODAY + dt.timedelta(days=rules.due_days))  # due today: not late yet
    assert len(robots.texts(LEADERS_TOKEN)) == 1
    for days in (1, 2):
        sync(forge, ledger, rules, [EXPIRED], TODAY + dt.timedelta(days=rules.due_days + days))
    assert [text.split("\n")[0] for text in robots.texts(RIGHTS_KEY)] == [
        "**【巡查】已过期的通知仍在线上：《维权须知》**", "**【巡查·已超期】已过期的通知仍在线上：《维权须知》**"]
    assert len(robots.texts(LEADERS_TOKEN)) == 2  # once, however long it stays late


def test_a_late_finding_is_retitled_and_escalated_once_to_the_leader_in_charge_then_closed_by_the_re_check(
        fake: ForgeFake, tmp_path: Path) -> None:
    _, rules, ledger, forge = _setup(tmp_path, notifications=False)
    sync(forge, ledger, rules, [EXPIRED], TODAY)
    (issue,) = fake.issues
    assert issue["title"] == "【巡查】已过期的通知仍在线上：《维权须知》" and [a["login"] for a in issue["assignees"]] == ["liu-yang"]
    sync(forge, ledger, rules, [EXPIRED], TODAY + dt.timedelta(days=rules.due_days))
    assert issue["comments"] == [] and issue["title"] == "【巡查】已过期的通知仍在线上：《维权须知》"
    late = TODAY + dt.timedelta(days=rules.due_days + 1)
    assert sync(forge, ledger, rules, [EXPIRED], late).escalated == 1
    assert issue["title"] == "【巡查·已超期】已过期的通知仍在线上：《维权须知》"
    (escalation,) = issue["comments"]
    due = (TODAY + dt.timedelta(days=rules.due_days)).isoformat()
    assert escalation["body"].startswith(f"@qian-li 本问题已超过整改期限（{due}），仍未整改。按第七条第二款提请分管领导督办。")
    assert sync(forge, ledger, rules, [EXPIRED], late + dt.timedelta(days=1)).escalated == 0  # once
    assert len(issue["comments"]) == 1
    assert sync(forge, ledger, rules, [], late + dt.timedelta(days=2)).counts["closed"] == 1  # the re-check still closes it
    assert issue["state"] == "closed" and "复查：问题已整改，自动关闭" in issue["comments"][-1]["body"]


def test_what_no_department_owns_escalates_to_the_leaders_in_charge(fake: ForgeFake, tmp_path: Path) -> None:
    _, rules, ledger, forge = _setup(tmp_path, notifications=False)
    stale = Finding("stale", "stale", "warn", "已 12 天没有发布新内容", "详情")
    sync(forge, ledger, rules, [stale], TODAY)
    sync(forge, ledger, rules, [stale], TODAY + dt.timedelta(days=rules.due_days + 1))
    (escalation,) = fake.issues[0]["comments"]
    assert escalation["body"].startswith("@zhao-min @qian-li 本问题已超过整改期限")  # the group's deputies
    assert "- 责任部门：管理员" in escalation["body"]


def test_the_finding_s_own_due_date_and_title_are_kept_on_the_issue(fake: ForgeFake, tmp_path: Path) -> None:
    _, rules, ledger, forge = _setup(tmp_path, notifications=False)
    reply_by = (TODAY + dt.timedelta(days=7)).isoformat()
    asked = Finding("comment:m:0:2", "comment", "warn", "读者留言待答复", "读者问", "content/office/a", "office", due=reply_by)
    sync(forge, ledger, rules, [asked], TODAY, scope="inbox", label="留言")
    (issue,) = fake.issues
    assert f"整改期限：{reply_by}" in issue["body"]
    if fake.flavour == "gitea":
        assert issue["due_date"] == f"{reply_by}T23:59:59+08:00"
    renamed = dataclasses.replace(asked, title="读者留言待答复（已催办）")
    sync(forge, ledger, rules, [renamed], TODAY + dt.timedelta(days=1), scope="inbox", label="留言")
    assert issue["title"] == "【留言】读者留言待答复（已催办）" and issue["comments"] == []  # not late: its own date
    sync(forge, ledger, rules, [renamed], TODAY + dt.timedelta(days=8), scope="inbox", label="留言")
    assert issue["title"] == "【留言·已超期】读者留言待答复（已催办）"
    assert issue["comments"][0]["body"].startswith("@zhao-min 本问题已超过整改期限")  # the office's leader in charge


def test_a_due_date_that_moves_later_moves_the_issue_s_and_escalates_only_when_missed(fake: ForgeFake, tmp_path: Path) -> None:
    """A department's comments issue is due on its earliest waiting comment: answered, the next one sets it."""
    _, rules, ledger, forge = _setup(tmp_path, notifications=False)
    first, later = (TODAY + dt.timedelta(days=2)).isoformat(), (TODAY + dt.timedelta(days=9)).isoformat()
    waiting = Finding("department:office", "comment", "warn", "办公室：2 条读者留言待答复", "……", "", "office", due=first)
    sync(forge, ledger, rules, [waiting], TODAY, scope="inbox", label="留言")
    answered_one = dataclasses.replace(waiting, title="办公室：1 条读者留言待答复", due=later)
    assert sync(forge, ledger, rules, [answered_one], TODAY + dt.timedelta(days=3), scope="inbox", label="留言").escalated == 0
    (issue,) = fake.issues
    assert f"整改期限：{later}" in issue["body"] and issue["comments"] == []
    assert issue["title"] == "【留言】办公室：1 条读者留言待答复"
    if fake.flavour == "gitea":
        assert issue["due_date"] == f"{later}T23:59:59+08:00"
    assert open_issues(ledger.events)["inbox/department:office"].due == later
    assert sync(forge, ledger, rules, [answered_one], TODAY + dt.timedelta(days=10), scope="inbox", label="留言").escalated == 1


def test_a_serious_finding_alerts_the_administrators_and_the_leaders_at_once(
        fake: ForgeFake, robots: RobotFake, tmp_path: Path) -> None:
    _, rules, ledger, forge = _setup(tmp_path)
    assert sync(forge, ledger, rules, [TAMPERED], TODAY).warnings == ()
    (issue,) = fake.issues
    leaders = list(dict.fromkeys(["wang-jun", DUTY, "sun-hao"]))
    assert [a["login"] for a in issue["assignees"]] == ["liu-yang", *leaders]
    assert issue["title"] == "【巡查·紧急】线上内容与审批通过的版本不一致（疑似被篡改）：《维权须知》"
    assert all(f"@{person}" in issue["body"] for person in leaders) and "```diff\n-原文\n+篡改\n```" in issue["body"]
    assert "按第九条第二款，已同时报告管理员、管理小组组长和当日值班领导：王军（@wang-jun）" in issue["body"]
    (alert,) = robots.texts(LEADERS_TOKEN)  # the group leader, the duty leader and the management group share it
    assert alert.startswith("#### 【巡查·紧急】线上内容与审批通过的版本不一致（疑似被篡改）：《维权须知》")
    assert "按第九条第二款报告管理员、管理小组组长和当日值班领导" in alert
    assert robots.texts(OFFICE_KEY)[0].startswith("**【巡查·紧急】")  # the administrator sun-hao's group
    assert robots.texts(RIGHTS_KEY)[0].startswith("**【巡查】线上内容")  # the department, with its due date
    sync(forge, ledger, rules, [TAMPERED], TODAY + dt.timedelta(days=1))
    assert len(robots.texts(LEADERS_TOKEN)) == 1 and len(robots.texts(OFFICE_KEY)) == 1  # once per finding


def test_routine_findings_do_not_alert_the_leaders(fake: ForgeFake, robots: RobotFake, tmp_path: Path) -> None:
    _, rules, ledger, forge = _setup(tmp_path)
    sync(forge, ledger, rules, [EXPIRED], TODAY)
    assert [a["login"] for a in fake.issues[0]["assignees"]] == ["liu-yang"]
    assert robots.texts(LEADERS_TOKEN) == [] and robots.texts(OFFICE_KEY) == []


def test_the_first_seen_time_is_recorded_before_the_forge_is_asked(fake: ForgeFake, robots: RobotFake, tmp_path: Path,
                                                                     monkeypatch) -> None:
    _, rules, ledger, forge = _setup(tmp_path)
    monkeypatch.setenv("GITHUB_REPOSITORY", "union/moved-away")  # every issue call answers 404
    moved = forge_module.from_environment()
    synced = sync(moved, ledger, rules, [TAMPERED], TODAY)
    assert synced.failure.startswith("⚠ 平台上的问题没有全部同步（") and fake.issues == []
    (alert,) = robots.texts(LEADERS_TOKEN)  # the leaders hear of it all the same
    (seen,) = open_issues(ledger.events).values()
    assert seen.issue == 0 and len(seen.seen_at) == len("2026-11-28 08:30") and seen.seen_at.startswith(TODAY.isoformat())
    sync(forge, ledger, rules, [TAMPERED], TODAY + dt.timedelta(days=1))
    (issue,) = fake.issues
    assert f"首次发现：{seen.seen_at}" in issue["body"] and f"整改期限：{seen.due}" in issue["body"]
    assert len(robots.texts(LEADERS_TOKEN)) == 1  # not told twice
