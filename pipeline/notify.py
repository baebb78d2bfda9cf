"""The notification edge: group robots of 企业微信 (WeCom, also 政务微信) and 钉钉 (DingTalk).

Staff work in WeCom and DingTalk groups, so besides the forge issues gzh tells the departments, the
leaders and the management group (管理小组) there. gzh.yml (`notifications`) names the channels,
who is told through which, and the environment variables holding each robot's key: CI secrets whose
names always start with GZH_NOTIFY_ (the schema refuses any other, so a policy cannot post another
secret to a webhook), never the keys themselves. A failed delivery is a warning for the caller,
never an exception: a notification must not stop a publish, a patrol or a takedown.

What is modelled of the services (tests/notify_fake.py plays both on loopback; docs/notifications.md):
- WeCom group robot (developer.work.weixin.qq.com/document/path/91770, 群机器人配置说明): POST
  https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=KEY with
  {"msgtype": "markdown", "markdown": {"content": …}}, the content at most 4096 bytes of UTF-8;
  the answer {"errcode": 0, "errmsg": "ok"}; a wrong key is errcode 93000 ("invalid webhook url");
  at most 20 messages a minute per robot, beyond that errcode 45009 ("api freq out of limit").
  Mentions (<@userid>) need WeCom user ids gzh does not know; names are written out instead.
- DingTalk custom robot (open.dingtalk.com, 自定义机器人接入): POST
  https://oapi.dingtalk.com/robot/send?access_token=TOKEN, with 加签 also &timestamp=MS&sign=SIGN,
  SIGN = urlencode(base64(HMAC-SHA256(key=secret, msg=f"{MS}\\n{secret}"))), MS in milliseconds and
  within an hour of DingTalk's clock; {"msgtype": "markdown", "markdown": {"title": …, "text": …}},
  the text at most 20000 bytes; the answer {"errcode": 0, "errmsg": "ok"}; a wrong sign or a stale
  timestamp is errcode 310000 ("sign not match" / "invalid timestamp"), an unknown token 300001
  ("token is not exist"); at most 20 messages a minute, beyond that the robot is throttled for ten
  minutes: errcode 130101 ("send too fast, exceed 20 times per minute") in the answers seen in the
  field, 410100 in the current error table; both are read as rate limiting.
Network errors and 5xx answers are retried twice; a 4xx or an errcode is final. Rate limiting is not
waited out here (a minute on WeCom, ten on DingTalk, inside a CI job): the notice stays unrecorded,
and the callers, which notify again on every run, send it next time; with a ledger, gzh itself keeps
each channel under 20 notices a minute.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import os
import re
import time
from dataclasses import dataclass
from typing import Any, Iterable, Mapping
from urllib.parse import parse_qs, urlsplit

import requests

from pipeline.errors import GzhError
from pipeline.i18n import Text
from pipeline.ledger import Event, Kind, Ledger
from pipeline.policy import Channel, Notifications, Policy
from pipeline.redact import redact

WECOM, DINGTALK = "wecom", "dingtalk"
PER_MINUTE = 20
TIMEOUT = 10.0
ATTEMPTS = 3        # network errors and 5xx only
BACKOFF = 0.5       # seconds before the first retry, doubled after
WINDOW = dt.timedelta(minutes=1)
# CI secrets must be named one by one in a workflow, and gzh doctor refuses edited workflows, so
# patrol.yml, inbox.yml and emergency.yml pass this fixed set: eight robots, each with its key and,
# for DingTalk with 加签, its signing secret.
WORKFLOW_VARIABLES = tuple(name for number in range(1, 9) for name in (f"GZH_NOTIFY_{number}", f"GZH_NOTIFY_{number}_SIGN"))
# What a job that notifies needs from its environment: the keys, and where the robots are (tests: loopback)
ROBOT_VARIABLES = (*WORKFLOW_VARIABLES, "GZH_WECOM_BASE", "GZH_DINGTALK_BASE")

_UNREACHABLE = Text("无法连接{service}（{error}），已尝试 {attempts} 次", "Cannot reach {service} ({error}) after {attempts} attempts")
_STATUS = Text("{service}返回 HTTP {status}", "{service} answered HTTP {status}")
_MALFORMED = Text("{service}的回答不是预期的格式", "{service} answered in an unexpected shape")
_REFUSED = Text("{service}拒绝了这条消息（错误码 {errcode}）：{reason}", "{service} refused the message (errcode {errcode}): {reason}")
_FAILED = Text("通知群“{channel}”没有收到“{title}”：{problem}", "Channel '{channel}' did not get '{title}': {problem}")
_MISSING = Text("环境变量 {variable} 没有设置。请把机器人的密钥存为 CI 密钥 {variable}，并在工作流的 env 中传入（docs/notifications.md）",
                "{variable} is not set; store the robot's key as the CI secret {variable} and pass it in the workflow's env")
_NO_DEPARTMENT_CHANNEL = Text("{department}没有配置通知群（gzh.yml 的 notifications.departments），“{title}”没有发到群里",
                              "{department} has no channel under notifications.departments; '{title}' was not sent")
_NO_PERSON_CHANNEL = Text("{person}没有配置通知群（gzh.yml 的 notifications.people），“{title}”没有发到群里",
                          "{person} has no channel under notifications.people; '{title}' was not sent")
_NO_MANAGEMENT_CHANNEL = Text("管理小组没有配置通知群（gzh.yml 的 notifications.management），“{title}”没有发到群里",
                              "The management group has no channel (notifications.management); '{title}' was not sent")
_PACED = Text("通知群“{channel}”最近一分钟已发 {count} 条（机器人每分钟最多 20 条），“{title}”留到下次运行时发送",
              "Channel '{channel}' got {count} notices in the last minute (20 at most); '{title}' waits for the next run")
_NOT_RECORDED = Text("通知已发出，但没有记入账本（下次运行可能重发）：{error}", "Notices sent but not recorded in the ledger (may repeat): {error}")
_WARNING = Text("⚠ 通知：{text}", "⚠ notification: {text}")
_DUE = Text("**办理期限：{due}**", "**Due: {due}**")
_LINK = Text("[查看详情]({link})", "[Details]({link})")
# Every message carries this, so a DingTalk robot secured by a keyword instead of 加签 can use "gzh".
_SOURCE = Text("（gzh 公众号发布流水线）", "(gzh publishing pipeline)")
_RATE = Text("发送太频繁（每个机器人每分钟最多 20 条），下次运行时补发", "too many messages (20 a minute per robot); sent on the next run")
_REASONS = {
    93000: Text("机器人的 key 无效：机器人可能已被移出群，或密钥中多了“key=”以外的内容", "invalid key: the robot was removed, or the secret holds more than the key"),
    45009: _RATE, 130101: _RATE, 410100: _RATE,
    310000: Text("签名不对或时间戳超出 1 小时：请核对加签密钥（SEC 开头）和运行机器的时钟；未开启加签的机器人也可能是关键词或 IP 限制不符",
                 "sign or timestamp refused: check the signing secret (SEC…) and the clock, or the robot's keyword/IP settings"),
    300001: Text("access_token 不存在：机器人可能已被删除，或密钥填错", "unknown access_token: the robot was deleted, or the secret is wrong"),
}
SERVICE_NAMES = {WECOM: Text("企业微信", "WeCom"), DINGTALK: Text("钉钉", "DingTalk")}
_PLAUSIBLE = {
    WECOM: re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"),
    DINGTALK: re.compile(r"[0-9a-fA-F]{64}"),
}
_PLAUSIBLE_SIGN = re.compile(r"SEC[0-9A-Za-z]{20,}")
_NOT_PASSED = Text("{variable} 不在工作流传入的变量中：gzh.yml 的 notifications 只能用 GZH_NOTIFY_1～GZH_NOTIFY_8（加签密钥用 GZH_NOTIFY_1_SIGN～GZH_NOTIFY_8_SIGN）",
                   "{variable} is not passed by the workflows: use GZH_NOTIFY_1 to GZH_NOTIFY_8 (signing secrets GZH_NOTIFY_1_SIGN to _8_SIGN)")
_IMPLAUSIBLE = Text("{variable} 不像{service}机器人的密钥：{expected}", "{variable} does not look like a {service} robot key: {expected}")
_EXPECTED = {
    WECOM: Text("应为 Webhook 地址中 key= 后面的 36 位（如 693a91f6-7xxx-…），或整个 Webhook 地址",
                "the 36 characters after key= in the webhook address, or the whole address"),
    DINGTALK: Text("应为 Webhook 地址中 access_token= 后面的 64 位，或整个 Webhook 地址",
                   "the 64 characters after access_token= in the webhook address, or the whole address"),
}
_EXPECTED_SIGN = Text("应为机器人安全设置“加签”一栏下 SEC 开头的字符串", "the SEC… string under the robot's signing setting")


@dataclass(frozen=True)
class Notice:
    key: str                  # stable de-duplication key, e.g. "approval:12:abc1234:zhang"
    title: str                # Chinese, short
    lines: tuple[str, ...]    # Chinese markdown lines, masked with redact() before sending
    link: str = ""
    due: str = ""             # YYYY-MM-DD when something is due


@dataclass(frozen=True)
class Service:
    """What differs between the two robots: where to post, the message shape, its size limit."""

    name: str
    base_variable: str        # overrides the base address (tests point it at a loopback fake)
    default_base: str
    token_parameter: str      # the query parameter carrying the robot's key
    limit: int                # bytes of UTF-8 in the message text


SERVICES = {
    WECOM: Service(WECOM, "GZH_WECOM_BASE", "https://qyapi.weixin.qq.com/cgi-bin/webhook/", "key", 4096),
    DINGTALK: Service(DINGTALK, "GZH_DINGTALK_BASE", "https://oapi.dingtalk.com/robot/", "access_token", 20000),
}


@dataclass(frozen=True)
class Delivery:
    """One message to one channel: delivered, or the Chinese reason why not (never the key)."""

    channel: str
    delivered: bool
    errcode: int | None = None   # the robot's answer; None when none came
    problem: str = ""


def notify(policy: Policy, notice: Notice, *, departments: Iterable[str] = (), people: Iterable[str] = (),
           management: bool = False, ledger: Ledger | None = None, env: Mapping[str, str] = os.environ) -> list[str]:
    """Send to every channel the recipients map to (each channel once). Returns Chinese warnings for
    deliveries that failed or recipients without a channel; never raises for a delivery failure
    (a notification must not stop a publish, a patrol or a takedown). With a ledger, a notice whose
    key was delivered to that channel before is not sent again, and each delivery is recorded."""
    settings = policy.notifications
    if settings is None:
        return []
    names, warnings = _channels(policy, settings, notice, tuple(departments), tuple(people), management)
    events = ledger.events if ledger is not None else []
    done = {event.data.get("channel") for event in events if event.kind is Kind.NOTICE and event.data.get("key") == notice.key}
    recorded = []
    for name in (name for name in names if name not in done):
        recent = _recent(events, name)
        if recent >= PER_MINUTE:
            warnings.append(_PACED(channel=name, count=recent, title=notice.title))
            continue
        delivery = send(settings.channels[name], notice, env)
        if delivery.delivered:
            recorded.append(Event(Kind.NOTICE, data={"key": notice.key, "channel": name, "title": notice.title,
                                                      "service": settings.channels[name].service}))
        else:
            warnings.append(_FAILED(channel=name, title=notice.title, problem=delivery.problem))
    if recorded and ledger is not None:
        try:
            ledger.append(*recorded)
        except GzhError as error:
            warnings.append(_NOT_RECORDED(error=error))
    return [redact(warning) for warning in warnings]


def _channels(policy: Policy, settings: Notifications, notice: Notice, departments: tuple[str, ...],
              people: tuple[str, ...], management: bool) -> tuple[list[str], list[str]]:
    """The channels the recipients map to, in order and each once, and a warning per recipient without one."""
    names: list[str] = []
    warnings: list[str] = []

    def add(channel: str, missing: str) -> None:
        if not channel:
            warnings.append(missing)
        elif channel not in names:
            names.append(channel)

    for slug in filter(None, departments):
        department = policy.department(slug)
        add(settings.departments.get(slug, ""),
            _NO_DEPARTMENT_CHANNEL(department=department.name if department else slug, title=notice.title))
    for username in filter(None, people):
        add(settings.people.get(username, ""), _NO_PERSON_CHANNEL(person=policy.person(username).display(), title=notice.title))
    if management:
        add(settings.management, _NO_MANAGEMENT_CHANNEL(title=notice.title))
    return names, warnings


def _recent(events: list[Event], channel: str) -> int:
    """Notices the ledger says this channel got in the last minute, read from the newest back to the
    first older notice (the ledger is in commit order), so a long ledger costs nothing here."""
    since, count = dt.datetime.now(dt.timezone.utc) - WINDOW, 0
    for event in reversed(events):
        if event.kind is not Kind.NOTICE or not event.time:
            continue
        if dt.datetime.fromisoformat(event.time) <= since:
            break
        count += event.data.get("channel") == channel
    return count


def send(channel: Channel, notice: Notice, env: Mapping[str, str] = os.environ) -> Delivery:
    """One message to one robot, as it answers; the key and the signing secret come from `env`."""
    service = SERVICES[channel.service]
    missing = [name for name in (channel.key, channel.sign) if name and not env.get(name, "").strip()]
    if missing:
        return Delivery(channel.name, False, problem=_MISSING(variable=missing[0]))
    url, params = address(channel, env)
    errcode, problem = _post(service, url, params, _body(service, notice))
    if problem:
        return Delivery(channel.name, False, errcode, problem)
    return Delivery(channel.name, True, errcode)


def address(channel: Channel, env: Mapping[str, str] = os.environ) -> tuple[str, dict[str, str]]:
    """Where a robot takes messages: its send URL and the query (the key, and DingTalk's 加签 when set).
    The key is in the query, never in the URL, so the URL can be shown."""
    service = SERVICES[channel.service]
    params = {service.token_parameter: token(env[channel.key], service.token_parameter)}
    if channel.sign and env.get(channel.sign, "").strip():
        params.update(sign(env[channel.sign].strip()))
    return (env.get(service.base_variable) or service.default_base).rstrip("/") + "/send", params


def token(value: str, parameter: str) -> str:
    """The robot's key as stored: the key itself, or the whole webhook address people copy from the
    group's robot page (only its query parameter is kept, never its host)."""
    value = value.strip()
    if "://" not in value:
        return value
    return parse_qs(urlsplit(value).query).get(parameter, [""])[0]


def sign(secret: str, now_ms: int | None = None) -> dict[str, str]:
    """DingTalk's 加签 parameters; `requests` percent-encodes the base64 signature, as DingTalk asks."""
    timestamp = str(now_ms if now_ms is not None else int(time.time() * 1000))
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp}\n{secret}".encode("utf-8"), hashlib.sha256).digest()
    return {"timestamp": timestamp, "sign": base64.b64encode(digest).decode("ascii")}


