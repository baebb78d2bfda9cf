"""Builders shared by the rehearsals of Articles 7, 8 and 9 (patrol_test, inbox_test, emergency_test,
findings_test); their `ops` fixture is in conftest.py."""
from __future__ import annotations

import datetime as dt
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from pipeline.commands.patrol import patrol_command
from pipeline.notify import WORKFLOW_VARIABLES
from pipeline.posts import BEIJING
from tests.forge_fake import ForgeFake
from tests.support import Account, front_matter, write_post

TODAY = dt.datetime.now(BEIJING).date()


def published(account: Account, *slugs: str, **meta: object) -> list[Any]:
    files = [write_post(account.root, f"{slug}的正文。\n", slug=slug, meta=front_matter(title=f"文章{slug}", **meta))
             for slug in slugs]
    account.commit()
    outcomes = account.publish(*files)
    assert [outcome.status for outcome in outcomes] == ["published"] * len(files)
    return outcomes


def patrol(account: Account, capsys: pytest.CaptureFixture[str], today: dt.date = TODAY) -> tuple[int, str]:
    code = patrol_command(account.root, credentials=account.sandbox.credentials, today=today)
    return code, capsys.readouterr().out


def gzh(account: Account, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        *argv: str) -> tuple[int, str, str]:
    """`gzh …` as typed, against the account's sandbox: exit code, output, errors."""
    from pipeline.main import main
    from pipeline.sandbox import SANDBOX_APPID, SANDBOX_SECRET

    for name, value in {"WECHAT_APPID": SANDBOX_APPID, "WECHAT_SECRET": SANDBOX_SECRET,
                        "WECHAT_API_BASE": account.sandbox.url + "cgi-bin/"}.items():
        monkeypatch.setenv(name, value)
    code = main(["--root", str(account.root), *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def wechat_calls(account: Account) -> int:
    return len(account.sandbox.control("calls")["calls"])


def article_ids(account: Account) -> list[str]:
    return list(account.sandbox.state.data["articles"])


def run_workflow(account: Account, forge: ForgeFake, tmp_path: Path, workflow: str, job: str,
                 inputs: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The workflow's own step script, run as the runner would, against a clone with a remote for the ledger."""
    import git

    from pipeline.sandbox import SANDBOX_APPID, SANDBOX_SECRET
    from tests.forge_fake import TOKEN
    from tests.support import run_step

    bare = tmp_path / "remote.git"
    git.Repo.clone_from(str(account.root), bare, bare=True)
    account.repo.create_remote("origin", str(bare))
    # The robots' keys as CI gives them: the test's own (the `robots` fixture), else unset secrets, which are empty.
    robots = {f"secrets.{name}": os.environ.get(name, "") for name in WORKFLOW_VARIABLES}
    secrets = {"secrets.WECHAT_APPID": SANDBOX_APPID, "secrets.WECHAT_SECRET": SANDBOX_SECRET,
               "secrets.WECHAT_API_BASE": account.sandbox.url + "cgi-bin/",
               "secrets.GZH_GATE_TOKEN || github.token": TOKEN, **robots, **(inputs or {})}
    environment = {**forge.environment(), "GITHUB_ACTIONS": "true"}
    return run_step(workflow, job, job, account.root, secrets, environment)
