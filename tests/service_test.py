"""The trusted service end to end on both forge fakes: signed webhooks in, gate and publish out.

The WeChat secret and the forge token live only in the service's environment; no workflow runs.
A department opens a pull request, the tiers review, a head comments /保密复审, the secrecy office
approves, the pull request is merged and the push publishes the article.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any, Iterator

import pytest

from pipeline.sandbox import SANDBOX_APPID, SANDBOX_SECRET
from pipeline.service import BotService, load_config
from pipeline.webhooks import GATE, INBOX, PUBLISH, Job
from tests.forge_fake import TOKEN
from tests.support import PullScenario, Rehearsal

SECRET = "webhook-secret-for-tests"
REVIEW_EVENT = {"github": "pull_request_review", "gitea": "pull_request_review_approved"}


def write_config(rehearsal: Rehearsal, **extra: Any) -> Path:
    config = {"forge": rehearsal.flavour, "api": rehearsal.forge.api, "repository": rehearsal.forge.repository,
              "clone_url": str(rehearsal.remote), "state": "bot-state", "listen": {"host": "127.0.0.1", "port": 0},
              **extra}
    path = rehearsal.tmp / "gzh-bot.yml"
    path.write_text(json.dumps(config, ensure_ascii=False), "utf-8")  # JSON is YAML
    return path


def service_environment(rehearsal: Rehearsal) -> dict[str, str]:
    return {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), "GZH_WEBHOOK_SECRET": SECRET,
            "GZH_BOT_TOKEN": TOKEN, "WECHAT_APPID": SANDBOX_APPID, "WECHAT_SECRET": SANDBOX_SECRET,
            "WECHAT_API_BASE": rehearsal.sandbox.url + "cgi-bin/", "GZH_LANG": "zh"}


@pytest.fixture(params=["github", "gitea"])
def rehearsal(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Rehearsal]:
    rehearsal = Rehearsal(tmp_path, request.param)
    yield rehearsal
    rehearsal.close()


@pytest.fixture
def service(rehearsal: Rehearsal) -> Iterator[BotService]:
    service = BotService(load_config(write_config(rehearsal)), service_environment(rehearsal)).start()
    yield service
    service.stop()


def idle(service: BotService, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while service.queue.pending() or service.running is not None:
        assert time.monotonic() < deadline, "the service did not finish its jobs"
        time.sleep(0.05)


def test_pull_request_to_published_article_through_the_service(rehearsal: Rehearsal, service: BotService) -> None:
    forge, url = rehearsal.forge, service.url + "webhook"
    head = rehearsal.open_pull_request()
    assert forge.deliver(url, SECRET, "pull_request", forge.event_payload(1, "opened"))[0] == 202
    idle(service)
    assert forge.status(head)["state"] == "pending"

    for user in PullScenario.APPROVERS.values():
        review = forge.review(1, user, "APPROVED")
        forge.deliver(url, SECRET, REVIEW_EVENT[rehearsal.flavour], forge.event_payload(1, "submitted", review=review))
    comment = forge.comment(1, "li-na", "涉及会议安排，/保密复审")
    assert forge.deliver(url, SECRET, "issue_comment", forge.comment_payload(1, comment))[0] == 202
    idle(service)
    status = forge.status(head)
    assert status["state"] == "pending" and status["description"] == "待审批：还差 保密委员会办公室复审"
    assert forge.pulls[1].labels == ["需保密办复审"]  # the service recorded the referral as a label

    review = forge.review(1, "wu-fang", "APPROVED")
    forge.deliver(url, SECRET, REVIEW_EVENT[rehearsal.flavour], forge.event_payload(1, "submitted", review=review))
    idle(service)
    assert forge.status(head)["state"] == "success"

    merged = rehearsal.merge()
    push = {"ref": "refs/heads/main", "after": merged, "repository": {"full_name": forge.repository}}
    assert forge.deliver(url, SECRET, "push", push, delivery="push-1")[0] == 202
    idle(service)
    live = [a for a in rehearsal.sandbox.state.data["articles"].values() if a["status"] == 0]
    assert [article["news_item"][0]["title"] for article in live] == ["市总工会召开全委会议"]

    # The same delivery again (a redelivery, or a replay by someone who captured it) does nothing.
    assert forge.deliver(url, SECRET, "push", push, delivery="push-1") == (200, {"result": "duplicate"})
    assert service.queue.pending() == []


def test_forged_and_unsigned_deliveries_are_refused(rehearsal: Rehearsal, service: BotService) -> None:
    forge, url = rehearsal.forge, service.url + "webhook"
    rehearsal.open_pull_request()
    payload = forge.event_payload(1, "opened")
    assert forge.deliver(url, "a-guessed-secret", "pull_request", payload)[0] == 401
    assert forge.deliver(url, SECRET, "pull_request", payload, signature="")[0] == 401
    assert service.queue.pending() == [] and forge.statuses == {}


def test_the_gate_job_never_sees_the_wechat_secret(rehearsal: Rehearsal, service: BotService) -> None:
    gate, publish = service._job_environment(Job(GATE, 1), "t"), service._job_environment(Job(PUBLISH), "t")
    assert "WECHAT_SECRET" not in gate and "GZH_WEBHOOK_SECRET" not in gate and gate["GZH_FORGE_TOKEN"] == "t"
    assert publish["WECHAT_SECRET"] == SANDBOX_SECRET and "GZH_WEBHOOK_SECRET" not in publish


def test_every_job_gets_the_group_robots_keys_and_nothing_else_of_the_hosts(rehearsal: Rehearsal, service: BotService) -> None:
    service.environ = {**service.environ, "GZH_NOTIFY_1": "key", "GZH_NOTIFY_3_SIGN": "SEC", "GZH_OTHER_SECRET": "x"}
    for kind in (GATE, PUBLISH):
        env = service._job_environment(Job(kind, 1 if kind == GATE else None), "t")
        assert env["GZH_NOTIFY_1"] == "key" and env["GZH_NOTIFY_3_SIGN"] == "SEC" and "GZH_OTHER_SECRET" not in env


def test_health_and_readiness(rehearsal: Rehearsal, service: BotService) -> None:
    with urllib.request.urlopen(service.url + "healthz", timeout=10) as response:
        assert json.loads(response.read()) == {"status": "ok"}
    rehearsal.open_pull_request()
    rehearsal.forge.deliver(service.url + "webhook", SECRET, "pull_request", rehearsal.forge.event_payload(1, "opened"))
    idle(service)
    with urllib.request.urlopen(service.url + "readyz", timeout=10) as response:
        assert json.loads(response.read())["ready"] is True


def test_a_killed_service_publishes_nothing_twice_after_a_restart(rehearsal: Rehearsal) -> None:
    if rehearsal.flavour == "gitea":
        pytest.skip("the same publishing path on both forges; once is enough for a process-level trial")
    rehearsal.open_pull_request()
    for user in PullScenario.APPROVERS.values():
        rehearsal.forge.review(1, user, "APPROVED")
    rehearsal.merge()
    port = _free_port()
    config = write_config(rehearsal, listen={"host": "127.0.0.1", "port": port})
    env = {**service_environment(rehearsal), "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    rehearsal.sandbox.control("faults", {"faults": [{"endpoint": "freepublish/submit", "hold": 3.0}]})
    first = _start(config, env, port)
    url = f"http://127.0.0.1:{port}/webhook"
    push = {"ref": "refs/heads/main", "repository": {"full_name": rehearsal.forge.repository}}
    assert rehearsal.forge.deliver(url, SECRET, "push", push)[0] == 202
    _wait(lambda: rehearsal.sandbox.calls("freepublish/submit"), 120)
    first.send_signal(signal.SIGKILL)  # in the middle of publishing: submitted, answer held back
    first.wait(10)
    second = _start(config, env, port)
    try:
        _wait(lambda: not list((rehearsal.tmp / "bot-state" / "queue").glob("*.json")), 180)
    finally:
        second.send_signal(signal.SIGTERM)
        assert second.wait(60) == 0
    live = [a for a in rehearsal.sandbox.state.data["articles"].values() if a["status"] == 0]
    assert len(live) == 1
    assert len([call for call in rehearsal.sandbox.calls("freepublish/submit") if call["errcode"] == 0]) == 1


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _start(config: Path, env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen([sys.executable, "-m", "pipeline", "bot", "serve", "--config", str(config)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait(lambda: _answers(f"http://127.0.0.1:{port}/healthz"), 30)
    return process


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except OSError:
        return False


def _wait(condition: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_github_app_mode_mints_a_token_for_each_job(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    rehearsal = Rehearsal(tmp_path, "github")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    (tmp_path / "app.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                         serialization.NoEncryption()))
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    rehearsal.forge.app = (4242, 77, public.decode("ascii"))
    app = {"app_id": 4242, "installation_id": 77, "private_key_file": "app.pem"}
    environment = {name: value for name, value in service_environment(rehearsal).items() if name != "GZH_BOT_TOKEN"}
    service = BotService(load_config(write_config(rehearsal, github_app=app)), environment).start()
    try:
        head = rehearsal.open_pull_request()
        rehearsal.forge.deliver(service.url + "webhook", SECRET, "pull_request", rehearsal.forge.event_payload(1, "opened"))
        idle(service)
        assert rehearsal.forge.status(head)["state"] == "pending"
        assert rehearsal.forge.status_tokens and all(token.startswith("ghs_") for token in rehearsal.forge.status_tokens)
    finally:
        service.stop()
        rehearsal.close()


def test_a_configuration_mistake_is_reported_at_its_line(tmp_path: Path) -> None:
    from pipeline.errors import ConfigError

    config = tmp_path / "gzh-bot.yml"
    config.write_text("forge: gitee\napi: https://git.example.org/api/v1\nrepository: yzzgh/gzh\n"
                      "clone_url: https://git.example.org/yzzgh/gzh.git\nstate: /var/lib/gzh-bot\n", "utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(config)
    assert f"{config}:1:8: forge：" in str(caught.value) and "github 或 gitea" in str(caught.value)


def test_the_service_refuses_to_start_without_a_webhook_secret(rehearsal: Rehearsal) -> None:
    from pipeline.errors import ConfigError

    environment = {name: value for name, value in service_environment(rehearsal).items() if name != "GZH_WEBHOOK_SECRET"}
    with pytest.raises(ConfigError, match="GZH_WEBHOOK_SECRET"):
        BotService(load_config(write_config(rehearsal)), environment)


def test_patrol_and_inbox_run_on_the_services_schedule(rehearsal: Rehearsal) -> None:
    import datetime as dt

    from pipeline.posts import BEIJING
    from pipeline.webhooks import INBOX, PATROL

    now = [dt.datetime(2026, 11, 30, 8, 0, tzinfo=BEIJING)]
    config = load_config(write_config(rehearsal, schedule={"patrol_at": "08:30", "inbox_every_minutes": 120}))
    first = BotService(config, service_environment(rehearsal), clock=lambda: now[0])
    assert first.due() == [Job(INBOX)]
    now[0] = now[0].replace(minute=31)
    assert first.due() == [Job(PATROL)]
    now[0] = now[0].replace(hour=10, minute=0)
    assert first.due() == [Job(INBOX)]
    first.server.server_close()
    again = BotService(config, service_environment(rehearsal), clock=lambda: now[0])  # a restart remembers
    assert again.due() == []
    now[0] = dt.datetime(2026, 12, 1, 8, 30, tzinfo=BEIJING)
    assert again.due() == [Job(PATROL), Job(INBOX)]
    again.server.server_close()


def test_stopping_lets_the_running_publish_finish(rehearsal: Rehearsal, service: BotService) -> None:
    rehearsal.open_pull_request()
    for user in PullScenario.APPROVERS.values():
        rehearsal.forge.review(1, user, "APPROVED")
    rehearsal.merge()
    rehearsal.sandbox.control("faults", {"faults": [{"endpoint": "freepublish/submit", "hold": 2.0}]})
    push = {"ref": "refs/heads/main", "repository": {"full_name": rehearsal.forge.repository}}
    rehearsal.forge.deliver(service.url + "webhook", SECRET, "push", push)
    _wait(lambda: rehearsal.sandbox.calls("freepublish/submit"), 120)
    service.stop()  # SIGTERM does this: no new deliveries, the running job finishes
    assert service.queue.pending() == []
    assert len([a for a in rehearsal.sandbox.state.data["articles"].values() if a["status"] == 0]) == 1


def test_the_shipped_example_configuration_loads() -> None:
    from tests.support import PROJECT

    config = load_config(PROJECT / "deploy" / "gzh-bot.example.yml")
    assert (config.forge, config.port, config.patrol_at, config.app) == ("gitea", 8088, "08:30", None)
    unit = (PROJECT / "deploy" / "gzh-bot.service").read_text("utf-8")
    assert "KillSignal=SIGTERM" in unit and "EnvironmentFile=" in unit  # graceful stop, secrets outside the config


# -- second red-team round ----------------------------------------------------------------------------------


def test_an_event_during_a_running_job_queues_another_run(tmp_path: Path) -> None:
    from pipeline.service import JobQueue

    queue = JobQueue(tmp_path / "queue")
    assert queue.put(Job(GATE, 1)) and not queue.put(Job(GATE, 1))  # a waiting twin absorbs it
    running = queue.take()
    assert running is not None and queue.put(Job(GATE, 1))  # but the running one has read the PR already
    restarted = JobQueue(tmp_path / "queue")  # a killed service: the running job waits again, first
    assert restarted.pending() == [Job(GATE, 1), Job(GATE, 1)]


@pytest.mark.parametrize(("headers", "status"), [
    ({"Content-Length": "-1"}, 411), ({"Content-Length": "abc"}, 411), ({}, 411),
    ({"Content-Length": "2", "X-Hub-Signature-256": "sha256=\u00e9\u00e9"}, 401),
])
def test_malformed_requests_get_an_answer_not_a_crash(rehearsal: Rehearsal, service: BotService,
                                                       headers: dict[str, str], status: int) -> None:
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", service.server.server_address[1], timeout=10)
    connection.putrequest("POST", "/webhook", skip_accept_encoding=True)
    for name, value in headers.items():
        connection.putheader(name, value.encode("utf-8"))
    connection.endheaders(b"{}" if headers.get("Content-Length") == "2" else None)
    assert connection.getresponse().status == status
    assert service.ready() or not (service.config.state / "repo").exists()  # still serving


def test_a_delivery_for_another_repository_is_ignored(rehearsal: Rehearsal, service: BotService) -> None:
    payload = {"ref": "refs/heads/main", "repository": {"full_name": "someone/else"}}
    status, answer = rehearsal.forge.deliver(service.url + "webhook", SECRET, "push", payload)
    assert (status, answer["result"]) == (200, "ignored") and service.queue.pending() == []


def test_a_hung_job_is_a_failure_not_a_dead_worker(rehearsal: Rehearsal, service: BotService,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import subprocess

    def hang(*args: Any, **kwargs: Any) -> None:
        raise subprocess.TimeoutExpired(args[0], 1)

    monkeypatch.setattr(subprocess, "run", hang)
    with (service.config.state / "job.lock").open("w") as lock:
        result = service._gzh(["gate", "--pr", "1"], {}, lock)
    assert result.returncode == 124 and "没有结束" in result.stderr


def test_a_referral_deleted_before_any_gate_ran_still_stands(rehearsal: Rehearsal) -> None:
    """The service keeps each command comment as the signed webhook carried it: deleting it later changes nothing."""
    service = BotService(load_config(write_config(rehearsal)), service_environment(rehearsal))
    forge = rehearsal.forge
    head = rehearsal.open_pull_request()
    for user in PullScenario.APPROVERS.values():
        forge.review(1, user, "APPROVED")
    comment = forge.comment(1, "li-na", "/保密复审")
    assert service.receive(*_signed(forge, "issue_comment", forge.comment_payload(1, comment)))[0] == 202
    forge.delete_comment(comment["id"])  # before the worker has even started
    service.start()
    try:
        idle(service)
        assert forge.status(head)["description"] == "待审批：还差 保密委员会办公室复审"
    finally:
        service.stop()


def test_a_command_on_an_inbox_issue_queues_the_inbox_job_once(rehearsal: Rehearsal) -> None:
    """A department's /答复 on its issue is answered within a minute: the webhook queues the inbox job (which
    reads the comment from the forge and checks its author); twins while it waits are absorbed, chatter is ignored."""
    service = BotService(load_config(write_config(rehearsal)), service_environment(rehearsal))
    forge = rehearsal.forge
    issue = forge.open_issue("gzh-bot", "【留言】办公室：1 条读者留言待答复", "……")

    def said(body: str) -> dict[str, Any]:
        comment = {"id": len(body), "user": {"login": "li-na"}, "body": body, "created_at": "2026-11-28T10:00:00Z"}
        payload = {"action": "created", "issue": {"number": issue["number"], "pull_request": None}, "comment": comment,
                   "repository": {"full_name": forge.repository}, "sender": comment["user"]}
        return service.receive(*_signed(forge, "issue_comment", payload))[1]

    assert said("/答复 1 您好，报名表在官网下载。")["result"] == "queued"
    assert said("／已处理 2 已电话答复")["result"] == "merged" and said("谢谢")["result"] == "ignored"
    assert service.queue.pending() == [Job(INBOX)]


def _signed(forge: Any, event: str, payload: dict[str, Any]) -> tuple[dict[str, str], bytes]:
    from pipeline.webhooks import sign

    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    delivery = f"direct-{event}-{len(body)}"
    if forge.flavour == "gitea":
        return {"X-Gitea-Delivery": delivery, "X-Gitea-Event": event, "X-Gitea-Signature": sign(SECRET, body)}, body
    return {"X-GitHub-Delivery": delivery, "X-GitHub-Event": event, "X-Hub-Signature-256": "sha256=" + sign(SECRET, body)}, body
