"""The ledger: an append-only record of every side effect, kept in git (Art. 9(2): keep the records).

Each event is one JSON file under `events/YYYY/MM/DD/` on a dedicated branch (`gzh-ledger`, or
`gzh-ledger-sandbox` for the local sandbox). Files are never edited, so concurrent writers never
conflict: a rejected push is rebased and pushed again. The branch's commit order is the one order
every reader agrees on, which is what makes a claim (one publisher per post) safe.

Writing goes through a private clone under the repository's .git folder; the remote is the
repository itself unless GZH_LEDGER_REMOTE names another (CI sets it to the forge's origin).
"""
from __future__ import annotations

import datetime as dt
import enum
import fcntl
import json
import os
import random
import re
import socket
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import git

from pipeline import output
from pipeline.errors import GzhError
from pipeline.i18n import Text
from pipeline.redact import redact

BRANCH = "gzh-ledger"
SANDBOX_BRANCH = "gzh-ledger-sandbox"
EVENTS_DIR = "events"
PUSH_ATTEMPTS = 12
CLAIM_SECONDS = 15 * 60
STALE_LOCK_SECONDS = 10.0  # a live push holds a branch lock for milliseconds

_NOT_A_REPO = Text("{path} 不是 git 仓库：发布记录（账本）保存在 git 中，请在仓库里运行",
                   "{path} is not a git repository; the ledger lives in git, run inside the repository")
_REBUILT = Text("账本的本机副本 {workdir} 已损坏（{error}），已移到 {kept} 保留，并从远端重新建立；如有未推送的记录，可在保留的副本中找到",
                "The ledger clone {workdir} was damaged ({error}); it is kept as {kept} and rebuilt from the remote")
_CONTENDED = Text("另有发布任务同时在写发布记录（账本），重试 {attempts} 次仍被抢先。本次的记录保存在本机 {workdir}，稍后重新运行即可补记，不会重复发布",
                  "Other publishers kept writing the ledger first; gave up after {attempts} attempts. Records are kept in "
                  "{workdir}; run again later, nothing is published twice")
_LOCKED = Text("{remote} 中的锁文件 {lock} 一直存在，发布记录（账本）无法推送。它可能是之前被中断的推送留下的：确认没有其他推送在进行后删除该文件，再重新运行。已发生的操作记录在本机 {workdir}，不会重复发布",
                "The lock file {lock} in {remote} stays, so the ledger cannot be pushed. A killed push may have left it: "
                "make sure no push is running, delete it and run again. Records are kept in {workdir}")
_STALE_LOCK = Text("已删除之前被中断的推送留下的锁文件 {lock}", "Removed the lock file {lock} a killed push left behind")
_PUSH_FAILED = Text("无法把发布记录推送到 {remote}（已重试 {attempts} 次）：{error}。已发生的操作记录在本机 {workdir}，修复网络或权限后重新运行即可补记",
                    "Could not push the ledger to {remote} after {attempts} attempts: {error}. Records are kept in {workdir}; re-run once fixed")


def run_id() -> str:
    """Who is running: a CI re-run keeps its run id, so it can take over its own claims."""
    for name in ("GZH_RUN_ID", "GITHUB_RUN_ID", "GITEA_RUN_ID"):
        if os.environ.get(name):
            return os.environ[name]
    return f"{socket.gethostname()}:{os.getpid()}"


def actor() -> str:
    for name in ("GZH_ACTOR", "GITHUB_ACTOR", "GITEA_ACTOR", "USER"):
        if os.environ.get(name):
            return os.environ[name]
    return "unknown"


