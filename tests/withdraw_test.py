"""Routine removal (`gzh withdraw`): deleted with a record, told to the department and the administrators,
no incident and no leaders; idempotent, within the shared daily quota; never brought back by `gzh publish`."""
from __future__ import annotations

from pathlib import Path

import pytest

from pipeline import emergency
from pipeline.ledger import SANDBOX_BRANCH, Event, Kind, Ledger
from tests.notify_fake import LEADERS_TOKEN, OFFICE_KEY, robots, with_notifications
from tests.operations_support import TODAY, gzh, published, run_workflow, wechat_calls

__all__ = ["robots"]  # the fixture, imported for pytest


def _events(account, kind: str) -> list[Event]:
    return [event for event in Ledger(account.root, branch=SANDBOX_BRANCH).events if event.kind == kind]


def test_a_withdrawal_deletes_records_and_tells_the_department_and_administrators_once(ops, robots, monkeypatch, capsys) -> None:
    account, forge = ops
    with_notifications(account.root)
    outcome = published(account, "a")[0]
    code, out, err = gzh(account, monkeypatch, capsys, "withdraw", outcome.url, "--reason", "通知已过期，电话13912345678")
    assert (code, err) == (0, "") and account.articles() == []
    assert out == ("已下线：《文章a》（例行下线，原因：通知已过期，电话13912345678）。已记入账本，执行人 @sun-hao；未开应急事件，未通知领导。"
                   "如需恢复审批通过的版本：gzh republish content/office/a\n"
                   "已通知：办公室的群、孙浩（@sun-hao）\n")
    (withdrawn,) = _events(account, "takedown")
    assert withdrawn.actor == "sun-hao" and withdrawn.data == {
        "article_id": outcome.url.split("/s/")[1].split("?")[0], "url": outcome.url,
        "reason": "通知已过期，电话139****5678", "routine": True}  # the ledger keeps no phone number
    assert _events(account, "incident") == [] and forge.issues == []
    (told,) = robots.texts(OFFICE_KEY)  # the office's group is both the department's and the administrator's
    assert told.startswith("**【例行下线】文章a**") and "原因：通知已过期，电话139****5678" in told and "执行人：sun-hao" in told
    assert robots.texts(LEADERS_TOKEN) == []


def test_a_second_withdrawal_says_when_and_does_nothing(ops, robots, monkeypatch, capsys) -> None:
    account, _ = ops
    with_notifications(account.root)
    published(account, "a")
    assert gzh(account, monkeypatch, capsys, "withdraw", "content/office/a", "--reason", "部门要求撤下")[0] == 0
    (withdrawn,) = _events(account, "takedown")
    calls = wechat_calls(account)
    code, out, _ = gzh(account, monkeypatch, capsys, "withdraw", "content/office/a/", "--reason", "再撤一次")
    assert code == 0 and out == (f"《文章a》已于 {emergency.minute(withdrawn.time)} 下线（原因：部门要求撤下），"
                                 "这次没有再删除，也没有再通知。\n")
    assert wechat_calls(account) == calls and len(_events(account, "takedown")) == 1 and len(robots.texts(OFFICE_KEY)) == 1


def test_an_emergency_takedown_after_a_withdrawal_deletes_nothing_and_a_withdrawal_after_it_neither(ops, monkeypatch,
                                                                                                      capsys) -> None:
    account, forge = ops
    published(account, "a", "b")
    gzh(account, monkeypatch, capsys, "withdraw", "content/office/a", "--reason", "通知已过期")
    code, out, _ = gzh(account, monkeypatch, capsys, "emergency", "takedown", "content/office/a", "--reason", "又发现")
    assert code == 0 and "例行下线（原因：通知已过期），这次没有再删除" in out and "gzh emergency open content/office/a" in out
    assert forge.issues == []
    gzh(account, monkeypatch, capsys, "emergency", "takedown", "content/office/b", "--reason", "内容被篡改")
    code, out, _ = gzh(account, monkeypatch, capsys, "withdraw", "content/office/b", "--reason", "撤下")
    assert code == 0 and "下线（原因：内容被篡改），这次没有再删除" in out
    assert len(_events(account, "takedown")) == 2 and len(account.sandbox.calls("freepublish/delete")) == 2


