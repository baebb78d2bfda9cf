"""Crash trial (issue 13): `gzh publish` killed at every API call and inside its ledger writes, then re-run.

A trial starts a real `gzh publish` process against the local WeChat sandbox and kills its whole
process group (git and its hooks too) with SIGKILL at one kill point:

- `call`: WeChat acts on the attempt's k-th API call (counted as `sandbox.calls()` counts), its answer
  is held back (a sandbox `hold` fault on that endpoint's n-th call, n read off a complete reference
  run), and the process is killed while it waits: WeChat did it, gzh never heard back;
- `git` (random): a few random milliseconds after a random one of the ledger's git processes (`git
  add`, `commit`, `push`, `fetch`, `rebase` … run in its clone) started: inside or just after it;
- `step`: right after the g-th of those git processes finished, before gzh went on (the process
  holds there, as the sandbox holds an answer);
- `push`: while the p-th push of the ledger branch holds the branch's lock in the repository (a
  `reference-transaction` hook of the repository holds there);
- `delay` (bench): a random moment of the run's busy time (the wait before the first poll left out).

For `git` and `step` kills gzh's git is a small wrapper script (GIT_PYTHON_GIT_EXECUTABLE) in the
killed attempt: it logs each git process gzh starts in the ledger clone and holds after the chosen
one. What a kill left behind (git lock files, a rebase, event files not committed, commits not
pushed) is read off the clone and the repository. Then plain `gzh publish` runs (no kill, no
wrapper; the same run id, as a CI re-run has, so the killed run's claim is taken over) until one
exits 0, at most RERUNS times. In the end every post is published exactly once with its own
(latest) text, no draft is left, the ledger branch as pushed (read through a clone of its own) knows
every live article (each post published, that article's URL, nothing pending), `gzh status` shows
已发布 for each, no run exited 3 and no output holds a traceback. The kill points at which earlier
versions failed (DEFECT_POINTS, D-crash-1 …) run in CI too.

The repository: a post with a body image, one with a cover, one plain; the cover post and the plain
one share a title but not their text (title-only matching would mix them up), and the plain one was
saved as a draft by an earlier `--mode draft` run and edited since, so the run updates that draft
(draft/update). Each trial starts without the ledger clone, as on a fresh CI runner, and its git
runs without the machine's global git configuration (no user identity), as there.

CI runs the first CI_CALLS call indexes, CI_GIT_KILLS seeded random kills inside ledger writes and
the DEFECT_POINTS, CI_WORKERS trials at a time (each re-run waits 3 s before its first
poll); `bench/crash_trial.py` runs every call index of a complete run and 20+ random kills (and on
request every git step and push), and prints the table in docs/publishing.md (“崩溃演练”).
"""
from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import pytest

from pipeline import assets, posts
from pipeline.ledger import SANDBOX_BRANCH, Event, Ledger, Status, fold
from pipeline.main import main
from pipeline.sandbox import SANDBOX_APPID, SANDBOX_SECRET, Sandbox
from tests.support import Account, front_matter, write_image, write_post

POSTS = 3
CI_CALLS = 12            # call indexes killed in CI: every write of the 14-call run, and the first poll
CI_GIT_KILLS = 3         # random kills inside ledger writes in CI
CI_SEED = 20261128
CI_WORKERS = 6           # trials at a time: most of a trial is waiting (the poll delay, git, start-up)
RERUNS = 5               # plain re-runs after the kill, at most
HOLD_SECONDS = 60.0      # how long an answer, a git step or a push is held for the kill
MAX_JITTER = 0.010       # a random kill lands up to this long after its git process started
RUN_TIMEOUT = 120.0
WRITES = ("media/uploadimg", "material/add_material", "draft/add", "draft/update", "freepublish/submit",
          "message/mass/sendall")
ISOLATED_PREFIXES = ("WECHAT_", "GITHUB_", "GITEA_", "GZH_")
_DIGITS = "零一二三四五六七八九"

