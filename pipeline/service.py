"""The trusted service (`gzh bot serve`): the WeChat secret and the forge write token on one host the
organisation controls, never in repository Actions secrets.

It receives the forge's signed webhooks, and turns each into a job on a persistent queue: the gate
for a pull request event, publishing for a push to the default branch; patrol and inbox run on its
own schedule. One worker runs the jobs one at a time (work is serialised per repository), each as
a `gzh` subprocess in the service's own clone, with only the secrets that job needs in its
environment. A job leaves the queue only when it has finished, so a killed service redoes it on
restart; publishing is idempotent through the ledger, and the job lock below keeps a restarted
service from running beside a job the killed one left behind.

Endpoints: `POST /webhook`, `GET /healthz` (the process answers), `GET /readyz` (the clone exists,
the worker runs, not shutting down). Logs are JSON lines on stderr, with secrets redacted.
"""
from __future__ import annotations

import base64
import contextlib
import datetime as dt
import fcntl
import functools
import json
import logging
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any, Callable, Mapping

from pipeline import notify, referrals, webhooks, yamlsource
from pipeline.errors import ConfigError, GzhError, HttpServer, listening
from pipeline.forge.app import GitHubApp
from pipeline.i18n import Text
from pipeline.posts import BEIJING
from pipeline.redact import redact
from pipeline.webhooks import GATE, INBOX, PATROL, PUBLISH, SUBMIT, Job

SECRET_VARIABLES = ("GZH_WEBHOOK_SECRET", "GZH_BOT_TOKEN", "WECHAT_APPID", "WECHAT_SECRET")
MAX_BODY = 25 * 1024 * 1024             # GitHub caps webhook payloads at 25 MB
REQUEST_SECONDS = 10                     # per socket operation of one request
REMEMBERED_DELIVERIES = 20_000
JOB_TIMEOUT = 30 * 60                    # seconds; a hung job must not stop the queue for ever

_NOT_FOUND = Text("找不到服务配置文件 {path}", "Service configuration {path} not found")
_INVALID = Text("服务配置文件 {path} 有 {count} 处错误，请逐条修改后重试：", "Service configuration {path} has {count} problem(s):")
_NO_SECRET = Text("没有设置环境变量 GZH_WEBHOOK_SECRET（与平台 Webhook 设置中的密钥相同）：没有它无法验证投递，服务不启动",
                  "GZH_WEBHOOK_SECRET is not set (the secret of the forge's webhook); the service will not start without it")
_NO_TOKEN = Text("没有设置环境变量 GZH_BOT_TOKEN（服务专用账号的令牌），配置中也没有 github_app",
                 "Neither GZH_BOT_TOKEN (the service account's token) nor github_app is configured")
_JOB_NAMES = {GATE: Text("可信服务：审批门禁", "service: gate"), PUBLISH: Text("可信服务：发布", "service: publish"),
              PATROL: Text("可信服务：日常巡查", "service: patrol"), INBOX: Text("可信服务：读者留言", "service: inbox"),
              SUBMIT: Text("可信服务：提交稿件", "service: submission")}
_TIMED_OUT = Text("超过 {seconds} 秒没有结束，已停止", "did not finish within {seconds} s; stopped")
_CLONE_FAILED = Text("无法克隆或更新仓库 {url}：{error}", "Cannot clone or update {url}: {error}")


@dataclass(frozen=True)
class BotConfig:
    forge: str
    api: str
    repository: str
    clone_url: str
    default_branch: str
    state: Path
    host: str = "127.0.0.1"
    port: int = 8088
    app: tuple[int, int, Path] | None = None    # app id, installation id, private key file
    patrol_at: str | None = None                # HH:MM, Beijing time
    inbox_every_minutes: int | None = None


