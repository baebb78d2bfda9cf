from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

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


def test_a_correct_repository_passes(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = doctor(repo, capsys)
    assert code == 0 and "全部正常。" in out and "❌" not in out


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
    finally:
        service.stop()
    code, out = doctor(repo, capsys)
    assert code == 1 and "无法访问或未就绪" in out


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
    assert robots.requests == 0  # checking sends nothing


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
