"""The git edge: where the repository is and what changed since the base."""
from __future__ import annotations

from pathlib import Path, PurePosixPath

import pytest

from pipeline import repo
from pipeline.errors import UsageError
from tests.support import init_git, make_root, write_post


def test_the_base_is_the_pull_requests_target_in_actions_and_main_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    assert repo.default_base() == "origin/main"
    monkeypatch.setenv("GITHUB_BASE_REF", "release")
    assert repo.default_base() == "origin/release"


def test_the_root_is_the_nearest_folder_with_the_policy(tmp_path: Path) -> None:
    root = make_root(tmp_path)
    post = write_post(root)
    assert repo.find_root(post.parent) == root.resolve()
    assert repo.find_root(tmp_path) == tmp_path.resolve()  # none above: where it started


def test_changed_files_count_edits_and_new_files_but_not_deletions(tmp_path: Path) -> None:
    root = make_root(tmp_path)
    kept, gone = write_post(root, slug="kept"), write_post(root, slug="gone")
    git = init_git(root)
    git.git.checkout("-b", "dept/news")
    kept.write_text(kept.read_text("utf-8") + "补充一段。\n", "utf-8")
    gone.unlink()
    new = write_post(root, slug="new")  # untracked
    assert repo.changed_files(root, "origin/main") == [PurePosixPath(path.relative_to(root).as_posix()) for path in (kept, new)]
    with pytest.raises(UsageError, match="找不到比较基准“nowhere”"):
        repo.changed_files(root, "nowhere")
    with pytest.raises(UsageError, match="不是 git 仓库"):
        repo.changed_files(tmp_path / "elsewhere", "main")