# gzh's git in the killed attempt: logs each git process started in the ledger clone (the persistent
# `cat-file` readers left out) and holds after the chosen one, until the trial kills the process group.
GIT_WRAPPER = r"""#!/bin/sh
case "$(pwd -P)" in
  "$CRASH_TRIAL_CLONE"|"$CRASH_TRIAL_CLONE"/*) ;;
  *) exec "$CRASH_TRIAL_GIT" "$@" ;;
esac
[ "$1" = cat-file ] && exec "$CRASH_TRIAL_GIT" "$@"
echo "$1" >> "$CRASH_TRIAL_LOG"
[ "$(wc -l < "$CRASH_TRIAL_LOG")" -eq "$CRASH_TRIAL_HOLD_AFTER" ] || exec "$CRASH_TRIAL_GIT" "$@"
"$CRASH_TRIAL_GIT" "$@"
status=$?
echo "$status" > "$CRASH_TRIAL_LOG.held"
sleep {hold}
exit $status
"""
# The repository's hook while its ledger branch is locked for a push: holds in the p-th one.
PUSH_HOOK = r"""#!/bin/sh
[ "$1" = prepared ] || exit 0
grep -q " refs/heads/{branch}$" || exit 0
count=$(( $(cat '{count}' 2>/dev/null || echo 0) + 1 ))
echo $count > '{count}'
[ $count -eq {target} ] || exit 0
touch '{held}'
sleep {hold}
"""


# -- the repository --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PostSpec:
    slug: str
    title: str
    kind: str            # image | cover | plain
    text: str            # a sentence only this post holds: its article must contain it
    old_text: str = ""   # the text of an earlier draft, replaced before the trial: never published

    @property
    def bundle(self) -> str:
        return f"content/office/{self.slug}"


def _numeral(number: int) -> str:
    return "".join(_DIGITS[int(digit)] for digit in str(number))


def post_specs(count: int = POSTS) -> list[PostSpec]:
    """Posts in triples: a body image, a cover, plain; the cover and the plain post share a title,
    and the plain one was drafted earlier with other text."""
    specs = []
    for index in range(count):
        kind = ("image", "cover", "plain")[index % 3]
        group = "" if count <= 3 else f"（{_numeral(index // 3 + 1)}）"
        title = ("带图的文章" if kind == "image" else "同名的两篇文章") + group
        text = f"这是第{_numeral(index + 1)}篇文章独有的正文，不属于别的文章。"
        old_text = f"这是第{_numeral(index + 1)}篇文章的旧稿，发布前已经改过。" if kind == "plain" else ""
        specs.append(PostSpec(f"2026-{index // 28 + 1:02d}-{index % 28 + 1:02d}-{kind}", title, kind, text, old_text))
    return specs


@dataclass(frozen=True)
class Ran:
    code: int
    out: str


@dataclass
class Scenario:
    """A repository with the posts, its sandbox, and the environment `gzh` runs with."""

    folder: Path
    account: Account
    specs: list[PostSpec]
    env: dict[str, str]
    logs: Path

    @property
    def clone(self) -> Path:
        """The ledger's private clone, where its git processes work."""
        return self.account.root / ".git" / "gzh" / SANDBOX_BRANCH

    @property
    def git_log(self) -> Path:
        return self.folder / "ledger-git.log"

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "pipeline", "--root", str(self.account.root), *args]

    def watched_env(self, hold_after: int = 0) -> dict[str, str]:
        """The environment with gzh's git logged (and held after the `hold_after`-th ledger git process)."""
        wrapper = self.folder / "git"
        if not wrapper.exists():
            wrapper.write_text(GIT_WRAPPER.replace("{hold}", str(int(HOLD_SECONDS))), "utf-8")
            wrapper.chmod(0o755)
        real = shutil.which("git") or "git"
        return {**self.env, "GIT_PYTHON_GIT_EXECUTABLE": str(wrapper), "CRASH_TRIAL_GIT": real,
                "CRASH_TRIAL_CLONE": os.path.realpath(self.clone), "CRASH_TRIAL_LOG": str(self.git_log),
                "CRASH_TRIAL_HOLD_AFTER": str(hold_after)}

    def git_steps(self) -> list[str]:
        return self.git_log.read_text("utf-8").split() if self.git_log.exists() else []

    def run(self, *args: str) -> Ran:
        try:
            done = subprocess.run(self.command(*args), env=self.env, capture_output=True, text=True,
                                  timeout=RUN_TIMEOUT, start_new_session=True)
        except subprocess.TimeoutExpired as expired:
            out = expired.stdout.decode("utf-8", "replace") if isinstance(expired.stdout, bytes) else expired.stdout or ""
            return Ran(-1, out + f"\n(timed out after {RUN_TIMEOUT:.0f} s)")
        return Ran(done.returncode, done.stdout + done.stderr)

    def crash_logs(self) -> str:
        return "\n".join(log.read_text("utf-8", "replace") for log in sorted(self.logs.glob("*.log")))

    def close(self) -> None:
        self.account.close()