class Kind(enum.StrEnum):
    """Every kind of event the ledger holds. The value is what is written to disk."""

    # a post's life: each changes its PostState (see fold)
    DRAFT = "draft"               # draft/add or draft/update
    SUBMIT = "submit"             # freepublish/submit
    PUBLISH = "publish"           # the article is live
    MASS = "mass"                 # message/mass/sendall
    FAILED = "failed"
    SCHEDULED = "scheduled"       # waiting for publish_at
    TAKEDOWN = "takedown"         # deleted from WeChat: `gzh emergency takedown` (Art. 9) or `gzh withdraw` (routine: true)
    REPUBLISH = "republish"       # published again as a new article, with its correction note (`gzh republish`)
    # facts beside a post's state
    CLAIM = "claim"               # one publisher per post
    RELEASE = "release"
    UPLOAD = "upload"             # images WeChat holds, by content hash
    PREVIEW = "preview"           # a WeChat preview sent to a reviewer
    ERROR = "error"               # a call failed; the state is unchanged
    UNAPPROVED = "unapproved"     # content reached main without a passing gate
    INCIDENT = "incident"         # an incident record opened or closed
    COMMENT = "comment"           # a follower's comment collected
    ANSWERED = "answered"         # a comment answered or closed
    MESSAGE = "message"           # a follower's message through the callback
    MODERATED = "moderated"       # a follower's comment hidden (unmarked as elected) or deleted, with who and why
    COMMAND = "command"           # a forge command on an inbox issue refused or not allowed (acted on once)
    FINDING = "finding"           # a patrol or inbox finding raised or resolved
    PATROL = "patrol"             # a patrol report
    NOTICE = "notice"             # a notification delivered to a WeCom or DingTalk group robot
    RUN = "run"                   # a publish run finished


class Phase(enum.StrEnum):
    FACT = ""                     # something that happened
    INTENT = "intent"             # written before a call
    RESULT = "result"             # written after it


class Status(enum.StrEnum):
    """Where a post stands, as `fold` derives it from its events."""

    UNPUBLISHED = "unpublished"
    SCHEDULED = "scheduled"
    DRAFT = "draft"
    PUBLISHING = "publishing"
    PUBLISHED = "published"
    FAILED = "failed"
    TAKEN_DOWN = "taken-down"
    REPUBLISHING = "republishing"  # a removed post on its way back as a new article


@dataclass(frozen=True)
class Event:
    kind: Kind | str              # a Kind; a kind this version does not know (a newer gzh wrote it) stays text
    post: str = ""                # content/<dept>/<post> (the bundle folder), or "" for account-wide events
    phase: Phase | str = Phase.FACT
    data: dict[str, Any] = field(default_factory=dict)
    run: str = ""
    actor: str = ""
    time: str = ""
    id: str = ""

    def __post_init__(self) -> None:  # events read from disk carry plain strings
        if self.kind in _KINDS:
            object.__setattr__(self, "kind", Kind(self.kind))
        if self.phase in _PHASES:
            object.__setattr__(self, "phase", Phase(self.phase))

    def stamped(self, sequence: int, run: str) -> "Event":
        now = dt.datetime.now(dt.timezone.utc)
        run = self.run or run
        identifier = f"{now:%Y%m%dT%H%M%S%fZ}-{abs(hash(run)) % 10**8:08d}-{sequence:04d}"
        return Event(self.kind, self.post, self.phase, _masked(self.data), run, self.actor or actor(),
                     now.isoformat(timespec="milliseconds"), identifier)

    def path(self) -> str:
        return f"{EVENTS_DIR}/{self.id[0:4]}/{self.id[4:6]}/{self.id[6:8]}/{self.id}.json"


# Identifiers and digests are kept as they are: masking a digit run inside one would break a lookup.
_VERBATIM = re.compile(r"(?:^|_)(?:id|ids|sha|sha256|version|commit|url|path|key|hash)$")


def _masked(value: Any, key: str = "") -> Any:
    """Event data with personal data and credentials masked in every free-text value (the ledger is
    append-only and kept for years: what is written there can never be taken back)."""
    if isinstance(value, str):
        return value if _VERBATIM.search(key) else redact(value)
    if isinstance(value, dict):
        return {name: _masked(item, str(name)) for name, item in value.items()}
    if isinstance(value, list):
        return [_masked(item, key) for item in value]
    return value


