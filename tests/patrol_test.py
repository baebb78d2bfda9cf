"""Article 7: the daily patrol of the live account, through the sandbox and the forge fakes."""
from __future__ import annotations

import datetime as dt
import shutil
import time
from pathlib import Path

from pipeline.ledger import SANDBOX_BRANCH, Event, Ledger
from tests.notify_fake import LEADERS_TOKEN, OFFICE_KEY, robots, with_notifications
from tests.operations_support import TODAY, article_ids, gzh, patrol, published, run_workflow

__all__ = ["robots"]  # the fixture, imported for pytest


def test_clean_account_passes_and_the_report_is_kept_in_the_ledger(ops, capsys) -> None:
    account, forge = ops
    published(account, "a")
    code, out = patrol(account, capsys)
    assert code == 0 and "**结论：合格**" in out and "没有发现问题。" in out and forge.issues == []
    ledger = Ledger(account.root, branch=SANDBOX_BRANCH)
    assert ledger.read_document(f"patrols/{TODAY.isoformat()}.md").startswith("# 公众号日常巡查报告")


def test_tampered_article_is_detected_and_reported_with_the_diff(ops, capsys) -> None:
    account, forge = ops
    published(account, "a")
    account.sandbox.control("article", {"article_id": article_ids(account)[0], "do": "tamper",
                                        "content": "<section><p>被篡改的虚假通知。</p></section>"})
    code, out = patrol(account, capsys)
    assert code == 1 and "**结论：不合格**" in out and "疑似被篡改" in out
    assert "-a的正文。" in out and "+被篡改的虚假通知。" in out  # the report shows the diff
    issue = forge.issues[0]
    assert "疑似被篡改" in issue["title"] and "@li-na" in issue["body"]  # the owning department's head


def test_article_deleted_outside_the_pipeline_is_reported(ops, capsys) -> None:
    account, forge = ops
    published(account, "a")
    account.sandbox.control("article", {"article_id": article_ids(account)[0], "do": "delete"})
    code, out = patrol(account, capsys)
    assert code == 1 and "已发布的文章被删除（不是经本流程删除的）" in out


def test_banned_and_unknown_articles_are_reported(ops, capsys) -> None:
    account, forge = ops
    published(account, "a", "b")
    first, second = article_ids(account)
    account.sandbox.control("article", {"article_id": first, "do": "ban"})
    wechat = account.publisher().wechat
    media_id, _ = wechat.add_image_material("c.png", (account.root / "templates" / "cover-default.jpg").read_bytes())
    title = "[领补贴](https://e.cn) @yz/all"  # whoever published it outside the pipeline wrote this
    wechat.submit(wechat.draft_add({"title": title, "content": "<p>x</p>", "thumb_media_id": media_id}))
    code, out = patrol(account, capsys)
    assert "已发布的文章被平台封禁" in out and "线上有未经本流程发布的文章" in out
    unknown = next(issue for issue in forge.issues if "未经本流程发布" in issue["title"])
    assert "](https://e.cn)" not in unknown["body"] and "@yz/all" not in unknown["body"] and "＠yz/all" in unknown["body"]


def test_two_weeks_without_publication_fails(ops, capsys) -> None:
    account, forge = ops
    published(account, "a")
    assert patrol(account, capsys, TODAY + dt.timedelta(days=10))[0] == 0  # a warning only
    code, out = patrol(account, capsys, TODAY + dt.timedelta(days=14))
    assert code == 1 and "已 14 天没有发布新内容" in out and "单项否决" in out


def test_today_is_set_on_the_command_line_for_a_rehearsal(ops, capsys, monkeypatch) -> None:
    account, forge = ops
    published(account, "a", expires=(TODAY + dt.timedelta(days=3)).isoformat())
    later = TODAY + dt.timedelta(days=14)
    code, out, _ = gzh(account, monkeypatch, capsys, "patrol", "--today", later.isoformat())
    assert code == 1 and f"# 公众号日常巡查报告（{later.isoformat()}）" in out
    assert "已 14 天没有发布新内容" in out and "已过期的通知仍在线上" in out
    assert f"整改期限：{(later + dt.timedelta(days=3)).isoformat()}" in forge.issues[0]["body"]


