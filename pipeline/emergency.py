"""Emergency response (Art. 9): take an article down first, tell the leaders, keep the record.

An incident is opened by a takedown or without one (`gzh emergency open`: a ban, a finding under
investigation), carries when the problem was first seen and its evidence, takes the written report
and is closed; one incident per article while it is open, so a takedown joins the one already open.
Acting first, without approvals, is allowed (Art. 9(2)); every action records who ran it.
freepublish/delete allows 10 calls a day and its index is 1-based (0 would delete every article
under the id), so both are enforced here before WeChat is asked.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import re
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Iterable

from pipeline import clock, posts
from pipeline.connect import connect
from pipeline.errors import GzhError
from pipeline.i18n import Text
from pipeline.ledger import Event, Kind, Ledger, actor, fold
from pipeline.notify import Notice, plain
from pipeline.patrol import Titles
from pipeline.policy import Policy, load_repository_policy
from pipeline.posts import BEIJING
from pipeline.wechat import Credentials, WeChat, WeChatError

DELETES_PER_DAY = 10
QUOTA_USED = 45009  # WeChat's answer once the day's deletions are used, also by deletions made elsewhere

_NOT_FOUND = Text("找不到要下线的文章“{target}”：请写文章文件夹（content/…）、文章链接或 article_id",
                  "Cannot find '{target}': give the post folder, its URL or the article_id")
_QUOTA = Text(
    "今天的删除次数已用完（微信每天只允许删除 {count} 次），《{title}》仍在线上，没有删除。请管理员立即登录公众平台"
    "（mp.weixin.qq.com），在“内容与互动 → 发表记录”中找到这篇文章，点“删除”手动删除，"
    "删除后运行 gzh emergency takedown {target} --reason … 补记：立案、记下处置时间并报告（已删除的文章不会再删一次）。"
    "已记入账本，并通知：{people}",
    "Today's {count} deletions are used; 《{title}》 is still online. Delete it by hand in the MP console (Content → "
    "Published), then run gzh emergency takedown {target} --reason … to record it: the incident, the time and the "
    "report (a deleted article is not deleted again). Recorded and told: {people}")
MANUAL_TITLE = Text("【应急处置】删除次数已用完，须手动删除：{title}", "[Emergency] Deletion quota used, delete by hand: {title}")
_MANUAL_BODY = Text(
    "{mentions}\n\n需要紧急下线的文章因微信当天的删除次数（每天 {count} 次）已用完，未能自动删除，仍在线上：\n\n"
    "- 文章：{title}（{url}）\n- 原因：{reason}\n- 发现人：@{who}（{when}）\n\n"
    "请管理员立即登录公众平台（mp.weixin.qq.com），在“内容与互动 → 发表记录”中找到这篇文章，点“删除”手动删除，"
    "再运行 gzh emergency takedown {target} --reason … 补记（立案、记下处置时间并报告；已删除的文章不会再删一次）。",
    "{mentions}\n\nWeChat's {count} deletions for today are used, so this article is still online:\n\n"
    "- Article: {title} ({url})\n- Reason: {reason}\n- Found by: @{who} ({when})\n\n"
    "Delete it by hand in the MP console (Content → Published), then run gzh emergency takedown {target} --reason … "
    "to record it (a deleted article is not deleted again).")
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
    "| 处置时间 | {acted} |\n| 执行人 | @{who} |\n| 已通知 | {notified} |\n| 当前状态 | 处置中 |\n| 书面报告截止 | {due} |\n\n"
    "{evidence}## 处置经过\n\n- {when}　{step}\n- {when}　通知管理小组组长和当日值班领导（第九条第二款）。\n\n"
    "## 书面报告\n\n" + PLACEHOLDER + "\n",
    "# Incident record {incident}\n\n- Event: {reason}\n- Article: {title} ({url})\n- Detected: {detected}\n- Action: {acted}\n"
    "- By: @{who}\n- Notified: {notified}\n- Status: in progress\n- Written report due: {due}\n\n{evidence}- {when} {step}\n")
_DELETED = Text("从公众号删除该文章（freepublish/delete），发布记录中已标记下线。",
                "deleted from the account (freepublish/delete), marked offline in the ledger.")
_FOUND_DELETED = Text("文章在微信上已被删除（在公众平台手动删除，或此前的运行删除后中断），这次只补记，未再删除；发布记录中已标记下线。",
                      "found already deleted on WeChat (by hand in the MP console, or by an interrupted run); recorded, "
                      "not deleted again; marked offline in the ledger.")
FOUND_DELETED = Text("（文章在微信上已被删除，这次只补记，没有再删除，不占用当天的删除次数）",
                     " (it was deleted on WeChat already: recorded only, nothing deleted, no deletion used)")
_OPENED = Text("立案，文章未下线（{reason}）。", "incident opened, the article not taken down ({reason}).")
_NOT_YET = Text("—（尚未下线）", "— (not taken down)")
_EVIDENCE = Text("## 发现与证据\n\n- 巡查发现：{title}（首次发现 {seen}{issue}）\n- {detail}\n{diff}\n",
                 "## Finding and evidence\n\n- Patrol finding: {title} (first seen {seen}{issue})\n- {detail}\n{diff}\n")
_ON_ISSUE = Text("，平台上的问题 #{number}", ", forge issue #{number}")
_NOTICE_TITLE = Text("【应急处置】已下线：{title}", "[Emergency] Taken down: {title}")
_NOTICE_LINES = (
    Text("按《暂行办法》第九条第二款报告：文章已于 {when} 从公众号删除", "Reported under Art. 9(2): deleted at {when}"),
    Text("原因：{reason}", "Reason: {reason}"),
    Text("执行人：{who}；事件记录：{record}", "By {who}; incident record: {record}"),
    Text("请组长和今日值班领导知悉，管理员将按期提交书面报告", "The administrator will file the written report in time"),
)
OPENED_TITLE = Text("【应急处置】立案：{title}", "[Emergency] Incident opened: {title}")
_OPENED_BODY = Text(
    "{mentions}\n\n按《暂行办法》第九条第二款报告：\n\n- 文章：{title}（{url}）\n- 事件：{reason}\n- 处置：{when} 立案，文章暂未下线\n"
    "- 立案人：@{who}\n- 事件记录：{record}（书面报告截止 {due}）\n\n需要下线时，用 gzh emergency takedown，处置会记入同一事件。",
    "{mentions}\n\nReported under Art. 9(2):\n\n- Article: {title} ({url})\n- Event: {reason}\n- Action: opened at {when}, "
    "not taken down\n- By: @{who}\n- Incident record: {record} (written report due {due})\n\n"
    "gzh emergency takedown joins this incident if it must come down.")
_OPENED_LINES = (
    Text("按《暂行办法》第九条第二款报告：{when} 立案，文章暂未下线", "Reported under Art. 9(2): opened at {when}, not taken down"),
    Text("事件：{reason}", "Event: {reason}"),
    Text("立案人：{who}；事件记录：{record}", "By {who}; incident record: {record}"),
)
_CLOSING = Text("\n## 结案\n\n- {when}　@{who} 结案：{summary}\n- 当前状态：已结案\n",
                "\n## Closed\n\n- {when} @{who}: {summary}\n- Status: closed\n")


@dataclass(frozen=True)
class Target:
    post: str
    article_id: str
    url: str
    title: str


BY_HAND = Target("", "", "", "—")  # an incident opened by hand, about no article in particular


@dataclass(frozen=True)
class Evidence:
    """What the patrol saw, carried into the incident record: when it was first seen, its detail and diff."""

    key: str                      # the tracked finding's key, patrol/<kind>:<…>
    title: str
    seen_at: str                  # YYYY-MM-DD HH:MM, Beijing
    detail: str = ""
    diff: str = ""
    issue: int = 0
    post: str = ""


def find_target(ledger: Ledger, target: str, root: Path | None = None) -> Target:
    """A post folder, an article URL or an article_id; an article unknown to the ledger is allowed.
    With the repository's root, a folder may be typed as a path (absolute, or its index.md), and the
    article is named by its title (`patrol.Titles`), else by its folder."""
    events = ledger.events
    wanted = (as_bundle(root, target) if root else target).strip().rstrip("/")
    for bundle, state in fold(events).items():
        if wanted and state.article_id and wanted in (bundle, state.url or None, state.article_id):
            return Target(bundle, state.article_id, state.url, Titles(root, events)(bundle) if root else bundle)
    if re.fullmatch(r"[A-Za-z0-9_-]{6,}", target):
        return Target("", target, "", target)  # e.g. found by the patrol, published outside the pipeline
    raise GzhError(_NOT_FOUND(target=target))


def as_bundle(root: Path, target: str) -> str:
    """A post named by a path as typed (absolute, with a trailing slash, or its index.md) as the ledger keys it."""
    path = Path(target)
    if "://" in target or not path.exists():
        return target
    folder = (path.parent if path.name == posts.POST_FILE else path).resolve()
    return folder.relative_to(root.resolve()).as_posix() if folder.is_relative_to(root.resolve()) else target


@dataclass(frozen=True)
class Removal:
    """What removing one article works with, for an emergency takedown and a routine withdrawal alike."""

    policy: Policy
    wechat: WeChat
    ledger: Ledger
    now: dt.datetime
    target: Target
    previous: Event | None        # the takedown or withdrawal that already deleted it


def removal(root: Path, target: str, credentials: Credentials | None, today: dt.date | None) -> Removal:
    policy = load_repository_policy(root)
    wechat, ledger = connect(root, credentials or Credentials.from_environment())
    found = find_target(ledger, target, root)
    return Removal(policy, wechat, ledger, clock.now(today), found, taken_down(ledger.events, found.article_id))


class Deletion(Enum):
    DELETED = "deleted"    # deleted now, one of the day's deletions used
    GONE = "gone"          # WeChat shows it deleted already: by hand in the MP console after the quota ran out,
                           # or by a run killed before it recorded; nothing to delete, only to record
    REFUSED = "refused"    # the day's deletions are used: still online


_STEPS = {Deletion.DELETED: _DELETED, Deletion.GONE: _FOUND_DELETED}  # the step an incident record shows


def delete(removal: Removal) -> Deletion:
    """Delete the one article (index 1: 0 would delete every article under the id), unless WeChat shows it
    deleted already. REFUSED, with nothing deleted, when the day's deletions are used: counted in the ledger,
    or WeChat's 45009, which counts deletions made in the web console too."""
    if _deleted_on_wechat(removal.wechat, removal.target.article_id):
        return Deletion.GONE
    if quota_used(removal.ledger, removal.now.date()):
        return Deletion.REFUSED
    try:
        removal.wechat.delete_article(removal.target.article_id, 1)
    except WeChatError as error:
        if error.code != QUOTA_USED:
            raise
        return Deletion.REFUSED
    return Deletion.DELETED


