"""Article 9: taking an article down in an emergency, notifying and recording the incident."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from pipeline import emergency
from pipeline.commands import emergency as emergency_command
from pipeline.errors import GzhError
from pipeline.ledger import SANDBOX_BRANCH, Event, Kind, Ledger, Phase
from pipeline.posts import BEIJING
from tests.notify_fake import LEADERS_TOKEN, OFFICE_KEY, robots, with_notifications
from tests.operations_support import TODAY, article_ids, gzh, patrol, published, run_workflow

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
    assert leaders.startswith("#### 【应急处置】已下线：文章a")
    assert "原因：线上内容被篡改，电话139****5678" in leaders and "执行人：sun-hao；事件记录：gzh-ledger-sandbox:incidents/" in leaders
    assert f"[查看详情](https://forge.example/{forge.repository}/issues/{forge.issues[-1]['number']})" in leaders
    (administrator,) = robots.texts(OFFICE_KEY)  # sun-hao, the administrator, is told in the office's group
    assert administrator.startswith("**【应急处置】已下线：文章a**")


def test_the_emergency_workflow_runs_this_command(ops, robots, tmp_path: Path) -> None:
    """emergency.yml's own script, run as the runner would (it must not drift from the command); its env
    carries the robots' keys."""
    account, forge = ops
    with_notifications(account.root)
    outcome = published(account, "a")[0]
    step = run_workflow(account, forge, tmp_path, "emergency.yml", "emergency",
                        {"github.triggering_actor": "sun-hao", "inputs.action": "takedown", "inputs.target": outcome.url,
                         "inputs.reason": "演练：内容被篡改", "inputs.report": ""})
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
        f"《文章a》已于 {emergency.minute(takedown.time)} 下线（事件 {opened.data['id']}），这次没有再删除，"
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


def test_report_and_close_find_the_incident_by_its_article_too(ops, capsys, monkeypatch, tmp_path: Path) -> None:
    """A written rehearsal script cannot know the incident's id in advance; it knows the article."""
    account, _ = ops
    published(account, "a")
    gzh(account, monkeypatch, capsys, "emergency", "takedown", "content/office/a", "--reason", "线上内容被篡改")
    opened = _incident_events(account)[0].data
    report = tmp_path / "report.md"
    report.write_text("### 事件经过\n\n演练。\n", "utf-8")
    code, out, _ = gzh(account, monkeypatch, capsys, "emergency", "report", "content/office/a/", "--file", str(report))
    assert code == 0 and out.startswith(f"书面报告已写进事件 {opened['id']} 的记录")
    code, out, _ = gzh(account, monkeypatch, capsys, "emergency", "close", "content/office/a", "--summary", "已处置")
    assert code == 0 and out.startswith(f"事件 {opened['id']} 已结案")
    code, _, err = gzh(account, monkeypatch, capsys, "emergency", "close", "content/office/a", "--summary", "再一次")
    assert code == 1 and err.strip() == f"事件 {opened['id']} 已经结案了"
    code, _, err = gzh(account, monkeypatch, capsys, "emergency", "close", "content/office/b", "--summary", "没有")
    assert code == 1 and "没有编号为 content/office/b 的事件记录" in err


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
        "今天的删除次数已用完（微信每天只允许删除 10 次），《文章a》仍在线上，没有删除。请管理员立即登录公众平台"
        "（mp.weixin.qq.com），在“内容与互动 → 发表记录”中找到这篇文章，点“删除”手动删除，"
        "删除后运行 gzh emergency takedown content/office/a --reason … 补记：立案、记下处置时间并报告（已删除的文章不会再删一次）。"
        f"已记入账本，并通知：{PEOPLE}")
    assert len(account.articles()) == 1  # still online
    manual = [event for event in Ledger(account.root, branch=SANDBOX_BRANCH).events if event.kind == "error"]
    assert [(event.post, event.data["manual"], event.data["code"]) for event in manual] == [("content/office/a", True, 45009)]
    issue = forge.issues[-1]
    assert issue["title"] == "【应急处置】删除次数已用完，须手动删除：文章a"
    assert "“内容与互动 → 发表记录”中找到这篇文章，点“删除”手动删除" in issue["body"] and "@wang-jun" in issue["body"]
    (leaders,) = robots.texts(LEADERS_TOKEN)
    assert leaders.startswith("#### 【应急处置】删除次数已用完，须手动删除：文章a")
    assert "请管理员立即在公众平台“内容与互动 → 发表记录”中删除" in leaders
    assert _incident_events(account) == []  # nothing was taken down yet
    # the administrator deletes it in the MP console, then records it the same day, as the issue says
    assert "再运行 gzh emergency takedown content/office/a --reason … 补记" in issue["body"]
    account.sandbox.control("article", {"article_id": manual[0].data["article_id"], "do": "delete"})
    deletions = len(account.sandbox.calls("freepublish/delete"))
    assert emergency_command.takedown_command(account.root, outcome.url, "错误信息", credentials=account.sandbox.credentials) == 0
    assert "（文章在微信上已被删除，这次只补记，没有再删除，不占用当天的删除次数）" in capsys.readouterr().out
    assert len(account.sandbox.calls("freepublish/delete")) == deletions
    (opened,) = [event for event in _incident_events(account) if "path" in event.data and "reason" in event.data]
    record = Ledger(account.root, branch=SANDBOX_BRANCH).read_document(opened.data["path"])
    assert "文章在微信上已被删除（在公众平台手动删除，或此前的运行删除后中断），这次只补记，未再删除" in record
    assert len(robots.texts(LEADERS_TOKEN)) == 2  # told it is under control


