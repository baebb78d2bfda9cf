"""The whole path, rehearsed on each forge fake with a real bare git remote and the WeChat sandbox.

Every command is taken from the workflow files themselves (the `run:` of a step, with its `env:`
expressions filled in as the forge would), so the test fails when the workflows drift from it:
a department opens a pull request, check and preview run, the gate is pending and its comment
shows the article as phone pictures (from the pull request's preview branch, as a member's browser
gets them), the title and each finding; whoever must review hears it in their 企业微信/钉钉 group;
each tier reviews (one approval goes stale and its approver is asked again, one comes from a
non-member), the gate passes, the pull request is merged, publishing puts the article live, the
ledger names the approvers, and a re-run publishes nothing.
"""
from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Iterator

import git
import pytest
import requests

from pipeline import browser, notify
from pipeline.ledger import SANDBOX_BRANCH, read_branch
from pipeline.sandbox import SANDBOX_APPID, SANDBOX_SECRET
from tests.forge_fake import TOKEN
from tests.notify_fake import LEADERS_TOKEN, NOTIFICATIONS, OFFICE_KEY, SECRETS, RobotFake, robots  # noqa: F401
from tests.support import PullScenario, Rehearsal, run_step, submission_body, write_image

@pytest.fixture(params=["github", "gitea"])
def rehearsal(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Rehearsal]:
    rehearsal = Rehearsal(tmp_path, request.param)
    yield rehearsal
    rehearsal.close()


def gate(rehearsal: Rehearsal, event: str) -> subprocess.CompletedProcess[str]:
    """The gate as each forge runs it for `event` (opened, or a review). On GitHub a review arrives
    through workflow_run, which for a fork's pull request carries no number: only the head commit."""
    workdir = rehearsal.clone("ci-gate")
    token = {"secrets.GZH_GATE_TOKEN || github.token": TOKEN,
             **{f"secrets.{name}": SECRETS.get(name, "") for name in notify.WORKFLOW_VARIABLES}}
    if event == "review" and rehearsal.flavour == "gitea":
        context = {**token, "github.event.pull_request.number": "1"}
        return run_step("review-relay.yml", "gate-gitea", "gate", workdir, context, rehearsal.environment)
    fork_review = event == "review"
    number = {"github.event.pull_request.number || github.event.issue.number || "
              "github.event.workflow_run.pull_requests[0].number": "" if fork_review else "1",
              "github.event.workflow_run.head_sha": rehearsal.forge.pulls[1].head_sha if fork_review else ""}
    context = {**token, **number, "github.server_url": "http://forge.invalid", "github.repository": rehearsal.forge.repository}
    return run_step("gate.yml", "gate", "gate", workdir, context, rehearsal.environment)


def publish(rehearsal: Rehearsal, name: str) -> subprocess.CompletedProcess[str]:
    context = {"secrets.WECHAT_APPID": SANDBOX_APPID, "secrets.WECHAT_SECRET": SANDBOX_SECRET,
               "secrets.WECHAT_API_BASE": rehearsal.sandbox.url + "cgi-bin/",
               "secrets.GZH_GATE_TOKEN || github.token": TOKEN, "inputs.post": "", "inputs.retry_failed": ""}
    return run_step("publish.yml", "publish", "publish", rehearsal.clone(name), context, rehearsal.environment)


def with_group_robots(rehearsal: Rehearsal) -> None:
    """The account's gzh.yml names its groups (the robots' keys are CI secrets: SECRETS)."""
    policy = rehearsal.tmp / "seed" / "gzh.yml"
    policy.write_text(policy.read_text("utf-8") + NOTIFICATIONS, "utf-8")
    rehearsal.dept.git.add(A=True)
    rehearsal.dept.index.commit("通知群")
    rehearsal.dept.git.push("origin", "main")