def build(folder: Path, count: int = POSTS) -> Path:
    """The repository and its sandbox before the trial, in `folder`; each trial works on a copy."""
    folder.mkdir(parents=True, exist_ok=True)
    account = Account(folder)
    try:
        specs = post_specs(count)
        for index, spec in enumerate(specs):
            meta = front_matter(title=spec.title, cover="cover.png" if spec.kind == "cover" else None)
            body = spec.old_text or spec.text
            if spec.kind == "image":
                body += "\n\n![现场照片](photo.png)\n"
            file = write_post(account.root, body + "\n", slug=spec.slug, meta=meta)
            if spec.kind != "plain":  # images of their own: each is uploaded, none is shared
                write_image(file.parent / ("photo.png" if spec.kind == "image" else "cover.png"), size=(80 + index, 60))
        account.commit("文章")
        built = _scenario(folder, account, count)
        drafted = [spec.bundle for spec in specs if spec.old_text]
        if drafted:  # an earlier run saved them as drafts; then they were edited
            earlier = built.run("publish", "--mode", "draft", *drafted)
            if earlier.code != 0:
                raise AssertionError(f"the earlier draft run failed ({earlier.code}):\n{earlier.out}")
            for spec in specs:
                if spec.old_text:
                    file = account.root / spec.bundle / "index.md"
                    file.write_text(file.read_text("utf-8").replace(spec.old_text, spec.text), "utf-8")
            account.commit("改稿")
    finally:
        account.close()
    return folder


class _CopiedAccount(Account):
    """tests.support.Account on a copy of the repository and sandbox state `build` made, without the
    ledger clone (the branch is in the repository), as a fresh CI runner has it."""

    def __init__(self, origin: Path, tmp_path: Path) -> None:  # noqa: D107 - Account's, on a copy
        import git

        for name in ("repo", "sandbox"):
            shutil.copytree(origin / name, tmp_path / name, symlinks=True)
        self.tmp_path, self.root = tmp_path, tmp_path / "repo"
        shutil.rmtree(self.root / ".git" / "gzh")
        self.sandbox = Sandbox(tmp_path / "sandbox").start()
        self.sandbox.state.data["publish_seconds"] = 0.0
        self.repo = git.Repo(self.root)
        server, report = self.sandbox.server, self.sandbox.server.handle_error

        def quiet(request: object, client_address: object) -> None:
            if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
                report(request, client_address)  # type: ignore[arg-type]
            # else: a held answer written to a client killed meanwhile, as intended

        server.handle_error = quiet  # type: ignore[method-assign]


def scenario(origin: Path, folder: Path, count: int = POSTS) -> Scenario:
    """A fresh copy of what `build` made, with a sandbox server of its own."""
    folder.mkdir(parents=True, exist_ok=True)
    return _scenario(folder, _CopiedAccount(origin, folder), count)


def _scenario(folder: Path, account: Account, count: int) -> Scenario:
    logs, git_config = folder / "logs", folder / "gitconfig"
    logs.mkdir(exist_ok=True)
    git_config.write_text("", "utf-8")
    env = {name: value for name, value in os.environ.items()
           if not name.startswith((*ISOLATED_PREFIXES, "GIT_PYTHON_", "CRASH_TRIAL_"))}
    env.update(WECHAT_API_BASE=account.sandbox.url + "cgi-bin/", WECHAT_APPID=SANDBOX_APPID,
               WECHAT_SECRET=SANDBOX_SECRET, GZH_RUN_ID="crash-trial-1", GZH_LOG_DIR=str(logs),
               GZH_LANG="zh", NO_COLOR="1", GIT_CONFIG_GLOBAL=str(git_config), GIT_CONFIG_NOSYSTEM="1")
    return Scenario(folder, account, post_specs(count), env, logs)


# -- what the end state must be ------------------------------------------------------------------------------

@dataclass
class Verdict:
    articles: bool = False
    drafts: bool = False
    ledger: bool = False
    status: bool | None = None       # None: not looked at yet (CI looks in-process, see `status_verdict`)
    urls: dict[str, str] = field(default_factory=dict)   # post → its live article's URL
    problems: list[str] = field(default_factory=list)
    events: list[str] = field(default_factory=list)


