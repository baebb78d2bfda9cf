"""Article 9: taking an article down in an emergency, notifying and recording the incident."""
from __future__ import annotations

from pathlib import Path

import pytest

from pipeline import emergency
from pipeline.commands import emergency as emergency_command
from pipeline.errors import GzhError
from pipeline.ledger import SANDBOX_BRANCH, Event, Kind, Ledger
from tests.notify_fake import LEADERS_TOKEN, OFFICE_KEY, robots, with_notifications
from tests.operations_support import TODAY, article_ids, gzh, published, run_workflow

__all__ = ["robots"]  # the fixture, imported for pytest

DUTY = {0: "zhao-min", 1: "qian-li", 2: "zhao-min", 3: "qian-li", 4: "wang-jun", 5: "zhao-min", 6: "qian-li"}[TODAY.weekday()]
NAMES = {"zhao-min": "赵敏", "qian-li": "钱立", "wang-jun": "王军"}
PEOPLE = "、".join(f"{NAMES[user]}（@{user}）" for user in dict.fromkeys(("wang-jun", DUTY))) + "、孙浩（@sun-hao）"


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
    assert "【应急处置】" in notice["title"] and "@wang-jun" in notice["body"] and f"@{DUTY}" in notice["body"]
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


def _incident_events(account) -> list:
    return [event for event in Ledger(account.root, branch=SANDBOX_BRANCH).events if event.kind == "incident"]


def test_a_second_takedown_of_the_same_article_neither_deletes_nor_tells_again(ops, robots, capsys) -> None:
    account, forge = ops
    with_notifications(account.root)
    outcome = published(account, "a")[0]
    assert emergency_command.takedown_command(account.root, outcome.url, "错误信息",
                                              credentials=account.sandbox.credentials) == 0
    capsys.readouterr()
    (opened, _) = _incident_events(account)  # opened, then told on the forge
    takedown = next(event for event in Ledger(account.root, branch=SANDBOX_BRANCH).events if event.kind == "takedown")
    assert emergency_command.takedown_command(account.root, "content/office/a", "又发现一次",
                                              credentials=account.sandbox.credentials) == 0
    assert capsys.readouterr().out == (
        f"《content/office/a》已于 {emergency.minute(takedown.time)} 下线（事件 {opened.data['id']}），这次没有再删除，"
        f"也没有再通知。事件记录：gzh-ledger-sandbox:{opened.data['path']}\n")
    assert len(forge.issues) == 1 and len(_incident_events(account)) == 2 and len(robots.texts(LEADERS_TOKEN)) == 1


def test_closing_an_incident_closes_its_forge_issue(ops, capsys) -> None:
    account, forge = ops
    outcome = published(account, "a")[0]
    emergency_command.takedown_command(account.root, outcome.url, "错误信息", credentials=account.sandbox.credentials)
    incident = _incident_events(account)[0].data["id"]
    capsys.readouterr()
    assert emergency_command.close_command(account.root, incident, "已恢复", credentials=account.sandbox.credentials) == 0
    issue = forge.issues[-1]
    assert capsys.readouterr().out.endswith(f"平台上的问题 #{issue['number']} 已关闭\n")
    assert issue["state"] == "closed" and "@sun-hao 结案：已恢复" in issue["comments"][-1]["body"]
    again = pytest.raises(GzhError, emergency_command.close_command, account.root, incident, "再结一次",
                          credentials=account.sandbox.credentials)
    assert str(again.value) == f"事件 {incident} 已经结案了"


def test_the_written_report_goes_into_the_incident_record(ops, capsys, monkeypatch, tmp_path: Path) -> None:
    account, _ = ops
    outcome = published(account, "a")[0]
    emergency_command.takedown_command(account.root, outcome.url, "错误信息", credentials=account.sandbox.credentials)
    opened = _incident_events(account)[0].data
    report = tmp_path / "report.md"
    report.write_text("### 事件经过\n\n11 月 28 日发现文章被篡改，当即下线。\n", "utf-8")
    capsys.readouterr()
    code, out, _ = gzh(account, monkeypatch, capsys, "emergency", "report", opened["id"], "--file", str(report),
                       "--today", "2026-12-01")
    assert code == 0 and out == f"书面报告已写进事件 {opened['id']} 的记录：gzh-ledger-sandbox:{opened['path']}\n"
    record = Ledger(account.root, branch=SANDBOX_BRANCH).read_document(opened["path"])
    assert emergency.PLACEHOLDER not in record
    assert "## 书面报告\n\n### 事件经过\n\n11 月 28 日发现文章被篡改，当即下线。\n\n（书面报告由 @sun-hao 于 2026-12-01 " in record
    code, _, err = gzh(account, monkeypatch, capsys, "emergency", "report", opened["id"], "--file", str(tmp_path / "no.md"))
    assert code == 2 and err.strip() == f"读不到书面报告文件 {tmp_path / 'no.md'}：请确认路径，文件须是 UTF-8 编码的文字（Markdown）"


@pytest.mark.parametrize("used", ["ledger", "wechat"])
def test_when_the_day_s_deletions_are_used_the_leaders_are_told_to_delete_by_hand(ops, robots, capsys, used: str) -> None:
    account, forge = ops
    with_notifications(account.root)
    outcome = published(account, "a")[0]
    ledger = Ledger(account.root, branch=SANDBOX_BRANCH)
    if used == "ledger":  # ten takedowns by gzh today
        ledger.append(*(Event(Kind.TAKEDOWN, f"content/office/x{n}", data={"article_id": f"x{n}"}) for n in range(10)))
    else:  # used up in the web console: WeChat says 45009
        account.sandbox.control("quotas", {"freepublish/delete": 0})
    refused = pytest.raises(GzhError, emergency_command.takedown_command, account.root, outcome.url, "错误信息",
                            credentials=account.sandbox.credentials)
    assert str(refused.value) == (
        "今天的删除次数已用完（微信每天只允许删除 10 次），《content/office/a》仍在线上，没有删除。请管理员立即登录公众平台"
        "（mp.weixin.qq.com），在“内容与互动 → 发表记录”中找到这篇文章，点“删除”手动删除，并在平台上的问题中注明删除时间。"
        f"已记入账本，并通知：{PEOPLE}")
    assert len(account.articles()) == 1  # still online
    manual = [event for event in Ledger(account.root, branch=SANDBOX_BRANCH).events if event.kind == "error"]
    assert [(event.post, event.data["manual"], event.data["code"]) for event in manual] == [("content/office/a", True, 45009)]
    issue = forge.issues[-1]
    assert issue["title"] == "【应急处置】删除次数已用完，须手动删除：content/office/a"
    assert "“内容与互动 → 发表记录”中找到这篇文章，点“删除”手动删除" in issue["body"] and "@wang-jun" in issue["body"]
    (leaders,) = robots.texts(LEADERS_TOKEN)
    assert leaders.startswith("#### 【应急处置】删除次数已用完，须手动删除：content/office/a")
    assert "请管理员立即在公众平台“内容与互动 → 发表记录”中删除" in leaders
    assert _incident_events(account) == []  # nothing was taken down yet


def test_after_a_takedown_the_status_says_taken_down_and_why(ops, capsys) -> None:
    from pipeline.commands.status import status_command

    account, _ = ops
    outcome = published(account, "a")[0]
    emergency_command.takedown_command(account.root, outcome.url, "错误信息", credentials=account.sandbox.credentials)
    capsys.readouterr()
    assert status_command(account.root, sandbox=True) == 0
    assert capsys.readouterr().out == f"已下线  文章a  原因：错误信息（原链接 {outcome.url}）\n"