@pytest.mark.parametrize("used", ["ledger", "wechat"])
def test_when_the_day_s_deletions_are_used_it_says_how_to_delete_by_hand_and_records_it(ops, robots, monkeypatch, capsys,
                                                                                          used: str) -> None:
    account, _ = ops
    with_notifications(account.root)
    published(account, "a")
    if used == "ledger":  # ten deletions today, takedowns and withdrawals alike
        Ledger(account.root, branch=SANDBOX_BRANCH).append(
            *(Event(Kind.TAKEDOWN, f"content/office/x{n}", data={"article_id": f"x{n}", "routine": n % 2 == 0})
              for n in range(10)))
    else:  # used up in the web console: WeChat says 45009
        account.sandbox.control("quotas", {"freepublish/delete": 0})
    code, out, err = gzh(account, monkeypatch, capsys, "withdraw", "content/office/a", "--reason", "通知已过期")
    assert (code, out) == (1, "") and err.strip() == (
        "今天的删除次数已用完（微信每天只允许删除 10 次，例行下线和应急下线共用），《文章a》仍在线上，没有删除。"
        "可以明天再运行 gzh withdraw；如需今天下线，请管理员登录公众平台（mp.weixin.qq.com），在“内容与互动 → 发表记录”中找到这篇文章，"
        "点“删除”手动删除，再运行 gzh withdraw content/office/a --reason … 补记（已删除的文章不会再删一次）。这次未能删除已记入账本。")
    assert len(account.articles()) == 1 and robots.texts(OFFICE_KEY) == []
    (refused,) = [event for event in _events(account, "error") if event.data.get("manual")]
    assert refused.data["code"] == 45009 and refused.data["routine"] is True and refused.data["reason"] == "通知已过期"
    # the administrator deletes it in the MP console, then records it the same day, as the message says
    account.sandbox.control("article", {"article_id": refused.data["article_id"], "do": "delete"})
    deletions = len(account.sandbox.calls("freepublish/delete"))
    code, out, err = gzh(account, monkeypatch, capsys, "withdraw", "content/office/a", "--reason", "通知已过期")
    assert (code, err) == (0, "") and "（文章在微信上已被删除，这次只补记，没有再删除，不占用当天的删除次数）" in out
    assert len(account.sandbox.calls("freepublish/delete")) == deletions
    (recorded,) = [event for event in _events(account, "takedown") if event.post == "content/office/a"]
    assert recorded.data["found_deleted"] is True and len(robots.texts(OFFICE_KEY)) == 1
    assert emergency.deletions_today(Ledger(account.root, branch=SANDBOX_BRANCH), TODAY) == (10 if used == "ledger" else 0)


def test_a_look_at_the_article_that_fails_does_not_stop_the_delete(ops, monkeypatch, capsys) -> None:
    """The look before deleting (freepublish/getarticle) is for recording an article deleted by hand: when it
    fails, the delete goes ahead and answers for itself."""
    account, _ = ops
    published(account, "a")
    account.fault(endpoint="freepublish/getarticle", errcode=50002)
    code, out, err = gzh(account, monkeypatch, capsys, "withdraw", "content/office/a", "--reason", "通知已过期")
    assert (code, err) == (0, "") and account.articles() == [] and "只补记" not in out
    assert [call["errcode"] for call in account.sandbox.calls("freepublish/getarticle")] == [50002]
    (recorded,) = _events(account, "takedown")
    assert "found_deleted" not in recorded.data


def test_an_unknown_target_is_a_clear_error(ops, monkeypatch, capsys) -> None:
    account, _ = ops
    published(account, "a")
    code, out, err = gzh(account, monkeypatch, capsys, "withdraw", "content/office/nope", "--reason", "撤下")
    assert (code, out) == (1, "") and err.strip() == "找不到要下线的文章“content/office/nope”：请写文章文件夹（content/…）、文章链接或 article_id"
    assert len(account.articles()) == 1


def test_status_shows_a_withdrawn_post_offline_with_its_reason(ops, monkeypatch, capsys) -> None:
    account, _ = ops
    outcome = published(account, "a", "b")[0]
    gzh(account, monkeypatch, capsys, "withdraw", "content/office/a", "--reason", "通知已过期")
    code, out, _ = gzh(account, monkeypatch, capsys, "status")
    assert code == 0 and f"已下线  文章a  原因：通知已过期（原链接 {outcome.url}）\n" in out and "已发布  文章b  http" in out