def load_config(path: Path) -> BotConfig:
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        raise ConfigError(_NOT_FOUND(path=path)) from None
    try:
        document = yamlsource.parse(text, str(path))
    except yamlsource.YamlSyntaxError as error:
        raise ConfigError(_problems(path, [error.problem])) from None
    problems = yamlsource.validate(document, yamlsource.load_schema("bot"))
    if problems:
        raise ConfigError(_problems(path, problems))
    data, here = document.data, path.parent
    app = data.get("github_app")
    return BotConfig(
        forge=data["forge"], api=data["api"].rstrip("/"), repository=data["repository"],
        clone_url=data["clone_url"], default_branch=data.get("default_branch", "main"),
        state=(here / data["state"]).resolve(), host=data.get("listen", {}).get("host", "127.0.0.1"),
        port=data.get("listen", {}).get("port", 8088),
        app=(app["app_id"], app["installation_id"], (here / app["private_key_file"]).resolve()) if app else None,
        patrol_at=data.get("schedule", {}).get("patrol_at"),
        inbox_every_minutes=data.get("schedule", {}).get("inbox_every_minutes"))


def _problems(path: Path, problems: list[yamlsource.Problem]) -> str:
    lines = [_INVALID(path=path, count=len(problems))]
    lines += [f"  {problem.location}: {problem.key_path + '：' if problem.key_path else ''}{problem.message}"
              for problem in problems]
    return "\n".join(lines)


# -- state on disk ---------------------------------------------------------------------------------