def test_findings_are_told_in_the_owner_s_group_and_escalated_past_their_due_date(ops, robots, capsys) -> None:
    account, forge = ops
    with_notifications(account.root)
    published(account, "a")
    later = TODAY + dt.timedelta(days=12)
    patrol(account, capsys, later)
    patrol(account, capsys, later)  # a re-run: nothing new to say
    (assigned,) = robots.texts(OFFICE_KEY)  # no department owns timeliness: the administrator, sun-hao, in the office's group
    assert assigned.startswith("**【巡查】已 12 天没有发布新内容**") and "责任部门：管理员" in assigned
    assert f"**办理期限：{(later + dt.timedelta(days=3)).isoformat()}**" in assigned
    assert robots.texts(LEADERS_TOKEN) == []
    for day in (4, 5):
        code, out = patrol(account, capsys, later + dt.timedelta(days=day))
        assert "⚠" not in out
    (late,) = robots.texts(LEADERS_TOKEN)
    assert late.startswith("#### 【巡查·已超期】已 16 天没有发布新内容")
    assert [text.split("\n")[0] for text in robots.texts(OFFICE_KEY)[1:]] == ["**【巡查·已超期】已 16 天没有发布新内容**"]


def test_expired_notice_still_online_is_reported(ops, capsys) -> None:
    account, forge = ops
    published(account, "notice", expires=(TODAY - dt.timedelta(days=1)).isoformat())
    code, out = patrol(account, capsys)
    assert "已过期的通知仍在线上" in out


def test_patrol_over_1000_articles_stays_within_quota(ops, capsys) -> None:
    account, forge = ops
    published(account, "a")
    state = account.sandbox.state
    template = next(iter(state.data["articles"].values()))
    events = []
    for index in range(999):
        article_id = f"ARTbulk{index:05d}"
        item = {**template["news_item"][0], "title": f"第{index}篇", "url": f"{account.sandbox.url}s/{article_id}"}
        state.data["articles"][article_id] = {**template, "news_item": [item], "publish_id": ""}
        events.append(Event("publish", f"content/office/bulk-{index}", "result",
                            {"article_id": article_id, "url": item["url"], "version": "v", "content_sha256": ""}))
    Ledger(account.root, branch=SANDBOX_BRANCH).append(*events)
    began = time.monotonic()
    code, out = patrol(account, capsys)
    elapsed = time.monotonic() - began
    assert "线上文章 1000 篇" in out and "freepublish/batchget 50 次" in out and elapsed < 60
    print(f"patrol over 1000 live articles: {elapsed:.2f} s")


def test_the_patrol_workflow_runs_this_command(ops, tmp_path: Path) -> None:
    """patrol.yml's own script, run as the runner would (it must not drift from the command)."""
    account, forge = ops
    published(account, "a")
    step = run_workflow(account, forge, tmp_path, "patrol.yml", "patrol")
    assert step.returncode == 0 and "**结论：合格**" in step.stdout, step.stderr


def test_a_failing_forge_does_not_stop_the_patrol_and_the_next_run_opens_the_issue(ops, capsys, monkeypatch) -> None:
    account, forge = ops
    published(account, "a")
    later = TODAY + dt.timedelta(days=12)
    monkeypatch.setenv("GITHUB_REPOSITORY", "union/moved-away")  # every issue call answers 404
    code, out = patrol(account, capsys, later)
    assert code == 0 and "已 12 天没有发布新内容" in out and forge.issues == []
    assert "⚠ 平台上的问题没有全部同步（" in out
    assert "）。报告照常保存；已开、已关的问题已记入账本，其余的下一次运行时会重试\n" in out
    ledger = Ledger(account.root, branch=SANDBOX_BRANCH)
    assert ledger.read_document(f"patrols/{later.isoformat()}.md").startswith("# 公众号日常巡查报告")
    monkeypatch.setenv("GITHUB_REPOSITORY", forge.repository)
    code, out = patrol(account, capsys, later)
    assert "新开 1 个" in out and len(forge.issues) == 1 and "⚠" not in out


