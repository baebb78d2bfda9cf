"""`gzh alert-failure`: a failed workflow run opens one issue per workflow, and later failures add to it."""
from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.main import main
from tests.forge_fake import ForgeFake
from tests.support import make_root



def test_one_issue_per_workflow_then_comments(fake: ForgeFake, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_root(tmp_path)
    fake.open_pull(1, "zhang-wei", "h", "b", [])  # an open pull request must not be mistaken for the issue
    for run in ("https://forge/runs/1", "https://forge/runs/2"):
        assert main(["--root", str(root), "alert-failure", "--workflow", "发布", "--run-url", run]) == 0
    assert len(fake.issues) == 1
    issue = fake.issues[0]
    assert issue["title"] == "【工作流失败】发布" and "@sun-hao" in issue["body"] and "https://forge/runs/1" in issue["body"]
    assert [comment["body"].endswith("再次失败：https://forge/runs/2") for comment in issue["comments"]] == [True]
    assert "已在平台上记录工作流失败：问题 #2" in capsys.readouterr().out


def test_a_broken_policy_still_alerts(fake: ForgeFake, tmp_path: Path) -> None:
    root = make_root(tmp_path, policy_text="version: [")
    assert main(["--root", str(root), "alert-failure", "--workflow", "日常巡查"]) == 0
    assert fake.issues[0]["title"] == "【工作流失败】日常巡查"