def verify(built: Scenario, *, status: bool = True) -> Verdict:
    verdict = Verdict()
    account, root = built.account, built.account.root
    articles = [article["news_item"][0] for article in account.articles()]
    url_of = verdict.urls
    verdict.articles = len(articles) == len(built.specs)
    if not verdict.articles:
        verdict.problems.append(f"{len(articles)} live articles for {len(built.specs)} posts: "
                                + ", ".join(article["title"] for article in articles))
    for spec in built.specs:
        holding = [article for article in articles if spec.text in article["content"]]
        if len(holding) != 1 or holding[0]["title"] != spec.title:
            verdict.articles = False
            verdict.problems.append(f"{spec.bundle}: {len(holding)} live articles hold its text")
        elif spec.old_text and spec.old_text in holding[0]["content"]:
            verdict.articles = False
            verdict.problems.append(f"{spec.bundle}: its article holds the earlier draft's text")
        else:
            url_of[spec.bundle] = holding[0]["url"]
    drafts = account.drafts()
    verdict.drafts = drafts == {}
    if drafts:
        verdict.problems.append("drafts left: " + ", ".join(f"{key} ({value['news_item'][0]['title']})"
                                                             for key, value in drafts.items()))
    # A clone of its own reads the branch as pushed, not what the trial's clone may hold unpushed.
    events = Ledger(root, branch=SANDBOX_BRANCH, workdir=built.folder / f"verify-{time.monotonic_ns()}",
                    run="verify").events
    verdict.events = [_event_line(event) for event in events if event.post]
    states = fold(events)
    verdict.ledger = True
    for spec in built.specs:
        state = states.get(spec.bundle)
        version = assets.version(posts.load_post(root / spec.bundle / "index.md", root))
        if state is None or state.status != Status.PUBLISHED or state.pending or state.version != version \
                or spec.bundle not in url_of or state.url != url_of[spec.bundle]:
            verdict.ledger = False
            verdict.problems.append(f"{spec.bundle}: the ledger says {state!r}; the article is at {url_of.get(spec.bundle)}")
    recorded = {state.url for state in states.values() if state.status == Status.PUBLISHED}
    for article in articles:
        if article["url"] not in recorded:
            verdict.ledger = False
            verdict.problems.append(f"a live article the ledger does not know: {article['url']} ({article['title']})")
    if status:
        shown = built.run("status", "--sandbox")
        status_verdict(verdict, shown.code, shown.out, len(built.specs))
    return verdict


def status_verdict(verdict: Verdict, code: int, out: str, count: int) -> None:
    """What `gzh status` showed: 已发布 and the article's URL for every post, nothing interrupted."""
    lines = [line for line in out.splitlines() if line.strip()]
    verdict.status = code == 0 and len(lines) == count and len(verdict.urls) == count and all(
        line.startswith("已发布") and "中断" not in line and any(url in line for url in verdict.urls.values())
        for line in lines)
    if not verdict.status:
        verdict.problems.append(f"gzh status ({code}):\n{out}")


def _event_line(event: Event) -> str:
    keys = ("media_id", "publish_id", "article_id", "url", "recovered", "update", "reason")
    detail = " ".join(f"{key}={event.data[key]}" for key in keys if event.data.get(key) not in (None, ""))
    phase = f"/{event.phase}" if event.phase else ""
    return f"{event.id[9:21]} {event.run} {event.kind}{phase} {event.post.rsplit('/', 1)[-1]} {detail}".rstrip()


# -- the reference run -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Reference:
    """A complete run without a kill: its API calls and the ledger's git processes in order, and when
    the process was busy (the wait before the first poll left out)."""

    calls: tuple[str, ...]
    git: tuple[str, ...]
    busy: tuple[tuple[float, float], ...]
    seconds: float

    def busy_moment(self, fraction: float) -> float:
        left = fraction * sum(end - start for start, end in self.busy)
        for start, end in self.busy:
            if left <= end - start:
                return start + left
            left -= end - start
        return self.busy[-1][1]


def reference_run(origin: Path, folder: Path, count: int = POSTS) -> Reference:
    built = scenario(origin, folder, count)
    try:
        started = time.time()
        done = subprocess.run(built.command("publish"), env=built.watched_env(), capture_output=True, text=True,
                              timeout=RUN_TIMEOUT)
        seconds = time.time() - started
        verdict = verify(built, status=False)
        if done.returncode != 0 or verdict.problems:
            raise AssertionError(f"the reference run failed ({done.returncode}): {verdict.problems}\n{done.stdout}{done.stderr}")
        calls = built.account.sandbox.calls()
        times = [0.05] + [call["time"] - started for call in calls] + [seconds]
        gap = max(range(len(times) - 1), key=lambda index: times[index + 1] - times[index])
        busy = (((0.05, times[gap] + 0.3), (times[gap + 1] - 0.05, seconds)) if times[gap + 1] - times[gap] > 1.5
                else ((0.05, seconds),))
        return Reference(tuple(call["endpoint"] for call in calls), tuple(built.git_steps()), busy, seconds)
    finally:
        built.close()


