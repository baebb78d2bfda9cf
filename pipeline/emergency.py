"""Emergency response (Art. 9): take an article down first, tell the leaders, keep the record.

Acting first, without approvals, is allowed (Art. 9(2)); every action records who ran it.
freepublish/delete allows 10 calls a day and its index is 1-based (0 would delete every article
under the id), so both are enforced here before WeChat is asked.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import re
from dataclasses import dataclass
from typing import Iterable

from pipeline.errors import GzhError
from pipeline.i18n import Text
from pipeline.ledger import Event, Kind, Ledger, actor, fold
from pipeline.notify import Notice, plain
from pipeline.policy import Policy
from pipeline.posts import BEIJING

DELETES_PER_DAY = 10
QUOTA_USED = 45009  # WeChat's answer once the day's deletions are used, also by deletions made elsewhere

_NOT_FOUND = Text("找不到要下线的文章“{target}”：请写文章文件夹（content/…）、文章链接或 article_id",
                  "Cannot find '{target}': give the post folder, its URL or the article_id")
_QUOTA = Text(
    "今天的删除次数已用完（微信每天只允许删除 {count} 次），《{title}》仍在线上，没有删除。请管理员立即登录公众平台"
    "（mp.weixin.qq.com），在“内容与互动 → 发表记录”中找到这篇文章，点“删除”手动删除，并在平台上的问题中注明删除时间。"
    "已记入账本，并通知：{people}",
    "Today's {count} deletions are used; 《{title}》 is still online. Delete it by hand in the MP console (Content → "
    "Published) and note the time on the forge issue. Recorded and told: {people}")
MANUAL_TITLE = Text("【应急处置】删除次数已用完，须手动删除：{title}", "[Emergency] Deletion quota used, delete by hand: {title}")
_MANUAL_BODY = Text(
    "{mentions}\n\n需要紧急下线的文章因微信当天的删除次数（每天 {count} 次）已用完，未能自动删除，仍在线上：\n\n"
    "- 文章：{title}（{url}）\n- 原因：{reason}\n- 发现人：@{who}（{when}）\n\n"
    "请管理员立即登录公众平台（mp.weixin.qq.com），在“内容与互动 → 发表记录”中找到这篇文章，点“删除”手动删除，"
    "并在本问题中留言说明删除时间。",
    "{mentions}\n\nWeChat's {count} deletions for today are used, so this article is still online:\n\n"
    "- Article: {title} ({url})\n- Reason: {reason}\n- Found by: @{who} ({when})\n\n"
    "Delete it by hand in the MP console (Content → Published) and note the time here.")
_MANUAL_LINES = (
    Text("微信当天的删除次数已用完，文章仍在线上，须手动删除", "Today's deletions are used: the article is still online"),
    Text("原因：{reason}", "Reason: {reason}"),
    Text("请管理员立即在公众平台“内容与互动 → 发表记录”中删除", "Delete it in the MP console (Content → Published) now"),
)
_NO_INCIDENT = Text("没有编号为 {incident} 的事件记录", "No incident {incident}")
_CLOSED_ALREADY = Text("事件 {incident} 已经结案了", "Incident {incident} is already closed")
PLACEHOLDER = "（事态控制后，由管理员按第九条第二款补写：事件经过、原因分析、影响范围、处置措施、整改建议。）"
_FILED = Text("{report}\n\n（书面报告由 @{who} 于 {when} 提交）\n", "{report}\n\n(written report filed by @{who} at {when})\n")
_FURTHER = Text("\n## 书面报告（{when} 补充）\n\n", "\n## Written report ({when}, addendum)\n\n")
NOTIFY_TITLE = Text("【应急处置】已下线：{title}", "[Emergency] Taken down: {title}")
NOTIFY_BODY = Text(
    "{mentions}\n\n按《暂行办法》第九条第二款报告：\n\n- 文章：{title}（{url}）\n- 处置：已于 {when} 从公众号删除\n- 原因：{reason}\n"
    "- 执行人：@{who}\n- 事件记录：{record}（书面报告截止 {due}）\n\n情况已得到控制；请组长和今日值班领导知悉，管理员将按期提交书面报告。",
    "{mentions}\n\nReported under Art. 9(2):\n\n- Article: {title} ({url})\n- Action: deleted at {when}\n- Reason: {reason}\n"
    "- By: @{who}\n- Incident record: {record} (written report due {due})")
_RECORD = Text(
    "# 公众号安全应急处置记录 {incident}\n\n"
    "| 项目 | 内容 |\n| --- | --- |\n| 事件 | {reason} |\n| 涉及文章 | {title}（{url}） |\n| 发现时间 | {detected} |\n"
    "| 处置时间 | {when} |\n| 执行人 | @{who} |\n| 已通知 | {notified} |\n| 当前状态 | 处置中 |\n| 书面报告截止 | {due} |\n\n"
    "## 处置经过\n\n- {when}　从公众号删除该文章（freepublish/delete），发布记录中已标记下线。\n"
    "- {when}　通知管理小组组长和当日值班领导（第九条第二款）。\n\n"
    "## 书面报告\n\n" + PLACEHOLDER + "\n",
    "# Incident record {incident}\n\n- Event: {reason}\n- Article: {title} ({url})\n- Detected: {detected}\n- Action: {when}\n"
    "- By: @{who}\n- Notified: {notified}\n- Status: in progress\n- Written report due: {due}\n")
_NOTICE_TITLE = Text("【应急处置】已下线：{title}", "[Emergency] Taken down: {title}")
_NOTICE_LINES = (
    Text("按《暂行办法》第九条第二款报告：文章已于 {when} 从公众号删除", "Reported under Art. 9(2): deleted at {when}"),
    Text("原因：{reason}", "Reason: {reason}"),
    Text("执行人：{who}；事件记录：{record}", "By {who}; incident record: {record}"),
    Text("请组长和今日值班领导知悉，管理员将按期提交书面报告", "The administrator will file the written report in time"),
)
_CLOSING = Text("\n## 结案\n\n- {when}　@{who} 结案：{summary}\n- 当前状态：已结案\n",
                "\n## Closed\n\n- {when} @{who}: {summary}\n- Status: closed\n")


@dataclass(frozen=True)
class Target:
    post: str
    article_id: str
    url: str
    title: str


def find_target(ledger: Ledger, target: str) -> Target:
    """A post folder, an article URL or an article_id; an article unknown to the ledger is allowed."""
    for bundle, state in fold(ledger.events).items():
        if target.rstrip("/") in (bundle, state.url, state.article_id) and state.article_id:
            return Target(bundle, state.article_id, state.url, bundle)
    if re.fullmatch(r"[A-Za-z0-9_-]{6,}", target):
        return Target("", target, "", target)  # e.g. found by the patrol, published outside the pipeline
    raise GzhError(_NOT_FOUND(target=target))


def deletions_today(ledger: Ledger, today: dt.date) -> int:
    return sum(1 for event in ledger.events if event.kind is Kind.TAKEDOWN and _local(event.time).date() == today)


def quota_used(ledger: Ledger, today: dt.date) -> bool:
    return deletions_today(ledger, today) >= DELETES_PER_DAY


def taken_down(events: Iterable[Event], article_id: str) -> Event | None:
    """The takedown that already deleted this article, if any: a second one would fail at WeChat and tell everyone twice."""
    return next((event for event in reversed(list(events))
                 if event.kind is Kind.TAKEDOWN and event.data.get("article_id") == article_id), None)


def _local(stamp: str) -> dt.datetime:
    return dt.datetime.fromisoformat(stamp).astimezone(BEIJING)


def minute(stamp: str) -> str:
    """An event's time as people read it: Beijing, to the minute."""
    return _local(stamp).strftime("%Y-%m-%d %H:%M")