def test_after_a_takedown_the_status_says_taken_down_and_why(ops, capsys) -> None:
    from pipeline.commands.status import status_command

    account, _ = ops
    outcome = published(account, "a")[0]
    emergency_command.takedown_command(account.root, outcome.url, "错误信息", credentials=account.sandbox.credentials)
    capsys.readouterr()
    assert status_command(account.root, sandbox=True) == 0
    assert capsys.readouterr().out == f"已下线  文章a  原因：错误信息（原链接 {outcome.url}）\n"


def _tampered_and_patrolled(account, capsys) -> None:
    published(account, "a")
    account.sandbox.control("article", {"article_id": article_ids(account)[0], "do": "tamper",
                                        "content": "<section><p>被篡改的虚假通知。</p></section>"})
    patrol(account, capsys)


def _seen_at(account) -> str:
    from pipeline.findings import open_issues

    (tracked,) = [item for item in open_issues(Ledger(account.root, branch=SANDBOX_BRANCH).events).values()
                  if item.kind == "tampered"]
    return tracked.seen_at


def test_an_incident_opened_from_a_finding_carries_its_time_and_diff_and_a_takedown_joins_it(
        ops, robots, capsys, monkeypatch) -> None:
    account, forge = ops
    with_notifications(account.root)
    _tampered_and_patrolled(account, capsys)
    finding_issue = forge.issues[0]["number"]
    code, out, err = gzh(account, monkeypatch, capsys, "emergency", "open", f"#{finding_issue}", "--reason", "内容被篡改，核查中")
    assert code == 0 and out.startswith("已立案：文章a\n事件记录：gzh-ledger-sandbox:incidents/"), err
    assert len(account.articles()) == 1  # opened without a takedown
    (opened,) = _incident_events(account)[:1]
    record = Ledger(account.root, branch=SANDBOX_BRANCH).read_document(opened.data["path"])
    assert f"| 发现时间 | {_seen_at(account)} |" in record and "| 处置时间 | —（尚未下线） |" in record
    assert "## 发现与证据" in record and "-a的正文。" in record and "+被篡改的虚假通知。" in record
    assert f"平台上的问题 #{finding_issue}" in record
    incident_issue = forge.issues[-1]
    assert incident_issue["title"] == "【应急处置】立案：文章a" and "@wang-jun" in incident_issue["body"]
    assert robots.texts(LEADERS_TOKEN)[-1].startswith("#### 【应急处置】立案：文章a")
    told = len(robots.texts(LEADERS_TOKEN))
    code, out, _ = gzh(account, monkeypatch, capsys, "emergency", "open", "content/office/a", "--reason", "再立一次")
    assert code == 0 and out.startswith(f"《文章a》已有未结案的事件 {opened.data['id']}，没有重复立案。")
    code, out, _ = gzh(account, monkeypatch, capsys, "emergency", "takedown", "content/office/a", "--reason", "核实为篡改")
    assert code == 0 and f"（并入已立案的事件 {opened.data['id']}）" in out and account.articles() == []
    issues = len(forge.issues)
    assert {event.data["id"] for event in _incident_events(account)} == {opened.data["id"]}  # one incident
    record = Ledger(account.root, branch=SANDBOX_BRANCH).read_document(opened.data["path"])
    assert "| 处置时间 | —（尚未下线） |" not in record and "从公众号删除该文章（freepublish/delete）" in record
    assert incident_issue["comments"][-1]["body"].startswith("**【应急处置】已下线：文章a**")  # on the incident's issue
    assert len(forge.issues) == issues and len(robots.texts(LEADERS_TOKEN)) == told + 1
    code, out, _ = gzh(account, monkeypatch, capsys, "emergency", "list")
    due = next(event for event in _incident_events(account) if event.data.get("due")).data["due"]
    assert out == ("事件编号　文章　状态　书面报告　平台上的问题\n"
                   f"{opened.data['id']}　《文章a》　处置中　截止 {due}　#{incident_issue['number']}\n")