def _deleted_on_wechat(wechat: WeChat, article_id: str) -> bool:
    """freepublish/getarticle marks each item is_deleted; gzh deletes the first (index 1). A look that fails
    says nothing: the delete goes ahead (act first) and answers for itself."""
    try:
        items = wechat.get_article(article_id).get("news_item")
    except WeChatError:
        return False
    # a reply of another shape says nothing either
    return isinstance(items, list) and bool(items) and isinstance(items[0], dict) and items[0].get("is_deleted") is True


def deletions_today(ledger: Ledger, today: dt.date) -> int:
    """The day's freepublish/delete calls: a takedown that only recorded an article found deleted used none."""
    return sum(1 for event in ledger.events if event.kind is Kind.TAKEDOWN and not event.data.get("found_deleted")
               and _local(event.time).date() == today)


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
    return clock.minute(_local(stamp))


def incident_id(now: dt.datetime, target: Target, events: Iterable[Event]) -> str:
    """Minute and article, readable in a list; a second incident in the same minute (two opened by hand) gets -2, -3…"""
    base = f"{now:%Y%m%d-%H%M}-{re.sub(r'[^a-z0-9]+', '-', target.article_id.lower())[-12:].strip('-') or 'manual'}"
    known = incidents(events)
    candidate, number = base, 2
    while candidate in known:
        candidate, number = f"{base}-{number}", number + 1
    return candidate


