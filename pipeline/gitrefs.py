"""Reading files as they are at a given commit, through gitpython: the base branch's policy and
templates, and a pull request's posts, without checking anything out (so no PR code ever runs)."""
from __future__ import annotations

import hashlib
import io
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import git
from gitdb import IStream

from pipeline import posts
from pipeline.errors import GzhError
from pipeline.i18n import Text

# Git's file modes for what is not a plain file: a symbolic link, and a submodule (a "gitlink").
SYMLINK_MODE, GITLINK_MODE = 0o120000, 0o160000
_NO_MERGE_BASE = Text("提交 {head} 与目标分支 {base} 没有共同的历史，无法确定改动了哪些文件",
                      "Commits {head} and {base} share no history; the changed files cannot be determined")
_ODD_NAME = Text("{sha}:{path} 下有 git 不允许检出的文件名（例如 ..、.git 或与它们相似的名字）。请改成普通的文件名后重新提交",
                 "{sha}:{path} holds a name git refuses to check out (.., .git or a look-alike); rename it and commit again")
_NOT_UTF8 = Text("{sha}:{path} 不是 UTF-8 编码的文本。请用 UTF-8 保存（记事本“另存为”时选择 UTF-8）后重新提交",
                 "{sha}:{path} is not UTF-8 text; save it as UTF-8 and commit again")
_MISSING = Text("本地仓库中没有提交 {sha}，也无法从 origin 取得。请在工作流中用 fetch-depth: 0 检出（见 docs/setup.md）",
                "Commit {sha} is not in the local repository and could not be fetched; check out with fetch-depth: 0")


def open_repo(root: Path) -> git.Repo:
    return git.Repo(root, search_parent_directories=True)


def ensure_commit(repo: git.Repo, sha: str, *refs: str) -> git.Commit:
    """The commit, fetching `refs` (e.g. refs/pull/7/head) from origin if it is not here yet."""
    try:
        return repo.commit(sha)
    except (ValueError, git.BadName, git.GitCommandError):
        pass
    for ref in refs + (sha,):
        try:  # a branch name comes from the forge, and could look like an option: never let git read it as one
            repo.git.fetch("--end-of-options", "origin", ref)
            return repo.commit(sha)
        except (ValueError, git.BadName, git.GitCommandError):
            continue
    raise GzhError(_MISSING(sha=sha[:12]))


class OddTree(GzhError):
    """A tree entry git itself refuses to check out (`..`, `.git` look-alikes): a status, not a crash."""


def _entry(commit: git.Commit, path: str) -> Any:
    try:
        return commit.tree / path
    except KeyError:
        return None
    except ValueError:  # gitpython refuses names such as ".." or ".git\u200c" inside a tree
        raise OddTree(_ODD_NAME(path=path, sha=commit.hexsha[:7])) from None


def _plain_blob(item: Any) -> bool:
    return item is not None and item.type == "blob" and item.mode != SYMLINK_MODE


def is_file(commit: git.Commit, path: str) -> bool:
    return _plain_blob(_entry(commit, path))


def read_text(commit: git.Commit, path: str) -> str | None:
    """A file's text at `commit`; None if there is no file (a folder of that name is no file either)."""
    item = _entry(commit, path)
    if not _plain_blob(item):
        return None
    data = item.data_stream.read()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise GzhError(_NOT_UTF8(path=path, sha=commit.hexsha[:7])) from None


def export(commit: git.Commit, folder: str, target: Path) -> bool:
    """Write the files under `folder` at `commit` into `target/folder`; False if it does not exist there."""
    tree = _entry(commit, folder)
    if tree is None:
        return False
    try:
        items = list(tree.traverse())
    except ValueError:
        raise OddTree(_ODD_NAME(path=folder, sha=commit.hexsha[:7])) from None
    for item in items:
        if _plain_blob(item):  # links are refused by the gate, never followed
            relative = PurePosixPath(item.path)
            if ".." in relative.parts or relative.is_absolute():
                raise OddTree(_ODD_NAME(path=item.path, sha=commit.hexsha[:7]))
            destination = target / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_bytes(item.data_stream.read())
    return True


@dataclass(frozen=True)
class Changes:
    """What a pull request changes, from git: every path (both sides of a rename) and the number of
    changed files counted as the forges count them (a rename is one)."""

    paths: tuple[str, ...]
    count: int