def test_a_takedown_takes_the_time_detected_and_the_evidence_from_the_patrol(ops, capsys) -> None:
    account, forge = ops
    _tampered_and_patrolled(account, capsys)
    assert emergency_command.takedown_command(account.root, "content/office/a", "线上内容被篡改",
                                              credentials=account.sandbox.credentials) == 0
    opened = _incident_events(account)[0].data
    record = Ledger(account.root, branch=SANDBOX_BRANCH).read_document(opened["path"])
    assert f"| 发现时间 | {_seen_at(account)} |" in record and "+被篡改的虚假通知。" in record
    assert opened["finding"] == "patrol/tampered:content/office/a"


def test_a_banned_article_is_recorded_by_its_folder_and_an_incident_by_hand_needs_no_finding(ops, capsys, monkeypatch) -> None:
    account, forge = ops
    published(account, "a")
    account.sandbox.control("article", {"article_id": article_ids(account)[0], "do": "ban"})
    patrol(account, capsys)
    code, out, _ = gzh(account, monkeypatch, capsys, "emergency", "open", "content/office/a", "--reason", "文章被平台封禁")
    assert code == 0 and out.startswith("已立案：文章a")
    record = Ledger(account.root, branch=SANDBOX_BRANCH).read_document(_incident_events(account)[0].data["path"])
    assert "巡查发现：已发布的文章被平台封禁：《文章a》" in record
    code, out, _ = gzh(account, monkeypatch, capsys, "emergency", "open", "--by-hand", "--reason", "公众号密码疑似泄露")
    assert code == 0 and out.startswith("已立案：—")
    by_hand = [event.data for event in _incident_events(account) if event.data["id"].endswith("-manual")]
    assert by_hand[0]["article_id"] == "" and by_hand[0]["finding"] == "" and by_hand[-1]["issue"]
    code, _, err = gzh(account, monkeypatch, capsys, "emergency", "open", "--reason", "缺了对象")
    assert code == 2 and "请写巡查发现（问题编号、发现编号或文章），或用 --by-hand 手动立案，二者选一" in err
    code, _, err = gzh(account, monkeypatch, capsys, "emergency", "open", "#999", "--reason", "没有这个")
    assert code == 1 and "找不到未关闭的巡查发现“#999”" in err


@pytest.mark.parametrize("target", ["", " ", "/"])
def test_an_empty_target_never_matches_an_article(ops, capsys, monkeypatch, target: str) -> None:
    """An article whose publication answer carried no URL has url "": an empty target must not find it."""
    account, _ = ops
    published(account, "a")
    ledger = Ledger(account.root, branch=SANDBOX_BRANCH)
    ledger.append(Event(Kind.PUBLISH, "content/office/b", Phase.RESULT, {"article_id": "ARTnourl", "url": "", "version": "v"}))
    with pytest.raises(GzhError, match="找不到要下线的文章"):
        emergency.find_target(ledger, target)
    code, _, err = gzh(account, monkeypatch, capsys, "emergency", "takedown", target, "--reason", "空")
    assert code == 1 and len(account.articles()) == 1


