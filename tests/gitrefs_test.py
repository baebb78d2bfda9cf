"""Reading a commit's files, what a branch changed and odd tree entries, through git (pipeline.gitrefs)."""
from __future__ import annotations

import os
from pathlib import Path

import git
import pytest

from pipeline import gitrefs
from pipeline.errors import GzhError
from tests.support import init_git, make_root, write_post

POST = "content/office/2026-11-28-meeting/index.md"


def commit(repo: git.Repo, message: str) -> git.Commit:
    repo.git.add(A=True)
    return repo.index.commit(message)


@pytest.fixture
def repo(tmp_path: Path) -> git.Repo:
    root = make_root(tmp_path)
    write_post(root, "第一版。\n")
    return init_git(root)


def test_changed_paths_come_from_the_merge_base_not_the_base_tip(repo: git.Repo) -> None:
    root = Path(repo.working_tree_dir)
    repo.git.checkout("-b", "dept/news")
    write_post(root, "新文章。\n", slug="2026-11-29-news")
    repo.git.mv("content/office/2026-11-28-meeting", "content/office/2026-11-28-renamed")
    head = commit(repo, "新文章并改名")
    repo.git.checkout("main")
    (root / "gzh.yml").write_text("# 目标分支后来改了策略\n", "utf-8")
    base = commit(repo, "主干的改动")
    changes = gitrefs.changed_paths(repo, base, head)
    assert set(changes.paths) == {"content/office/2026-11-29-news/index.md", POST,
                                  "content/office/2026-11-28-renamed/index.md"}
    assert changes.count == 2  # the rename is one change, as the forges count it
    given = gitrefs.changed_paths(repo, base, head, fork_point=base)  # the forge's fork point is used as given
    assert "gzh.yml" in given.paths


def test_unrelated_histories_are_explained(repo: git.Repo) -> None:
    repo.git.checkout("--orphan", "other")
    (Path(repo.working_tree_dir) / "x.txt").write_text("x\n", "utf-8")
    orphan = commit(repo, "无关的历史")
    main = repo.commit("main")
    with pytest.raises(GzhError, match=f"提交 {orphan.hexsha[:7]} 与目标分支 {main.hexsha[:7]} 没有共同的历史"):
        gitrefs.changed_paths(repo, main, orphan)


def test_files_are_read_as_they_are_at_the_commit(repo: git.Repo) -> None:
    first = repo.head.commit
    root = Path(repo.working_tree_dir)
    write_post(root, "第二版。\n")
    (root / "content" / "gbk.md").write_bytes("国标编码".encode("gbk"))
    second = commit(repo, "第二版")
    assert "第一版。" in gitrefs.read_text(first, POST) and "第二版。" in gitrefs.read_text(second, POST)
    assert gitrefs.read_text(first, "content/office") is None  # a folder is no file
    assert gitrefs.read_text(first, "content/nope.md") is None and not gitrefs.is_file(first, "content/office")
    with pytest.raises(GzhError, match=r"[0-9a-f]{7}:content/gbk.md 不是 UTF-8 编码的文本"):
        gitrefs.read_text(second, "content/gbk.md")


def test_links_and_submodules_are_reported_never_read_or_exported(repo: git.Repo, tmp_path: Path) -> None:
    root = Path(repo.working_tree_dir)
    os.symlink("../../../gzh.yml", root / "content" / "office" / "2026-11-28-meeting" / "policy.md")
    repo.git.add(A=True)
    repo.git.update_index("--add", "--cacheinfo", f"160000,{repo.head.commit.hexsha},templates/vendored")
    tip = repo.index.commit("链接和子模块")
    assert gitrefs.non_regular(tip, ("content", "templates")) == [
        ("content/office/2026-11-28-meeting/policy.md", gitrefs.SYMLINK_MODE),
        ("templates/vendored", gitrefs.GITLINK_MODE)]
    assert gitrefs.read_text(tip, "content/office/2026-11-28-meeting/policy.md") is None
    assert gitrefs.export(tip, "content", tmp_path / "out") is True
    out = tmp_path / "out"
    exported = sorted(path.relative_to(out).as_posix() for path in out.rglob("*") if path.is_file())
    assert exported == [POST] and not gitrefs.export(tip, "nothing-here", tmp_path / "out")


def test_a_missing_commit_is_fetched_from_origin_or_explained(repo: git.Repo, tmp_path: Path) -> None:
    clone = git.Repo.clone_from(repo.git_dir, tmp_path / "clone")
    write_post(Path(repo.working_tree_dir), "拉取请求的新版本。\n")
    pushed = commit(repo, "新版本")
    repo.git.update_ref("refs/pull/7/head", pushed.hexsha)
    repo.git.reset("--hard", "HEAD~1")  # only refs/pull/7/head keeps it, as on a forge
    assert gitrefs.ensure_commit(clone, pushed.hexsha, "refs/pull/7/head").hexsha == pushed.hexsha
    with pytest.raises(GzhError, match="本地仓库中没有提交 0123456789ab，也无法从 origin 取得"):
        gitrefs.ensure_commit(clone, "0123456789abcdef0123456789abcdef01234567")
