"""Reading files as they are at a given commit, through gitpython: the base branch's policy and
templates, and a pull request's posts, without checking anything out (so no PR code ever runs)."""
from __future__ import annotations

from pathlib import Path, PurePosixPath

import git

from pipeline.errors import GzhError
from pipeline.i18n import Text

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
        try:
            repo.git.fetch("origin", ref)
            return repo.commit(sha)
        except (ValueError, git.BadName, git.GitCommandError):
            continue
    raise GzhError(_MISSING(sha=sha[:12]))


def read_text(commit: git.Commit, path: str) -> str | None:
    try:
        return (commit.tree / path).data_stream.read().decode("utf-8")
    except KeyError:
        return None


def export(commit: git.Commit, folder: str, target: Path) -> bool:
    """Write the files under `folder` at `commit` into `target/folder`; False if it does not exist there."""
    try:
        tree = commit.tree / folder
    except KeyError:
        return False
    for item in tree.traverse():
        if item.type == "blob":
            destination = target / PurePosixPath(item.path)
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_bytes(item.data_stream.read())
    return True