def leaders(policy: Policy, today: dt.date) -> list[str]:
    """Who is told at once (Art. 9(2)): the group leader, the day's duty leader, the administrators."""
    people = [policy.leader, policy.duty_leader(today) or "", *policy.members("administrator")]
    return list(dict.fromkeys(person for person in people if person))


@dataclass(frozen=True)
class Opening:
    """A new incident's particulars, for a takedown and an incident opened without one alike."""

    id: str
    path: str                     # its record on the ledger branch
    due: str                      # the written report's deadline (Art. 9(3))
    detected: str                 # 发现时间: the patrol's first sighting of the finding, else now


def new_incident(policy: Policy, events: Iterable[Event], target: Target, now: dt.datetime,
                 evidence: Evidence | None) -> Opening:
    incident = incident_id(now, target, events)
    return Opening(incident, f"incidents/{incident}.md", report_due(policy, now),
                   evidence.seen_at if evidence else clock.minute(now))


def report_due(policy: Policy, now: dt.datetime) -> str:
    """When the written report is due (Art. 9(3))."""
    return clock.minute(now + dt.timedelta(hours=policy.report_hours))


def record(incident: str, target: Target, reason: str, policy: Policy, now: dt.datetime, detected: str,
           evidence: Evidence | None = None, *, deletion: Deletion | None = None) -> str:
    """The incident record (Art. 9(2): keep the records): opened by a takedown (its `deletion`) or without one."""
    due = report_due(policy, now)
    notified = "、".join(f"{policy.person(user).name}（@{user}）" for user in leaders(policy, now.date()))
    when = clock.minute(now)
    return _RECORD(incident=incident, reason=reason, title=target.title, url=target.url or "—", detected=detected,
                   when=when, acted=when if deletion else _NOT_YET(), who=actor(), notified=notified, due=due,
                   step=_STEPS[deletion]() if deletion else _OPENED(reason=reason), evidence=_evidence(evidence))