_KINDS = frozenset(kind.value for kind in Kind)
_PHASES = frozenset(phase.value for phase in Phase)


class Ledger:
    def __init__(self, root: Path, *, branch: str = BRANCH, remote: str | None = None, workdir: Path | None = None,
                 run: str | None = None) -> None:
        try:
            main = git.Repo(root, search_parent_directories=True)
        except (git.InvalidGitRepositoryError, git.NoSuchPathError):
            raise GzhError(_NOT_A_REPO(path=root)) from None
        self.branch = branch
        self.run = run or run_id()
        self.remote, self._auth = _remote(main, remote or os.environ.get("GZH_LEDGER_REMOTE") or "")
        self.workdir = workdir or Path(main.git_dir) / "gzh" / branch
        self._sequence = 0
        self._events: list[Event] = []
        self._repo = self._open()
        self.sync()

    # -- the private clone ------------------------------------------------------------------------

    def _open(self) -> git.Repo:
        self.workdir.parent.mkdir(parents=True, exist_ok=True)
        with self._locked():
            repo = self._reopened() if (self.workdir / ".git").exists() else None
            if repo is None:
                repo = git.Repo.init(self.workdir, initial_branch=self.branch)
                repo.create_remote("ledger", self.remote)
            _configure(repo, self.remote)
            return repo

    def _reopened(self) -> git.Repo | None:
        """The clone as a killed process may have left it, repaired; None (moved aside) if beyond repair.

        Called under the clone's lock, so no live gzh on this machine is inside it: a git lock file
        is stale, a rebase was interrupted, and an event written but not committed never happened
        (its call either was not made, or its intent stays pending and is reconciled). Commits not
        pushed yet are kept: they are records of what did happen.
        """
        try:
            repo = git.Repo(self.workdir)
            _recover(repo)
            repo.remote("ledger")
            return repo
        except (git.GitCommandError, git.InvalidGitRepositoryError, git.NoSuchPathError, ValueError, OSError) as error:
            kept = self.workdir.with_name(f"{self.workdir.name}.broken-{dt.datetime.now():%Y%m%d%H%M%S}")
            os.rename(self.workdir, kept)
            output.error(_REBUILT(workdir=self.workdir, kept=kept, error=_short(error)))
            return None

    @contextmanager
    def _credentials(self) -> Iterator[None]:
        """The checkout's HTTP auth (e.g. actions/checkout's header) for one fetch or push.

        Handed to git through its environment (GIT_CONFIG_COUNT), so it is never written into the
        clone's config, which on a self-hosted runner outlives the job, and never shows in `ps`.
        """
        settings = {}
        for index, ((section, option), value) in enumerate(self._auth.items()):
            settings[f"GIT_CONFIG_KEY_{index}"] = f"{_config_key(section)}.{option}"
            settings[f"GIT_CONFIG_VALUE_{index}"] = value
        if not settings:
            yield
            return
        with self._repo.git.custom_environment(GIT_CONFIG_COUNT=str(len(self._auth)), **settings):
            yield

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """One writer per clone: processes on one machine share it."""
        # Beside the clone, not in it: a clone beyond repair is moved aside while the lock is held.
        with open(self.workdir.with_name(f".{self.workdir.name}.lock"), "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _fetch(self) -> bool:
        """Fetch the branch; False when the remote has no ledger yet."""
        try:
            with self._credentials():
                self._repo.git.fetch("ledger", f"+refs/heads/{self.branch}:refs/remotes/ledger/{self.branch}")
            return True
        except git.GitCommandError as error:
            if "couldn't find remote ref" in str(error).lower() or "could not find remote ref" in str(error).lower():
                return False
            raise GzhError(_PUSH_FAILED(remote=self.remote, attempts=1, error=_short(error), workdir=self.workdir)) from None

    def sync(self) -> None:
        """Bring the clone to the remote's state; records a killed run committed but never pushed
        are pushed now, on top (they are what did happen, and the branch is what others read)."""
        with self._locked():
            fetched = self._fetch()
            if fetched and not self._repo.head.is_valid():
                self._repo.git.checkout("-B", self.branch, f"ledger/{self.branch}")
            elif fetched:
                self._repo.git.rebase(f"ledger/{self.branch}")
            if self._unpushed(fetched):
                self._push()
            self._events = self._read()

    def _unpushed(self, fetched: bool) -> bool:
        if not self._repo.head.is_valid():
            return False
        if not fetched:
            return True
        return bool(self._repo.git.rev_list("--max-count=1", f"ledger/{self.branch}..HEAD"))

    def _read(self) -> list[Event]:
        if not self._repo.head.is_valid():
            return []
        names = self._repo.git.log("--reverse", "--format=", "--name-only", "--diff-filter=A", "--", EVENTS_DIR)
        events = []
        for name in names.splitlines():
            if name.strip():
                data = json.loads((self.workdir / name).read_text("utf-8"))
                events.append(Event(**data))
        return events

    # -- reading and writing ----------------------------------------------------------------------

    @property
    def events(self) -> list[Event]:
        return list(self._events)

    def read_document(self, path: str) -> str | None:
        target = self.workdir / path
        return target.read_text("utf-8") if target.is_file() else None

    def append(self, *events: Event, files: dict[str, str] | None = None) -> list[Event]:
        """Record events durably: committed and pushed before this returns.

        `files` are documents kept beside the events (patrol reports under patrols/, incident
        records under incidents/), written in the same commit.
        """
        stamped = []
        for event in events:
            self._sequence += 1
            stamped.append(event.stamped(self._sequence, self.run))
        files = {path: redact(text) for path, text in (files or {}).items()}
        with self._locked():
            for event in stamped:
                target = self.workdir / event.path()
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(json.dumps(asdict(event), ensure_ascii=False, indent=1), "utf-8")
            for path, text in (files or {}).items():
                target = self.workdir / path
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text, "utf-8")
            summary = ", ".join(f"{event.kind}{'/' + event.phase if event.phase else ''} {event.post}".strip()
                                for event in stamped) or ", ".join(files or {})
            # git itself, not gitpython's index: that one changes the process's working folder
            self._repo.git.add("--", *(event.path() for event in stamped), *(files or {}))
            self._repo.git.commit("--quiet", "--no-verify", "-m", summary[:200])
            if self._push():
                self._events = self._read()  # others' events came in underneath ours
            else:
                self._events.extend(stamped)
        return stamped

    def _push(self) -> bool:
        """Push, rebasing onto others' events as often as needed; True if any came in.

        A rejected push means another publisher wrote first: back off (exponential, with jitter, so
        two runs started together drift apart) and try again on top of theirs. A branch lock in a
        repository on this machine is waited for until it is stale (a killed push left it) and then
        removed. Any other failure (network, permissions) is not contention and is reported as it is.
        """
        last_error: Exception | None = None
        rebased, attempts = False, 0
        for attempt in range(PUSH_ATTEMPTS):
            attempts = attempt + 1
            try:
                with self._credentials():
                    self._repo.git.push("ledger", f"HEAD:refs/heads/{self.branch}")
                return rebased
            except git.GitCommandError as error:
                last_error = error
                lock = self._local_lock(error)
                if lock is not None:
                    if _removed_if_stale(lock):
                        continue
                    _wait_while_held(lock)
                elif not _rejected(error) and attempts >= 3:  # a network or permission problem: no use waiting
                    break
                else:
                    time.sleep(random.uniform(0, min(2.0, 0.05 * 2 ** attempt)))
                if self._fetch():
                    self._repo.git.rebase(f"ledger/{self.branch}")
                    rebased = True
        lock = _held_lock(last_error)
        if lock is not None:
            raise GzhError(_LOCKED(remote=self.remote, lock=lock, workdir=self.workdir))
        if last_error is not None and _rejected(last_error):
            raise GzhError(_CONTENDED(attempts=attempts, workdir=self.workdir))
        raise GzhError(_PUSH_FAILED(remote=self.remote, attempts=attempts, error=_short(last_error), workdir=self.workdir))

    def _local_lock(self, error: Exception) -> Path | None:
        """The branch lock that refused the push, when it is in a repository on this machine (the default
        remote is the repository itself): one a killed push left there is gzh's to remove."""
        lock, remote = _held_lock(error), Path(self.remote)
        if lock is None or not remote.is_dir():
            return None
        try:
            return lock if lock.resolve().is_relative_to(remote.resolve()) else None
        except OSError:
            return None

    # -- claims: one publisher per post ------------------------------------------------------------

    def holder(self, post: str, now: float | None = None) -> str | None:
        """The run holding the post's claim, by branch order; an old claim lapses after CLAIM_SECONDS."""
        now = time.time() if now is None else now
        holder, since = None, 0.0
        for event in self._events:
            if event.post != post:
                continue
            stamp = dt.datetime.fromisoformat(event.time).timestamp()
            if event.kind is Kind.CLAIM and (holder is None or holder == event.run or stamp - since > CLAIM_SECONDS):
                holder, since = event.run, stamp
            elif event.kind is Kind.RELEASE and event.run == holder:
                holder = None
        return holder if holder is None or now - since <= CLAIM_SECONDS else None

    def claim(self, post: str) -> str | None:
        """Try to become the post's only publisher; returns the other holder if someone else is."""
        self.append(Event(Kind.CLAIM, post, run=self.run))
        holder = self.holder(post)
        return None if holder == self.run else holder


