"""Wiring the WeChat client and the account's own ledger branch from the credentials (pipeline.connect)."""
from __future__ import annotations

from pathlib import Path

import git
import pytest

from pipeline import connect as connect_module
from pipeline.connect import connect, ledger_branch, open_ledger
from pipeline.ledger import BRANCH, SANDBOX_BRANCH
from pipeline.main import main
from pipeline.sandbox import Sandbox
from pipeline.wechat import Credentials
from tests.conftest import PRODUCTION_API_BASE
from tests.support import init_git, make_root


@pytest.fixture
def repo(tmp_path: Path) -> git.Repo:
    return init_git(make_root(tmp_path))


@pytest.mark.parametrize(("base", "branch"), [
    ("http://127.0.0.1:8765/cgi-bin/", SANDBOX_BRANCH), ("http://localhost:8765/cgi-bin/", SANDBOX_BRANCH),
    ("http://[::1]:8765/cgi-bin/", SANDBOX_BRANCH), (PRODUCTION_API_BASE, BRANCH),
    ("https://relay.example.invalid/cgi-bin/", BRANCH),  # a fixed-IP relay in front of the real account
])
def test_the_api_host_decides_the_ledger_branch(base: str, branch: str) -> None:
    assert ledger_branch(Credentials("wx", "s", base)) == branch


def test_gzh_ledger_branch_overrides_the_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GZH_LEDGER_BRANCH", "gzh-ledger-rehearsal")
    assert ledger_branch(Credentials("wx", "s", PRODUCTION_API_BASE)) == "gzh-ledger-rehearsal"
    assert ledger_branch(Credentials("wx", "s", "http://127.0.0.1:8765/cgi-bin/")) == "gzh-ledger-rehearsal"


def test_connect_reaches_the_credentials_api_and_keeps_the_sandbox_ledger_apart(repo: git.Repo, tmp_path: Path) -> None:
    sandbox = Sandbox(tmp_path / "sandbox").start()
    try:
        wechat, ledger = connect(Path(repo.working_tree_dir), sandbox.credentials, backoff=0.001)
        wechat.check_credentials()
        assert [call["endpoint"] for call in sandbox.calls()] == ["stable_token"]
    finally:
        sandbox.stop()
    assert (ledger.branch, ledger.workdir) == (SANDBOX_BRANCH, Path(repo.git_dir) / "gzh" / SANDBOX_BRANCH)
    assert not (Path(repo.git_dir) / "gzh" / BRANCH).exists()


def test_open_ledger_without_credentials(repo: git.Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    root = Path(repo.working_tree_dir)
    monkeypatch.setattr(connect_module, "DEFAULT_API_BASE", PRODUCTION_API_BASE)  # undo the tests' loopback stub
    assert open_ledger(root).branch == BRANCH
    assert open_ledger(root, sandbox=True).branch == SANDBOX_BRANCH
    monkeypatch.setenv("WECHAT_API_BASE", "http://localhost:8765/cgi-bin/")
    assert open_ledger(root).branch == SANDBOX_BRANCH


def test_a_wechat_command_without_credentials_says_so_and_opens_no_ledger(repo: git.Repo,
                                                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--root", repo.working_tree_dir, "patrol"]) == 1  # a GzhError: fixable by the user
    assert capsys.readouterr().err == ("没有微信公众号凭据：请设置环境变量（CI 中为密钥）WECHAT_APPID 和 WECHAT_SECRET；"
                                       "本地演示可用 gzh demo\n")
    assert not (Path(repo.git_dir) / "gzh").exists()