def test_publish_never_brings_a_withdrawn_post_back(ops, monkeypatch, capsys) -> None:
    account, _ = ops
    published(account, "a")
    gzh(account, monkeypatch, capsys, "withdraw", "content/office/a", "--reason", "通知已过期")
    writes = account.writes()
    code, out, _ = gzh(account, monkeypatch, capsys, "publish")  # every post whose approved version is not live
    assert code == 0 and out.startswith("没有需要发布的文章")
    code, out, _ = gzh(account, monkeypatch, capsys, "publish", "content/office/a")  # named: refused, and why
    assert code == 1 and "已下线（通知已过期），不会自动重新发布。如需恢复审批通过的版本，请运行 gzh republish content/office/a" in out
    assert account.articles() == [] and account.writes() == writes


def test_the_withdraw_workflow_runs_this_command(ops, robots, tmp_path: Path) -> None:
    """withdraw.yml's own script, run as the runner would; its env carries the robots' keys."""
    account, forge = ops
    with_notifications(account.root)
    outcome = published(account, "a")[0]
    step = run_workflow(account, forge, tmp_path, "withdraw.yml", "withdraw",
                        {"github.triggering_actor": "sun-hao", "inputs.action": "withdraw", "inputs.post": outcome.url,
                         "inputs.text": "--演练：通知已过期"})  # a reason that looks like an option is still the reason
    assert step.returncode == 0 and "已下线：《文章a》" in step.stdout and "原因：--演练" in step.stdout and "⚠" not in step.stdout, step.stderr
    assert account.articles() == [] and len(robots.texts(OFFICE_KEY)) == 1 and robots.texts(LEADERS_TOKEN) == []


def test_only_the_post_s_department_heads_and_the_administrators_may_withdraw(ops, monkeypatch, capsys) -> None:
    """Each withdrawal spends one of the day's ten deletions: someone outside the policy must not drain them."""
    account, _ = ops
    published(account, "a", "b")
    monkeypatch.setenv("GZH_ACTOR", "chen-gang")  # the organisation department's head, not the office's
    code, _, err = gzh(account, monkeypatch, capsys, "withdraw", "content/office/a", "--reason", "撤下")
    assert code == 1 and err.startswith("@chen-gang 不能例行下线《文章a》：只有该文章所属部门的负责人（李娜（@li-na））")
    assert len(account.articles()) == 2 and _events(account, "takedown") == []
    monkeypatch.setenv("GZH_ACTOR", "li-na")  # the office's head
    assert gzh(account, monkeypatch, capsys, "withdraw", "content/office/a", "--reason", "撤下")[0] == 0


def test_routine_withdrawals_leave_the_last_deletions_of_the_day_to_emergencies(ops, monkeypatch, capsys) -> None:
    account, _ = ops
    published(account, "a")
    ledger = Ledger(account.root, branch=SANDBOX_BRANCH)
    ledger.append(*(Event(Kind.TAKEDOWN, f"content/office/x{n}", data={"article_id": f"x{n}"}) for n in range(8)))
    code, _, err = gzh(account, monkeypatch, capsys, "withdraw", "content/office/a", "--reason", "撤下")
    assert code == 1 and err.startswith("今天已删除 8 次，剩下的 2 次留给应急下线") and len(account.articles()) == 1
    code, _, _ = gzh(account, monkeypatch, capsys, "emergency", "takedown", "content/office/a", "--reason", "被篡改")
    assert code == 0 and account.articles() == []


def test_a_post_may_be_named_by_its_file_as_typed(ops, monkeypatch, capsys) -> None:
    """The path a clerk copies from the editor (its index.md, or absolute) names the post like its folder."""
    account, _ = ops
    published(account, "a")
    monkeypatch.chdir(account.root)
    code, out, _ = gzh(account, monkeypatch, capsys, "withdraw", str(account.root / "content/office/a/index.md"), "--reason", "撤下")
    assert code == 0 and out.startswith("已下线：《文章a》") and account.articles() == []