def changed_paths(repo: git.Repo, base: git.Commit, head: git.Commit, fork_point: git.Commit | None = None) -> Changes:
    """The diff from the merge base of base and head (or the forge's own `fork_point`) to head, as
    `git diff -M` sees it. The forge's file list is capped (GitHub lists at most 3,000 files), so the
    gate never uses it.
    """
    bases = [fork_point] if fork_point is not None else repo.merge_base(base, head)
    if not bases:
        raise GzhError(_NO_MERGE_BASE(head=head.hexsha[:7], base=base.hexsha[:7]))
    output = repo.git.diff("--name-status", "-z", "-M", "--no-ext-diff", "--no-color", bases[0].hexsha, head.hexsha)
    fields = output.split("\0") if output else []
    paths: dict[str, None] = {}
    count = 0
    index = 0
    while index < len(fields) and fields[index]:
        status = fields[index]
        width = 2 if status[0] in "RC" else 1  # a rename or copy names the old and the new path
        for path in fields[index + 1: index + 1 + width]:
            paths[path] = None
        count += 1
        index += 1 + width
    return Changes(tuple(paths), count)


def non_regular(commit: git.Commit, folders: tuple[str, ...]) -> list[tuple[str, int]]:
    """Symbolic links and submodules under `folders` at `commit`: (path, mode) each.

    A link can make approved text stand for a file that a later, lesser-reviewed change rewrites,
    or point outside the repository; posts and templates must be plain files.
    """
    listing = commit.repo.git.ls_tree("-r", "-z", "--full-tree", commit.hexsha, "--", *folders)
    found = []
    for entry in filter(None, listing.split("\0")):
        meta, path = entry.split("\t", 1)
        mode = int(meta.split(" ", 1)[0], 8)
        if mode in (SYMLINK_MODE, GITLINK_MODE):
            found.append((path, mode))
    return found


def worktree_matches(repo: git.Repo, sha: str, folder: str, root: Path) -> bool:
    """Whether the files under `folder` on disk are exactly the regular files of `folder` at `sha`.

    This is what publishing reads and uploads, so it is compared byte for byte (as git blob ids),
    without following any link: a symbolic link, a missing or extra file, or a changed byte fails.
    """
    try:
        entries = [item for item in (repo.commit(sha).tree / folder).traverse() if item.type != "tree"]
    except (KeyError, ValueError):
        return False
    if not all(_plain_blob(item) for item in entries):
        return False  # links or submodules in the approved tree are never publishable
    if posts.non_regular_entries(root / folder, root):
        return False  # a link on disk, in the folder or above it, is never read through
    on_disk = {path.relative_to(root).as_posix(): _blob_id(path.read_bytes())
               for current, _, files in os.walk(root / folder) for path in (Path(current) / name for name in files)}
    return on_disk == {item.path: item.hexsha for item in entries}


def _blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()  # noqa: S324 - git's object id, not security


_PUSH_FAILED = Text("无法把预览图片推送到分支 {branch}：{error}。请确认工作流的令牌有 contents: write 权限",
                    "Could not push the preview images to {branch}: {error}; the token needs contents: write")


def push_files(repo: git.Repo, remote: str, branch: str, files: dict[str, bytes], message: str, *,
               parent: str | None = None, author: str = "gzh") -> str:
    """Replace `branch` on `remote` with one commit: `files` alone, or (with `parent`) that commit's
    tree with `files` added or replaced on top of it. Returns the commit's id.

    Built from objects alone (a private index, no checkout): each push replaces the last, so a
    branch of pictures never grows and a submission's branch is always one commit on its base.
    Authentication comes from the environment (GIT_CONFIG_*), as the workflows give it; nothing is
    written to the repository's config.
    """
    with tempfile.TemporaryDirectory() as folder:
        env = {"GIT_INDEX_FILE": str(Path(folder) / "index"), "GIT_AUTHOR_NAME": author,
               "GIT_AUTHOR_EMAIL": "gzh@localhost", "GIT_COMMITTER_NAME": "gzh", "GIT_COMMITTER_EMAIL": "gzh@localhost"}
        with repo.git.custom_environment(**env):
            if parent is not None:
                repo.git.read_tree(parent)
            for path, data in sorted(files.items()):
                blob = repo.odb.store(IStream("blob", len(data), io.BytesIO(data))).hexsha.decode("ascii")
                repo.git.update_index("--add", "--cacheinfo", f"100644,{blob},{path}")
            tree = repo.git.write_tree()
            commit = repo.git.commit_tree(tree, *(["-p", parent] if parent else []), "-m", message)
            try:
                repo.git.push("--force", "--quiet", remote, f"{commit}:refs/heads/{branch}")
            except git.GitCommandError as error:
                raise GzhError(_PUSH_FAILED(branch=branch, error=(error.stderr or "").strip()[-200:])) from None
    return commit