def incident_id(now: dt.datetime, target: Target) -> str:
    return f"{now:%Y%m%d-%H%M}-{re.sub(r'[^a-z0-9]+', '-', target.article_id.lower())[-12:].strip('-')}"


def leaders(policy: Policy, today: dt.date) -> list[str]:
    """Who is told at once (Art. 9(2)): the group leader, the day's duty leader, the administrators."""
    people = [policy.leader, policy.duty_leader(today) or "", *policy.members("administrator")]
    return list(dict.fromkeys(person for person in people if person))


def report_due(policy: Policy, now: dt.datetime) -> str:
    """When the written report is due (Art. 9(3))."""
    return (now + dt.timedelta(hours=policy.report_hours)).strftime("%Y-%m-%d %H:%M")


def record(incident: str, target: Target, reason: str, policy: Policy, now: dt.datetime, detected: str) -> str:
    due = report_due(policy, now)
    notified = "、".join(f"{policy.person(user).name}（@{user}）" for user in leaders(policy, now.date()))
    return _RECORD(incident=incident, reason=reason, title=target.title, url=target.url or "—", detected=detected,
                   when=now.strftime("%Y-%m-%d %H:%M"), who=actor(), notified=notified, due=due)


@dataclass(frozen=True)
class Takedown:
    """One takedown as it is reported to the leaders: on the forge and in the groups."""

    incident: str
    target: Target
    reason: str
    when: dt.datetime
    record: str                   # where the incident record is kept: branch:path
    due: str                      # the written report's deadline, YYYY-MM-DD HH:MM


