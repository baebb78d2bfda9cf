"""The approval gate on both forge fakes: the tiers of Art. 5(3) and 6, and the attacks on them."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Iterator

import pytest

from pipeline import approval
from pipeline.commands.gate import gate_command
from tests.notify_fake import robots  # noqa: F401 - the fixture
from tests.support import PROJECT, PullScenario, front_matter, post_text


@pytest.fixture(params=["github", "gitea"])
def pr(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[PullScenario]:
    scenario = PullScenario(tmp_path, request.param)
    for key, value in scenario.forge.environment().items():
        monkeypatch.setenv(key, value)
    yield scenario
    scenario.close()


def test_every_tier_approving_passes(pr: PullScenario) -> None:
    pr.approve()
    status = pr.gate()
    assert (status["state"], status["description"], status["context"]) == ("success", "审批已完成", "gzh/approval")
    comment = pr.comment()
    assert "### 审批进度：审批已完成" in comment
    assert "- ✅ **部门负责人（办公室，兼保密初审）**：李娜 @li-na 已批准（" in comment
    assert comment.count("- ✅ ") == 5


def test_missing_tiers_are_pending_and_requested(pr: PullScenario) -> None:
    pr.approve("li-na", "sun-hao")
    status = pr.gate()
    assert status["state"] == "pending"
    assert status["description"] == "待审批：还差 宣教部长、分管主席（办公室）、主要领导"
    assert pr.forge.pulls[1].requested == ["zhou-yan", "zhao-min", "wang-jun"]


def test_comment_is_updated_in_place(pr: PullScenario) -> None:
    pr.gate()
    pr.approve()
    pr.gate()
    assert "审批已完成" in pr.comment()


def test_self_approval_does_not_count(pr: PullScenario) -> None:
    pr.forge.pulls[1].author = "li-na"  # the department head wrote the post herself
    pr.approve()
    status = pr.gate()
    assert status["state"] == "pending" and "部门负责人（办公室" in status["description"]
    assert "@li-na 是拉取请求的作者，不能批准自己的文章" in pr.comment()


def test_approval_by_a_non_member_does_not_count(pr: PullScenario) -> None:
    pr.approve("li-na", "sun-hao", "zhou-yan", "zhao-min", "chen-gang")
    assert pr.gate()["state"] == "pending"
    assert "@chen-gang 不在任何审批环节中，其批准不计入" in pr.comment()


def test_approval_of_an_older_commit_is_stale(pr: PullScenario) -> None:
    pr.approve()
    pr.post.write_text(pr.post.read_text("utf-8") + "\n补充一段。\n", "utf-8")
    new_head = pr.commit("补充")
    pr.forge.push(1, new_head)
    pr.forge.pulls[1].requested = []
    status = pr.gate()
    assert status["state"] == "pending" and "批准的是旧版本" in pr.comment()
    # whoever approved the older text is asked again, in tier order
    assert pr.forge.pulls[1].requested == ["li-na", "sun-hao", "zhou-yan", "zhao-min", "wang-jun"]
    pr.approve()
    assert pr.gate()["state"] == "success"


def test_only_the_stale_approver_is_asked_again_when_the_others_approved_the_new_head(pr: PullScenario) -> None:
    pr.approve("li-na")
    pr.post.write_text(pr.post.read_text("utf-8") + "\n补充一段。\n", "utf-8")
    pr.forge.push(1, pr.commit("补充"))
    pr.approve("sun-hao", "zhou-yan", "zhao-min", "wang-jun")
    pr.forge.pulls[1].requested = []
    assert pr.gate()["state"] == "pending"
    assert pr.forge.pulls[1].requested == ["li-na"]


def test_pull_request_cannot_make_its_author_an_approver(pr: PullScenario) -> None:
    policy = (pr.root / "gzh.yml").read_text("utf-8")
    policy = policy.replace("  li-na: {name: 李娜, title: 办公室主任}", "  li-na: {name: 李娜, title: 办公室主任}\n  zhang-wei: {name: 张伟}")
    (pr.root / "gzh.yml").write_text(policy.replace("heads: [li-na]", "heads: [zhang-wei]"), "utf-8")
    head = pr.commit("把作者加为负责人")
    pr.forge.push(1, head, ["content/office/2026-11-28-news/index.md", "gzh.yml"])
    pr.forge.review(1, "zhang-wei", "APPROVED")
    pr.approve("sun-hao", "zhou-yan", "zhao-min", "wang-jun")
    status = pr.gate()
    assert status["state"] == "pending" and "部门负责人（办公室" in status["description"]


def test_one_person_counts_for_one_tier(pr: PullScenario) -> None:
    policy = (pr.root / "gzh.yml").read_text("utf-8").replace("  publicity_head: [zhou-yan]", "  publicity_head: [zhou-yan, li-na]")
    (pr.root / "gzh.yml").write_text(policy, "utf-8")
    pr.repo.git.stash()
    pr.repo.git.checkout("master" if "master" in pr.repo.heads else "main")
    (pr.root / "gzh.yml").write_text(policy, "utf-8")
    pr.forge.pulls[1].base_sha = pr.commit("李娜兼任宣教部长（演练）")
    pr.repo.git.checkout("dept/office-news")
    pr.approve("li-na", "sun-hao", "zhao-min", "wang-jun")  # li-na could fill two tiers, but only one
    assert pr.gate()["state"] == "pending"
    assert "@li-na 同时属于多个环节，只能算其中一个" in pr.comment()
    pr.approve("zhou-yan")
    assert pr.gate()["state"] == "success"


def test_request_changes_blocks_until_approved_again(pr: PullScenario) -> None:
    pr.approve()
    pr.forge.review(1, "zhou-yan", "CHANGES_REQUESTED", body="标题再斟酌")
    status = pr.gate()
    assert status["state"] == "failure" and "@zhou-yan 要求修改" in status["description"]
    pr.forge.review(1, "zhou-yan", "COMMENTED", body="我再看看")  # a comment does not withdraw it
    assert pr.gate()["state"] == "failure"
    pr.approve("zhou-yan")
    assert pr.gate()["state"] == "success"


def test_lgtm_comments_and_comment_reviews_are_not_approvals(pr: PullScenario) -> None:
    pr.approve("li-na", "sun-hao", "zhou-yan", "zhao-min")
    pr.forge.comment(1, "wang-jun", "LGTM，同意发布")
    pr.forge.review(1, "wang-jun", "COMMENTED", body="同意")
    assert pr.gate()["state"] == "pending"


def test_dismissed_review_does_not_count(pr: PullScenario) -> None:
    pr.approve()
    wang = next(review for review in pr.forge.pulls[1].reviews if review["user"]["login"] == "wang-jun")
    pr.forge.dismiss(1, wang["id"])
    assert pr.gate()["state"] == "pending"


def test_post_moved_into_another_department_needs_both_heads(pr: PullScenario) -> None:
    old = pr.root / "content" / "office" / "old"
    target = pr.root / "content" / "rights" / "old"
    target.parent.mkdir(parents=True)
    old.rename(target)
    text = (target / "index.md").read_text("utf-8").replace("reviewer: li-na", "reviewer: liu-yang")
    (target / "index.md").write_text(text, "utf-8")
    head = pr.commit("移到法律部")
    pr.forge.push(1, head, ["content/office/2026-11-28-news/index.md"])
    pr.forge.pulls[1].files.append({"filename": "content/rights/old/index.md", "status": "renamed",
                                    "previous_filename": "content/office/old/index.md"})
    pr.approve()
    status = pr.gate()
    assert status["state"] == "pending"
    assert "部门负责人（法律和权益保障部" in status["description"] and "分管主席（法律和权益保障部）" in status["description"]
    assert "部门负责人（办公室" in pr.comment()  # the folder it left needs its head too


def test_secrecy_findings_require_the_secrecy_office(pr: PullScenario) -> None:
    pr.post.write_text(post_text("联系人手机13800138000。\n"), "utf-8")
    pr.forge.push(1, pr.commit("加联系人"))
    pr.approve()
    status = pr.gate()
    assert status["state"] == "pending" and "保密委员会办公室复审" in status["description"]
    assert "需要保密委员会办公室复审**（第六条第三款）：检查发现 手机号码（mobile-number）" in pr.comment()
    assert pr.forge.pulls[1].labels == ["需保密办复审"]  # the gate records the referral where it lasts
    pr.approve("wu-fang")
    assert pr.gate()["state"] == "success"


def test_a_finding_referral_stands_after_the_finding_is_removed(pr: PullScenario) -> None:
    pr.post.write_text(post_text("联系人手机13800138000。\n"), "utf-8")
    pr.forge.push(1, pr.commit("加联系人"))
    pr.gate()
    pr.post.write_text(post_text("联系人请致电市总工会。\n"), "utf-8")
    pr.forge.push(1, pr.commit("删掉手机号"))
    pr.approve()
    status = pr.gate()
    assert status["state"] == "pending" and status["description"].endswith("保密委员会办公室复审")


@pytest.mark.parametrize("how", ["label", "review", "comment", "front-matter"])
def test_department_head_can_ask_for_the_secrecy_office(pr: PullScenario, how: str) -> None:
    if how == "label":
        pr.forge.pulls[1].labels.append("需保密办复审")
    elif how == "review":
        pr.forge.review(1, "li-na", "COMMENTED", body="涉及会议细节，/保密复审")
    elif how == "comment":
        pr.forge.comment(1, "li-na", "/保密复审")
    else:
        pr.post.write_text(post_text(meta=front_matter(secrecy={"conclusion": "需保密办复审", "reviewer": "li-na",
                                                                "basis": "不能确定会议细节能否公开"})), "utf-8")
        pr.forge.push(1, pr.commit("请求复审"))
    pr.approve()
    assert "保密委员会办公室复审" in pr.gate()["description"]


def test_secrecy_request_from_someone_else_is_ignored(pr: PullScenario) -> None:
    pr.forge.comment(1, "zhang-wei", "/保密复审")
    pr.approve()
    assert pr.gate()["state"] == "success"


def test_strict_order(pr: PullScenario) -> None:
    policy = (pr.root / "gzh.yml").read_text("utf-8").replace("strict_order: false", "strict_order: true")
    pr.repo.git.checkout("main")
    (pr.root / "gzh.yml").write_text(policy, "utf-8")
    pr.forge.pulls[1].base_sha = pr.commit("按顺序审批")
    pr.repo.git.checkout("dept/office-news")
    pr.approve("wang-jun", "li-na", "sun-hao", "zhou-yan", "zhao-min")  # principal leader first: too early
    status = pr.gate()
    assert status["state"] == "pending" and status["description"].endswith("主要领导")
    assert pr.forge.pulls[1].requested == ["wang-jun"]
    pr.approve("wang-jun")
    assert pr.gate()["state"] == "success"


def test_protected_files_need_their_roles(pr: PullScenario) -> None:
    pr.repo.git.reset("--hard", pr.base)  # a pull request that changes only the program
    (pr.root / "pipeline").mkdir()
    (pr.root / "pipeline" / "hack.py").write_text("print('x')\n", "utf-8")
    pr.forge.push(1, pr.commit("改程序"), ["pipeline/hack.py"])
    pr.approve("sun-hao")
    status = pr.gate()
    assert status["state"] == "pending" and status["description"] == "待审批：还差 主要领导"


def test_many_reviews_cost_a_bounded_number_of_calls(pr: PullScenario) -> None:
    for index in range(95):
        pr.forge.review(1, f"staff-{index}", "COMMENTED", body="意见")
    pr.approve()
    calls_before = len(pr.forge.requests)
    began = time.monotonic()
    gate_command(pr.root, 1)
    elapsed = time.monotonic() - began
    calls = len(pr.forge.requests) - calls_before
    # pull, reviews (1 page of 100 on GitHub, 2 of 50 on Gitea), comments, label history, repository (its
    # default branch), who the token is, status, comment; the changed files come from git
    assert calls == (8 if pr.forge.flavour == "github" else 9) and elapsed < 2.0, (calls, elapsed)


def test_gate_needs_tiers_from_the_shipped_policy() -> None:
    from pipeline.policy import load_repository_policy

    policy = load_repository_policy(PROJECT)
    needed = approval.needs(policy, ["content/office/x/index.md"], secrecy=False)
    assert [tier.key for tier in needed.tiers] == [
        "department:office", "administrator", "publicity_head", "leader_in_charge:zhao-min", "principal_leader"]


# -- attacks found from outside (docs/approval.md, 攻击表): each must be refused on both forges -----------


def test_a_post_hidden_behind_3000_files_still_needs_every_tier(pr: PullScenario) -> None:
    """GitHub lists at most 3,000 files; the gate takes the changed paths from git instead."""
    pr.hide_post_behind_files(3001)
    pr.approve("sun-hao")
    status = pr.gate()
    assert status["state"] == "pending" and "部门负责人（办公室" in status["description"]
    pr.approve()
    assert pr.gate()["state"] == "success"


def test_forge_and_git_disagreeing_on_the_changed_files_fails(pr: PullScenario) -> None:
    pr.forge.pulls[1].files.append({"filename": "docs/ghost.md", "status": "added"})
    pr.approve()
    status = pr.gate()
    assert status["state"] == "failure" and "改了 2 个文件，git 算出的是 1 个" in status["description"]


@pytest.mark.parametrize("where", ["index.md", "image", "templates"])
def test_symbolic_links_fail_the_gate(pr: PullScenario, where: str) -> None:
    (pr.root / "docs").mkdir()
    (pr.root / "docs" / "x.md").write_text(pr.post.read_text("utf-8"), "utf-8")
    if where == "index.md":
        pr.post.unlink()
        pr.post.symlink_to("../../../docs/x.md")
    elif where == "image":
        (pr.post.parent / "photo.png").symlink_to("../../../docs/x.md")
    else:
        (pr.root / "templates" / "extra.html.j2").symlink_to("../docs/x.md")
    pr.forge.push(1, pr.commit("链接"), ["content/office/2026-11-28-news/index.md", "docs/x.md"]
                  + (["content/office/2026-11-28-news/photo.png"] if where == "image" else [])
                  + (["templates/extra.html.j2"] if where == "templates" else []))
    pr.approve()
    status = pr.gate()
    assert status["state"] == "failure" and "是符号链接" in status["description"]


def test_check_errors_block_even_when_every_tier_approved(pr: PullScenario) -> None:
    pr.post.write_text(post_text(meta=front_matter(category="八卦")), "utf-8")
    pr.forge.push(1, pr.commit("类别写错"))
    pr.approve()
    status = pr.gate()
    assert status["state"] == "failure" and "发布前检查发现 1 个错误" in status["description"]
    assert "**发布前检查**：1 篇文章，1 个错误" in pr.comment() and "审批已完成" not in pr.comment()


def test_a_document_number_that_only_ends_like_an_allowlisted_one_needs_the_secrecy_office(pr: PullScenario) -> None:
    pr.post.write_text(post_text("依据苏扬工发〔2026〕12号文件。\n"), "utf-8")
    pr.forge.push(1, pr.commit("引用文件"))
    pr.approve()
    assert pr.gate()["description"].endswith("保密委员会办公室复审")


def test_every_department_of_the_shipped_policy_can_be_approved(pr: PullScenario) -> None:
    from pipeline.policy import load_repository_policy

    policy = load_repository_policy(PROJECT)
    for department in policy.departments:
        for secrecy in (False, True):
            assert approval.fillable(policy, approval.department_chain(policy, department, secrecy)), department.name


def test_a_publicity_post_is_approved_by_the_deputy_and_the_publicity_head(pr: PullScenario) -> None:
    target = pr.root / "content" / "publicity" / "2026-11-28-news"
    target.parent.mkdir(parents=True)
    text = pr.post.read_text("utf-8").replace("reviewer: li-na", "reviewer: gu-xin")
    pr.post.parent.rename(target)
    (target / "index.md").write_text(text, "utf-8")
    pr.forge.push(1, pr.commit("改为宣网部稿件"), ["content/publicity/2026-11-28-news/index.md"])
    pr.approve("zhou-yan", "sun-hao", "qian-li", "wang-jun")
    assert pr.gate()["state"] == "pending"  # zhou-yan counts for one of her two tiers only
    pr.approve("gu-xin")
    assert pr.gate()["state"] == "success"


class TestSecrecyReferralsStand:
    """A referral stands until the secrecy office approves; only its maker or the office withdraws it."""

    LABEL = "需保密办复审"

    def test_the_author_removing_the_heads_label_is_ignored(self, pr: PullScenario) -> None:
        pr.forge.label(1, "li-na", self.LABEL)
        pr.forge.label(1, PullScenario.AUTHOR, self.LABEL, added=False)
        pr.approve()
        status = pr.gate()
        assert status["description"].endswith("保密委员会办公室复审")
        assert "@zhang-wei 移除了标签“需保密办复审”，但保密办复审请求只能由提出人或保密委员会办公室撤回" in pr.comment()
        assert pr.forge.pulls[1].labels == [self.LABEL]  # put back by the gate

    def test_deleting_the_heads_comment_after_the_gate_saw_it_changes_nothing(self, pr: PullScenario) -> None:
        comment = pr.forge.comment(1, "li-na", "会议细节拿不准，/保密复审")
        pr.gate()
        pr.forge.delete_comment(comment["id"])
        pr.forge.label(1, PullScenario.AUTHOR, self.LABEL, added=False)
        pr.approve()
        assert pr.gate()["description"].endswith("保密委员会办公室复审")

    def test_editing_the_heads_comment_changes_nothing(self, pr: PullScenario) -> None:
        comment = pr.forge.comment(1, "li-na", "/保密复审")
        pr.gate()
        pr.forge.edit_comment(comment["id"], "/撤回保密复审")  # someone with write access rewrote it
        pr.approve()
        assert pr.gate()["description"].endswith("保密委员会办公室复审")

    def test_someone_else_cannot_withdraw(self, pr: PullScenario) -> None:
        pr.forge.comment(1, "li-na", "/保密复审")
        pr.forge.comment(1, PullScenario.AUTHOR, "/撤回保密复审")
        pr.approve()
        assert pr.gate()["description"].endswith("保密委员会办公室复审")
        assert "@zhang-wei 要求撤回保密办复审，但只有提出人或保密委员会办公室可以撤回" in pr.comment()

    def test_the_head_who_referred_can_withdraw_before_it_is_recorded(self, pr: PullScenario) -> None:
        pr.forge.comment(1, "li-na", "/保密复审")
        pr.forge.comment(1, "li-na", "想清楚了，可以公开。/撤回保密复审")
        pr.approve()
        assert pr.gate()["state"] == "success"

    def test_the_secrecy_office_can_withdraw(self, pr: PullScenario) -> None:
        pr.forge.label(1, "li-na", self.LABEL)
        pr.forge.label(1, "wu-fang", self.LABEL, added=False)
        pr.approve()
        assert pr.gate()["state"] == "success"

    def test_a_deleted_accounts_comment_is_read_without_error(self, pr: PullScenario) -> None:
        pr.forge.comment(1, None, "/保密复审")
        pr.approve()
        assert pr.gate()["state"] == "success"


def test_pending_drafts_hiding_on_a_page_do_not_hide_a_later_change_request(pr: PullScenario) -> None:
    """Gitea drops other users' PENDING reviews after cutting a page: a short page is not the last."""
    for index in range(60):
        pr.forge.review(1, f"staff-{index}", "PENDING", body="草稿")
    pr.approve()
    pr.forge.review(1, "zhou-yan", "CHANGES_REQUESTED", body="请改标题")
    status = pr.gate()
    assert status["state"] == "failure" and "@zhou-yan 要求修改" in status["description"]


