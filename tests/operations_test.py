"""Rehearsals of Articles 7, 8 and 9 through the sandbox and the forge fakes."""
from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Iterator

import pytest

from pipeline.commands import emergency as emergency_command, inbox as inbox_command
from pipeline.commands.patrol import patrol_command
from pipeline.ledger import SANDBOX_BRANCH, Event, Ledger
from pipeline.posts import BEIJING
from tests.forge_fake import ForgeFake
from tests.support import Account, front_matter, write_post

TODAY = dt.datetime.now(BEIJING).date()


@pytest.fixture(params=["github", "gitea"])
def ops(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Account, ForgeFake]]:
    account = Account(tmp_path)
    forge = ForgeFake(request.param).start()
    for key, value in forge.environment().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("GZH_ACTOR", "sun-hao")
    yield account, forge
    forge.stop()
    account.close()


def published(account: Account, *slugs: str, **meta: object) -> list:
    files = [write_post(account.root, f"{slug}的正文。\n", slug=slug, meta=front_matter(title=f"文章{slug}", **meta))
             for slug in slugs]
    account.commit()
    outcomes = account.publish(*files)
    assert [outcome.status for outcome in outcomes] == ["published"] * len(files)
    return outcomes


def patrol(account: Account, capsys: pytest.CaptureFixture[str], today: dt.date = TODAY) -> tuple[int, str]:
    code = patrol_command(account.root, credentials=account.sandbox.credentials, today=today)
    return code, capsys.readouterr().out


def article_ids(account: Account) -> list[str]:
    return list(account.sandbox.state.data["articles"])


def test_clean_account_passes_and_the_report_is_kept_in_the_ledger(ops, capsys) -> None:
    account, forge = ops
    published(account, "a")
    code, out = patrol(account, capsys)
    assert code == 0 and "**结论：合格**" in out and "没有发现问题。" in out and forge.issues == []
    ledger = Ledger(account.root, branch=SANDBOX_BRANCH)
    assert ledger.read_document(f"patrols/{TODAY.isoformat()}.md").startswith("# 公众号日常巡查报告")


def test_tampered_article_is_detected_taken_down_and_reported(ops, capsys) -> None:
    account, forge = ops
    outcome = published(account, "a")[0]
    account.sandbox.control("article", {"article_id": article_ids(account)[0], "do": "tamper",
                                        "content": "<section><p>被篡改的虚假通知。</p></section>"})
    code, out = patrol(account, capsys)
    assert code == 1 and "**结论：不合格**" in out and "疑似被篡改" in out
    assert "-a的正文。" in out and "+被篡改的虚假通知。" in out  # the report shows the diff
    issue = forge.issues[0]
    assert "疑似被篡改" in issue["title"] and "@li-na" in issue["body"]  # the owning department's head
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
    wechat.submit(wechat.draft_add({"title": "后台直接发的", "content": "<p>x</p>", "thumb_media_id": media_id}))
    code, out = patrol(account, capsys)
    assert "已发布的文章被平台封禁" in out and "线上有未经本流程发布的文章" in out


def test_two_weeks_without_publication_fails(ops, capsys) -> None:
    account, forge = ops
    published(account, "a")
    assert patrol(account, capsys, TODAY + dt.timedelta(days=10))[0] == 0  # a warning only
    code, out = patrol(account, capsys, TODAY + dt.timedelta(days=14))
    assert code == 1 and "已 14 天没有发布新内容" in out and "单项否决" in out


def test_expired_notice_still_online_is_reported(ops, capsys) -> None:
    account, forge = ops
    published(account, "notice", expires=(TODAY - dt.timedelta(days=1)).isoformat())
    code, out = patrol(account, capsys)
    assert "已过期的通知仍在线上" in out


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
    assert "没有通过检查" in str(refused.value)
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


def test_the_workflows_run_these_commands(ops, capsys, tmp_path: Path) -> None:
    """The patrol and emergency workflows' own scripts, run as the runner would (they must not drift)."""
    import git

    from pipeline.sandbox import SANDBOX_APPID, SANDBOX_SECRET
    from tests.forge_fake import TOKEN
    from tests.support import run_step

    account, forge = ops
    outcome = published(account, "a")[0]
    bare = tmp_path / "remote.git"
    git.Repo.clone_from(str(account.root), bare, bare=True)
    account.repo.create_remote("origin", str(bare))
    secrets = {"secrets.WECHAT_APPID": SANDBOX_APPID, "secrets.WECHAT_SECRET": SANDBOX_SECRET,
               "secrets.WECHAT_API_BASE": account.sandbox.url + "cgi-bin/",
               "secrets.GZH_GATE_TOKEN || github.token": TOKEN}
    environment = {**forge.environment(), "GITHUB_ACTIONS": "true"}
    patrol = run_step("patrol.yml", "patrol", "patrol", account.root, secrets, environment)
    assert patrol.returncode == 0 and "**结论：合格**" in patrol.stdout, patrol.stderr
    inbox = run_step("inbox.yml", "inbox", "inbox", account.root, secrets, environment)
    assert inbox.returncode == 0 and "# 读者留言" in inbox.stdout, inbox.stderr
    takedown = run_step("emergency.yml", "emergency", "emergency", account.root,
                        {**secrets, "github.actor": "sun-hao", "inputs.action": "takedown",
                         "inputs.target": outcome.url, "inputs.reason": "演练：内容被篡改"}, environment)
    assert takedown.returncode == 0 and "已下线" in takedown.stdout, takedown.stderr
    assert account.articles() == []