def test_two_incidents_opened_by_hand_in_one_minute_are_two_records(ops, capsys, monkeypatch) -> None:
    account, forge = ops
    for reason in ("公众号密码疑似泄露", "后台有陌生登录"):
        assert gzh(account, monkeypatch, capsys, "emergency", "open", "--by-hand", "--reason", reason, "--today", "2026-12-01")[0] == 0
    opened = [event.data for event in _incident_events(account) if "reason" in event.data]
    assert len({data["id"] for data in opened}) == 2 and len({data["path"] for data in opened}) == 2
    code, out, _ = gzh(account, monkeypatch, capsys, "emergency", "list")
    assert code == 0 and all(data["id"] in out for data in opened) and len(forge.issues) == 2


def _dispatch(account, forge, folder: Path, inputs: dict[str, str]):
    """emergency.yml's step run again: the ledger's branch carried from the last run's remote into the next."""
    if account.repo.remotes:
        last = account.repo.remotes.origin.url
        account.repo.git.fetch(last, f"+{SANDBOX_BRANCH}:{SANDBOX_BRANCH}")
        account.repo.delete_remote("origin")
    folder.mkdir()
    return run_workflow(account, forge, folder, "emergency.yml", "emergency", inputs)


def test_the_emergency_workflow_opens_reports_and_lists(ops, tmp_path: Path) -> None:
    """open, report (the text from an input, through a file, never in the script) and list, as emergency.yml runs them."""
    import git

    account, forge = ops
    published(account, "a")
    context = {"github.triggering_actor": "sun-hao", "inputs.action": "open", "inputs.target": "", "inputs.reason": "演练：手动立案",
               "inputs.report": ""}
    step = _dispatch(account, forge, tmp_path / "open", context)
    assert step.returncode == 0 and step.stdout.startswith("已立案：—"), step.stderr
    incident = step.stdout.split("incidents/")[1].split(".md")[0]
    hostile = '$(touch pwned) `id` "; exit 1; "\n### 事件经过\n演练。'
    step = _dispatch(account, forge, tmp_path / "report", {**context, "inputs.action": "report", "inputs.target": incident,
                                                           "inputs.report": hostile})
    assert step.returncode == 0 and step.stdout.startswith(f"书面报告已写进事件 {incident} 的记录"), step.stderr
    step = _dispatch(account, forge, tmp_path / "list", {**context, "inputs.action": "list"})
    assert step.returncode == 0 and f"{incident}　《—》　处置中　已提交　#" in step.stdout, step.stderr
    record = git.Repo(account.repo.remotes.origin.url).git.show(f"{SANDBOX_BRANCH}:incidents/{incident}.md")
    assert '$(touch pwned) `id` "; exit 1; "\n### 事件经过\n演练。' in record and not (account.root / "pwned").exists()


class _LookingWeChat:
    """freepublish/getarticle answering `reply`; deletes are counted (the sandbox answers only well-formed replies)."""

    def __init__(self, reply: object) -> None:
        self.reply, self.deleted = reply, 0

    def get_article(self, article_id: str) -> object:
        return self.reply

    def delete_article(self, article_id: str, index: int) -> None:
        self.deleted += 1


@pytest.mark.parametrize("reply, deletion", [
    ({"news_item": [{"is_deleted": True}]}, emergency.Deletion.GONE),
    ({"news_item": [{"is_deleted": False}]}, emergency.Deletion.DELETED),
    ({"news_item": "is_deleted"}, emergency.Deletion.DELETED),       # malformed: says nothing, the delete goes ahead
    ({"news_item": ["is_deleted"]}, emergency.Deletion.DELETED),
    ({"news_item": [{"is_deleted": "false"}]}, emergency.Deletion.DELETED),
    ({"news_item": []}, emergency.Deletion.DELETED),
    ({}, emergency.Deletion.DELETED),
])
def test_only_a_well_formed_is_deleted_spares_the_delete(reply: object, deletion: emergency.Deletion) -> None:
    class NoEvents:
        events: list[Event] = []

    wechat = _LookingWeChat(reply)
    target = emergency.Target("content/office/a", "ARTa", "", "文章a")
    removal = emergency.Removal(None, wechat, NoEvents(), dt.datetime(2026, 11, 29, 9, tzinfo=BEIJING), target, None)  # type: ignore[arg-type]
    assert emergency.delete(removal) is deletion
    assert wechat.deleted == (0 if deletion is emergency.Deletion.GONE else 1)