def test_team_review_requests_are_not_reviews(pr: PullScenario) -> None:
    pr.forge.pulls[1].requested_teams = ["leaders"]
    pr.approve()
    assert pr.gate()["state"] == "success"


# -- found by a red-team pass with scenarios the first fix had not seen ------------------------------------


def test_a_pull_request_into_another_branch_never_passes(pr: PullScenario) -> None:
    """Statuses belong to a commit: a side pull request sharing the head must not turn it green."""
    post_commit = pr.head
    pr.repo.git.branch("evil", post_commit)  # an unprotected branch already holding the unapproved post
    (pr.root / "docs").mkdir()
    (pr.root / "docs" / "readme-fix.md").write_text("错别字修正\n", "utf-8")
    head = pr.commit("文档修正")
    pr.forge.push(1, head, ["content/office/2026-11-28-news/index.md", "docs/readme-fix.md"])
    side = pr.forge.open_pull(2, PullScenario.AUTHOR, head, post_commit, ["docs/readme-fix.md"])
    side.base_ref = "evil"
    pr.forge.review(2, "sun-hao", "APPROVED")  # "a typo fix"
    from pipeline.main import main

    assert main(["--root", str(pr.root), "gate", "--pr", "2"]) == 0
    status = pr.forge.status(head)
    assert status["state"] == "failure" and "目标分支是 evil，不是发布分支 main" in status["description"]


