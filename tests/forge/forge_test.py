"""The two forge clients against their fakes: shapes, pagination, errors."""
from __future__ import annotations


import pytest

from pipeline.approval import CHANGES_REQUESTED, COMMENTED, DISMISSED
from pipeline.forge import ForgeError, from_environment
from pipeline.forge.gitea import Gitea
from pipeline.forge.github import GitHub
from tests.forge_fake import TOKEN, ForgeFake



def test_environment_picks_the_right_client(fake: ForgeFake) -> None:
    assert isinstance(from_environment(), GitHub if fake.flavour == "github" else Gitea)


def test_reviews_are_normalised(fake: ForgeFake) -> None:
    fake.open_pull(1, "zhang-wei", "h1", "b1", ["content/office/a/index.md"])
    fake.review(1, "li-na", "CHANGES_REQUESTED")
    fake.review(1, "sun-hao", "COMMENTED")
    dismissed = fake.review(1, "wang-jun", "APPROVED")
    fake.dismiss(1, dismissed["id"])
    fake.pulls[1].requested = ["zhou-yan"]  # Gitea lists this as a REQUEST_REVIEW row: not a review
    reviews = from_environment().reviews(1)
    assert [(review.user, review.state) for review in reviews] == [
        ("li-na", CHANGES_REQUESTED), ("sun-hao", COMMENTED), ("wang-jun", DISMISSED)]


def test_pagination_reads_every_page(fake: ForgeFake) -> None:
    fake.open_pull(1, "zhang-wei", "h1", "b1", ["content/office/a/index.md"])
    for index in range(230):
        fake.review(1, f"staff-{index}", "COMMENTED", body=str(index))
    assert [review.body for review in from_environment().reviews(1)] == [str(index) for index in range(230)]