@dataclass(frozen=True)
class PostState:
    """What the ledger says about one post."""

    status: Status = Status.UNPUBLISHED
    version: str = ""
    draft_id: str = ""
    draft_version: str = ""
    publish_id: str = ""
    article_id: str = ""
    url: str = ""
    reason: str = ""
    pending: str = ""            # an intent ("draft", "submit", "mass") whose result was never recorded
    pending_data: tuple[tuple[str, Any], ...] = ()  # that intent's data
    content_sha256: str = ""
    msg_data_id: str = ""
    time: str = ""
    correction: str = ""         # the correction note a republished article opens with
    previous_url: str = ""       # the removed article's link, once the post is republished

    def intent(self, key: str) -> Any:
        return dict(self.pending_data).get(key, "")


def _drafted(state: dict[str, Any], data: dict[str, Any]) -> None:
    state.update(status=Status.DRAFT, draft_id=data["media_id"], draft_version=data["version"], version=data["version"])


def _submitted(state: dict[str, Any], data: dict[str, Any]) -> None:
    state.update(status=Status.PUBLISHING, publish_id=data.get("publish_id", ""), version=data["version"],
                 content_sha256=data.get("content_sha256", ""), msg_data_id=data.get("msg_data_id", ""))


def _published(state: dict[str, Any], data: dict[str, Any]) -> None:
    state.update(status=Status.PUBLISHED, article_id=data.get("article_id", ""), url=data.get("url", ""),
                 version=data["version"], msg_data_id=data.get("msg_data_id", state.get("msg_data_id", "")))