class TestReferralsSurviveAPreAddedLabel:
    """The author adds the label first, so the gate's own record would be missing; then erases the evidence."""

    LABEL = "需保密办复审"

    def referred(self, pr: PullScenario) -> dict:
        pr.forge.label(1, PullScenario.AUTHOR, self.LABEL)
        comment = pr.forge.comment(1, "li-na", "/保密复审")
        pr.gate()
        assert pr.forge.pulls[1].label_events[-1]["user"] == "gzh-bot"  # the gate took the label over
        return comment

    def test_deleted_comment(self, pr: PullScenario) -> None:
        pr.forge.delete_comment(self.referred(pr)["id"])
        pr.forge.label(1, PullScenario.AUTHOR, self.LABEL, added=False)
        pr.approve()
        assert pr.gate()["description"].endswith("保密委员会办公室复审")

    def test_fixed_finding(self, pr: PullScenario) -> None:
        pr.forge.label(1, PullScenario.AUTHOR, self.LABEL)
        pr.post.write_text(post_text("联系人手机13800138000。\n"), "utf-8")
        pr.forge.push(1, pr.commit("加联系人"))
        pr.gate()
        pr.post.write_text(post_text("联系人请致电市总工会。\n"), "utf-8")
        pr.forge.push(1, pr.commit("删掉手机号"))
        pr.forge.label(1, PullScenario.AUTHOR, self.LABEL, added=False)
        pr.approve()
        assert pr.gate()["description"].endswith("保密委员会办公室复审")