def test_tampering_alerts_the_administrators_and_the_leaders_at_once_and_names_the_article(ops, robots, capsys) -> None:
    account, forge = ops
    with_notifications(account.root)
    published(account, "a")
    account.sandbox.control("article", {"article_id": article_ids(account)[0], "do": "tamper",
                                        "content": "<section><p>被篡改的虚假通知。</p></section>"})
    code, out = patrol(account, capsys)
    assert "线上内容与审批通过的版本不一致（疑似被篡改）：《文章a》" in out and "⚠" not in out
    (issue,) = forge.issues
    assert issue["title"] == "【巡查·紧急】线上内容与审批通过的版本不一致（疑似被篡改）：《文章a》"
    assignees = [assignee["login"] for assignee in issue["assignees"]]
    assert assignees[0] == "li-na" and {"wang-jun", "sun-hao"} <= set(assignees)  # the head, then the leaders
    (alert,) = robots.texts(LEADERS_TOKEN)
    assert alert.startswith("#### 【巡查·紧急】线上内容与审批通过的版本不一致（疑似被篡改）：《文章a》")
    patrol(account, capsys)
    assert len(robots.texts(LEADERS_TOKEN)) == 1  # once per finding


def test_a_deleted_or_banned_article_is_named_by_its_title_and_alerts(ops, robots, capsys) -> None:
    account, forge = ops
    with_notifications(account.root)
    published(account, "a", "b")
    first, second = article_ids(account)
    account.sandbox.control("article", {"article_id": first, "do": "delete"})
    account.sandbox.control("article", {"article_id": second, "do": "ban"})
    code, out = patrol(account, capsys)
    assert "已发布的文章被删除（不是经本流程删除的）：《文章a》" in out and "已发布的文章被平台封禁：《文章b》" in out
    assert "《content/office/" not in out  # titles, not folders
    assert {issue["title"] for issue in forge.issues} == {
        "【巡查·紧急】已发布的文章被平台封禁：《文章b》", "【巡查·紧急】已发布的文章被删除（不是经本流程删除的）：《文章a》"}
    assert len(robots.texts(LEADERS_TOKEN)) == 2


def test_an_article_whose_folder_left_the_repository_is_named_by_the_title_publishing_recorded(ops, capsys) -> None:
    account, _ = ops
    published(account, "a")
    shutil.rmtree(account.root / "content" / "office" / "a")
    account.commit("移走文章文件夹")
    account.sandbox.control("article", {"article_id": article_ids(account)[0], "do": "delete"})
    _, out = patrol(account, capsys)
    assert "已发布的文章被删除（不是经本流程删除的）：《文章a》" in out


def test_an_expired_notice_is_routine_and_points_to_withdraw(ops, robots, capsys) -> None:
    account, forge = ops
    with_notifications(account.root)
    published(account, "notice", expires=(TODAY - dt.timedelta(days=1)).isoformat())
    patrol(account, capsys)
    (issue,) = forge.issues
    assert issue["title"] == "【巡查】已过期的通知仍在线上：《文章notice》"
    assert "gzh withdraw content/office/notice --reason" in issue["body"] and "常规下线，不启动应急流程" in issue["body"]
    assert [assignee["login"] for assignee in issue["assignees"]] == ["li-na"] and robots.texts(LEADERS_TOKEN) == []


def test_a_late_finding_escalates_once_and_a_failing_forge_only_delays_the_comment(ops, robots, capsys, monkeypatch) -> None:
    account, forge = ops
    with_notifications(account.root)
    published(account, "notice", expires=(TODAY - dt.timedelta(days=1)).isoformat())
    patrol(account, capsys)
    late = TODAY + dt.timedelta(days=4)
    monkeypatch.setenv("GITHUB_REPOSITORY", "union/moved-away")  # every issue call answers 404
    code, out = patrol(account, capsys, late)
    assert "⚠ 平台上的问题没有全部同步（" in out and forge.issues[0]["comments"] == []
    ledger = Ledger(account.root, branch=SANDBOX_BRANCH)
    assert ledger.read_document(f"patrols/{late.isoformat()}.md").startswith("# 公众号日常巡查报告")
    (told,) = robots.texts(LEADERS_TOKEN)  # the groups hear of it all the same: the leader in charge and the group
    assert told.startswith("#### 【巡查·已超期】已过期的通知仍在线上：《文章notice》")
    monkeypatch.setenv("GITHUB_REPOSITORY", forge.repository)
    code, out = patrol(account, capsys, late)
    assert "超过整改期限、已提请分管领导督办 1 个。" in out
    patrol(account, capsys, late + dt.timedelta(days=1))
    issue = forge.issues[0]
    assert issue["title"] == "【巡查·已超期】已过期的通知仍在线上：《文章notice》"
    (escalation,) = issue["comments"]
    assert escalation["body"].startswith("@zhao-min 本问题已超过整改期限")  # the office's leader in charge
    assert len(robots.texts(LEADERS_TOKEN)) == 1
