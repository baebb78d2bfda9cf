from __future__ import annotations

import contextlib
import threading
from pathlib import Path

import git

from pipeline.ledger import CLAIM_SECONDS, Event, Ledger, read_branch
from tests.support import init_git, make_root


def repository(tmp_path: Path) -> Path:
    root = make_root(tmp_path)
    init_git(root)
    return root


def test_events_are_pushed_to_the_branch_in_order(tmp_path: Path) -> None:
    root = repository(tmp_path)
    ledger = Ledger(root, run="r1")
    ledger.append(Event("draft", "content/office/a", "intent", {"version": "v"}))
    ledger.append(Event("draft", "content/office/a", "result", {"media_id": "D", "version": "v"}))
    fresh = Ledger(root, workdir=tmp_path / "other", run="r2")
    assert [(event.kind, event.phase, event.run) for event in fresh.events] == [
        ("draft", "intent", "r1"), ("draft", "result", "r1")]
    assert [event.kind for event in read_branch(root)] == ["draft", "draft"]
    assert git.Repo(root).active_branch.name == "main"  # the working branch is never touched


def test_concurrent_writers_lose_no_record(tmp_path: Path) -> None:
    root = repository(tmp_path)
    ledgers = [Ledger(root, workdir=tmp_path / f"clone-{index}", run=f"r{index}") for index in range(3)]

    def write(ledger: Ledger) -> None:
        for number in range(5):
            ledger.append(Event("upload", data={"n": number}))

    threads = [threading.Thread(target=write, args=(ledger,)) for ledger in ledgers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(Ledger(root, workdir=tmp_path / "reader").events) == 15


def test_only_one_run_holds_a_claim(tmp_path: Path) -> None:
    root = repository(tmp_path)
    first = Ledger(root, workdir=tmp_path / "one", run="one")
    second = Ledger(root, workdir=tmp_path / "two", run="two")
    assert first.claim("content/office/a") is None
    assert second.claim("content/office/a") == "one"
    assert first.claim("content/office/a") is None  # the holder may claim again (a CI re-run)
    first.append(Event("release", "content/office/a"))
    second.sync()
    assert second.claim("content/office/a") is None


def test_a_stale_claim_lapses(tmp_path: Path) -> None:
    root = repository(tmp_path)
    first = Ledger(root, workdir=tmp_path / "one", run="one")
    first.claim("content/office/a")
    later = Ledger(root, workdir=tmp_path / "two", run="two")
    import time

    assert later.holder("content/office/a", now=time.time() + CLAIM_SECONDS + 1) is None


def test_not_a_repository_is_explained(tmp_path: Path) -> None:
    import pytest

    from pipeline.errors import GzhError

    with pytest.raises(GzhError, match="不是 git 仓库"):
        Ledger(tmp_path)


def test_the_clone_never_keeps_the_checkouts_credentials(tmp_path: Path, monkeypatch) -> None:
    """actions/checkout leaves an auth header in the checkout's config; git gets it per command, the
    ledger clone (which outlives the job on a self-hosted runner) never stores it."""
    root = repository(tmp_path)
    remote = tmp_path / "remote.git"
    git.Repo.init(remote, bare=True)
    main_repo = git.Repo(root)
    main_repo.create_remote("origin", str(remote))
    header = "AUTHORIZATION: basic eC1hY2Nlc3MtdG9rZW46c2VjcmV0"
    with main_repo.config_writer() as config:
        config.set_value('http "https://github.com/"', "extraheader", header)
    workdir = tmp_path / "clone"
    git.Repo.init(workdir).create_remote("ledger", str(remote))  # an earlier gzh's clone, header and helper on disk
    with git.Repo(workdir).config_writer() as config:
        config.set_value('http "https://github.com/"', "extraheader", header)
        config.set_value("credential", "helper", "store")
    seen = []
    original = Ledger._credentials

    def spy(self):  # what git itself reads while a fetch or push runs
        with original(self):
            seen.append(self._repo.git.config("--get", "http.https://github.com/.extraheader"))
            yield

    monkeypatch.setattr(Ledger, "_credentials", contextlib.contextmanager(spy))
    Ledger(root, remote="origin", workdir=workdir).append(Event("draft", "content/office/a", "intent"))
    assert seen and set(seen) == {header}
    on_disk = (workdir / ".git" / "config").read_text("utf-8")
    assert "extraheader" not in on_disk and "helper" not in on_disk and "eC1h" not in on_disk
    assert [event.kind for event in Ledger(root, remote="origin", workdir=tmp_path / "again").events] == ["draft"]


def test_free_text_is_masked_on_disk_and_identifiers_are_kept(tmp_path: Path) -> None:
    root = repository(tmp_path)
    digest = "a13912345678" + "0" * 52  # a digest that happens to hold a mobile-like run
    ledger = Ledger(root, run="r1")
    ledger.append(Event("error", "content/office/a", data={
        "reason": 'freepublish/submit: {"access_token": "ACCESS123456", "errmsg": "x"}，联系人 139 1234 5678',
        "comments": [{"content": "我的身份证号是 11010519491231002X"}],
        "version": digest, "media_id": "13912345678", "url": "https://mp.weixin.qq.com/s/13912345678"}),
        files={"incidents/x.md": "举报人电话１３９１２３４５６７８"})
    fresh = Ledger(root, workdir=tmp_path / "other", run="r2")
    data = fresh.events[0].data
    assert "ACCESS123456" not in data["reason"] and '"access_token": "***"' in data["reason"]
    assert "139****5678" in data["reason"] and "110***********002X" in data["comments"][0]["content"]
    assert (data["version"], data["media_id"], data["url"]) == (digest, "13912345678", "https://mp.weixin.qq.com/s/13912345678")
    assert ledger.events[0].data == data  # what this process holds is what was written
    assert fresh.read_document("incidents/x.md") == "举报人电话139****5678"
