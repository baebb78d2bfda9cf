"""Followers' feedback (Art. 8): comments collected into the ledger, routed, tracked until answered.

Each comment belongs to the department whose post it was left on; a keyword rule in the policy
also routes it to the department whose business it mentions. A reply is due within the policy's
working days (China's, holidays and adjusted workdays included); the national ceiling of 3 months is a hard failure, alerted long before.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Iterable

from pipeline.clock import add_working_days
from pipeline.i18n import Text
from pipeline.ledger import Event, Kind, fold
from pipeline.notify import Notice, plain
from pipeline.patrol import Finding
from pipeline.policy import Policy
from pipeline.posts import BEIJING
from pipeline.wechat import WeChat

PAGE = 49  # comment/list refuses 50 or more
CEILING_DAYS = 90
WINDOW = dt.timedelta(hours=48)  # a follower's message can be answered until 48 hours after their last one (45015)

_MESSAGE_TITLE = Text("后台消息", "message to the account")
_OVERDUE = Text("留言超过 {days} 个工作日未答复", "A comment unanswered for over {days} working days")
_CEILING = Text("留言超过 3 个月未答复（国家检查指标单项否决）", "A comment unanswered for over 3 months (single veto)")
_DETAIL = Text("读者在《{title}》下留言（{when}）：“{content}”。答复期限 {due}。请用 gzh inbox reply {number} --text \"……\" 答复",
               "A follower commented on 《{title}》 ({when}): \"{content}\". Due {due}. Answer with gzh inbox reply {number}")

_NOTICE_COMMENT = Text("【读者留言】请在 {due} 前答复", "[Comment] Answer by {due}")
_NOTICE_MESSAGE = Text("【后台消息】请在 {due} 前答复", "[Message] Answer by {due}")
_NOTICE_WHERE = Text("读者在《{title}》下留言（{when}，#{number}）：", "A follower commented on 《{title}》 ({when}, #{number}):")
_NOTICE_MESSAGE_WHERE = Text("读者给公众号发来消息（{when}，#{number}）：", "A follower wrote to the account ({when}, #{number}):")
_NOTICE_REPLY = Text("答复：gzh inbox reply {number} --text \"……\"（须通过检查）", "Answer: gzh inbox reply {number} --text \"…\"")
_NOTICE_DONE = Text("请在 {ends} 前（微信只允许在读者最后一条消息后 48 小时内回复）在公众平台“内容与互动 → 消息”中回复，"
                    "然后运行 gzh inbox done {number} --note \"……\"",
                    "Answer in the MP console before {ends} (WeChat allows 48 hours), then run gzh inbox done {number} --note \"…\"")


@dataclass(frozen=True)
class Comment:
    number: int             # 1-based, in ledger order: what staff type in `gzh inbox reply N`
    key: str                # msg_data_id:index:user_comment_id
    post: str
    title: str
    content: str
    created: dt.datetime
    departments: tuple[str, ...]
    answered: bool
    due: dt.date
    window_ends: dt.datetime | None = None  # messages only: when WeChat stops taking an answer

    @property
    def is_message(self) -> bool:
        return self.key.startswith("msg:")


def route(policy: Policy, post: str, content: str) -> tuple[str, ...]:
    """The post's department first, then any department whose keywords the comment mentions."""
    parts = post.split("/")
    departments = [parts[1]] if len(parts) > 2 and policy.department_by_folder(parts[1]) else []
    for rule in policy.routes:
        if any(word in content for word in rule.keywords) and rule.department not in departments:
            departments.append(rule.department)
    return tuple(departments)


