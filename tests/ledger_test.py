from __future__ import annotations

import ast
import contextlib
import json
import os
import threading
import time
from pathlib import Path

import git
import pytest

from pipeline.errors import GzhError
from pipeline.ledger import BESIDE_STATE, CLAIM_SECONDS, STALE_LOCK_SECONDS, TRANSITIONS, Event, Kind, Ledger, Phase, Status, fold, read_branch
from tests.support import PROJECT, init_git, make_root


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


def _event_constructions() -> list[tuple[str, int, ast.expr]]:
    """Every `Event(...)` built in the package: (file, line, first argument)."""
    found = []
    for path in sorted((PROJECT / "pipeline").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Event" and node.args \
                    and ast.unparse(node.args[0]) != "self.kind":  # Event.stamped copies an event
                found.append((path.relative_to(PROJECT).as_posix(), node.lineno, node.args[0]))
    return found


def test_every_event_written_is_of_a_kind_fold_knows() -> None:
    """Writers name kinds from the closed set, and fold decides for each whether it moves a post's state."""
    constructions = _event_constructions()
    assert len(constructions) >= 30
    for file, line, kind in constructions:
        assert isinstance(kind, ast.Attribute) and getattr(kind.value, "id", None) == "Kind", f"{file}:{line}"
        assert kind.attr in Kind.__members__, f"{file}:{line}: Kind.{kind.attr}"
    assert set(TRANSITIONS) | BESIDE_STATE == set(Kind) and not set(TRANSITIONS) & BESIDE_STATE
    sample = {"media_id": "M", "version": "v", "publish_id": "P", "url": "u", "reason": "r"}
    for kind in Kind:
        states = fold([Event(kind, "content/office/a", Phase.RESULT, sample)])
        assert (kind in TRANSITIONS) == ("content/office/a" in states), kind


def test_a_taken_down_article_is_no_longer_published() -> None:
    events = [Event(Kind.PUBLISH, "content/office/a", Phase.RESULT, {"version": "v", "url": "https://mp.weixin.qq.com/s/a"}),
              Event(Kind.TAKEDOWN, "content/office/a", data={"article_id": "A", "reason": "错误信息"})]
    state = fold(events)["content/office/a"]
    assert state.status == Status.TAKEN_DOWN and state.reason == "错误信息" and state.url.endswith("/s/a")


def test_the_json_on_disk_is_unchanged_and_unknown_kinds_are_passed_over(tmp_path: Path) -> None:
    root = repository(tmp_path)
    ledger = Ledger(root, run="r1")
    ledger.append(Event(Kind.DRAFT, "content/office/a", Phase.INTENT, {"version": "v"}))
    on_disk = json.loads(next((ledger.workdir / "events").rglob("*.json")).read_text("utf-8"))
    assert (on_disk["kind"], on_disk["phase"]) == ("draft", "intent")
    newer = Event("retracted", "content/office/a", data={"by": "a newer gzh"})  # read from disk as text
    assert newer.kind == "retracted" and fold([newer]) == {}


def test_what_a_killed_append_leaves_behind_is_repaired(tmp_path: Path) -> None:
    """SIGKILL inside Ledger.append leaves git's lock files, a staged or half-written event, or a
    rebase half done; the next process repairs the clone instead of failing on every command."""
    root = repository(tmp_path)
    first = Ledger(root, run="r1")
    first.append(Event(Kind.DRAFT, "content/office/a", Phase.INTENT, {"version": "v"}))
    git_dir = first.workdir / ".git"
    staged = first.workdir / "events" / "staged.json"
    staged.write_text(json.dumps({"kind": "submit", "post": "content/office/a"}), "utf-8")
    first._repo.git.add("--", "events/staged.json")
    half = first.workdir / "events" / "2026" / "half.json"
    half.parent.mkdir(parents=True, exist_ok=True)
    half.write_text('{"kind": "dra', "utf-8")
    (git_dir / "index.lock").write_text("", "utf-8")
    (git_dir / "HEAD.lock").write_text("", "utf-8")
    (git_dir / "refs" / "heads" / f"{first.branch}.lock").write_text("", "utf-8")
    (git_dir / "rebase-merge").mkdir()
    again = Ledger(root, run="r2")  # the same clone, as the next run on a self-hosted runner opens it
    assert [event.kind for event in again.events] == [Kind.DRAFT]
    again.append(Event(Kind.DRAFT, "content/office/a", Phase.RESULT, {"media_id": "M", "version": "v"}))
    assert [event.phase for event in Ledger(root, workdir=tmp_path / "fresh").events] == [Phase.INTENT, Phase.RESULT]
    assert not half.exists() and not (git_dir / "index.lock").exists()


def test_a_clone_beyond_repair_is_kept_aside_and_rebuilt(tmp_path: Path, capsys) -> None:
    root = repository(tmp_path)
    first = Ledger(root, run="r1")
    first.append(Event(Kind.DRAFT, "content/office/a", Phase.INTENT, {"version": "v"}))
    (first.workdir / ".git" / "HEAD").write_text("garbage\n", "utf-8")
    again = Ledger(root, run="r2")
    assert [event.kind for event in again.events] == [Kind.DRAFT]
    assert "已损坏" in capsys.readouterr().err
    assert list(first.workdir.parent.glob(f"{first.workdir.name}.broken-*"))


def test_contention_is_named_as_such(tmp_path: Path, monkeypatch) -> None:
    root = repository(tmp_path)
    ledger = Ledger(root, run="r1")
    monkeypatch.setattr("pipeline.ledger.time.sleep", lambda seconds: None)

    def rejected(*args: object, **kwargs: object) -> None:
        raise git.GitCommandError(["git", "push"], 1, b"", b"! [rejected] gzh-ledger -> gzh-ledger (fetch first)")

    monkeypatch.setattr(type(ledger._repo.git), "push", rejected, raising=False)
    with pytest.raises(GzhError, match="另有发布任务同时在写"):
        ledger.append(Event(Kind.RUN))


def test_a_clone_killed_before_its_identity_was_set_still_commits(tmp_path: Path, monkeypatch) -> None:
    """Killed between `git remote add` and writing user.name: on a runner without a global git
    identity the next run must still be able to commit (D-crash-1)."""
    root = repository(tmp_path)
    workdir = root / ".git" / "gzh" / "gzh-ledger"
    half_made = git.Repo.init(workdir, initial_branch="gzh-ledger")
    half_made.create_remote("ledger", str(root))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # no ~/.gitconfig, as on a CI runner
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for name in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "EMAIL"):
        monkeypatch.delenv(name, raising=False)
    ledger = Ledger(root, run="r1")
    ledger.append(Event(Kind.RUN))
    assert [event.kind for event in read_branch(root, "gzh-ledger")] == [Kind.RUN]