def _mass_sent(state: dict[str, Any], data: dict[str, Any]) -> None:
    state.update(status=Status.PUBLISHED, url=data.get("url", ""), version=data["version"],
                 msg_data_id=data.get("msg_data_id", ""), article_id=data.get("article_id", ""))


def _failed(state: dict[str, Any], data: dict[str, Any]) -> None:
    state.update(status=Status.FAILED, reason=data.get("reason", ""), version=data.get("version", ""))


def _scheduled(state: dict[str, Any], data: dict[str, Any]) -> None:
    state.update(status=Status.SCHEDULED, version=data.get("version", ""))


def _taken_down(state: dict[str, Any], data: dict[str, Any]) -> None:
    state.update(status=Status.TAKEN_DOWN, reason=data.get("reason", ""))  # version and URL stay: what was live


def _republishing(state: dict[str, Any], data: dict[str, Any]) -> None:
    """A new article from scratch: the removed one's draft and submission are spent. Its id and URL stay
    until the new article's replace them, so the post is still found by them meanwhile."""
    state.update(status=Status.REPUBLISHING, correction=data.get("note", ""), previous_url=data.get("url", ""), draft_id="",
                 draft_version="", publish_id="", content_sha256="", msg_data_id="")


# How each kind of event moves a post's state; every other kind leaves it alone.
TRANSITIONS: dict[Kind, Callable[[dict[str, Any], dict[str, Any]], None]] = {
    Kind.DRAFT: _drafted, Kind.SUBMIT: _submitted, Kind.PUBLISH: _published, Kind.MASS: _mass_sent,
    Kind.FAILED: _failed, Kind.SCHEDULED: _scheduled, Kind.TAKEDOWN: _taken_down, Kind.REPUBLISH: _republishing,
}
BESIDE_STATE = frozenset(Kind) - frozenset(TRANSITIONS)