class JobQueue:
    """Jobs waiting or running, one JSON file each, in arrival order. A twin of a waiting job is
    absorbed (ten review events in a row need one gate run); a job is removed only when done."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.changed = threading.Condition()
        self._sequence = max((int(path.stem.split("-")[0]) for path in folder.glob("*.json")), default=0)
        self.resume()

    def put(self, job: Job) -> bool:
        with self.changed:
            if any(queued == job for _, queued in self._waiting()):
                return False
            self._sequence += 1
            temporary = self.folder / f".{self._sequence}.tmp"
            temporary.write_text(json.dumps(job.to_json()), "utf-8")
            os.replace(temporary, self.folder / f"{self._sequence:08d}-{job.key.replace(':', '-')}.json")
            self.changed.notify_all()
            return True

    def take(self) -> tuple[Path, Job] | None:
        """The oldest waiting job, marked running: an event arriving now queues a new job after it,
        instead of merging into work that has already read the pull request."""
        with self.changed:
            waiting = self._waiting()
            if not waiting:
                return None
            path, job = waiting[0]
            running = path.with_suffix(".running")
            path.rename(running)
            return running, job

    def done(self, path: Path) -> None:
        with self.changed:
            path.unlink(missing_ok=True)

    def resume(self) -> None:
        """After a restart, a job that was running when the service died waits again, first in line."""
        for path in self.folder.glob("*.running"):
            path.rename(path.with_suffix(".json"))

    def pending(self) -> list[Job]:
        with self.changed:
            return [job for _, job in self._waiting()]

    def _waiting(self) -> list[tuple[Path, Job]]:
        jobs = []
        for path in sorted(self.folder.glob("*.json")):
            try:
                jobs.append((path, Job.from_json(json.loads(path.read_text("utf-8")))))
            except FileNotFoundError:
                continue
            except (OSError, ValueError, KeyError, TypeError):
                with contextlib.suppress(OSError):
                    path.rename(path.with_suffix(".broken"))  # kept for a person to look at; never looped on
        return jobs


class Deliveries:
    """Delivery ids already taken, so a redelivered or replayed webhook does nothing twice."""

    def __init__(self, file: Path) -> None:
        self.file = file
        self.lock = threading.Lock()
        lines = file.read_text("utf-8").split() if file.exists() else []
        self.ids = set(lines[-REMEMBERED_DELIVERIES:])

    def seen(self, delivery: str) -> bool:
        with self.lock:
            return delivery in self.ids

    def remember(self, delivery: str) -> None:
        with self.lock:
            if delivery not in self.ids:
                self.ids.add(delivery)
                with self.file.open("a", encoding="utf-8") as handle:
                    handle.write(delivery + "\n")


# -- the service -----------------------------------------------------------------------------------


class BotService:
    def __init__(self, config: BotConfig, environ: Mapping[str, str] | None = None,
                 clock: Callable[[], dt.datetime] | None = None) -> None:
        self.config = config
        self.environ = dict(os.environ if environ is None else environ)
        self.secret = self.environ.get("GZH_WEBHOOK_SECRET", "")
        if not self.secret:
            raise ConfigError(_NO_SECRET())
        if config.app is None and not self.environ.get("GZH_BOT_TOKEN"):
            raise ConfigError(_NO_TOKEN())
        self.app = GitHubApp.from_key_file(*config.app) if config.app else None
        self.clock = clock or (lambda: dt.datetime.now(BEIJING))
        config.state.mkdir(parents=True, exist_ok=True)
        self.clone = config.state / "repo"
        self.queue = JobQueue(config.state / "queue")
        self.deliveries = Deliveries(config.state / "deliveries.txt")
        self.log = _logger()
        self.stopping = threading.Event()
        self.server = listening(lambda: HttpServer((config.host, config.port), _handler(self)), config.host, config.port)
        self.threads = [threading.Thread(target=self.server.serve_forever, name="http", daemon=True),
                        threading.Thread(target=self._work, name="worker", daemon=True),
                        threading.Thread(target=self._schedule, name="schedule", daemon=True)]
        self.running: Job | None = None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/"

    def start(self) -> "BotService":
        for thread in self.threads:
            thread.start()
        self.log.info("服务已启动", extra={"fields": {"url": self.url, "waiting": [job.key for job in self.queue.pending()]}})
        return self

    def stop(self, timeout: float = JOB_TIMEOUT) -> None:
        """Stop taking deliveries, let the running job finish (a publish is never cut in half), exit."""
        self.stopping.set()
        with self.queue.changed:
            self.queue.changed.notify_all()
        self.server.shutdown()
        self.server.server_close()
        self.threads[1].join(timeout)
        self.log.info("服务已停止", extra={"fields": {"waiting": [job.key for job in self.queue.pending()]}})

    def ready(self) -> bool:
        return (not self.stopping.is_set()) and self.threads[1].is_alive() and (self.clone / ".git").is_dir()

    # -- deliveries --------------------------------------------------------------------------------

    def receive(self, headers: Mapping[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        if self.stopping.is_set():
            return 503, {"result": "stopping"}
        if not webhooks.verified(self.config.forge, self.secret, headers, body):
            self.log.warning("签名不对，拒绝", extra={"fields": {"delivery": webhooks.delivery_id(self.config.forge, headers)}})
            return 401, {"result": "bad signature"}
        try:
            delivery = webhooks.read(self.config.forge, headers, body, self.config.default_branch)
        except (ValueError, UnicodeDecodeError):
            return 400, {"result": "bad payload"}
        if not delivery.id:
            return 400, {"result": "no delivery id"}
        if delivery.repository and delivery.repository.lower() != self.config.repository.lower():
            self.log.warning("其他仓库的投递，忽略", extra={"fields": {"delivery": delivery.id, "repository": delivery.repository}})
            return 200, {"result": "ignored", "repository": delivery.repository}
        if self.deliveries.seen(delivery.id):
            self.log.info("重复投递，忽略", extra={"fields": {"delivery": delivery.id}})
            return 200, {"result": "duplicate"}
        if delivery.job is None:
            self.deliveries.remember(delivery.id)
            return 200, {"result": "ignored", "event": delivery.event}
        if delivery.said is not None and delivery.job.kind == GATE and referrals.carries_command(delivery.said.body):
            referrals.record_received(self.config.state / "comments", delivery.job.pr or 0, delivery.said)
        queued = self.queue.put(delivery.job)
        self.deliveries.remember(delivery.id)  # only once the job is safely on disk
        self.log.info("收到投递", extra={"fields": {"delivery": delivery.id, "event": delivery.event,
                                                   "job": delivery.job.key, "queued": queued}})
        return 202, {"result": "queued" if queued else "merged", "job": delivery.job.key}

    # -- the worker --------------------------------------------------------------------------------

    def _work(self) -> None:
        while not self.stopping.is_set():
            with self.queue.changed:
                item = self.queue.take()
                if item is None:
                    self.queue.changed.wait(timeout=5)
                    continue
            path, job = item
            self.running = job
            try:
                self.run(job)
            except GzhError as error:
                self.log.error("任务失败", extra={"fields": {"job": job.key, "error": redact(str(error))}})
            except Exception as error:  # noqa: BLE001 - the worker must outlive any one job
                self.log.error("任务出错", extra={"fields": {"job": job.key, "error": redact(repr(error))[:500]}})
            finally:
                self.running = None
            self.queue.done(path)

    def run(self, job: Job) -> int:
        """One job, under the job lock: a job left running by a killed service finishes first."""
        started = time.monotonic()
        with (self.config.state / "job.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            token = self._forge_token()
            self._sync(job, token)
            outputs = self.config.state / "job-output.txt"
            outputs.write_text("", "utf-8")
            env = {**self._job_environment(job, token), "GITHUB_OUTPUT": str(outputs)}
            result = self._gzh(_arguments(job), env, lock)
            if result.returncode != 0 and "filed=true" not in outputs.read_text("utf-8"):
                self._gzh(["alert-failure", "--workflow", _JOB_NAMES[job.kind](), "--run-url", ""], env, lock)
        self.log.info("任务完成", extra={"fields": {
            "job": job.key, "exit": result.returncode, "seconds": round(time.monotonic() - started, 2),
            "output": redact(result.stdout[-2000:]), "errors": redact(result.stderr[-2000:])}})
        return result.returncode

    def _gzh(self, arguments: list[str], env: dict[str, str], lock: Any) -> subprocess.CompletedProcess[str]:
        # -I: neither the working folder nor PYTHONPATH is searched, so no file of the clone can be imported
        command = [sys.executable, "-I", "-m", "pipeline", "--root", str(self.clone), *arguments]
        try:
            return subprocess.run(command, cwd=self.config.state, env=env, capture_output=True, text=True,
                                  timeout=JOB_TIMEOUT, pass_fds=(lock.fileno(),))
        except subprocess.TimeoutExpired:  # a hung job is a failed job (and alerted), never a dead worker
            return subprocess.CompletedProcess(command, 124, "", _TIMED_OUT(seconds=JOB_TIMEOUT))

    @functools.cached_property
    def _app_login(self) -> str:
        """The App's "<slug>[bot]", asked once: it does not change while the service runs."""
        assert self.app is not None
        return self.app.login(self.config.api)

    def _forge_token(self) -> str:
        if self.app is not None:
            return self.app.installation_token(self.config.api)
        return self.environ["GZH_BOT_TOKEN"]

    def _job_environment(self, job: Job, token: str) -> dict[str, str]:
        """Only what the job needs: the forge token always, the WeChat credentials only where WeChat is called."""
        keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "GZH_LANG", "NO_COLOR", "GZH_CHROMIUM")
        env = {name: self.environ[name] for name in keep if name in self.environ}
        env.update(GITHUB_REPOSITORY=self.config.repository, GZH_FORGE=self.config.forge,
                   GZH_FORGE_API=self.config.api, GZH_FORGE_TOKEN=token, GZH_LEDGER_REMOTE="origin")
        env[referrals.RECEIVED_ENV] = str(self.config.state / "comments")
        env.update(_git_auth(self.config.clone_url, token))
        # every job may tell people in their groups (the gate: a waiting approval); the robots' keys only
        env.update({name: value for name, value in self.environ.items() if name in notify.ROBOT_VARIABLES})
        if self.app is not None:  # an installation token cannot ask who it is
            env["GZH_BOT_LOGIN"] = self._app_login
        if job.kind in (PUBLISH, PATROL, INBOX):
            for name in ("WECHAT_APPID", "WECHAT_SECRET", "WECHAT_API_BASE"):
                if self.environ.get(name):
                    env[name] = self.environ[name]
        return env

    def _sync(self, job: Job, token: str) -> None:
        """The clone at the tip of the default branch; for the gate, the pull request's head fetched too."""
        auth = _git_auth(self.config.clone_url, token)
        env = {**{name: self.environ[name] for name in ("PATH", "HOME") if name in self.environ}, **auth}
        if not (self.clone / ".git").is_dir():
            self._git(["clone", "--quiet", self.config.clone_url, str(self.clone)], env, cwd=self.config.state)
            self._git(["config", "user.name", "gzh-bot"], env)
            self._git(["config", "user.email", "gzh-bot@localhost"], env)
        refs = ["+refs/heads/*:refs/remotes/origin/*"]
        if job.kind == GATE and job.pr is not None:
            refs.append(f"+refs/pull/{job.pr}/head:refs/remotes/pull/{job.pr}/head")
        self._git(["fetch", "--quiet", "--prune", "origin", *refs], env, optional=job.kind == GATE)
        self._git(["checkout", "--quiet", "--force", "--detach", f"origin/{self.config.default_branch}"], env)
        self._git(["clean", "--quiet", "-ffdx"], env)

    def _git(self, arguments: list[str], env: dict[str, str], *, cwd: Path | None = None, optional: bool = False) -> None:
        try:
            result = subprocess.run(["git", *arguments], cwd=cwd or self.clone, env=env, capture_output=True,
                                    text=True, timeout=600)
        except subprocess.TimeoutExpired:
            raise GzhError(_CLONE_FAILED(url=self.config.clone_url, error=_TIMED_OUT(seconds=600))) from None
        if result.returncode != 0 and not optional:
            raise GzhError(_CLONE_FAILED(url=self.config.clone_url, error=redact(result.stderr.strip()[-300:])))

    # -- the schedule ------------------------------------------------------------------------------

    def _schedule(self) -> None:
        while not self.stopping.wait(timeout=20):
            for job in self.due():
                self.queue.put(job)

    def due(self) -> list[Job]:
        """Scheduled jobs whose time has come, remembered in the state folder across restarts."""
        file = self.config.state / "schedule.json"
        last = json.loads(file.read_text("utf-8")) if file.exists() else {}
        now = self.clock()
        jobs = []
        if self.config.patrol_at and now.strftime("%H:%M") >= self.config.patrol_at and last.get(PATROL) != now.date().isoformat():
            jobs.append(Job(PATROL))
            last[PATROL] = now.date().isoformat()
        every = self.config.inbox_every_minutes
        if every and now.timestamp() - float(last.get(INBOX, 0)) >= every * 60:
            jobs.append(Job(INBOX))
            last[INBOX] = now.timestamp()
        if jobs:
            file.write_text(json.dumps(last), "utf-8")
        return jobs


