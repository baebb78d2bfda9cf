from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import pytest

from pipeline.main import main
from pipeline.sandbox import SANDBOX_APPID, SANDBOX_SECRET
from tests.support import PROJECT, Account, front_matter, init_git, make_root, write_image, write_post


@pytest.fixture
def account(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Account]:
    account = Account(tmp_path)
    monkeypatch.setenv("WECHAT_API_BASE", account.sandbox.url + "cgi-bin/")
    monkeypatch.setenv("WECHAT_APPID", SANDBOX_APPID)
    monkeypatch.setenv("WECHAT_SECRET", SANDBOX_SECRET)
    monkeypatch.setenv("GZH_RUN_ID", "ci-run-42")  # a re-run of the same CI run may take over its claim
    yield account
    account.close()


def publish(account: Account, *args: str) -> int:
    return main(["--root", str(account.root), "publish", *args])


def wait_for_call(account: Account, endpoint: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(call["errcode"] == 0 for call in account.sandbox.calls(endpoint)):
            return
        time.sleep(0.05)
    raise AssertionError(f"{endpoint} was never called")


@pytest.mark.parametrize("endpoint", ["draft/add", "freepublish/submit"])
def test_process_killed_after_a_write_resumes_without_duplicates(account: Account, endpoint: str) -> None:
    write_post(account.root)
    account.commit()
    account.fault(endpoint=endpoint, hold=60)  # WeChat acts, then the answer is held back
    process = subprocess.Popen([sys.executable, "-m", "pipeline", "--root", str(account.root), "publish"],
                               env=os.environ.copy(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_call(account, endpoint)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert publish(account) == 0
    assert account.writes().count("draft/add") == 1
    assert account.writes().count("freepublish/submit") == 1
    assert len(account.articles()) == 1 and account.drafts() == {}


def test_publish_prints_urls_and_a_second_run_says_nothing_to_do(account: Account, capsys: pytest.CaptureFixture[str]) -> None:
    write_post(account.root)
    account.commit()
    assert publish(account) == 0
    out = capsys.readouterr().out
    assert "已发布" in out and account.sandbox.url + "s/" in out and "共 1 篇：1 篇已发布，0 篇失败或不发布。" in out
    assert publish(account) == 0
    assert capsys.readouterr().out.startswith("没有需要发布的文章：")


def test_a_plain_run_publishes_only_what_is_not_live(account: Account, capsys: pytest.CaptureFixture[str]) -> None:
    write_post(account.root, slug="a")
    account.commit()
    publish(account)
    write_post(account.root, slug="b")
    account.commit()
    capsys.readouterr()
    assert publish(account) == 0
    assert "共 1 篇" in capsys.readouterr().out and len(account.articles()) == 2


def test_failure_exits_1_with_a_chinese_reason(account: Account, capsys: pytest.CaptureFixture[str]) -> None:
    write_post(account.root)
    account.commit()
    account.fault(endpoint="freepublish/submit", errcode=48001)
    assert publish(account) == 1
    assert "公众号没有此接口权限（48001）" in capsys.readouterr().out


def test_dry_run_lists_the_calls(account: Account, capsys: pytest.CaptureFixture[str]) -> None:
    write_post(account.root)
    account.commit()
    assert publish(account, "--dry-run") == 0
    out = capsys.readouterr().out
    assert "material/add_material → draft/add → freepublish/submit → freepublish/get" in out and "演练" in out
    assert account.sandbox.calls() == []


def test_status_lists_states(account: Account, capsys: pytest.CaptureFixture[str]) -> None:
    write_post(account.root, slug="a")
    write_post(account.root, slug="b", meta=None)
    account.commit()
    main(["--root", str(account.root), "publish", "content/office/a"])
    capsys.readouterr()
    assert main(["--root", str(account.root), "status"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("已发布") and account.sandbox.url in lines[0]
    assert lines[1].startswith("未发布")


def test_preview_send_reaches_each_reviewer(account: Account, capsys: pytest.CaptureFixture[str]) -> None:
    write_post(account.root)
    account.commit()
    code = main(["--root", str(account.root), "preview-send", "content/office/2026-11-28-meeting",
                 "--to", "leader-wechat", "--to", "head-wechat"])
    assert code == 0 and capsys.readouterr().out.count("已把草稿预览发送到") == 2
    assert len(account.sandbox.calls("message/mass/preview")) == 2 and account.articles() == []


def test_missing_credentials_are_explained(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("WECHAT_APPID", "WECHAT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    root = make_root(tmp_path)
    init_git(root)
    assert main(["--root", str(root), "publish"]) == 1
    assert "请设置环境变量（CI 中为密钥）WECHAT_APPID 和 WECHAT_SECRET" in capsys.readouterr().err


def test_secret_never_reaches_the_output(account: Account, capsys: pytest.CaptureFixture[str]) -> None:
    write_post(account.root)
    account.commit()
    account.fault(endpoint="draft/add", errcode=40125)
    publish(account)
    captured = capsys.readouterr()
    assert SANDBOX_SECRET not in captured.out + captured.err


def _samples(tmp_path: Path) -> Path:
    """A repository with the project's policy, templates and sample content."""
    root = tmp_path / "repo"
    root.mkdir()
    for name in ("gzh.yml", "templates", "content"):
        source = PROJECT / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, root / name)
    init_git(root)
    return root


def test_demo_publishes_the_samples_then_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _samples(tmp_path)
    assert main(["--root", str(root), "demo", "--port", "0"]) == 0
    out = capsys.readouterr().out
    assert out.count("已发布") >= 12 and "共 12 篇：12 篇已发布，0 篇失败或不发布。" in out
    assert main(["--root", str(root), "demo", "--port", "0"]) == 0
    assert "没有需要发布的文章：" in capsys.readouterr().out


def test_demo_never_involves_a_forge_even_where_one_is_configured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """The samples carry no approvals: a configured forge would refuse them all (and be asked for nothing)."""
    root = _samples(tmp_path)
    for name, value in {"GITHUB_REPOSITORY": "yz-zgh/gzh", "GZH_FORGE_TOKEN": "t", "GZH_FORGE_API": "http://127.0.0.1:9/"}.items():
        monkeypatch.setenv(name, value)  # port 9 (discard): any forge call would fail the run
    assert main(["--root", str(root), "demo", "--port", "0"]) == 0
    assert "共 12 篇：12 篇已发布，0 篇失败或不发布。" in capsys.readouterr().out


def test_posts_left_by_a_narrower_run_are_published_by_the_next_plain_run(account: Account, capsys) -> None:
    """D1: after `gzh publish <one post>`, a plain run used to say there was nothing to do."""
    for slug in ("a", "b", "c"):
        write_post(account.root, slug=slug, meta=front_matter(title=f"第{slug}篇"))
    account.commit()
    assert publish(account, "content/office/a") == 0
    capsys.readouterr()
    assert publish(account) == 0
    assert "共 2 篇：2 篇已发布" in capsys.readouterr().out and len(account.articles()) == 3


def test_posts_a_failing_run_left_unpublished_are_taken_up_later(account: Account, capsys) -> None:
    """D1: after uploads kept failing, a later plain run left the posts unpublished for good (exit 0)."""
    for slug in ("a", "b"):
        file = write_post(account.root, f"![图](p-{slug}.png)\n", slug=slug, meta=front_matter(title=f"第{slug}篇"))
        write_image(file.parent / f"p-{slug}.png", size=(60 + ord(slug), 40))
    account.commit()
    account.fault(endpoint="media/uploadimg", errcode=40004, count=2)  # one refused upload for each post
    assert publish(account) == 1 and account.articles() == []
    capsys.readouterr()
    assert publish(account) == 0
    assert len(account.articles()) == 2


def test_retry_failed_alone_retries_every_failed_post(account: Account, capsys) -> None:
    """D2: `--retry-failed` without post names used to do nothing."""
    for slug in ("a", "b"):
        write_post(account.root, slug=slug, meta=front_matter(title=f"第{slug}篇"))
    account.commit()
    account.sandbox.control("publish-outcomes", {"statuses": [3, 3]})  # WeChat fails both publications
    assert publish(account) == 1 and account.articles() == []
    capsys.readouterr()
    assert publish(account) == 0 and "没有需要发布的文章" in capsys.readouterr().out  # failures are not retried by themselves
    assert publish(account, "--retry-failed") == 0
    assert len(account.articles()) == 2
