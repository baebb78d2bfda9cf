"""Choosing post files from the paths given on the command line (pipeline.selection)."""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from pipeline.errors import UsageError
from pipeline.selection import post_file, select_posts
from tests.support import make_root, write_post


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = make_root(tmp_path)
    write_post(root, slug="2026-11-28-meeting")
    write_post(root, department="rights", slug="2026-11-29-rights")
    (root / "content" / "office" / "2026-11-28-meeting" / "notes.md").write_text("草稿\n", "utf-8")
    (root / "content" / "README.md").write_text("说明\n", "utf-8")
    return root


def test_by_default_every_post_under_content_and_the_stray_markdown(root: Path) -> None:
    found, strays = select_posts(root, [])
    relative = lambda paths: [path.relative_to(root).as_posix() for path in paths]  # noqa: E731
    assert relative(found) == ["content/office/2026-11-28-meeting/index.md",
                               "content/rights/2026-11-29-rights/index.md"]
    assert relative(strays) == ["content/office/2026-11-28-meeting/notes.md"]  # README.md is no stray
    assert select_posts(root, ["content/rights", "content/rights/2026-11-29-rights/index.md"])[0] == found[1:]


@pytest.mark.parametrize("target", ["../outside", "content/../../outside", "/etc"])
def test_a_path_outside_the_repository_is_refused(root: Path, target: str) -> None:
    (root.parent / "outside").mkdir()
    with pytest.raises(UsageError, match=f"^“{re.escape(target)}”不在仓库里：gzh 只检查仓库 content/ 下的文章$"):
        select_posts(root, [target])
    with pytest.raises(UsageError, match="不是文章"):
        post_file(root, target)


def test_a_missing_path_is_a_usage_error(root: Path) -> None:
    with pytest.raises(UsageError, match="^找不到要检查的路径：content/nope$"):
        select_posts(root, ["content/office", "content/nope"])


def test_post_file_takes_the_post_or_its_folder_and_nothing_else(root: Path) -> None:
    index = root / "content" / "office" / "2026-11-28-meeting" / "index.md"
    assert post_file(root, "content/office/2026-11-28-meeting") == index
    assert post_file(root, str(index)) == index
    assert post_file(root, "content/rights/../office/2026-11-28-meeting/index.md") == index  # .. resolved by name
    for target in ("content/office/2026-11-28-meeting/notes.md", "content/office", "content/office/nope"):
        with pytest.raises(UsageError, match=f"^“{re.escape(target)}”不是文章：请给出文章的 index.md 或其所在的文件夹$"):
            post_file(root, target)


def test_a_link_is_taken_as_written_never_replaced_by_its_target(root: Path, tmp_path: Path) -> None:
    secret = write_post(tmp_path / "elsewhere", "仓库外的文件。\n")
    os.symlink(secret.parent, root / "content" / "office" / "linked")
    assert post_file(root, "content/office/linked") == root / "content" / "office" / "linked" / "index.md"
    (root / "content" / "office" / "linked-file").mkdir()
    os.symlink(secret, root / "content" / "office" / "linked-file" / "index.md")
    assert post_file(root, "content/office/linked-file").is_symlink()  # the link itself, for loading to refuse
    assert select_posts(root, ["content/office/linked/index.md"])[0] == [root / "content/office/linked/index.md"]
    assert select_posts(root, ["content/office"])[0] == [  # a linked folder is not walked into; a linked file is listed
        root / "content/office/2026-11-28-meeting/index.md", root / "content/office/linked-file/index.md"]
