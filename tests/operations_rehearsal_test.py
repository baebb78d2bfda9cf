"""The full rehearsal of docs/operations.md, run exactly as written (Art. 7–9).

Every `sh` block of the guide's rehearsal section is joined, in order, into one bash script and run
in a repository holding the project's policy and sample content, against a forge fake (GitHub and
Gitea) and group robot fakes; `gzh` is this checkout's. Each `gzh …` line's exit code is checked
against what the guide says of it ("退出码 1", else 0). Then what the guide promises is checked
where it lands: the forge's issues, the robots' groups, the sandbox and the ledger.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

from pipeline.ledger import SANDBOX_BRANCH, Kind, Ledger, Status, fold
from tests.forge_fake import ForgeFake
from tests.notify_fake import LEADERS_TOKEN, NOTIFICATIONS, OFFICE_KEY, RIGHTS_KEY, SECRETS, RobotFake
from tests.support import PROJECT, init_git

GUIDE = PROJECT / "docs" / "operations.md"
SECTION = "## 六、完整演练"
EXIT = re.compile(r"退出码 (\d)")
MARK = "::gzh-exit::"


@dataclass(frozen=True)
class Step:
    line: int          # 1-based in the joined script
    command: str
    expected: int


def script() -> tuple[str, list[Step]]:
    """The section's sh blocks, joined; each `gzh` line reports its exit code after it runs."""
    text = GUIDE.read_text("utf-8")
    section = text[text.index(SECTION):]
    section = section[:section.find("\n## ", len(SECTION))] if "\n## " in section[len(SECTION):] else section
    lines: list[str] = []
    steps: list[Step] = []
    for block in re.findall(r"```sh\n(.*?)```", section, re.S):
        for line in block.splitlines():
            command, _, comment = line.partition("  #")
            if command.startswith("gzh ") and " & " not in command:
                found = EXIT.search(comment)
                steps.append(Step(len(lines) + 1, command.strip(), int(found.group(1)) if found else 0))
                line = f'{command.rstrip()}; echo "{MARK}{len(steps) - 1}:$?"'
            lines.append(line)
    return "\n".join(lines) + "\n", steps


def test_the_guide_s_rehearsal_is_a_script_of_documented_commands() -> None:
    text, steps = script()
    verbs = {step.command.split()[1] for step in steps}
    assert {"demo", "patrol", "withdraw", "status", "emergency", "sandbox", "inbox"} <= verbs
    assert any(step.expected == 1 for step in steps) and "kill $(jobs -p)" in text


@dataclass
class Deployment:
    root: Path
    forge: ForgeFake
    robots: RobotFake
    env: dict[str, str]


@pytest.fixture(params=["github", "gitea"])
def deployment(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Deployment]:
    root = tmp_path / "yz-zgh"
    root.mkdir()
    for name in ("gzh.yml", "templates", "content", "CODEOWNERS"):
        source = PROJECT / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, root / name)
    with (root / "gzh.yml").open("a", encoding="utf-8") as policy:  # the groups, as notifications.md sets them up
        policy.write(NOTIFICATIONS)
    init_git(root)
    forge = ForgeFake(request.param).start()
    robots = RobotFake().start()
    robots.wecom(OFFICE_KEY)
    robots.wecom(RIGHTS_KEY)
    robots.dingtalk(LEADERS_TOKEN, SECRETS["GZH_NOTIFY_3_SIGN"])
    keep = {name: os.environ[name] for name in ("HOME", "LANG", "LC_ALL", "TMPDIR") if name in os.environ}
    env = {**keep, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
           **forge.environment(), **robots.environment(), **SECRETS}
    yield Deployment(root, forge, robots, env)
    robots.stop()
    forge.stop()


def test_the_full_rehearsal_runs_as_written_and_leaves_its_record(deployment: Deployment) -> None:
    text, steps = script()
    process = subprocess.Popen(["bash", "-c", text], cwd=deployment.root, env=deployment.env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        out, err = process.communicate(timeout=600)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    codes = {int(index): int(code) for index, code in re.findall(rf"{MARK}(\d+):(\d+)", out)}
    wrong = [f"{step.command} → {codes.get(index)}（应为 {step.expected}）" for index, step in enumerate(steps)
             if codes.get(index) != step.expected]
    assert not wrong, "\n".join(wrong) + "\n--- 输出 ---\n" + out[-6000:] + "\n--- 错误 ---\n" + err[-4000:]
    assert "Traceback" not in out + err
    assert not [secret for secret in (deployment.env["GZH_FORGE_TOKEN"], OFFICE_KEY, LEADERS_TOKEN) if secret in out + err]
    _check_record(deployment, out)


def _check_record(deployment: Deployment, out: str) -> None:
    forge, robots = deployment.forge, deployment.robots
    titles = {issue["title"]: issue for issue in forge.issues}
    tampered = next(issue for title, issue in titles.items() if title.startswith("【巡查·紧急】") and "篡改" in title)
    assert "《市总工会召开十届五次全委会议》" in tampered["title"] and "```diff" in tampered["body"]
    assert tampered["state"] == "closed"  # taken down: the re-check no longer sees it
    assert any("被平台封禁：《全市基层工会工作经验交流会召开》" in title for title in titles)
    expired = [issue for title, issue in titles.items() if "已过期的通知" in title]
    assert len(expired) == 2 and all(issue["state"] == "closed" for issue in expired)
    leaders = robots.texts(LEADERS_TOKEN)
    assert any("篡改" in message for message in leaders) and any("已下线" in message for message in leaders)
    inbox = [issue for title, issue in titles.items() if title.startswith("【留言")]
    assert all("13912345678" not in issue["body"] for issue in inbox) and any("139****5678" in issue["body"] for issue in inbox)
    rights = next(issue for issue in inbox if "法律和权益保障部" in issue["title"])  # the keyword's department owns it
    assert rights["state"] == "closed" and "本部门的读者留言都已答复或处置，自动关闭" in rights["comments"][-1]["body"]
    office = next(issue for issue in inbox if "办公室" in issue["title"])
    assert office["state"] == "open" and office["title"].startswith("【留言·已超期】")
    assert office["comments"][-1]["body"].startswith("@zhao-min 本问题已超过整改期限")  # the office's leader in charge
    ledger = Ledger(deployment.root, branch=SANDBOX_BRANCH)
    states = fold(ledger.events)
    assert states["content/publicity/2026-11-18-film-screening-registration"].status is Status.TAKEN_DOWN
    incidents = [event for event in ledger.events if event.kind is Kind.INCIDENT]
    assert any(event.data.get("closed") for event in incidents) and any(event.data.get("report") for event in incidents)
    moderated = [event for event in ledger.events if event.kind is Kind.MODERATED]
    assert [event.data["action"] for event in moderated] == ["hidden", "deleted"]
    assert all("13912345678" not in json.dumps(event.data, ensure_ascii=False) for event in ledger.events)
    assert "不合格" in out