def notice(takedown: Takedown, link: str) -> Notice:
    """The takedown as the management group's and the leaders' groups read it (once per incident)."""
    values = {"when": takedown.when.strftime("%Y-%m-%d %H:%M"), "reason": plain(takedown.reason), "who": actor(),
              "record": takedown.record}
    return Notice(f"takedown:{takedown.incident}", _NOTICE_TITLE(title=takedown.target.title),
                  tuple(line(**values) for line in _NOTICE_LINES), link, takedown.due[:10])


def forge_body(takedown: Takedown, mentions: str) -> str:
    target = takedown.target
    return NOTIFY_BODY(mentions=mentions, title=target.title, url=target.url or "—", reason=takedown.reason,
                       when=takedown.when.strftime("%Y-%m-%d %H:%M"), who=actor(), record=takedown.record, due=takedown.due)


def closing(summary: str, now: dt.datetime) -> str:
    return _CLOSING(when=now.strftime("%Y-%m-%d %H:%M"), who=actor(), summary=summary)


@dataclass(frozen=True)
class Incident:
    """An incident as its events tell it: opened, told on the forge (the issue), reported, closed."""

    id: str
    path: str                     # the record's path on the ledger branch
    issue: int | None = None
    closed: bool = False


def incidents(events: Iterable[Event]) -> dict[str, Incident]:
    found: dict[str, Incident] = {}
    for event in (event for event in events if event.kind is Kind.INCIDENT):
        known = found.get(event.data["id"], Incident(event.data["id"], event.data["path"]))
        found[known.id] = dataclasses.replace(known, issue=event.data.get("issue", known.issue),
                                              closed=known.closed or bool(event.data.get("closed")))
    return found


def incident(ledger: Ledger, incident_id: str, *, open_only: bool = False) -> Incident:
    known = incidents(ledger.events).get(incident_id)
    if known is None or (open_only and known.closed):
        raise GzhError((_CLOSED_ALREADY if known else _NO_INCIDENT)(incident=incident_id))
    return known


def with_report(text: str, report: str, now: dt.datetime) -> str:
    """The record with the written report in place of its placeholder (Art. 9(3)); a later one is added below."""
    filed = _FILED(report=report.strip(), who=actor(), when=now.strftime("%Y-%m-%d %H:%M"))
    if PLACEHOLDER in text:
        return text.replace(PLACEHOLDER, filed)
    return text + _FURTHER(when=now.strftime("%Y-%m-%d %H:%M")) + filed


def takedown_event(target: Target, reason: str, incident_id: str) -> Event:
    return Event(Kind.TAKEDOWN, target.post, data={"article_id": target.article_id, "url": target.url, "reason": reason,
                                                "by": actor(), "incident": incident_id})


def manual_event(target: Target, reason: str) -> Event:
    """Deleting was refused for the day's quota: the article stays online until someone deletes it by hand."""
    return Event(Kind.ERROR, target.post, data={"call": "freepublish/delete", "code": QUOTA_USED, "manual": True,
                                             "article_id": target.article_id, "reason": reason, "by": actor()})


def quota_message(target: Target, people: str) -> str:
    return _QUOTA(count=DELETES_PER_DAY, title=target.title, people=people)


def manual_notice(target: Target, reason: str, now: dt.datetime, link: str) -> Notice:
    return Notice(f"takedown-by-hand:{target.article_id}:{now.date().isoformat()}", MANUAL_TITLE(title=target.title),
                  tuple(line(reason=plain(reason)) for line in _MANUAL_LINES), link, now.date().isoformat())


def manual_body(target: Target, reason: str, now: dt.datetime, mentions: str) -> str:
    return _MANUAL_BODY(mentions=mentions, count=DELETES_PER_DAY, title=target.title, url=target.url or "—",
                        reason=reason, who=actor(), when=now.strftime("%Y-%m-%d %H:%M"))