def _body(service: Service, notice: Notice) -> dict[str, Any]:
    if service.name == WECOM:
        return {"msgtype": "markdown", "markdown": {"content": _markdown(notice, f"**{notice.title}**", "\n", service.limit)}}
    text = _markdown(notice, f"#### {notice.title}", "\n\n", service.limit)  # DingTalk breaks lines on blank lines only
    return {"msgtype": "markdown", "markdown": {"title": redact(notice.title), "text": text}}


def _markdown(notice: Notice, heading: str, joiner: str, limit: int) -> str:
    """The notice within `limit` bytes, personal data and secrets masked: the lines are shortened,
    never the heading, the due date, the link or the source line."""
    tail = ([_DUE(due=notice.due)] if notice.due else []) + ([_LINK(link=notice.link)] if notice.link else []) + [_SOURCE()]
    head = redact(heading)
    body = joiner.join(redact(line) for line in notice.lines)
    fixed = len(joiner.join([head, "", *tail]).encode("utf-8"))
    if fixed + len(body.encode("utf-8")) > limit:
        body = body.encode("utf-8")[:max(0, limit - fixed - len("…".encode("utf-8")))].decode("utf-8", "ignore") + "…"
    return joiner.join(part for part in (head, body, *tail) if part)


def _post(service: Service, url: str, params: dict[str, str], body: dict[str, Any]) -> tuple[int | None, str]:
    """(errcode, problem): problem is "" when the robot accepted the message. Error texts name the
    exception's type only: requests puts the URL, and with it the key, into its messages."""
    name = SERVICE_NAMES[service.name]()
    problem = ""
    for attempt in range(ATTEMPTS):
        if attempt:
            time.sleep(BACKOFF * 2 ** (attempt - 1))
        try:
            response = requests.post(url, params=params, json=body, timeout=TIMEOUT)
        except requests.RequestException as error:
            problem = _UNREACHABLE(service=name, error=type(error).__name__, attempts=attempt + 1)
            continue
        if response.status_code >= 500:
            problem = _STATUS(service=name, status=response.status_code)
            continue
        if response.status_code >= 400:
            return None, _STATUS(service=name, status=response.status_code)
        return _answer(name, response)
    return None, problem