def fold(events: Iterable[Event]) -> dict[str, PostState]:
    """Every post's state from the ledger, by replaying its events in order.

    An intent marks the state pending until its result arrives; events that are facts beside a
    post's state (claims, uploads, errors …) and kinds a newer gzh may write are passed over.
    """
    states: dict[str, dict[str, Any]] = {}
    for event in events:
        transition = TRANSITIONS.get(event.kind) if isinstance(event.kind, Kind) else None
        if not event.post or transition is None:
            continue
        state = states.setdefault(event.post, {"status": Status.UNPUBLISHED})
        if event.phase is Phase.INTENT:
            state["pending"], state["pending_data"] = event.kind.value, tuple(sorted(event.data.items()))
            continue
        state["pending"], state["pending_data"] = "", ()
        state["time"] = event.time
        transition(state, event.data)
    return {post: PostState(**values) for post, values in states.items()}


def upload_cache(events: Iterable[Event]) -> dict[tuple[str, bool], dict[str, str]]:
    """(sha256, via_material) → what WeChat gave back for those bytes, from every run so far."""
    cache: dict[tuple[str, bool], dict[str, str]] = {}
    for event in events:
        if event.kind is Kind.UPLOAD:
            for item in event.data.get("uploads", []):
                cache[(item["sha256"], item["via_material"])] = item
    return cache


def _remote(main: git.Repo, name_or_url: str) -> tuple[str, dict[tuple[str, str], str]]:
    """Where the ledger is pushed, and the HTTP auth settings the main checkout uses for it.

    Empty: the repository itself. A remote's name (CI sets `origin`): that remote's URL, with the
    `http.*.extraheader` that actions/checkout stores in the checkout's config, so the push works
    with the job's token and nothing is written to disk that was not there already.
    """
    if not name_or_url:
        return str(Path(main.working_tree_dir or main.git_dir)), {}
    if name_or_url not in [remote.name for remote in main.remotes]:
        return name_or_url, {}
    url = main.remote(name_or_url).url
    auth: dict[tuple[str, str], str] = {}
    reader = main.config_reader("repository")
    for section in reader.sections():
        if section.startswith("http") and reader.has_option(section, "extraheader"):
            auth[(section, "extraheader")] = reader.get_value(section, "extraheader")
    return url, auth


