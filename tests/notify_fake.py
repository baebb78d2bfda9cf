"""Loopback fakes of the WeCom group robot and the DingTalk custom robot (what pipeline/notify.py
models of them, in its docstring): each robot's key or token checked, DingTalk's 加签 and its one-hour
timestamp window, the byte limits, 20 messages a minute per robot (DingTalk then throttles for ten
minutes), the errcodes; every accepted message kept for assertions. Also what the notification tests
share: the robots of a policy with notifications, and a fixture that wires both into the environment."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import parse_qs, urlsplit

import pytest

from pipeline.errors import HttpServer
from tests.support import POLICY_TEXT

WECOM_PATH, DINGTALK_PATH = "/cgi-bin/webhook/send", "/robot/send"
PER_MINUTE = 20
THROTTLE_SECONDS = 600            # DingTalk: once over the limit, refused for ten minutes
WINDOW_MS = 3600 * 1000           # DingTalk: the timestamp within an hour of its clock
WECOM_LIMIT, DINGTALK_LIMIT = 4096, 20000
WECOM_RATE, DINGTALK_RATE = 45009, 130101
# A message over the byte limit: WeCom answers 40058 (invalid parameter); DingTalk's number is not
# documented, so the fake uses one no client treats specially.
TOO_LONG = 40058

# Robots shaped like the real ones' keys (gzh doctor checks the shapes).
OFFICE_KEY = "693a91f6-7c2e-4bc4-97a0-0ec2a1f5aaaa"
RIGHTS_KEY = "2b1c0d9e-8f7a-4b6c-9d5e-4f3a2b1c0d9e"
LEADERS_TOKEN = "b955" + "3c1f" * 15
LEADERS_SECRET = "SEC" + "f094e0d33f" * 6 + "abcd"

NOTIFICATIONS = """
notifications:
  channels:
    office-group: {service: wecom, key: GZH_NOTIFY_1}
    rights-group: {service: wecom, key: GZH_NOTIFY_2}
    leaders: {service: dingtalk, key: GZH_NOTIFY_3, sign: GZH_NOTIFY_3_SIGN}
  departments:
    office: office-group
    rights: rights-group
  people:
    wang-jun: leaders
    zhao-min: leaders
    qian-li: leaders
    sun-hao: office-group
  management: leaders