def _answer(name: str, response: requests.Response) -> tuple[int | None, str]:
    try:
        answer = response.json()
        errcode = int(answer["errcode"])
    except (ValueError, KeyError, TypeError):
        return None, _MALFORMED(service=name)
    if errcode == 0:
        return 0, ""
    reason = _REASONS[errcode]() if errcode in _REASONS else redact(str(answer.get("errmsg", "")))[:120]
    return errcode, _REFUSED(service=name, errcode=errcode, reason=reason)


def configuration_problems(settings: Notifications, env: Mapping[str, str] = os.environ) -> list[str]:
    """For `gzh doctor`: each channel's variables among those the workflows pass, set, and shaped like
    the service's keys (the values are never shown)."""
    problems = [_NOT_PASSED(variable=variable) for channel in settings.channels.values()
                for variable in (channel.key, channel.sign) if variable and variable not in WORKFLOW_VARIABLES]
    for channel in settings.channels.values():
        service = SERVICES[channel.service]
        key = env.get(channel.key, "").strip()
        problems += _variable_problem(channel.key, token(key, service.token_parameter) if key else "",
                                      _PLAUSIBLE[service.name], service, _EXPECTED[service.name])
        if channel.sign:
            problems += _variable_problem(channel.sign, env.get(channel.sign, "").strip(), _PLAUSIBLE_SIGN, service, _EXPECTED_SIGN)
    return problems