def _arguments(job: Job) -> list[str]:
    if job.kind == GATE:
        return ["gate", "--pr", str(job.pr), "--pictures"]
    if job.kind == SUBMIT:
        return ["submit", "--issue", str(job.pr), *(["--editor", job.editor] if job.editor else [])]
    if job.kind == PUBLISH:
        return ["publish", "--issue-on-failure"]
    return [job.kind]


def _git_auth(clone_url: str, token: str) -> dict[str, str]:
    """The token as an HTTP header for git, through the environment: nothing is written to the clone's config."""
    if not clone_url.startswith(("https://", "http://")) or not token:
        return {}
    basic = base64.b64encode(f"x-access-token:{token}".encode("utf-8")).decode("ascii")
    return {"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "http.extraHeader",
            "GIT_CONFIG_VALUE_0": f"Authorization: Basic {basic}", "GIT_TERMINAL_PROMPT": "0"}


# -- HTTP and logs ---------------------------------------------------------------------------------


def _handler(service: BotService) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the stdlib's name
            return

        def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
            if self.path == "/healthz":
                return self._send(200, {"status": "ok"})
            if self.path == "/readyz":
                ready = service.ready()
                return self._send(200 if ready else 503, {"ready": ready, "waiting": len(service.queue.pending()),
                                                          "running": service.running.key if service.running else None})
            self._send(404, {"result": "not found"})

        timeout = REQUEST_SECONDS  # a client that sends a partial body and waits is cut off

        def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
            if self.path != "/webhook":
                return self._send(404, {"result": "not found"})
            declared = self.headers.get("Content-Length", "")
            if not declared.isdigit():  # missing, negative or not a number: never read "until the end"
                return self._send(411, {"result": "length required"})
            if int(declared) > MAX_BODY:
                return self._send(413, {"result": "too large"})
            body = self.rfile.read(int(declared))
            status, answer = service.receive(dict(self.headers.items()), body)
            self._send(status, answer)

        def _send(self, status: int, payload: dict[str, Any]) -> None:
            body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


class _JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": dt.datetime.fromtimestamp(record.created, BEIJING).isoformat(timespec="seconds"),
                 "level": record.levelname.lower(), "message": record.getMessage(), **getattr(record, "fields", {})}
        return redact(json.dumps(entry, ensure_ascii=False))


def _logger() -> logging.Logger:
    log = logging.getLogger("gzh.bot")
    if not log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(_JsonLines())
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False
    return log