def test_department_to_published_article(rehearsal: Rehearsal, robots: RobotFake) -> None:
    forge, dept = rehearsal.forge, rehearsal.dept
    forge.git_dir = rehearsal.remote
    with_group_robots(rehearsal)
    # 1. A department branch adds a post and a pull request is opened.
    first_head = rehearsal.open_pull_request()
    post = rehearsal.tmp / "seed" / "content" / "office" / "2026-11-28-news" / "index.md"

    # 2. Check, preview and gate run; the gate is pending.
    pr_checkout = rehearsal.clone("ci-pr", "refs/pull/1/head")
    for step_id in ("check", "codeowners", "preview"):
        result = run_step("pr-check.yml", "check", step_id, pr_checkout, {"github.base_ref": "main"}, rehearsal.environment)
        assert result.returncode == 0, (step_id, result.stdout, result.stderr)
    assert (pr_checkout / "site" / "posts" / "office" / "2026-11-28-news" / "index.html").is_file()
    result = gate(rehearsal, "opened")
    assert result.returncode == 0, result.stderr
    assert forge.status(first_head)["state"] == "pending"
    comment = forge.sticky(1)[0]
    assert "#### 《市总工会召开全委会议》" in comment and "**保密审查**：可以公开" in comment
    if browser.chromium_path() is not None:  # CI has it: the pictures are there, and a member's browser gets them
        picture = forge.raw_url(f"{first_head[:12]}/office--2026-11-28-news/01.png", branch="gzh-preview-pr-1")
        assert f'<img src="{picture}" width="375"' in comment
        answer = requests.get(picture, cookies={"fake_session": "wang-jun"}, timeout=10)
        assert answer.status_code == 200 and answer.content.startswith(b"\x89PNG")
    # whoever is asked to review hears it in their group, with the pull request's page
    assert any(forge.pull_url(1) in text for text in robots.texts(LEADERS_TOKEN))

    # 3. Each tier reviews; one approval goes stale after a new push, one comes from a non-member.
    forge.review(1, "li-na", "APPROVED")
    post.write_text(post.read_text("utf-8") + "\n会议还部署了下一阶段 5 项工作。\n", "utf-8")  # a typography warning
    dept.git.add(A=True)
    dept.index.commit("补充一句")
    head = rehearsal.push_pull_head()
    forge.push(1, head)
    forge.review(1, "chen-gang", "APPROVED")  # head of another department: not a member of any tier here
    for user in ("sun-hao", "zhou-yan", "zhao-min", "wang-jun"):
        forge.review(1, user, "APPROVED")
    forge.pulls[1].requested = []
    assert gate(rehearsal, "review").returncode == 0
    status = forge.status(head)
    assert status["state"] == "pending" and "部门负责人（办公室" in status["description"]
    comment = forge.sticky(1)[0]
    assert "@li-na 批准的是旧版本" in comment and "@chen-gang 不在任何审批环节中" in comment
    assert forge.pulls[1].requested == ["li-na"]  # the stale approver is asked again
    assert "⚠️ 第 " in comment and "（`typography`）" in comment  # each finding's own words

    # 4. The stale tier approves again; the gate passes; the pull request is merged.
    forge.review(1, "li-na", "APPROVED")
    assert gate(rehearsal, "review").returncode == 0
    assert forge.status(head)["state"] == "success"
    rehearsal.merge()

    # 5. The publish job runs and the article is live in the sandbox.
    result = publish(rehearsal, "ci-publish")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "已发布" in result.stdout and rehearsal.sandbox.url + "s/" in result.stdout
    articles = [a for a in rehearsal.sandbox.state.data["articles"].values() if a["status"] == 0]
    assert [article["news_item"][0]["title"] for article in articles] == ["市总工会召开全委会议"]

    # 6. The ledger, pushed to the remote, names the approvers.
    remote = rehearsal.clone("auditor")
    git.Repo(remote).git.fetch("origin", f"{SANDBOX_BRANCH}:{SANDBOX_BRANCH}")
    published = [event for event in read_branch(remote, SANDBOX_BRANCH) if event.kind == "publish"]
    assert published[0].data["approvers"] == PullScenario.APPROVERS and published[0].data["pull"] == 1

    # 7. A re-run publishes nothing.
    again = publish(rehearsal, "ci-publish-again")
    assert again.returncode == 0 and "没有需要发布的文章：" in again.stdout
    assert len([a for a in rehearsal.sandbox.state.data["articles"].values() if a["status"] == 0]) == 1