# -- kill points and one trial ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class KillPoint:
    call: int = 0           # `call`: when the attempt's k-th API call was made, its answer held back
    git: float = -1.0       # `git`: this far through the reference run's ledger git processes (0 ≤ git < 1),
    jitter: float = 0.0     #        this many seconds after that one started
    step: int = 0           # `step`: right after the g-th ledger git process, or (step 0)
    step_name: str = ""     #         after the nth `git <step_name>` of the reference run (nth < 0: from the end)
    nth: int = 1
    push: int = 0           # `push`: while the p-th push holds the branch's lock in the repository
    delay: float = -1.0     # `delay`: this far through the reference run's busy time (0 ≤ delay < 1)

    @property
    def kind(self) -> str:
        if self.call:
            return "call"
        if self.step or self.step_name:
            return "step"
        if self.push:
            return "push"
        return "git" if self.git >= 0 else "delay"

    @property
    def label(self) -> str:
        return {"call": f"call-{self.call}", "git": f"git-{self.git:.3f}+{self.jitter * 1000:.1f}ms",
                "step": self._step_label(), "push": f"push-{self.push}",
                "delay": f"delay-{self.delay:.3f}"}[self.kind]

    def _step_label(self) -> str:
        if self.step:
            return f"after-git-{self.step}"
        return f"after-git-{self.step_name}" + ("" if self.nth == 1 else f"-{self.nth}" if self.nth > 0
                                                else f"-from-end-{-self.nth}")

    def git_index(self, reference: Reference) -> int:
        """Which of the ledger's git processes (1-based) a `git` or `step` kill follows."""
        if self.kind == "step":
            named = [index + 1 for index, command in enumerate(reference.git) if command == self.step_name]
            return self.step or named[self.nth - 1 if self.nth > 0 else self.nth]
        return min(len(reference.git), 1 + int(self.git * len(reference.git))) if self.kind == "git" else 0


def git_points(count: int, seed: int) -> list[KillPoint]:
    rng = random.Random(seed)
    return [KillPoint(git=round(rng.random(), 3), jitter=round(rng.uniform(0, MAX_JITTER), 4)) for _ in range(count)]


def delay_points(count: int, seed: int) -> list[KillPoint]:
    rng = random.Random(seed + 1)
    return [KillPoint(delay=round(rng.random(), 3)) for _ in range(count)]


# Where a kill landed, as read off the ledger clone and the repository: tag → (English, Chinese).
LANDINGS = {
    "no-clone": ("before the ledger clone existed", "账本副本建立之前"),
    "git": ("git's lock files left ({})", "留下 git 锁文件（{}）"),
    "rebase": ("inside a rebase", "变基中"),
    "push": ("the repository's branch left locked ({})", "仓库的账本分支留下锁文件（{}）"),
    "uncommitted": ("{} event file(s) written, not committed", "{} 个事件已写入、未提交"),
    "unpushed": ("{} commit(s) not pushed", "{} 个提交未推送"),
    "clean": ("nothing half-done in the ledger", "账本无残留"),
}


def describe(landed: tuple[tuple[str, str], ...], chinese: bool = False) -> str:
    return ("；" if chinese else "; ").join(LANDINGS[tag][1 if chinese else 0].format(detail) for tag, detail in landed)


def ledger_evidence(root: Path) -> tuple[tuple[str, str], ...]:
    """What a kill left in the ledger's git work: lock files, a rebase, events not committed or not pushed."""
    clone = root / ".git" / "gzh" / SANDBOX_BRANCH
    git_dir = clone / ".git"
    found: list[tuple[str, str]] = []
    remote_locks = sorted(path.name for path in (root / ".git" / "refs" / "heads").glob("*.lock"))
    if remote_locks:
        found.append(("push", ", ".join(remote_locks)))
    if not git_dir.exists():
        return (*found, ("no-clone", ""))
    locks = sorted(path.relative_to(git_dir).as_posix() for path in git_dir.rglob("*.lock"))
    if locks:
        found.append(("git", ", ".join(locks)))
    if (git_dir / "rebase-merge").exists() or (git_dir / "rebase-apply").exists():
        found.append(("rebase", ""))

    def git(*args: str, repository: Path | None = None) -> str:
        # The clone named outright: a half-made one must not let git find the repository around it.
        where = ["-C", str(repository)] if repository else [f"--git-dir={git_dir}", f"--work-tree={clone}"]
        return subprocess.run(["git", *where, *args], env={**os.environ, "GIT_OPTIONAL_LOCKS": "0"},
                              capture_output=True, text=True).stdout.strip()

    dirty = git("status", "--porcelain", "--untracked-files=all")
    if dirty and not locks:
        found.append(("uncommitted", str(len(dirty.splitlines()))))
    head = git("rev-parse", "--verify", "-q", "HEAD")
    pushed = git("rev-parse", "--verify", "-q", SANDBOX_BRANCH, repository=root)
    if head and head != pushed:
        ahead = git("rev-list", "--count", "HEAD", *([f"^{pushed}"] if pushed else []))
        if ahead not in ("", "0"):
            found.append(("unpushed", ahead))
    return tuple(found) or (("clean", ""),)