def _evidence(evidence: Evidence | None) -> str:
    if evidence is None:
        return ""
    diff = f"\n```diff\n{evidence.diff}\n```\n" if evidence.diff else ""
    issue = _ON_ISSUE(number=evidence.issue) if evidence.issue else ""
    return _EVIDENCE(title=evidence.title, seen=evidence.seen_at, issue=issue, detail=evidence.detail or "—", diff=diff)


def with_takedown(text: str, now: dt.datetime, deletion: Deletion) -> str:
    """An incident opened without a takedown, the article now deleted: the time and the step added."""
    when = clock.minute(now)
    return (text.replace(f"| 处置时间 | {_NOT_YET()} |", f"| 处置时间 | {when} |", 1)
            .replace("\n\n## 书面报告\n", f"\n- {when}　{_STEPS[deletion]()}\n\n## 书面报告\n", 1))


@dataclass(frozen=True)
class Takedown:
    """One takedown, or an incident opened without one, as it is reported to the leaders: on the forge and in the groups."""

    incident: str
    target: Target
    reason: str
    when: dt.datetime
    record: str                   # where the incident record is kept: branch:path
    due: str                      # the written report's deadline, YYYY-MM-DD HH:MM


def notice(takedown: Takedown, link: str, *, opened: bool = False) -> Notice:
    """The takedown, or an incident `opened` without one, as the management group's and the leaders' groups
    read it (once per incident and kind)."""
    values = {"when": clock.minute(takedown.when), "reason": plain(takedown.reason), "who": actor(),
              "record": takedown.record}
    title, lines = (OPENED_TITLE, _OPENED_LINES) if opened else (_NOTICE_TITLE, _NOTICE_LINES)
    return Notice(f"{'incident' if opened else 'takedown'}:{takedown.incident}", title(title=takedown.target.title),
                  tuple(line(**values) for line in lines), link, takedown.due[:10])


def forge_body(takedown: Takedown, mentions: str, *, opened: bool = False) -> str:
    target = takedown.target
    return (_OPENED_BODY if opened else NOTIFY_BODY)(
        mentions=mentions, title=target.title, url=target.url or "—", reason=takedown.reason,
        when=clock.minute(takedown.when), who=actor(), record=takedown.record, due=takedown.due)


def closing(summary: str, now: dt.datetime) -> str:
    return _CLOSING(when=clock.minute(now), who=actor(), summary=summary)


@dataclass(frozen=True)
class Incident:
    """An incident as its events tell it: opened, told on the forge (the issue), reported, closed."""

    id: str
    path: str                     # the record's path on the ledger branch
    issue: int | None = None
    closed: bool = False
    post: str = ""
    article_id: str = ""
    title: str = ""               # the article's title when opened ("—" by hand; "" in records older than this field)
    due: str = ""                 # the written report's deadline, YYYY-MM-DD HH:MM
    reported: bool = False


