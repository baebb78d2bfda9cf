"""Article 9: taking an article down in an emergency, notifying and recording the incident."""
from __future__ import annotations

from pathlib import Path

from pipeline.commands import emergency as emergency_command
from pipeline.ledger import SANDBOX_BRANCH, Ledger
from tests.notify_fake import LEADERS_TOKEN, OFFICE_KEY, robots, with_notifications
from tests.operations_support import TODAY, article_ids, published, run_workflow

__all__ = ["robots"]  # the fixture, imported for pytest


def test_tampered_article_is_taken_down_notified_and_its_incident_recorded_and_closed(ops, capsys) -> None:
    account, forge = ops
    outcome = published(account, "a")[0]
    account.sandbox.control("article", {"article_id": article_ids(account)[0], "do": "tamper",
                                        "content": "<section><p>被篡改的虚假通知。</p></section>"})
    assert emergency_command.takedown_command(account.root, outcome.url, "线上内容被篡改",
                                              credentials=account.sandbox.credentials) == 0
    out = capsys.readouterr().out
    assert account.articles() == [] and "事件记录：gzh-ledger-sandbox:incidents/" in out
    notice = forge.issues[-1]
    duty = {0: "zhao-min", 1: "qian-li", 2: "zhao-min", 3: "qian-li", 4: "wang-jun", 5: "zhao-min", 6: "qian-li"}[TODAY.weekday()]
    assert "【应急处置】" in notice["title"] and "@wang-jun" in notice["body"] and f"@{duty}" in notice["body"]
    ledger = Ledger(account.root, branch=SANDBOX_BRANCH)
    incident = next(event for event in ledger.events if event.kind == "incident")
    record = ledger.read_document(incident.data["path"])
    assert "线上内容被篡改" in record and "| 当前状态 | 处置中 |" in record and "@sun-hao" in record
    assert emergency_command.close_command(account.root, incident.data["id"], "已恢复并完成书面报告",
                                           credentials=account.sandbox.credentials) == 0
    assert "| 当前状态 | 已结案 |" in Ledger(account.root, branch=SANDBOX_BRANCH).read_document(incident.data["path"])


def test_a_takedown_is_told_in_the_management_group_s_and_the_leaders_groups(ops, robots, capsys, monkeypatch) -> None:
    account, forge = ops
    monkeypatch.setenv("GITHUB_SERVER_URL", "https://forge.example")
    with_notifications(account.root)
    outcome = published(account, "a")[0]
    assert emergency_command.takedown_command(account.root, outcome.url, "线上内容被篡改，电话13912345678",
                                              credentials=account.sandbox.credentials) == 0
    assert "⚠" not in capsys.readouterr().out
    (leaders,) = robots.texts(LEADERS_TOKEN)  # the group leader, the duty leader and the management group share it
    assert leaders.startswith("#### 【应急处置】已下线：content/office/a")
    assert "原因：线上内容被篡改，电话139****5678" in leaders and "执行人：sun-hao；事件记录：gzh-ledger-sandbox:incidents/" in leaders
    assert f"[查看详情](https://forge.example/{forge.repository}/issues/{forge.issues[-1]['number']})" in leaders
    (administrator,) = robots.texts(OFFICE_KEY)  # sun-hao, the administrator, is told in the office's group
    assert administrator.startswith("**【应急处置】已下线：content/office/a**")


def test_the_emergency_workflow_runs_this_command(ops, robots, tmp_path: Path) -> None:
    """emergency.yml's own script, run as the runner would (it must not drift from the command); its env
    carries the robots' keys."""
    account, forge = ops
    with_notifications(account.root)
    outcome = published(account, "a")[0]
    step = run_workflow(account, forge, tmp_path, "emergency.yml", "emergency",
                        {"github.actor": "sun-hao", "inputs.action": "takedown", "inputs.target": outcome.url,
                         "inputs.reason": "演练：内容被篡改"})
    assert step.returncode == 0 and "已下线" in step.stdout and "⚠" not in step.stdout, step.stderr
    assert account.articles() == [] and len(robots.texts(LEADERS_TOKEN)) == 1


def test_after_a_takedown_the_status_says_taken_down(ops, capsys) -> None:
    from pipeline.commands.status import status_command

    account, _ = ops
    outcome = published(account, "a")[0]
    assert emergency_command.takedown_command(account.root, outcome.url, "错误信息",
                                              credentials=account.sandbox.credentials) == 0
    capsys.readouterr()
    assert status_command(account.root, sandbox=True) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 and lines[0].startswith("已下线") and outcome.url in lines[0]
