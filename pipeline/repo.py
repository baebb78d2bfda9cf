"""The git edge: where the repository is and what changed, through gitpython.

Errors from git become UsageError with a Chinese message; nothing else in the package runs git.
"""
from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

import git

from pipeline.errors import UsageError
from pipeline.i18n import Text
from pipeline.policy import POLICY_FILE

_NOT_A_REPO = Text("{path} 不是 git 仓库，无法使用 --changed。请在仓库目录中运行，或直接指定要检查的文章",
                   "{path} is not a git repository, so --changed cannot work. Run it inside the repository")
_BAD_BASE = Text("找不到比较基准“{base}”。请用 --base 指定一个存在的分支或提交，例如 --base origin/main（CI 中需先 git fetch）",
                 "Base '{base}' not found. Pass --base with an existing branch or commit, e.g. origin/main "
                 "(fetch it first in CI)")


def find_root(start: Path) -> Path:
    """The nearest folder at or above `start` that holds the policy file; `start` if none does."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / POLICY_FILE).is_file():
            return folder
    return start


def default_base() -> str:
    """What a pull request is compared with: the PR's target branch in Actions, else main."""
    target = os.environ.get("GITHUB_BASE_REF")
    return f"origin/{target}" if target else "origin/main"


def changed_files(root: Path, base: str) -> list[PurePosixPath]:
    """Files changed since the merge base with `base`, plus uncommitted and untracked ones.

    Deleted files are left out: there is nothing left to check in them.
    """
    try:
        repo = git.Repo(root, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise UsageError(_NOT_A_REPO(path=root)) from None
    with repo:
        base_commit = _resolve_base(repo, base)
        merge_base = repo.merge_base(base_commit, repo.head.commit) or [base_commit]
        names = set(repo.git.diff("--name-only", "--no-renames", "--diff-filter=d", merge_base[0].hexsha).splitlines())
        names.update(repo.untracked_files)
        top = Path(repo.working_tree_dir or root).resolve()
    root = root.resolve()
    paths = []
    for name in sorted(names):
        full = top / name
        if full.is_relative_to(root) and full.exists():
            paths.append(PurePosixPath(full.relative_to(root).as_posix()))
    return paths


def _resolve_base(repo: git.Repo, base: str) -> git.Commit:
    for candidate in (base, base.removeprefix("origin/")):
        try:
            return repo.commit(candidate)
        except (git.BadName, ValueError, git.GitCommandError):
            continue
    raise UsageError(_BAD_BASE(base=base))