def test_a_heads_comment_disguised_as_the_gates_own_still_counts(pr: PullScenario) -> None:
    comment = pr.forge.comment(1, "li-na", "/保密复审")
    pr.forge.edit_comment(comment["id"], "/保密复审 <!-- gzh-gate -->")
    pr.approve()
    assert pr.gate()["description"].endswith("保密委员会办公室复审")


def test_the_author_cannot_withdraw_a_referral_even_from_the_secrecy_office(pr: PullScenario) -> None:
    pr.forge.pulls[1].author = "wu-fang"
    pr.forge.comment(1, "li-na", "/保密复审")
    pr.gate()
    pr.forge.comment(1, "wu-fang", "/撤回保密复审")
    pr.forge.label(1, "wu-fang", "需保密办复审", added=False)
    pr.approve()
    assert pr.gate()["state"] == "pending"


def test_a_full_width_slash_command_is_understood(pr: PullScenario) -> None:
    pr.forge.comment(1, "li-na", "／保密复审")
    pr.approve()
    assert pr.gate()["description"].endswith("保密委员会办公室复审")


@pytest.mark.parametrize("case", ["gbk", "folder-named-index.md"])
def test_odd_files_get_a_status_not_a_crash(pr: PullScenario, case: str) -> None:
    if case == "gbk":
        pr.post.write_bytes(post_text("市总工会召开全委会议。\n").encode("gbk"))
    else:
        (pr.post.parent / "sub" / "index.md").mkdir(parents=True)
        (pr.post.parent / "sub" / "index.md" / "x.txt").write_text("x\n", "utf-8")
    pr.forge.push(1, pr.commit("奇怪的文件"), ["content/office/2026-11-28-news/index.md"]
                  + (["content/office/2026-11-28-news/sub/index.md/x.txt"] if case != "gbk" else []))
    pr.approve()
    status = pr.gate()  # exit 0 is asserted inside
    assert status["state"] == ("failure" if case == "gbk" else "success")


