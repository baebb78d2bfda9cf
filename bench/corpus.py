"""Shared by the benchmarks: a throwaway repository holding copies of the sample posts."""
from __future__ import annotations

from pathlib import Path

import git


def commit_all(root: Path) -> git.Repo:
    """`git init` on branch main with everything under root committed, as a forge clone would be."""
    repo = git.Repo.init(root, initial_branch="main")
    with repo.config_writer() as config:
        config.set_value("user", "name", "bench")
        config.set_value("user", "email", "bench@example.invalid")
    repo.git.add(A=True)
    repo.index.commit("corpus")
    return repo