def _recover(repo: git.Repo) -> None:
    """Undo what a process killed inside `Ledger.append` or `sync` leaves behind."""
    git_dir = Path(repo.git_dir)
    for lock in [git_dir / "index.lock", git_dir / "HEAD.lock", git_dir / "config.lock", git_dir / "packed-refs.lock",
                 *git_dir.glob("refs/**/*.lock")]:
        lock.unlink(missing_ok=True)
    for rebase in ("rebase-merge", "rebase-apply"):
        if (git_dir / rebase).exists():
            repo.git.rebase("--abort")
    if repo.head.is_valid():
        repo.git.reset("--hard", "--quiet")   # staged or half-written event files
    else:
        repo.git.read_tree("--empty")         # nothing committed yet: nothing staged either
    repo.git.clean("-fdq")


def _configure(repo: git.Repo, remote: str) -> None:
    """The clone's own settings, written on every open: a process killed while creating the clone may
    have left them unwritten, and a runner without a global git identity could then commit nothing."""
    with repo.config_writer() as config:
        config.set_value("user", "name", "gzh")
        config.set_value("user", "email", "gzh@localhost")
        config.set_value("commit", "gpgsign", "false")
        config.set_value('remote "ledger"', "url", remote)
        for section in config.sections():  # auth an earlier gzh may have kept on disk
            for option in ("extraheader", "helper"):
                if section.startswith(("http", "credential")) and config.has_option(section, option):
                    config.remove_option(section, option)


def _config_key(section: str) -> str:
    """`http "https://github.com/"` as git's config reader names it → `http.https://github.com/`."""
    name, _, subsection = section.partition(" ")
    return ".".join(part for part in (name, subsection.strip('"')) if part)


def read_branch(root: Path, branch: str = BRANCH) -> list[Event]:
    """The events on a ledger branch as the local repository has it, without a clone (for checks)."""
    try:
        repo = git.Repo(root, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return []
    for ref in (branch, f"origin/{branch}"):
        try:
            commit = repo.commit(ref)
        except (git.BadName, ValueError, git.GitCommandError):
            continue
        try:
            tree = commit.tree / EVENTS_DIR
        except KeyError:
            return []
        events = [Event(**json.loads(blob.data_stream.read().decode("utf-8")))
                  for blob in tree.traverse() if blob.type == "blob"]
        return sorted(events, key=lambda event: event.id)
    return []


def _rejected(error: Exception) -> bool:
    """Whether git refused the push because the branch moved on (someone else pushed first)."""
    text = str(error).lower()
    return any(sign in text for sign in ("rejected", "fetch first", "non-fast-forward", "cannot lock ref"))


_LOCK_HELD = re.compile(r"Unable to create '([^']+\.lock)': File exists")


def _lock_age(lock: Path) -> float:
    try:
        return time.time() - lock.stat().st_mtime
    except OSError:
        return STALE_LOCK_SECONDS  # gone already


def _wait_while_held(lock: Path) -> None:
    """Until a live push lets go of the lock (within milliseconds) or it is old enough to be a dead one's."""
    deadline = time.monotonic() + STALE_LOCK_SECONDS
    while lock.exists() and _lock_age(lock) < STALE_LOCK_SECONDS and time.monotonic() < deadline:
        time.sleep(0.1)


def _removed_if_stale(lock: Path) -> bool:
    if _lock_age(lock) < STALE_LOCK_SECONDS:
        return False
    try:
        lock.unlink()
    except FileNotFoundError:
        return True  # its push ended meanwhile: try again
    except OSError:
        return False
    output.error(_STALE_LOCK(lock=lock))
    return True


def _held_lock(error: Exception | None) -> Path | None:
    """The lock file that made the remote refuse to update the branch: held by a push, or left by a
    killed one (git says so in the same words either way)."""
    match = _LOCK_HELD.search(str(error or ""))
    return Path(match.group(1)) if match else None


def _short(error: Exception | None) -> str:
    text = str(error or "").strip().splitlines()
    return text[-1][:200] if text else ""