def test_a_flood_of_comments_keeps_the_sticky_comment_small(pr: PullScenario) -> None:
    pr.forge.label(1, "li-na", "需保密办复审")
    for _ in range(300):
        pr.forge.comment(1, PullScenario.AUTHOR, "/撤回保密复审")
    pr.gate()
    assert len(pr.comment()) < 20_000 and "另有 270 条未列出" in pr.comment()


# -- second red-team round ----------------------------------------------------------------------------------


def test_an_edited_review_summary_never_withdraws_a_referral(pr: PullScenario) -> None:
    pr.forge.comment(1, "li-na", "/保密复审")
    pr.gate()
    review = pr.forge.review(1, "wu-fang", "COMMENTED", body="请问会议时间能公开吗？")
    review["body"] = "/撤回保密复审"  # rewritten by someone with write access; the forges do not say so
    pr.forge.label(1, PullScenario.AUTHOR, "需保密办复审", added=False)
    pr.approve()
    assert pr.gate()["description"].endswith("保密委员会办公室复审")


def test_a_base_branch_named_like_an_option_runs_nothing(pr: PullScenario, tmp_path: Path) -> None:
    marker = tmp_path / "injected"
    pr.repo.create_remote("origin", str(pr.root))
    pull = pr.forge.pulls[1]
    pull.base_ref = "--upload-pack=touch${IFS}" + str(marker)
    pull.base_sha = "0123456789abcdef0123456789abcdef01234567"  # not here yet: the gate tries to fetch it
    from pipeline.main import main

    assert main(["--root", str(pr.root), "gate", "--pr", "1"]) == 1  # a clear error: the commit is missing
    assert not marker.exists()