"""
POLICY_WITH_NOTIFICATIONS = POLICY_TEXT + NOTIFICATIONS
SECRETS = {"GZH_NOTIFY_1": OFFICE_KEY, "GZH_NOTIFY_2": RIGHTS_KEY, "GZH_NOTIFY_3": LEADERS_TOKEN,
           "GZH_NOTIFY_3_SIGN": LEADERS_SECRET}


@dataclass
class Robot:
    service: str
    secret: str = ""                                   # DingTalk 加签; "" for no signing
    sent: list[float] = field(default_factory=list)    # when each accepted message arrived
    throttled_until: float = 0.0
    messages: list[dict[str, Any]] = field(default_factory=list)


class RobotFake:
    """Both services on one loopback server; `skew` moves the fake's clock (seconds) to test the window."""

    def __init__(self) -> None:
        self.robots: dict[str, Robot] = {}
        self.lock = threading.Lock()
        self.skew = 0.0
        self.faults: list[int] = []                    # HTTP statuses to answer next, one per request
        self.requests = 0
        self.server = HttpServer(("127.0.0.1", 0), _handler(self))
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> "RobotFake":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def environment(self) -> dict[str, str]:
        return {"GZH_WECOM_BASE": f"{self.url}/cgi-bin/webhook/", "GZH_DINGTALK_BASE": f"{self.url}/robot/"}

    def wecom(self, key: str) -> Robot:
        return self.robots.setdefault(key, Robot("wecom"))

    def dingtalk(self, token: str, secret: str = "") -> Robot:
        return self.robots.setdefault(token, Robot("dingtalk", secret))

    def texts(self, key: str) -> list[str]:
        """What the robot posted in its group, in order."""
        robot = self.robots[key]
        return [message["markdown"]["content" if robot.service == "wecom" else "text"] for message in robot.messages]

    # -- the services --------------------------------------------------------------------------------

    def answer(self, path: str, query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        now = time.time() + self.skew
        with self.lock:
            if path == WECOM_PATH:
                return self._wecom(query, body, now)
            return self._dingtalk(query, body, now)

    def _wecom(self, query: dict[str, str], body: dict[str, Any], now: float) -> dict[str, Any]:
        robot = self.robots.get(query.get("key", ""))
        if robot is None or robot.service != "wecom":
            return _error(93000, "invalid webhook url, hint: [fake], more info at https://open.work.weixin.qq.com/devtool/query?e=93000")
        markdown = body.get("markdown") if body.get("msgtype") == "markdown" else None
        content = markdown.get("content") if isinstance(markdown, dict) else None
        if not isinstance(content, str) or not content:
            return _error(40008, "invalid message type")
        if len(content.encode("utf-8")) > WECOM_LIMIT:
            return _error(TOO_LONG, f"markdown.content exceed max length {WECOM_LIMIT}")
        if _in_last_minute(robot, now) >= PER_MINUTE:
            return _error(WECOM_RATE, "api freq out of limit")
        return _accept(robot, body, now)

    def _dingtalk(self, query: dict[str, str], body: dict[str, Any], now: float) -> dict[str, Any]:
        robot = self.robots.get(query.get("access_token", ""))
        if robot is None or robot.service != "dingtalk":
            return _error(300001, "token is not exist")
        if robot.secret:
            refusal = _signature_refusal(robot.secret, query, now)
            if refusal:
                return _error(310000, refusal)
        markdown = body.get("markdown") if body.get("msgtype") == "markdown" else None
        if not isinstance(markdown, dict) or not markdown.get("title") or not markdown.get("text"):
            return _error(40035, "missing markdown title or text")
        if len(markdown["text"].encode("utf-8")) > DINGTALK_LIMIT:
            return _error(TOO_LONG, "message too long")
        if now < robot.throttled_until:
            return _error(DINGTALK_RATE, "send too fast, exceed 20 times per minute")
        if _in_last_minute(robot, now) >= PER_MINUTE:
            robot.throttled_until = now + THROTTLE_SECONDS
            return _error(DINGTALK_RATE, "send too fast, exceed 20 times per minute")
        return _accept(robot, body, now)


def _signature_refusal(secret: str, query: dict[str, str], now: float) -> str:
    stamp = query.get("timestamp", "")
    if not stamp.isdigit() or abs(int(stamp) - now * 1000) > WINDOW_MS:
        return "invalid timestamp"
    digest = hmac.new(secret.encode("utf-8"), f"{stamp}\n{secret}".encode("utf-8"), hashlib.sha256).digest()
    return "" if hmac.compare_digest(base64.b64encode(digest).decode("ascii"), query.get("sign", "")) else "sign not match"


def _in_last_minute(robot: Robot, now: float) -> int:
    return sum(1 for stamp in robot.sent if now - stamp < 60)


def _accept(robot: Robot, body: dict[str, Any], now: float) -> dict[str, Any]:
    robot.sent.append(now)
    robot.messages.append(body)
    return {"errcode": 0, "errmsg": "ok"}


def _error(errcode: int, errmsg: str) -> dict[str, Any]:
    return {"errcode": errcode, "errmsg": errmsg}


def _handler(fake: RobotFake) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the stdlib's name
            return

        def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
            parts = urlsplit(self.path)
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with fake.lock:
                fake.requests += 1
                fault = fake.faults.pop(0) if fake.faults else None
            if fault is not None:
                return self._send(fault, b"<html>gateway error</html>", "text/html")
            if parts.path not in (WECOM_PATH, DINGTALK_PATH):
                return self._send(404, b"not found", "text/plain")
            try:
                body = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                return self._send(200, json.dumps(_error(40002, "invalid json")).encode(), "application/json")
            query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
            answer = fake.answer(parts.path, query, body if isinstance(body, dict) else {})
            self._send(200, json.dumps(answer).encode("utf-8"), "application/json")

        def _send(self, status: int, body: bytes, kind: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


@pytest.fixture
def robots(monkeypatch: pytest.MonkeyPatch) -> Iterator[RobotFake]:
    """The robots of POLICY_WITH_NOTIFICATIONS on loopback, their keys in the environment as CI gives them."""
    fake = RobotFake().start()
    fake.wecom(OFFICE_KEY)
    fake.wecom(RIGHTS_KEY)
    fake.dingtalk(LEADERS_TOKEN, LEADERS_SECRET)
    for name, value in {**fake.environment(), **SECRETS}.items():
        monkeypatch.setenv(name, value)
    yield fake
    fake.stop()


def with_notifications(root: Path) -> None:
    """Give a test repository's gzh.yml the notifications section the `robots` fixture serves."""
    (root / "gzh.yml").write_text(POLICY_WITH_NOTIFICATIONS, "utf-8")