def submission_step(rehearsal: Rehearsal, step: str, number: int, action: str, sender: str,
                    pr: str = "") -> subprocess.CompletedProcess[str]:
    """A step of submission.yml as the forge runs it for an `issues` event."""
    context = {"secrets.GZH_GATE_TOKEN || github.token": TOKEN, "github.event.issue.number": str(number),
               "github.event.action": action, "github.event.sender.login": sender, "steps.submit.outputs.pr": pr,
               **{f"secrets.{name}": SECRETS.get(name, "") for name in notify.WORKFLOW_VARIABLES}}
    output = rehearsal.tmp / f"github-output-{len(rehearsal.forge.requests)}"
    output.write_text("", "utf-8")
    result = run_step("submission.yml", "submit", step, rehearsal.clone(f"ci-{step}"), context,
                      {**rehearsal.environment, "GITHUB_OUTPUT": str(output)})
    result.stdout += output.read_text("utf-8")
    return result


def test_a_clerk_submits_a_post_through_the_issue_form(rehearsal: Rehearsal) -> None:
    """The form's issue (two images dragged in, one over WeChat's limit) becomes a pull request with the
    post folder; the gate's comment follows; fixing a field in the issue updates the pull request."""
    forge = rehearsal.forge
    forge.git_dir = rehearsal.remote
    small = write_image(rehearsal.tmp / "合影.png", size=(160, 100))
    large = write_image(rehearsal.tmp / "会场.jpg", size=(2400, 1600), fmt="JPEG", noise_bytes=3 * 1024 * 1024)
    dragged = "\n\n".join(forge.attachment_markdown(forge.attach(path.read_bytes(), path.name), path.name)
                          for path in (small, large))
    body = "市总工会召开十届五次全委会议。\n\n" + dragged
    issue = forge.open_issue("zhang-wei", "稿件：全委会议", submission_body(body=body, title="_No response_"), ["稿件"])
    number = issue["number"]
    result = submission_step(rehearsal, "submit", number, "opened", "zhang-wei")
    assert result.returncode == 0, result.stderr  # the problem is answered on the issue, not a failed run
    assert "**标题**：必填，请填写" in issue["comments"][-1]["body"] and not forge.pulls

    forge.edit_issue(number, "zhang-wei", body=submission_body(body=body, title="市总工会召开全委会议"))
    result = submission_step(rehearsal, "submit", number, "edited", "zhang-wei")
    assert result.returncode == 0, result.stderr
    pr = result.stdout.split("pr=")[-1].strip()
    pull = forge.pulls[int(pr)]
    tree = git.Repo(rehearsal.remote).commit(f"gzh-submission/issue-{number}").tree
    folder = f"content/office/2026-11-28-issue-{number}"
    assert sorted(item.name for item in (tree / folder).blobs) == ["image-1.png", "image-2.jpg", "index.md"]
    assert (tree / folder / "image-2.jpg").size < 1024 * 1024  # shrunk within WeChat's limit
    assert "已压缩为" in issue["comments"][-1]["body"]

    result = submission_step(rehearsal, "gate", number, "edited", "zhang-wei", pr)
    assert result.returncode == 0, result.stderr
    assert "#### 《市总工会召开全委会议》" in forge.sticky(pull.number)[0]

    forge.edit_issue(number, "zhang-wei", body=submission_body(body=body, title="市总工会召开十届五次全委会议"))
    assert submission_step(rehearsal, "submit", number, "edited", "zhang-wei").returncode == 0
    forge.sync_heads()
    assert "title: 市总工会召开十届五次全委会议" in (tree := git.Repo(rehearsal.remote).commit(
        f"gzh-submission/issue-{number}").tree / folder / "index.md").data_stream.read().decode("utf-8")
    assert pull.head_sha == git.Repo(rehearsal.remote).commit(f"gzh-submission/issue-{number}").hexsha
