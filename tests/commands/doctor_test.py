from __future__ import annotations

import os
import re
import shutil
import socket
from pathlib import Path
from typing import Any

import pytest

from pipeline.commands import doctor as doctor_module
from pipeline.commands.doctor import Item
from pipeline.forge import Forge
from pipeline.i18n import Text
from pipeline.main import main
from pipeline.sandbox import SANDBOX_APPID, Sandbox
from tests.forge_fake import ForgeFake
from tests.notify_fake import LEADERS_TOKEN, OFFICE_KEY, RobotFake, robots, with_notifications
from tests.support import PROJECT, init_git

__all__ = ["robots"]  # the fixture, imported for pytest


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    for name in ("gzh.yml", "templates", "content", "CODEOWNERS", ".github"):
        source = PROJECT / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, root / name)
    init_git(root)
    for name in ("GITHUB_ACTIONS", "GITEA_ACTIONS", "WECHAT_APPID", "WECHAT_SECRET", "GITHUB_REPOSITORY",
                 "GZH_FORGE_TOKEN", "GITHUB_TOKEN", "GITEA_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    return root


def doctor(root: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["--root", str(root), "doctor"])
    return code, capsys.readouterr().out


def test_a_correct_repository_passes_but_what_was_skipped_is_no_pass(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = doctor(repo, capsys)
    assert code == 0 and "❌" not in out and "全部正常" not in out.replace("不能算全部正常", "")
    assert "－ CI 中已配置微信密钥 WECHAT_APPID、WECHAT_SECRET：跳过（不在 CI 中）\n" in out
    assert out.endswith("没有发现问题，但有 5 项跳过、没有检查，不能算全部正常（不在 CI 中；没有设置 WECHAT_APPID / WECHAT_SECRET；"
                        "没有设置 GITHUB_REPOSITORY / 令牌；没有设置可信服务的地址 GZH_BOT_URL）。\n")


@pytest.mark.parametrize(("states", "summary"), [
    (["ok", "ok"], "全部正常。"),
    (["ok", "fail"], "1 项需要处理。"),
    (["fail", "skip"], "1 项需要处理；另有 1 项跳过、没有检查（不在 CI 中）。"),
    (["skip", "skip"], "没有发现问题，但有 2 项跳过、没有检查，不能算全部正常（不在 CI 中）。"),
    (["ok", "warn"], "没有错误，但有 1 项警告（⚠️），不能算全部正常，请按说明处理。"),
    (["fail", "warn"], "1 项需要处理。另有 1 项警告（⚠️）。"),
    (["warn", "skip"], "没有发现问题，但有 1 项跳过、没有检查，不能算全部正常（不在 CI 中）。另有 1 项警告（⚠️）。"),
])
def test_the_summary_counts_failures_and_skips(states: list[str], summary: str) -> None:
    assert doctor_module._summary([Item("检查", state, "不在 CI 中" if state == "skip" else "") for state in states]) == summary


def test_invalid_policy(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "gzh.yml").write_text((repo / "gzh.yml").read_text("utf-8").replace("heads: [li-na]", "heads: li-na"), "utf-8")
    code, out = doctor(repo, capsys)
    assert code == 1 and "❌ 策略文件 gzh.yml 有效：gzh.yml:" in out and "修复：按上面的提示修改 gzh.yml" in out


def test_codeowners_drift(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "CODEOWNERS").write_text("* @someone\n", "utf-8")
    code, out = doctor(repo, capsys)
    assert code == 1 and "❌ CODEOWNERS 与 gzh.yml 一致：CODEOWNERS" in out and "gzh codeowners --write" in out


@pytest.mark.parametrize(("change", "expected"), [("delete", "缺少 gate.yml"), ("edit", "gate.yml 与 gzh 发布的版本不同")])
def test_workflows_missing_or_modified(repo: Path, capsys: pytest.CaptureFixture[str], change: str, expected: str) -> None:
    gate = repo / ".github" / "workflows" / "gate.yml"
    if change == "delete":
        gate.unlink()
    else:
        gate.write_text(gate.read_text("utf-8") + "\n# 加一行\n", "utf-8")
    code, out = doctor(repo, capsys)
    assert code == 1 and expected in out


def test_secrets_missing_in_ci(repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("WECHAT_APPID", "wx1")
    code, out = doctor(repo, capsys)
    assert code == 1 and "❌ CI 中已配置微信密钥 WECHAT_APPID、WECHAT_SECRET：WECHAT_SECRET" in out


def test_wechat_credentials_that_do_not_work(repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    with Sandbox(tmp_path / "sandbox") as sandbox:
        monkeypatch.setenv("WECHAT_API_BASE", sandbox.url + "cgi-bin/")
        monkeypatch.setenv("WECHAT_APPID", SANDBOX_APPID)
        monkeypatch.setenv("WECHAT_SECRET", "wrong-secret")
        code, out = doctor(repo, capsys)
    assert code == 1 and "AppSecret 不正确（40125）" in out and "wrong-secret" not in out


def test_wechat_credentials_that_work(repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    with Sandbox(tmp_path / "sandbox") as sandbox:
        for key, value in {"WECHAT_API_BASE": sandbox.credentials.api_base, "WECHAT_APPID": SANDBOX_APPID,
                           "WECHAT_SECRET": sandbox.credentials.secret}.items():
            monkeypatch.setenv(key, value)
        code, out = doctor(repo, capsys)
    assert code == 0 and "✅ 微信凭据可用" in out


@pytest.mark.parametrize("flavour", ["github", "gitea"])
def test_forge_token(repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, flavour: str) -> None:
    fake = ForgeFake(flavour).start()
    try:
        for key, value in fake.environment().items():
            monkeypatch.setenv(key, value)
        code, out = doctor(repo, capsys)
        assert code == 0 and "✅ 平台令牌可以读取审核、写提交状态" in out
        assert any(item["context"] == "gzh/doctor" for items in fake.statuses.values() for item in items)
        monkeypatch.setenv("GZH_FORGE_TOKEN", "expired")
        code, out = doctor(repo, capsys)
        assert code == 1 and "令牌没有权限" in out and "修复：检查工作流的 permissions" in out
    finally:
        fake.stop()


@pytest.mark.parametrize("flavour", ["github", "gitea"])
def test_a_404_on_the_repository_is_explained_as_a_name_address_or_visibility_problem(
        repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, flavour: str) -> None:
    fake = ForgeFake(flavour).start()
    try:
        for key, value in {**fake.environment(), "GITHUB_REPOSITORY": "yzzgh/gzh-contnet"}.items():
            monkeypatch.setenv(key, value)
        code, out = doctor(repo, capsys)
    finally:
        fake.stop()
    assert code == 1
    assert f"❌ 平台令牌可以读取审核、写提交状态：平台接口 {fake.api} 上找不到仓库 yzzgh/gzh-contnet（404）\n" in out
    assert (f"    修复：404 说明仓库名或接口地址不对，或者令牌看不到这个私有仓库，而不是缺少某项权限：核对 GITHUB_REPOSITORY"
            f"（现在是 yzzgh/gzh-contnet，应为“组织/仓库名”）和接口地址 GZH_FORGE_API（现在是 {fake.api}；GitHub 为 "
            f"https://api.github.com，Gitea 为 https://主机/api/v1）；私有仓库还要确认令牌所属的账号是仓库成员\n") in out
    assert "－ 平台令牌可以写问题和标签（巡查、留言、应急处置需要）：跳过（读不到仓库，见上一项）" in out


def answering_permissions(monkeypatch: pytest.MonkeyPatch, permissions: dict[str, bool]) -> None:
    """The repository as a personal token's account sees it: with its `permissions` (the fake omits them)."""
    original = Forge.json

    def json(self: Forge, method: str, path: str, **kwargs: Any) -> Any:
        answer = original(self, method, path, **kwargs)
        return {**answer, "permissions": permissions} if (method, path) == ("GET", self.repo_path("")) else answer

    monkeypatch.setattr(Forge, "json", json)


ISSUES = "平台令牌可以写问题和标签（巡查、留言、应急处置需要）"


@pytest.mark.parametrize(("flavour", "permissions", "expected"), [
    ("github", {"admin": False, "maintain": False, "push": True, "triage": True, "pull": True}, f"✅ {ISSUES}\n"),
    ("gitea", {"admin": False, "push": True, "pull": True}, f"✅ {ISSUES}\n"),
    ("github", {"admin": False, "maintain": False, "push": False, "triage": True, "pull": True},
     f"❌ {ISSUES}：令牌所属的账号对 yzzgh/gzh-content 没有写权限（平台答复的权限：triage、pull），开不了带负责人的问题，也建不了标签\n"
     "    修复：给令牌所属的账号仓库的写权限：GitHub 的令牌 GZH_GATE_TOKEN 或服务账号要有 Issues 读写（docs/setup.md 第 2 节），"
     "Gitea 的服务账号要有仓库的写权限（docs/setup.md 第 7.2 节）\n"),
    ("gitea", {"admin": False, "push": False, "pull": True},
     f"❌ {ISSUES}：令牌所属的账号对 yzzgh/gzh-content 没有写权限（平台答复的权限：pull），开不了带负责人的问题，也建不了标签\n"),
])
def test_the_issue_and_label_permission_is_read_from_the_repository(
        repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        flavour: str, permissions: dict[str, bool], expected: str) -> None:
    answering_permissions(monkeypatch, permissions)
    fake = ForgeFake(flavour).start()
    try:
        for key, value in fake.environment().items():
            monkeypatch.setenv(key, value)
        code, out = doctor(repo, capsys)
        issues = [request for request in fake.requests if "/issues" in request[1] or "/labels" in request[1]]
    finally:
        fake.stop()
    assert expected in out and code == (0 if expected.startswith("✅") else 1)
    assert issues == []  # found out without opening an issue or creating a label


def test_a_token_without_permissions_in_the_answer_cannot_be_verified(repo: Path, capsys: pytest.CaptureFixture[str],
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    fake = ForgeFake("github").start()  # like GitHub for an Actions or App token: no `permissions`
    try:
        for key, value in fake.environment().items():
            monkeypatch.setenv(key, value)
        code, out = doctor(repo, capsys)
    finally:
        fake.stop()
    assert code == 0
    assert (f"－ {ISSUES}：跳过（平台没有告诉这个令牌的权限（GitHub Actions 的 GITHUB_TOKEN 和 GitHub App 的令牌都是这样），无法验证）\n"
            "    请确认：patrol.yml、inbox.yml、emergency.yml 声明了 issues: write（gzh 发布的版本已声明）；"
            "可信服务用的 GitHub App 有 Issues 读写权限（docs/setup.md 第 7.3 节）\n") in out


def test_every_setup_step_doctor_cites_is_a_heading_of_setup_md() -> None:
    headings = (PROJECT / "docs" / "setup.md").read_text("utf-8")
    cited = {number for value in vars(doctor_module).values() if isinstance(value, Text) and "docs/setup.md" in value.zh
             for number in re.findall(r"第 (\d+(?:\.\d+)*) [步节]", value.zh)}
    assert cited >= {"1.2", "2", "3", "4", "7", "7.2", "7.3"}  # the test reads what doctor says
    missing = [number for number in sorted(cited) if not re.search(rf"^#+ {re.escape(number)}\.? ", headings, re.M)]
    assert missing == []


def test_gitea_older_than_supported_is_reported(repo: Path, capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    fake = ForgeFake("gitea", version="1.20.6").start()
    try:
        for key, value in fake.environment().items():
            monkeypatch.setenv(key, value)
        code, out = doctor(repo, capsys)
        assert code == 1 and "Gitea 版本 1.20.6 太旧，gzh 需要 1.21 或更新的版本" in out
    finally:
        fake.stop()


def test_a_policy_whose_department_can_never_be_approved_fails_doctor(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policy = repo / "gzh.yml"
    policy.write_text(policy.read_text("utf-8").replace("heads: [gu-xin, zhou-yan]", "heads: [zhou-yan]"), "utf-8")
    code, out = doctor(repo, capsys)
    assert code == 1 and "❌ 策略文件 gzh.yml 有效" in out and "宣网部的文章永远无法审批完成" in out


def test_the_trusted_service_is_checked(repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
                                        tmp_path: Path) -> None:
    from pipeline.service import BotService, BotConfig

    config = BotConfig("github", "http://127.0.0.1:9/", "yzzgh/gzh", str(tmp_path / "none.git"), "main",
                       tmp_path / "state", port=0)
    service = BotService(config, {"GZH_WEBHOOK_SECRET": "right", "GZH_BOT_TOKEN": "t", "PATH": os.environ["PATH"]})
    (config.state / "repo" / ".git").mkdir(parents=True)  # ready: as if cloned
    service.start()
    try:
        monkeypatch.setenv("GZH_BOT_URL", service.url)
        monkeypatch.setenv("GZH_WEBHOOK_SECRET", "right")
        code, out = doctor(repo, capsys)
        assert code == 0 and "✅ 可信服务可以访问，并按密钥验证投递签名" in out
        monkeypatch.setenv("GZH_WEBHOOK_SECRET", "wrong")
        code, out = doctor(repo, capsys)
        assert code == 1 and "两边的密钥不一致" in out
        (config.state / "repo" / ".git").rmdir()  # the process answers, but has no clone to work in
        code, out = doctor(repo, capsys)
        assert code == 1 and "服务在运行（健康检查正常），但还没有就绪" in out and "journalctl -u gzh-bot" in out
    finally:
        service.stop()
    code, out = doctor(repo, capsys)
    assert code == 1 and f"健康检查 {service.url.rstrip('/')}/healthz 没有应答（ConnectionRefusedError）" in out
    assert "systemctl status gzh-bot" in out


def test_on_gitea_an_unchecked_trusted_service_says_it_is_required(repo: Path, capsys: pytest.CaptureFixture[str],
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GZH_FORGE", "gitea")
    code, out = doctor(repo, capsys)
    assert code == 0 and "－ 可信服务可以访问，并按密钥验证投递签名：跳过（没有设置可信服务的地址 GZH_BOT_URL）\n" \
        "    请确认：Gitea 上审批状态、发布和巡查都由可信服务执行" in out


def test_the_robots_keys_are_checked_and_never_shown(repo: Path, capsys: pytest.CaptureFixture[str], robots: RobotFake,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    with_notifications(repo)
    code, out = doctor(repo, capsys)
    assert code == 0 and "✅ 群机器人通知的密钥已在环境中设置（不显示密钥）" in out
    monkeypatch.delenv("GZH_NOTIFY_2")
    monkeypatch.setenv("GZH_NOTIFY_3_SIGN", "not-a-signing-secret")
    code, out = doctor(repo, capsys)
    assert code == 1 and "环境变量 GZH_NOTIFY_2 没有设置" in out and "GZH_NOTIFY_3_SIGN 不像钉钉机器人的密钥" in out
    assert "not-a-signing-secret" not in out and OFFICE_KEY not in out and LEADERS_TOKEN not in out
    assert "⚠️ 通知群“leaders”的机器人服务可以连通（不发消息）：钉钉拒绝了机器人的密钥（错误码 310000）" in out
    assert not any(robot.messages for robot in robots.robots.values())  # checking posts nothing


def test_each_robot_s_service_is_reached_without_posting(repo: Path, capsys: pytest.CaptureFixture[str],
                                                        robots: RobotFake) -> None:
    with_notifications(repo)
    code, out = doctor(repo, capsys)
    assert code == 0
    assert "✅ 通知群“office-group”的机器人服务可以连通（不发消息）：企业微信答复了探测（错误码 40008）" in out
    assert "✅ 通知群“leaders”的机器人服务可以连通（不发消息）：钉钉答复了探测（错误码 40035）" in out
    assert robots.requests == 3 and not any(robot.messages for robot in robots.robots.values())


def test_a_robot_s_service_out_of_reach_is_a_warning_with_the_fix(repo: Path, capsys: pytest.CaptureFixture[str],
                                                                  robots: RobotFake, monkeypatch: pytest.MonkeyPatch) -> None:
    with_notifications(repo)
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    monkeypatch.setenv("GZH_WECOM_BASE", f"http://127.0.0.1:{closed}/cgi-bin/webhook/")
    code, out = doctor(repo, capsys)
    assert code == 0 and "全部正常" not in out.replace("不能算全部正常", "")
    assert "⚠️ 通知群“office-group”的机器人服务可以连通（不发消息）：连不上企业微信（ConnectionError）\n" \
        f"    修复：运行 gzh 的机器（CI 运行器或可信服务的主机）要能用 HTTPS 访问 127.0.0.1:{closed}" in out
    assert "✅ 通知群“leaders”的机器人服务可以连通" in out and "另有 2 项警告（⚠️）。" in out
    robots.faults = [502]  # a proxy's error page instead of the robot's answer
    monkeypatch.setenv("GZH_WECOM_BASE", robots.environment()["GZH_WECOM_BASE"])
    code, out = doctor(repo, capsys)
    assert "的答复不是企业微信机器人接口的（HTTP 502）" in out
    assert OFFICE_KEY not in out and LEADERS_TOKEN not in out


def test_a_variable_the_workflows_do_not_pass_is_reported(repo: Path, capsys: pytest.CaptureFixture[str],
                                                         robots: RobotFake, monkeypatch: pytest.MonkeyPatch) -> None:
    with_notifications(repo)
    policy_file = repo / "gzh.yml"
    policy_file.write_text(policy_file.read_text("utf-8").replace("key: GZH_NOTIFY_2}", "key: GZH_NOTIFY_RIGHTS}"), "utf-8")
    monkeypatch.setenv("GZH_NOTIFY_RIGHTS", "2b1c0d9e-8f7a-4b6c-9d5e-4f3a2b1c0d9e")
    code, out = doctor(repo, capsys)
    assert code == 1 and "GZH_NOTIFY_RIGHTS 不在工作流传入的变量中" in out


def test_send_test_reports_each_robot_s_answer(repo: Path, capsys: pytest.CaptureFixture[str], robots: RobotFake,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    with_notifications(repo)
    assert main(["--root", str(repo), "doctor", "--send-test"]) == 0
    out = capsys.readouterr().out
    for channel in ("office-group", "rights-group", "leaders"):
        assert f"✅ 通知群“{channel}”收到测试消息" in out
    assert robots.texts(LEADERS_TOKEN)[0].startswith("#### gzh 通知测试\n\n这是 gzh doctor --send-test 发出的测试消息：扬州市总工会")
    monkeypatch.setenv("GZH_NOTIFY_1", "00000000-0000-0000-0000-000000000000")
    assert main(["--root", str(repo), "doctor", "--send-test"]) == 1
    out = capsys.readouterr().out
    assert "❌ 通知群“office-group”收到测试消息：企业微信拒绝了这条消息（错误码 93000）：机器人的 key 无效" in out
    assert "✅ 通知群“leaders”收到测试消息" in out


@pytest.mark.parametrize("flavour", ["github", "gitea"])
def test_a_public_repository_is_a_warning_because_followers_messages_go_into_issues(
        repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, flavour: str) -> None:
    fake = ForgeFake(flavour).start()
    try:
        for key, value in fake.environment().items():
            monkeypatch.setenv(key, value)
        assert "✅ 仓库是私有的（读者的留言和后台消息会写进问题）\n" in doctor(repo, capsys)[1]
        fake.private = False
        code, out = doctor(repo, capsys)
    finally:
        fake.stop()
    assert code == 0 and "⚠️ 仓库是私有的（读者的留言和后台消息会写进问题）：yzzgh/gzh-content 是公开仓库" in out
    assert "修复：在仓库设置中把仓库改为私有" in out and "另有 1 项警告（⚠️）" in out