@dataclass
class Outcome:
    point: KillPoint
    endpoint: str                   # `call`: the call whose answer was held back
    git_steps: list[str]            # the ledger's git processes the killed attempt started
    killed: bool                    # False: the run ended before the kill point
    moment: float                   # seconds after the start
    calls_seen: list[str]           # the endpoints the killed attempt called
    landed: tuple[tuple[str, str], ...]
    codes: list[int]                # the killed run's exit code, then each re-run's
    verdict: Verdict
    writes: Counter[str]            # successful write calls over all attempts
    reference_writes: Counter[str]
    seconds: float
    root: Path = Path()
    bundles: tuple[str, ...] = ()   # the posts, in publishing order
    outputs: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def reruns(self) -> int:
        return len(self.codes) - 1

    @property
    def ok(self) -> bool:
        return not self.problems and not self.verdict.problems

    @property
    def repeated(self) -> str:
        """Writes made more often than in a complete run (a repeated upload only leaves an unused image)."""
        extra = self.writes - self.reference_writes
        return ", ".join(f"+{count} {endpoint}" for endpoint, count in sorted(extra.items())) or "—"

    @property
    def kill(self) -> str:
        if not self.killed:
            return f"not killed: the run ended by itself ({self.codes[0]}) after {len(self.calls_seen)} calls"
        steps = len(self.git_steps)
        last_git = f"git {self.git_steps[-1]}" if self.git_steps else "none"
        what = {"call": f"answer to call {self.point.call} ({self.endpoint}) held back",
                "git": f"{self.point.jitter * 1000:.1f} ms after ledger git process {steps} ({last_git}) started",
                "step": f"right after ledger git process {steps} ({last_git}) ended",
                "push": f"while push {self.point.push} held the repository's ledger branch locked",
                "delay": "a random moment"}[self.point.kind]
        last = f" (last: {self.calls_seen[-1]})" if self.calls_seen else ""
        watched = f", {steps} ledger git processes (last: {last_git})" if self.point.kind in ("git", "step") else ""
        return f"{what}; {self.moment:.2f} s after the start, {len(self.calls_seen)} calls{last}{watched}; {describe(self.landed)}"

    def report(self) -> str:
        lines = [f"kill point {self.point.label}: {self.kill}", f"exit codes: {self.codes}",
                 *self.problems, *self.verdict.problems, "ledger events (the posts', in branch order):",
                 *("  " + line for line in self.verdict.events), "outputs:"]
        lines += [f"--- run {index} ---\n{text}" for index, text in enumerate(self.outputs)]
        return "\n".join(lines)


def trial(origin: Path, folder: Path, point: KillPoint, reference: Reference, count: int = POSTS,
          reruns: int = RERUNS, status: bool = True) -> Outcome:
    """One trial in `folder`; `status=False` leaves `gzh status` to the caller (the folder stays)."""
    started = time.monotonic()
    built = scenario(origin, folder, count)
    try:
        return _trial(built, point, reference, started, reruns, status)
    finally:
        built.close()