def collect(wechat: WeChat, policy: Policy, events: list[Event]) -> list[Event]:
    """New comments and replies made elsewhere, as events to record (nothing is written here)."""
    known = {event.data["key"] for event in events if event.kind is Kind.COMMENT}
    answered = {event.data["key"] for event in events if event.kind is Kind.ANSWERED}
    new: list[Event] = []
    for bundle, state in fold(events).items():
        if state.status != "published" or not state.msg_data_id:
            continue
        begin, total = 0, 1
        while begin < total:
            page = wechat.list_comments(state.msg_data_id, 0, begin, PAGE)
            total = int(page.get("total", 0))
            items = page.get("comment", [])
            for item in items:
                key = f"{state.msg_data_id}:0:{item['user_comment_id']}"
                if key not in known:
                    new.append(Event(Kind.COMMENT, bundle, data={
                        "key": key, "msg_data_id": state.msg_data_id, "index": 0,
                        "user_comment_id": int(item["user_comment_id"]), "content": item["content"],
                        "create_time": int(item["create_time"]),
                        "departments": list(route(policy, bundle, item["content"]))}))
                if item.get("reply") and key not in answered:
                    new.append(Event(Kind.ANSWERED, bundle, data={"key": key, "content": item["reply"]["content"],
                                                               "elsewhere": True}))
            if not items:
                break
            begin += len(items)
    return new


def comments(policy: Policy, events: Iterable[Event], titles: dict[str, str]) -> list[Comment]:
    """Comments on articles and messages to the account, numbered in ledger order."""
    events = list(events)
    answered = {event.data["key"] for event in events if event.kind is Kind.ANSWERED}
    windows = _windows(events)
    result = []
    for event in (event for event in events if event.kind in (Kind.COMMENT, Kind.MESSAGE)):
        created = dt.datetime.fromtimestamp(event.data["create_time"], BEIJING)
        title = titles.get(event.post, event.post) if event.kind is Kind.COMMENT else _MESSAGE_TITLE()
        result.append(Comment(len(result) + 1, event.data["key"], event.post, title,
                              event.data["content"], created, tuple(event.data["departments"]),
                              event.data["key"] in answered, add_working_days(created.date(), policy.reply_within_days),
                              windows.get(event.data.get("openid_sha256", "")) if event.kind is Kind.MESSAGE else None))
    return result


def _windows(events: list[Event]) -> dict[str, dt.datetime]:
    """Each follower's answering window: it runs from their latest message, so a new one reopens it."""
    latest: dict[str, int] = {}
    for event in (event for event in events if event.kind is Kind.MESSAGE):
        follower = event.data.get("openid_sha256", "")
        latest[follower] = max(latest.get(follower, 0), int(event.data["create_time"]))
    return {follower: dt.datetime.fromtimestamp(stamp, BEIJING) + WINDOW for follower, stamp in latest.items()}


def notice(item: Comment, link: str = "") -> Notice:
    """What the departments a comment or message is routed to are told in their group, once."""
    when = item.created.strftime("%Y-%m-%d %H:%M")
    if item.is_message:
        lines = (_NOTICE_MESSAGE_WHERE(when=when, number=item.number), f"> {plain(item.content[:300])}",
                 _NOTICE_DONE(ends=minute(item.window_ends), number=item.number))
    else:
        lines = (_NOTICE_WHERE(title=plain(item.title), when=when, number=item.number), f"> {plain(item.content[:300])}",
                 _NOTICE_REPLY(number=item.number))
    title = (_NOTICE_MESSAGE if item.is_message else _NOTICE_COMMENT)(due=item.due.isoformat())
    return Notice(f"comment:{item.key}", title, lines, link, item.due.isoformat())


def minute(moment: dt.datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment else "—"


def overdue_findings(items: Iterable[Comment], policy: Policy, today: dt.date) -> list[Finding]:
    findings = []
    for item in items:
        if item.answered or today <= item.due:
            continue
        ceiling = (today - item.created.date()).days > CEILING_DAYS
        title = _CEILING() if ceiling else _OVERDUE(days=policy.reply_within_days)
        detail = _DETAIL(title=item.title, when=item.created.strftime("%Y-%m-%d %H:%M"), content=item.content[:80],
                         due=item.due.isoformat(), number=item.number)
        findings.append(Finding(f"comment:{item.key}", "comment", "fail" if ceiling else "warn", title, detail,
                                item.post, item.departments[0] if item.departments else ""))
    return findings