def test_a_branch_lock_a_killed_push_left_is_removed_once_stale(tmp_path: Path, capsys) -> None:
    """The default remote is the repository itself: a push killed inside it leaves its branch lock
    there, which the clone's repair cannot see (D-crash-2)."""
    root = repository(tmp_path)
    ledger = Ledger(root, run="r1")
    ledger.append(Event(Kind.RUN))
    lock = root / ".git" / "refs" / "heads" / "gzh-ledger.lock"
    lock.write_text("", "utf-8")
    stale = time.time() - STALE_LOCK_SECONDS - 1
    os.utime(lock, (stale, stale))
    ledger.append(Event(Kind.RUN))
    assert len(read_branch(root, "gzh-ledger")) == 2 and not lock.exists()
    assert "锁文件" in capsys.readouterr().err


def test_a_lock_held_on_a_server_is_named_not_taken_for_contention(tmp_path: Path, monkeypatch) -> None:
    """A lock in a repository elsewhere (here reached by URL, as a server is) is not gzh's to remove."""
    root = repository(tmp_path)
    monkeypatch.setenv("GZH_LEDGER_REMOTE", f"file://{root}")
    ledger = Ledger(root, run="r1")
    ledger.append(Event(Kind.RUN))
    monkeypatch.setattr("pipeline.ledger.time.sleep", lambda seconds: None)
    lock = root / ".git" / "refs" / "heads" / "gzh-ledger.lock"
    lock.write_text("", "utf-8")
    stale = time.time() - STALE_LOCK_SECONDS - 1
    os.utime(lock, (stale, stale))
    with pytest.raises(GzhError, match="锁文件") as raised:
        ledger.append(Event(Kind.RUN))
    assert "抢先" not in str(raised.value) and lock.exists()


def test_a_live_push_holding_the_lock_is_waited_for(tmp_path: Path) -> None:
    root = repository(tmp_path)
    ledger = Ledger(root, run="r1")
    ledger.append(Event(Kind.RUN))
    lock = root / ".git" / "refs" / "heads" / "gzh-ledger.lock"
    lock.write_text("", "utf-8")
    threading.Timer(0.5, lock.unlink).start()  # the other push ends
    started = time.monotonic()
    ledger.append(Event(Kind.RUN))
    assert len(read_branch(root, "gzh-ledger")) == 2 and time.monotonic() - started < STALE_LOCK_SECONDS


def test_records_committed_but_never_pushed_are_pushed_by_the_next_run(tmp_path: Path) -> None:
    """Killed between the ledger's commit and its push (D-crash-3): the next process pushes it, even
    when it writes nothing itself."""
    root = repository(tmp_path)
    first = Ledger(root, run="r1")
    first.append(Event(Kind.RUN))
    (first.workdir / "events" / "late.json").write_text(json.dumps(
        {"kind": "publish", "post": "content/office/a", "phase": "result", "data": {"version": "v"},
         "id": "20261129T000000000000Z-00000000-0001"}), "utf-8")
    first._repo.git.add("--", "events/late.json")
    first._repo.git.commit("--quiet", "-m", "publish/result")
    Ledger(root, run="r2")
    assert sorted(event.kind for event in read_branch(root, "gzh-ledger")) == [Kind.PUBLISH, Kind.RUN]
