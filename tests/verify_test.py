"""Publishing re-verifies approvals: only content merged through a passing gate goes out."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from pipeline.ledger import SANDBOX_BRANCH, Ledger
from pipeline.main import main
from pipeline.sandbox import SANDBOX_APPID, SANDBOX_SECRET, Sandbox
from tests.support import PullScenario


@pytest.fixture(params=["github", "gitea"])
def merged(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[PullScenario, Sandbox]]:
    scenario = PullScenario(tmp_path, request.param)
    sandbox = Sandbox(tmp_path / "sandbox").start()
    sandbox.state.data["publish_seconds"] = 0.0
    for key, value in {**scenario.forge.environment(), "WECHAT_API_BASE": sandbox.url + "cgi-bin/",
                       "WECHAT_APPID": SANDBOX_APPID, "WECHAT_SECRET": SANDBOX_SECRET}.items():
        monkeypatch.setenv(key, value)
    yield scenario, sandbox
    sandbox.stop()
    scenario.close()


def merge(scenario: PullScenario) -> str:
    scenario.repo.git.checkout("main")
    scenario.repo.git.merge("--no-ff", "-m", "合并 #1", "dept/office-news")
    sha = scenario.repo.head.commit.hexsha
    scenario.forge.merge(1, sha)
    return sha


def publish(scenario: PullScenario, *paths: str) -> int:
    return main(["--root", str(scenario.root), "publish", *paths])


def test_approved_and_merged_post_is_published_with_its_approvers(merged, capsys) -> None:
    scenario, sandbox = merged
    scenario.approve()
    merge(scenario)
    assert publish(scenario, "content/office/2026-11-28-news") == 0
    published = [e for e in Ledger(scenario.root, branch=SANDBOX_BRANCH).events if e.kind == "publish"]
    assert published[0].data["approvers"] == PullScenario.APPROVERS and published[0].data["pull"] == 1


def test_direct_push_is_refused_and_the_administrator_alerted(merged, capsys) -> None:
    scenario, sandbox = merged
    scenario.repo.git.checkout("main")
    scenario.repo.git.merge("--ff-only", "dept/office-news")  # pushed straight to main, no pull request merged it
    scenario.forge.pulls.clear()
    assert publish(scenario, "content/office/2026-11-28-news") == 1
    assert "未经审批，不发布" in capsys.readouterr().out
    assert len(scenario.forge.issues) == 1 and "@sun-hao" in scenario.forge.issues[0]["body"]
    publish(scenario, "content/office/2026-11-28-news")
    assert len(scenario.forge.issues) == 1  # one alert per version, not one per run
    assert sandbox.calls() == []


def test_merged_without_a_passing_gate_is_refused(merged, capsys) -> None:
    scenario, sandbox = merged
    scenario.approve("li-na", "sun-hao")  # an admin merged it anyway
    merge(scenario)
    assert publish(scenario, "content/office/2026-11-28-news") == 1
    out = capsys.readouterr().out
    assert "合并它的拉取请求 #1 未通过审批" in out and sandbox.calls() == []


def test_content_changed_after_approval_on_the_branch_is_refused(merged, capsys) -> None:
    scenario, sandbox = merged
    scenario.approve()
    merge(scenario)
    scenario.post.write_text(scenario.post.read_text("utf-8") + "\n未经审批加的一句。\n", "utf-8")
    scenario.commit("直接改主分支")
    assert publish(scenario, "content/office/2026-11-28-news") == 1
    assert "未经审批" in capsys.readouterr().out


def test_real_account_without_forge_settings_is_refused(tmp_path: Path, monkeypatch, capsys) -> None:
    from tests.support import init_git, make_root

    monkeypatch.setenv("WECHAT_APPID", "wx1")
    monkeypatch.setenv("WECHAT_SECRET", "s")
    monkeypatch.setenv("WECHAT_API_BASE", "https://api.weixin.qq.com/cgi-bin/")
    root = make_root(tmp_path)
    init_git(root)
    assert main(["--root", str(root), "publish"]) == 1
    assert "发布到正式公众号前必须核对审批" in capsys.readouterr().err


def test_a_post_hidden_behind_3000_files_is_not_published(merged, capsys) -> None:
    scenario, sandbox = merged
    scenario.hide_post_behind_files(3001)
    scenario.approve("sun-hao")  # all the forge's capped list would have asked for
    merge(scenario)
    assert main(["--root", str(scenario.root), "publish", "--dry-run"]) == 1
    assert publish(scenario) == 1
    assert "合并它的拉取请求 #1 未通过审批" in capsys.readouterr().out and sandbox.calls() == []


def test_a_file_swapped_for_a_link_after_approval_is_not_published(merged, capsys) -> None:
    scenario, sandbox = merged
    scenario.approve()
    merge(scenario)
    outside = scenario.root.parent / "outside.md"
    outside.write_text(scenario.post.read_text("utf-8").replace("全委会议", "全委会议（未经审批的改动）"), "utf-8")
    scenario.post.unlink()
    scenario.post.symlink_to(outside)  # the runner's checkout, not a commit: git still shows the approved tree
    assert publish(scenario, "content/office/2026-11-28-news") == 1
    assert "未通过发布前检查" in capsys.readouterr().out and sandbox.calls() == []
    assert main(["--root", str(scenario.root), "check", "content/office/2026-11-28-news"]) == 1
    assert "content/office/2026-11-28-news/index.md”是符号链接" in capsys.readouterr().out


def test_an_uncommitted_change_in_the_checkout_is_not_published(merged, capsys) -> None:
    scenario, sandbox = merged
    scenario.approve()
    merge(scenario)
    scenario.post.write_text(scenario.post.read_text("utf-8").replace("全委会议。", "全委会议，另有安排。"), "utf-8")
    assert publish(scenario, "content/office/2026-11-28-news") == 1
    assert "不是同一份" in capsys.readouterr().out and sandbox.calls() == []


def test_the_bytes_published_are_the_bytes_approved(merged, capsys) -> None:
    from pipeline.gitrefs import worktree_matches

    scenario, _ = merged
    scenario.approve()
    merge(scenario)
    approved = scenario.forge.pulls[1].head_sha
    folder = "content/office/2026-11-28-news"
    assert worktree_matches(scenario.repo, approved, folder, scenario.root)
    (scenario.post.parent / "extra.png").write_bytes(b"not approved")
    assert not worktree_matches(scenario.repo, approved, folder, scenario.root)


@pytest.mark.parametrize("version", ["1.21.11", "1.22.1"])
def test_older_gitea_finds_the_merged_pull_request_another_way(tmp_path: Path, monkeypatch, version: str) -> None:
    """/commits/{sha}/pull is missing before 1.22.0 and misses merge commits before 1.22.3."""
    scenario = PullScenario(tmp_path, "gitea")
    scenario.forge.version = version
    sandbox = Sandbox(tmp_path / "sandbox").start()
    sandbox.state.data["publish_seconds"] = 0.0
    for key, value in {**scenario.forge.environment(), "WECHAT_API_BASE": sandbox.url + "cgi-bin/",
                       "WECHAT_APPID": SANDBOX_APPID, "WECHAT_SECRET": SANDBOX_SECRET}.items():
        monkeypatch.setenv(key, value)
    try:
        scenario.approve()
        merge(scenario)
        assert publish(scenario, "content/office/2026-11-28-news") == 0
    finally:
        sandbox.stop()
        scenario.close()


def test_older_gitea_without_the_pull_request_says_why(tmp_path: Path, monkeypatch, capsys) -> None:
    scenario = PullScenario(tmp_path, "gitea")
    scenario.forge.version = "1.21.11"
    for key, value in {**scenario.forge.environment(), "WECHAT_API_BASE": "http://127.0.0.1:9/cgi-bin/",
                       "WECHAT_APPID": SANDBOX_APPID, "WECHAT_SECRET": SANDBOX_SECRET}.items():
        monkeypatch.setenv(key, value)
    try:
        scenario.approve()
        merge(scenario)
        scenario.forge.pulls.clear()
        assert publish(scenario, "content/office/2026-11-28-news") == 1
        assert "在 Gitea 1.21.11 上找不到合并提交" in capsys.readouterr().out
    finally:
        scenario.close()


@pytest.mark.parametrize("version", ["1.24.6", "1.21.11"])
def test_a_fast_forward_is_not_verified_against_a_side_pull_request(tmp_path: Path, monkeypatch, capsys,
                                                                    version: str) -> None:
    """Gitea finds 'the' merged pull request of a commit without looking at its base branch."""
    scenario = PullScenario(tmp_path, "gitea")
    scenario.forge.version = version
    sandbox = Sandbox(tmp_path / "sandbox").start()
    for key, value in {**scenario.forge.environment(), "WECHAT_API_BASE": sandbox.url + "cgi-bin/",
                       "WECHAT_APPID": SANDBOX_APPID, "WECHAT_SECRET": SANDBOX_SECRET}.items():
        monkeypatch.setenv(key, value)
    try:
        forge, post_commit = scenario.forge, scenario.head
        scenario.repo.git.branch("evil", post_commit)
        original = scenario.post.read_text("utf-8")
        scenario.post.write_text(original + "\n临时改动。\n", "utf-8")
        (scenario.root / "docs").mkdir()
        (scenario.root / "docs" / "typo.md").write_text("错别字修正\n", "utf-8")
        scenario.commit("改文章并修文档")
        scenario.post.write_text(original, "utf-8")
        head = scenario.commit("改回")  # touches the post folder; the diff from the post commit is docs only
        main_pull = forge.pulls.pop(1)
        side = forge.open_pull(1, PullScenario.AUTHOR, head, post_commit, ["docs/typo.md"])
        side.base_ref = "evil"
        main_pull.number, main_pull.head_sha = 2, head
        forge.pulls[2] = main_pull
        forge.review(1, "sun-hao", "APPROVED")
        forge.merge(1, head)
        scenario.repo.git.checkout("main")
        scenario.repo.git.merge("--ff-only", "dept/office-news")
        forge.merge(2, head)
        assert publish(scenario, "content/office/2026-11-28-news") == 1
        assert sandbox.calls() == []
    finally:
        sandbox.stop()
        scenario.close()