def _trial(built: Scenario, point: KillPoint, reference: Reference, started: float, reruns: int,
           status: bool) -> Outcome:
    sandbox, root = built.account.sandbox, built.account.root
    endpoint = reference.calls[point.call - 1] if point.kind == "call" else ""
    if endpoint:
        earlier = reference.calls[:point.call - 1].count(endpoint)
        sandbox.control("faults", {"faults": ([{"endpoint": endpoint, "count": earlier}] if earlier else [])
                                   + [{"endpoint": endpoint, "count": 1, "hold": HOLD_SECONDS}]})
    hook, held = root / ".git" / "hooks" / "reference-transaction", built.folder / "push.held"
    if point.kind == "push":
        hook.write_text(PUSH_HOOK.format(branch=SANDBOX_BRANCH, count=built.folder / "push.count", target=point.push,
                                         held=held, hold=int(HOLD_SECONDS)), "utf-8")
        hook.chmod(0o755)
    # gzh's git wrapped only where the kill aims at it: the wrapper's processes cost CPU the CI budget counts
    env = built.watched_env(point.git_index(reference) if point.kind == "step" else 0) \
        if point.kind in ("git", "step") else built.env
    out_file = built.folder / "killed-run.out"
    with out_file.open("w", encoding="utf-8") as out:
        process = subprocess.Popen(built.command("publish"), env=env, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        spawned = time.monotonic()
        ended_by_itself = _wait_for_kill_point(built, process, point, reference, spawned, held)
        if not ended_by_itself:
            os.killpg(process.pid, signal.SIGKILL)
        moment = time.monotonic() - spawned
        code = process.wait()
    hook.unlink(missing_ok=True)
    seen = [call["endpoint"] for call in sandbox.calls()]
    with sandbox.server.controls.lock:  # nothing held back may reach the re-runs
        sandbox.server.controls.faults.clear()
    problems: list[str] = []
    if ended_by_itself and point.kind in ("call", "step", "push"):  # the run never got there: nothing was tested
        problems.append(f"the run ended by itself ({code}) before the kill point {point.label}")
    elif endpoint and seen[point.call - 1:] != [endpoint]:
        problems.append(f"expected {endpoint} as call {point.call} (as in the reference run), saw {seen}")
    steps = built.git_steps()
    landed = ledger_evidence(root) if not ended_by_itself else ()
    codes, outputs = [code], [out_file.read_text("utf-8", "replace")]
    for _ in range(reruns):
        ran = built.run("publish")
        codes.append(ran.code)
        outputs.append(ran.out)
        if ran.code != 1:  # 1: something to fix or wait for (WeChat still publishing …): run again
            break
    if codes[-1] != 0:
        problems.append(f"no re-run exited 0 within {reruns}: exit codes {codes}")
    if 3 in codes:
        problems.append("a run exited 3 (internal error); crash log:\n" + built.crash_logs())
    if any("Traceback" in text for text in outputs):
        problems.append("an output holds a traceback")
    verdict = verify(built, status=status)
    writes = Counter(call["endpoint"] for call in sandbox.calls() if call["errcode"] == 0 and call["endpoint"] in WRITES)
    return Outcome(point, endpoint, steps, not ended_by_itself, moment, seen, landed, codes, verdict, writes,
                   Counter(name for name in reference.calls if name in WRITES), time.monotonic() - started, root,
                   tuple(spec.bundle for spec in built.specs), outputs, problems)


def _calls_seen(sandbox: Sandbox) -> int:
    """What `sandbox.calls()` would count, without an HTTP round trip every millisecond."""
    controls = sandbox.server.controls
    with controls.lock:
        return len(controls.calls)


def _wait_for_kill_point(built: Scenario, process: subprocess.Popen[bytes], point: KillPoint, reference: Reference,
                         spawned: float, push_held: Path) -> bool:
    """Wait until the kill point; True if the process ended by itself first."""
    kind, sandbox = point.kind, built.account.sandbox
    moment = reference.busy_moment(point.delay) if kind == "delay" else 0.0
    target, fire_at = point.git_index(reference), 0.0
    step_held = Path(str(built.git_log) + ".held")
    deadline = spawned + RUN_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return True
        now = time.monotonic()
        if kind == "call" and _calls_seen(sandbox) >= point.call:
            return False
        if kind == "step" and step_held.exists() or kind == "push" and push_held.exists():
            return False
        if kind == "git" and not fire_at and len(built.git_steps()) >= target:
            fire_at = now + point.jitter
        if kind == "git" and fire_at and now >= fire_at or kind == "delay" and now - spawned >= moment:
            return False
        time.sleep(0.0005 if kind == "git" else 0.005)  # the other kill points are held until the kill
    return False


def run_trials(origin: Path, folder: Path, points: list[KillPoint], reference: Reference, count: int = POSTS,
               workers: int = CI_WORKERS, reruns: dict[KillPoint, int] | None = None,
               status: bool = True) -> list[Outcome]:
    def one(indexed: tuple[int, KillPoint]) -> Outcome:
        index, point = indexed
        return trial(origin, folder / f"trial-{index:03d}", point, reference, count,
                     (reruns or {}).get(point, RERUNS), status)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(one, enumerate(points)))


# -- the CI trial --------------------------------------------------------------------------------------------------

CALL_POINTS = [KillPoint(call=k) for k in range(1, CI_CALLS + 1)]
GIT_POINTS = git_points(CI_GIT_KILLS, CI_SEED)