def incidents(events: Iterable[Event]) -> dict[str, Incident]:
    found: dict[str, Incident] = {}
    for event in (event for event in events if event.kind is Kind.INCIDENT):
        data = event.data
        known = found.get(data["id"]) or Incident(data["id"], data["path"], post=event.post,
                                                   article_id=data.get("article_id", ""),
                                                   title=data.get("article", ""), due=data.get("due", ""))
        found[known.id] = dataclasses.replace(known, issue=data.get("issue", known.issue),
                                              closed=known.closed or bool(data.get("closed")),
                                              reported=known.reported or bool(data.get("report")))
    return found


def open_for(events: Iterable[Event], target: Target) -> Incident | None:
    """The incident still open about this article, which a takedown joins instead of opening a second."""
    if not target.article_id:
        return None
    return next((known for known in incidents(events).values()
                 if not known.closed and known.article_id == target.article_id), None)


def opened_event(incident_id: str, path: str, target: Target, reason: str, due: str, evidence: Evidence | None) -> Event:
    return Event(Kind.INCIDENT, target.post, data={"id": incident_id, "path": path, "reason": reason, "article": target.title,
                                                 "article_id": target.article_id, "due": due,
                                                 "finding": evidence.key if evidence else ""})


def incident(ledger: Ledger, reference: str, *, open_only: bool = False) -> Incident:
    """By its id, or by its article's folder: that article's latest incident (what a written rehearsal can name)."""
    known = incidents(ledger.events)
    found = known.get(reference) or next((item for item in reversed(known.values())
                                          if item.post and item.post == reference.rstrip("/")), None)
    if found is None or (open_only and found.closed):
        raise GzhError((_CLOSED_ALREADY if found else _NO_INCIDENT)(incident=found.id if found else reference))
    return found


def with_report(text: str, report: str, now: dt.datetime) -> str:
    """The record with the written report in place of its placeholder (Art. 9(3)); a later one is added below."""
    filed = _FILED(report=report.strip(), who=actor(), when=clock.minute(now))
    if PLACEHOLDER in text:
        return text.replace(PLACEHOLDER, filed)
    return text + _FURTHER(when=clock.minute(now)) + filed


def takedown_event(target: Target, reason: str, deletion: Deletion, incident_id: str = "") -> Event:
    """The article deleted: by an emergency takedown (its incident), or routinely (`gzh withdraw`, no incident).
    Both count in the day's deletions, and neither deletes an article the other removed; one found deleted
    on WeChat already is recorded as such (`found_deleted`) and counts none."""
    why = {"by": actor(), "incident": incident_id} if incident_id else {"routine": True}
    found = {"found_deleted": True} if deletion is Deletion.GONE else {}
    return Event(Kind.TAKEDOWN, target.post, data={"article_id": target.article_id, "url": target.url, "reason": reason,
                                                **why, **found})


def manual_event(target: Target, reason: str, *, routine: bool = False) -> Event:
    """Deleting was refused for the day's quota: the article stays online until someone deletes it by hand."""
    return Event(Kind.ERROR, target.post, data={"call": "freepublish/delete", "code": QUOTA_USED, "manual": True,
                                             "article_id": target.article_id, "reason": reason, "by": actor(),
                                             **({"routine": True} if routine else {})})


def quota_message(target: Target, people: str) -> str:
    return _QUOTA(count=DELETES_PER_DAY, title=target.title, target=target.post or target.url, people=people)


def manual_notice(target: Target, reason: str, now: dt.datetime, link: str) -> Notice:
    return Notice(f"takedown-by-hand:{target.article_id}:{now.date().isoformat()}", MANUAL_TITLE(title=target.title),
                  tuple(line(reason=plain(reason)) for line in _MANUAL_LINES), link, now.date().isoformat())


def manual_body(target: Target, reason: str, now: dt.datetime, mentions: str) -> str:
    return _MANUAL_BODY(mentions=mentions, count=DELETES_PER_DAY, title=target.title, url=target.url or "—",
                        reason=reason, who=actor(), when=clock.minute(now), target=target.post or target.url)