def test_wrong_token_is_a_clear_error(fake: ForgeFake, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GZH_FORGE_TOKEN", "wrong")
    with pytest.raises(ForgeError, match="令牌没有权限"):
        from_environment().pull_request(1)


def test_missing_pull_request_is_an_error_not_a_no(fake: ForgeFake) -> None:
    with pytest.raises(ForgeError) as caught:
        from_environment().pull_request(99)
    assert caught.value.status == 404


def test_pull_for_commit(fake: ForgeFake) -> None:
    fake.open_pull(1, "zhang-wei", "h1", "b1", [])
    forge = from_environment()
    assert forge.pull_for_commit("m1") is None  # none merged it (Gitea: 404, but the repository is readable)
    fake.merge(1, "m1")
    assert forge.pull_for_commit("m1").number == 1


def test_pull_for_commit_on_an_unreadable_repository_is_an_error(fake: ForgeFake, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_REPOSITORY", "someone/else")
    forge = from_environment()
    if fake.flavour == "gitea":
        with pytest.raises(ForgeError):
            forge.pull_for_commit("m1")
    else:
        with pytest.raises(ForgeError):
            forge.pull_for_commit("m1")


def test_sticky_comment_and_status(fake: ForgeFake) -> None:
    fake.open_pull(1, "zhang-wei", "h1", "b1", [])
    forge = from_environment()
    forge.upsert_comment(1, "<!-- m -->", "<!-- m --> 第一版")
    forge.upsert_comment(1, "<!-- m -->", "<!-- m --> 第二版")
    assert [comment["body"] for comment in fake.pulls[1].comments] == ["<!-- m --> 第二版"]
    assert [comment.body for comment in forge.comments(1)] == ["<!-- m --> 第二版"]
    forge.set_status("h1", "pending", "待审批" * 100)
    assert fake.status("h1")["description"] == ("待审批" * 100)[:140]
    assert forge.statuses("h1")[0] == ("gzh/approval", "pending")  # Gitea's list says `status`


def test_missing_settings_are_explained(monkeypatch: pytest.MonkeyPatch) -> None:
    from pipeline.errors import GzhError

    with pytest.raises(GzhError, match="GITHUB_REPOSITORY"):
        from_environment()
    assert TOKEN


def test_issue_comments_are_read_whole_without_paging(fake: ForgeFake) -> None:
    """Gitea's issue comments endpoint takes no page or limit: paging it would read the list again."""
    fake.open_pull(1, "zhang-wei", "h1", "b1", [])
    for index in range(120):
        fake.comment(1, "li-na", str(index))
    comments = from_environment().comments(1)
    assert [comment.body for comment in comments] == [str(index) for index in range(120)]


def test_an_unassignable_assignee_does_not_lose_the_issue(fake: ForgeFake) -> None:
    forge = from_environment()
    number = forge.create_issue("【需处理】巡查发现", "正文", ["li-na", "someone-gone"], "2026-12-01")
    issue = fake.issues[-1]
    assert issue["number"] == number and issue["assignees"] == []
    assert "@li-na @someone-gone：平台拒绝把此事项指派给你们" in issue["body"]
    assert forge.create_issue("另一件", "正文", ["li-na"]) and fake.issues[-1]["assignees"] == [{"login": "li-na"}]


def test_issues_and_pull_requests_share_numbers(fake: ForgeFake) -> None:
    fake.open_pull(1, "zhang-wei", "h1", "b1", [])
    assert from_environment().create_issue("告警", "正文") == 2


def test_label_history_is_read_with_who_did_it(fake: ForgeFake) -> None:
    fake.open_pull(1, "zhang-wei", "h1", "b1", [])
    fake.label(1, "li-na", "需保密办复审")
    fake.label(1, "zhang-wei", "需保密办复审", added=False)
    forge = from_environment()
    forge.add_label(1, "需保密办复审")
    events = [(event.actor, event.label, event.added) for event in forge.label_events(1)]
    assert events == [("li-na", "需保密办复审", True), ("zhang-wei", "需保密办复审", False), ("gzh-bot", "需保密办复审", True)]


def test_simple_pulls_for_a_commit_count_as_merged(fake: ForgeFake) -> None:
    fake.open_pull(1, "zhang-wei", "h1", "b1", [])
    fake.merge(1, "m1")
    pull = from_environment().pull_for_commit("m1")
    assert pull is not None and pull.merged and pull.number == 1


def test_a_reply_without_the_default_branch_is_a_clear_error(fake: ForgeFake, monkeypatch: pytest.MonkeyPatch) -> None:
    forge = from_environment()
    monkeypatch.setattr(forge, "json", lambda method, path, **kwargs: {"full_name": fake.repository})
    with pytest.raises(ForgeError, match="没有告诉 yzzgh/gzh-content 的默认分支"):
        forge.default_branch


def test_what_people_read_on_the_forge_is_masked(fake: ForgeFake, monkeypatch: pytest.MonkeyPatch) -> None:
    """Comments, issue titles and bodies, status descriptions: personal data and tokens never reach them."""
    monkeypatch.setenv("GZH_FORGE_TOKEN", TOKEN)
    fake.open_pull(1, "zhang-wei", "h1", "b1", ["content/office/a/index.md"])
    forge = from_environment()
    forge.upsert_comment(1, "<!-- gzh-gate -->", "<!-- gzh-gate -->\n发现身份证号 11010519491231002X，电话 １３９１２３４５６７８")
    number = forge.create_issue("留言人 13912345678 投诉", "token=ghp_abcdefghijklmnopqrstuvwxyz0123456789", ["li-na"])
    forge.set_status("h1", "failure", "联系 139-1234-5678")
    shown = fake.sticky(1)[0] + str(fake.issues) + str(fake.status("h1"))
    for secret in ("11010519491231002X", "１３９１２３４５６７８", "13912345678", "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
                   "139-1234-5678"):
        assert secret not in shown, secret
    assert "110***********002X" in shown and number > 0