def _variable_problem(variable: str, value: str, shape: re.Pattern[str], service: Service, expected: Text) -> list[str]:
    if not value:
        return [_MISSING(variable=variable)]
    if not shape.fullmatch(value):
        return [_IMPLAUSIBLE(variable=variable, service=SERVICE_NAMES[service.name](), expected=expected())]
    return []


_MARKUP = str.maketrans({"<": "＜", ">": "＞", "[": "［", "]": "］", "(": "（", ")": "）", "`": "｀", "#": "＃",
                         "\n": " ", "\r": " "})


def plain(text: str) -> str:
    """Text written by outsiders (a follower's comment), shown as written on one line: the markdown signs
    of links, mentions, tags, code and headings become their full-width twins, so no one can plant a
    link or a mention in a staff group (emphasis is harmless, and masking writes stars)."""
    return text.translate(_MARKUP)


_WWW = re.compile(r"(?i)\bwww\.")
_LINKING = (("://", "：//"), ("#", "＃"), ("GH-", "GH－"), ("gh-", "gh－"))


def inert(text: str) -> str:
    """Outsiders' text on the forge: masked, on one line, without markdown signs, @mentions, links the forge
    makes by itself (http://…, www.…) or references to its issues (#12, GH-12)."""
    text = _WWW.sub(lambda match: match.group(0)[:-1] + "．", plain(redact(text)).replace("@", "＠"))
    for sign, harmless in _LINKING:
        text = text.replace(sign, harmless)
    return text


def warning_text(warnings: Iterable[str]) -> str:
    """The warnings as the commands print them, one line each."""
    return "".join(_WARNING(text=warning) + "\n" for warning in warnings)


def issue_link(number: int, env: Mapping[str, str] = os.environ) -> str:
    """The web address of a forge issue, from what GitHub and Gitea Actions tell every job."""
    server, repository = env.get("GITHUB_SERVER_URL", "").rstrip("/"), env.get("GITHUB_REPOSITORY", "")
    return f"{server}/{repository}/issues/{number}" if server and repository else ""