def test_a_name_git_refuses_to_check_out_fails_the_gate_by_name(pr: PullScenario) -> None:
    (pr.post.parent / ".git\u200c").write_text("x\n", "utf-8")
    pr.repo.git.add(A=True)
    pr.repo.git.commit("-q", "-m", "附件")
    pr.forge.push(1, pr.repo.git.rev_parse("HEAD"), ["content/office/2026-11-28-news/index.md",
                                                       "content/office/2026-11-28-news/.git\u200c"])
    pr.approve()
    status = pr.gate()
    assert status["state"] == "failure" and "git 不允许检出的文件名" in status["description"]


def test_the_gate_edits_only_its_own_sticky_comment(pr: PullScenario) -> None:
    theirs = pr.forge.comment(1, "li-na", "我的意见 <!-- gzh-gate -->")
    pr.gate()
    assert theirs["body"] == "我的意见 <!-- gzh-gate -->"
    assert [c["user"]["login"] for c in pr.forge.pulls[1].comments if "<!-- gzh-gate -->" in c["body"]] == ["li-na", "gzh-bot"]


@pytest.mark.parametrize("path, raw", [
    (r"/pulls/1$", b"<html><body>502 Bad Gateway</body></html>"),
    (r"/pulls/1$", b"{}"),
    (r"/pulls/1$", b'{"number": 1, "head": null, "base": {"ref": "main"}}'),
    (r"/pulls/1/reviews", b'{"message": "not a list"}'),
    (r"/pulls/1/reviews", b'[{"user": "li-na", "state": 5}, 7]'),
    (r"/issues/1/(comments|events|timeline)", b"[null, 3]"),
    (r"^/repos/[^/]+/[^/]+$", b"[]"),  # the repository itself: no default branch
])
def test_odd_forge_replies_are_failures_not_crashes(pr: PullScenario, capsys: pytest.CaptureFixture[str],
                                                      path: str, raw: bytes) -> None:
    from pipeline.main import main

    pr.approve()
    pr.forge.tampered.append((path, raw))
    code = main(["--root", str(pr.root), "gate", "--pr", "1"])
    err = capsys.readouterr().err
    assert code in (1, 2) and "内部错误" not in err and "Traceback" not in err, err
    status = pr.forge.status(pr.head)
    assert status is None or status["state"] != "success"