# Kill points at which earlier versions failed, each a CI trial of its own since (docs/publishing.md, 崩溃演练):
DEFECT_POINTS: dict[KillPoint, str] = {
    # after the new clone's `git remote add`, before its user.name was written: no commit could be made on a
    # runner without a global git identity (the clone's settings are now written on every open)
    KillPoint(step_name="remote"): "D-crash-1",
    # while the push held the repository's branch lock: the lock stayed and was taken for contention (a stale
    # lock in a repository on this machine is now removed; one that stays is named)
    KillPoint(push=1): "D-crash-2",
    # after the commit of the last post's result, before its push: never pushed (now pushed by the next open)
    KillPoint(step_name="commit", nth=-2): "D-crash-3",
}


def _param(point: KillPoint) -> object:
    name = DEFECT_POINTS.get(point)
    return pytest.param(point, id=f"{point.label}-{name}" if name else point.label)


@pytest.fixture(scope="module")
def isolated() -> Iterator[None]:
    """Module fixtures run before the per-test isolation (conftest.py): clear the same variables."""
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith(ISOLATED_PREFIXES) and name != "GZH_LOG_DIR":
                patch.delenv(name)
        yield


@pytest.fixture(scope="module")
def origin(isolated: None, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("origin"))


@pytest.fixture(scope="module")
def reference(origin: Path, tmp_path_factory: pytest.TempPathFactory) -> Reference:
    return reference_run(origin, tmp_path_factory.mktemp("reference"))


@pytest.fixture(scope="module")
def outcomes(origin: Path, reference: Reference, request: pytest.FixtureRequest,
             tmp_path_factory: pytest.TempPathFactory) -> dict[KillPoint, Outcome]:
    """Every selected trial, CI_WORKERS at a time (the slow DEFECT_POINTS first); each test then
    looks at its own."""
    selected = [item.callspec.params["point"] for item in request.session.items
                if getattr(item, "module", None) is request.module and hasattr(item, "callspec")
                and "point" in item.callspec.params]
    selected.sort(key=lambda point: point not in DEFECT_POINTS)  # the slow ones first
    found = run_trials(origin, tmp_path_factory.mktemp("trials"), selected, reference, status=False)
    return {outcome.point: outcome for outcome in found}


def test_the_ci_kill_points_reach_every_kind_of_write(reference: Reference) -> None:
    """The first CI_CALLS calls hold every draft/add, draft/update and submit of a complete run and a
    poll; the ledger's git processes were seen (else the kills inside ledger writes aim at nothing)."""
    counted = Counter(reference.calls[:CI_CALLS])
    for endpoint in ("draft/add", "draft/update", "freepublish/submit"):
        assert counted[endpoint] == reference.calls.count(endpoint) >= 1, (endpoint, reference.calls)
    assert counted["freepublish/get"] >= 1, reference.calls
    assert {"init", "remote", "fetch", "add", "commit", "push"} <= set(reference.git), reference.git


@pytest.mark.parametrize("point", [_param(point) for point in CALL_POINTS + GIT_POINTS + list(DEFECT_POINTS)])
def test_a_killed_publish_is_finished_by_reruns_exactly_once(outcomes: dict[KillPoint, Outcome], point: KillPoint,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    outcome = outcomes[point]
    capsys.readouterr()
    code = main(["--root", str(outcome.root), "status", "--sandbox"])  # in-process: the trials' CPU is the budget
    status_verdict(outcome.verdict, code, capsys.readouterr().out, POSTS)
    assert outcome.ok, outcome.report()
    verdict = outcome.verdict
    assert verdict.articles and verdict.drafts and verdict.ledger and verdict.status, outcome.report()
    assert outcome.killed and 3 not in outcome.codes and outcome.codes[-1] == 0, outcome.report()


if __name__ == "__main__":  # one trial, to look at: python -m tests.crash_trial_test call=4 | step=2 | push=1 …
    import tempfile

    name, _, value = (sys.argv[1] if len(sys.argv) > 1 else "call=4").partition("=")
    chosen = KillPoint(**{name: (value if name == "step_name" else float(value) if "." in value else int(value))})
    folder = Path(tempfile.mkdtemp(prefix="gzh-crash-trial-"))
    made = build(folder / "origin")
    ref = reference_run(made, folder / "reference")
    print(" → ".join(ref.calls), "\n", " ".join(ref.git))
    result = trial(made, folder / "trial", chosen, ref, reruns=int(os.environ.get("RERUNS", RERUNS)))
    print(result.report(), f"\nok={result.ok} seconds={result.seconds:.1f}")
