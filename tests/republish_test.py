"""Restoring a removed post (`gzh republish`): the approved version on main, approvals re-verified, as a new
article opening with a correction note; refused while the old one is live; exactly once across failures."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest

from pipeline.ledger import SANDBOX_BRANCH, Ledger, Status, fold
from pipeline.main import main
from pipeline.sandbox import SANDBOX_APPID, SANDBOX_SECRET, Sandbox
from tests.notify_fake import LEADERS_TOKEN, OFFICE_KEY, robots, with_notifications
from tests.operations_support import TODAY
from tests.support import PullScenario

__all__ = ["robots"]  # the fixture, imported for pytest

POST = "content/office/2026-11-28-news"
TAMPERED = "<section><p>被篡改的虚假通知。</p></section>"


class Restored:
    """An approved, merged and published post on a forge fake and the sandbox, run by the administrator."""

    def __init__(self, tmp_path: Path, flavour: str, monkeypatch: pytest.MonkeyPatch) -> None:
        self.scenario = PullScenario(tmp_path, flavour)
        self.sandbox = Sandbox(tmp_path / "sandbox").start()
        self.sandbox.state.data["publish_seconds"] = 0.0
        for key, value in {**self.scenario.forge.environment(), "WECHAT_API_BASE": self.sandbox.url + "cgi-bin/",
                           "WECHAT_APPID": SANDBOX_APPID, "WECHAT_SECRET": SANDBOX_SECRET, "GZH_ACTOR": "sun-hao"}.items():
            monkeypatch.setenv(key, value)
        self.scenario.approve()
        repo = self.scenario.repo
        repo.git.checkout("main")
        repo.git.merge("--no-ff", "-m", "合并 #1", "dept/office-news")
        self.scenario.forge.merge(1, repo.head.commit.hexsha)
        assert self.gzh("publish", POST) == 0
        self.first = self.state()

    def gzh(self, *argv: str) -> int:
        return main(["--root", str(self.scenario.root), *argv])

    def state(self) -> Any:
        return fold(Ledger(self.scenario.root, branch=SANDBOX_BRANCH).events)[POST]

    def events(self, kind: str) -> list[Any]:
        return [event for event in Ledger(self.scenario.root, branch=SANDBOX_BRANCH).events if event.kind == kind]

    def live(self) -> dict[str, dict[str, Any]]:
        state = self.sandbox.state
        with state.lock:
            state._finish_due_jobs()
            return {key: article["news_item"][0] for key, article in state.data["articles"].items() if article["status"] == 0}

    def writes(self, endpoint: str) -> int:
        return sum(1 for call in self.sandbox.calls(endpoint) if call["errcode"] == 0)

    def tamper(self) -> None:
        self.sandbox.control("article", {"article_id": self.first.article_id, "do": "tamper", "content": TAMPERED})

    def close(self) -> None:
        self.sandbox.stop()
        self.scenario.close()


@pytest.fixture(params=["github", "gitea"])
def restored(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Restored]:
    setup = Restored(tmp_path, request.param, monkeypatch)
    yield setup
    setup.close()


def test_a_tampered_article_taken_down_comes_back_as_a_new_article_with_the_approved_text_and_a_note(restored, capsys) -> None:
    restored.tamper()
    assert restored.gzh("emergency", "takedown", restored.first.url, "--reason", "线上内容被篡改") == 0
    capsys.readouterr()
    assert restored.gzh("republish", POST) == 0
    out = capsys.readouterr().out
    (article_id, item), = restored.live().items()
    state = restored.state()
    note = (f"更正说明：本文于 {TODAY} 首次发布，因“线上内容被篡改”于 {TODAY} 下线，现于 {TODAY} 按审批通过的版本重新发布。")
    assert article_id != restored.first.article_id and state.article_id == article_id and state.url == item["url"]
    assert item["content"].startswith("<section style=") and note in item["content"].split("</section>")[0]
    assert "市总工会召开全委会议。" in item["content"] and "虚假通知" not in item["content"]
    assert state.status is Status.PUBLISHED and state.previous_url == restored.first.url and state.correction == note
    (republished,) = restored.events("republish")
    assert republished.actor == "sun-hao" and republished.data == {
        "note": note, "article_id": restored.first.article_id, "url": restored.first.url, "reason": "线上内容被篡改"}
    assert republished.data["url"] != state.url and restored.events("publish")[-1].data["approvers"] == PullScenario.APPROVERS
    assert out.endswith(f"《市总工会召开全委会议》已重新发布为新文章：{item['url']}\n原链接 {restored.first.url} 保留在发布记录中。\n"
                        "gzh.yml 没有配置通知群（notifications），请自行告知：办公室的群、孙浩（@sun-hao）\n")
    assert restored.gzh("status", "--sandbox") == 0
    assert f"已发布  市总工会召开全委会议  {item['url']}（重新发布，原链接 {restored.first.url} 已下线）" in capsys.readouterr().out


def test_the_department_and_the_administrators_are_told_once_with_the_new_link_and_the_note(
        restored, robots, capsys) -> None:
    with_notifications(restored.scenario.root)
    assert restored.gzh("withdraw", POST, "--reason", "会议时间调整") == 0
    capsys.readouterr()
    assert restored.gzh("republish", POST, "--note", "会议改期，以本文为准。") == 0
    assert capsys.readouterr().out.endswith("已通知：办公室的群、孙浩（@sun-hao）\n")
    withdrawn, told = robots.texts(OFFICE_KEY)  # the office's group is both the department's and the administrator's
    new_url = restored.state().url
    assert withdrawn.startswith("**【例行下线】") and told.startswith("**【重新发布】市总工会召开全委会议**")
    assert f"原文章 {restored.first.url} 已下线" in told and "文章开头的更正说明：会议改期，以本文为准。" in told
    assert "执行人：sun-hao" in told and new_url in told and robots.texts(LEADERS_TOKEN) == []
    assert restored.gzh("republish", POST) == 1  # live again: refused, and nobody told twice
    assert len(robots.texts(OFFICE_KEY)) == 2


def test_a_republished_article_that_disappears_is_found_by_the_patrol(restored, capsys) -> None:
    """The earlier takedown does not hide the new article: what the ledger says is published is checked."""
    restored.gzh("withdraw", POST, "--reason", "部门要求撤下")
    assert restored.gzh("republish", POST) == 0
    restored.sandbox.control("article", {"article_id": restored.state().article_id, "do": "ban"})
    capsys.readouterr()
    assert restored.gzh("patrol") == 1
    assert "已发布的文章被平台封禁：《市总工会召开全委会议》" in capsys.readouterr().out


def test_only_an_administrator_republishes_and_the_note_passes_the_checks_of_a_published_text(
        restored, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    restored.gzh("withdraw", POST, "--reason", "部门要求撤下")
    monkeypatch.setenv("GZH_ACTOR", "li-na")
    capsys.readouterr()
    assert restored.gzh("republish", POST) == 1
    assert capsys.readouterr().err.startswith("@li-na 不能重新发布文章：只有管理员（孙浩（@sun-hao））可以")
    monkeypatch.setenv("GZH_ACTOR", "sun-hao")
    assert restored.gzh("republish", POST, "--note", "详情请致电 13912345678 咨询。") == 1
    err = capsys.readouterr().err
    assert err.startswith("更正说明没有通过检查，没有重新发布。") and "手机号码" in err
    assert restored.live() == {} and restored.events("republish") == []


def test_the_note_given_is_the_one_published(restored, capsys) -> None:
    assert restored.gzh("withdraw", POST, "--reason", "部门要求撤下") == 0
    assert restored.gzh("republish", POST, "--note", "本文于 11 月 20 日首次发布，因会议时间调整于 11 月 28 日重新发布。") == 0
    (item,) = restored.live().values()
    assert "更正说明：本文于 11 月 20 日首次发布，因会议时间调整于 11 月 28 日重新发布。" in item["content"]


def test_republishing_is_refused_while_the_article_is_live(restored, capsys) -> None:
    restored.tamper()
    capsys.readouterr()
    assert restored.gzh("republish", POST) == 1
    assert capsys.readouterr().err.strip() == (
        f"《市总工会召开全委会议》仍在线上（{restored.first.url}），不能重新发布：微信不允许修改已发布的文章，重新发布会多出一篇。"
        f"请先下线被篡改的文章（例行：gzh withdraw {POST} --reason …；应急：gzh emergency takedown {POST} --reason …），"
        f"再运行 gzh republish {POST}")
    assert len(restored.live()) == 1 and restored.writes("draft/add") == 1 and restored.events("republish") == []


def test_an_unapproved_version_on_main_is_refused_and_the_post_stays_offline(restored, capsys) -> None:
    assert restored.gzh("withdraw", POST, "--reason", "通知已过期") == 0
    post = restored.scenario.post
    post.write_text(post.read_text("utf-8") + "\n未经审批加的一句。\n", "utf-8")
    restored.scenario.commit("直接改主分支")
    capsys.readouterr()
    assert restored.gzh("republish", POST) == 1
    assert "未经审批，不发布" in capsys.readouterr().out
    assert restored.live() == {} and restored.events("republish") == [] and restored.state().status is Status.TAKEN_DOWN
    assert "@sun-hao" in restored.scenario.forge.issues[-1]["body"]  # the administrator is alerted, as by gzh publish


def test_an_unknown_or_never_removed_post_is_a_clear_error(restored, capsys) -> None:
    assert restored.gzh("republish", "content/office/nope") == 1
    assert capsys.readouterr().err.strip() == (
        "找不到要重新发布的文章“content/office/nope”：请写发布记录中的文章文件夹（content/…）、它被下线前的链接或 article_id")


@pytest.mark.parametrize("then", ["republish", "publish"])
@pytest.mark.parametrize("fault", [{"endpoint": "draft/add", "drop": "after"},
                                   {"endpoint": "freepublish/submit", "drop": "after"},
                                   {"endpoint": "freepublish/get", "errcode": 45009}])
def test_an_interrupted_republish_makes_one_article_when_run_again(restored, capsys, fault: dict, then: str) -> None:
    """The answer lost after WeChat acted, or WeChat still busy at the end of the run: the next run, a republish
    or a plain publish, finds what was made by its content (note included) instead of making it again."""
    assert restored.gzh("withdraw", POST, "--reason", "通知已过期") == 0
    restored.sandbox.control("faults", {"faults": [fault]})
    restored.gzh("republish", POST)
    (republished,) = restored.events("republish")
    for _ in range(3):
        if restored.state().status is Status.PUBLISHED:
            break
        code = restored.gzh(then, *([POST] if then == "republish" else []))
        assert code == 0 or then == "publish"  # a plain run also refuses the scenario's unapproved content/office/old
    (item,) = restored.live().values()
    assert republished.data["note"] in item["content"]
    assert restored.writes("draft/add") == 2 and restored.writes("freepublish/submit") == 2  # the first article's, and this one
    assert len(restored.events("republish")) == 1