def test_whoever_is_asked_to_review_hears_it_once_per_head_in_their_group(pr: PullScenario, robots) -> None:
    """Leaders read their 钉钉/企业微信 groups, not the forge's e-mail: the gate tells them there, once
    for each new head commit, with the pull request's page (the comment shows the article)."""
    from tests.notify_fake import LEADERS_TOKEN, OFFICE_KEY, with_notifications

    pr.repo.git.checkout("main")
    with_notifications(pr.root)
    pr.forge.pulls[1].base_sha = pr.commit("通知群")  # the policy is read from the base
    pr.repo.git.checkout("dept/office-news")
    pr.approve("li-na")
    pr.gate()
    leaders = robots.texts(LEADERS_TOKEN)
    assert len(leaders) == 1 and "#1 等待您审批" in leaders[0] and pr.forge.pull_url(1) in leaders[0]
    assert "《市总工会召开全委会议》" in leaders[0] and len(robots.texts(OFFICE_KEY)) == 1  # sun-hao's group
    pr.gate()  # a comment or another review: nobody is told twice
    assert len(robots.texts(LEADERS_TOKEN)) == 1
    pr.post.write_text(pr.post.read_text("utf-8") + "\n补充一段。\n", "utf-8")
    pr.forge.push(1, pr.commit("补充"))
    pr.gate()  # new text: everyone still missing is asked again
    assert len(robots.texts(LEADERS_TOKEN)) == 2
