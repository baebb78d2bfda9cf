from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipeline import codeowners
from pipeline.approval import matches
from pipeline.main import main
from pipeline.policy import load_repository_policy
from tests.support import PROJECT, make_root


def test_shipped_codeowners_are_in_step_with_the_policy(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--root", str(PROJECT), "codeowners", "--check"]) == 0


def test_drift_is_reported_and_fixed_by_write(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_root(tmp_path)
    assert main(["--root", str(root), "codeowners", "--check"]) == 1
    assert "请运行 gzh codeowners --write" in capsys.readouterr().err
    assert main(["--root", str(root), "codeowners", "--write"]) == 0
    assert main(["--root", str(root), "codeowners", "--check"]) == 0


def test_github_file_routes_posts_to_department_heads() -> None:
    text = codeowners.github(load_repository_policy(PROJECT))
    assert "/content/rights/ @liu-yang" in text and "/gzh.yml @sun-hao @wang-jun" in text
    assert text.index("* @sun-hao") < text.index("/content/")  # the catch-all comes first: last match wins


def test_gitea_file_is_valid_go_style_regexps_matching_the_right_paths() -> None:
    rules = [line.split(" ", 1) for line in codeowners.gitea(load_repository_policy(PROJECT)).splitlines()
             if line and not line.startswith("#")]
    owners_of = lambda path: {owner for pattern, owners in rules if re.search(pattern, path) for owner in owners.split()}
    assert owners_of("content/office/2026-x/index.md") == {"@li-na", "@zhao-min", "@sun-hao", "@zhou-yan", "@wang-jun"}
    assert owners_of("gzh.yml") == {"@sun-hao", "@wang-jun"}
    assert owners_of("content/README.md") == set()


@pytest.mark.parametrize(("path", "pattern", "expected"), [
    (".github/workflows/a.yml", ".github/**", True), ("gzh.yml", "gzh.yml", True), ("x/gzh.yml", "gzh.yml", False),
    ("pipeline/a/b.py", "pipeline/**", True), ("pipelines/a.py", "pipeline/**", False), ("docs/a.md", "*.md", False),
])
def test_glob_matching(path: str, pattern: str, expected: bool) -> None:
    assert matches(path, pattern) is expected
