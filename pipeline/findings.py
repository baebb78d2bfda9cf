"""Findings as forge issues (Art. 7(2)): one issue per finding, assigned to the department that
must fix it with a due date, updated while the finding persists, closed by the re-check that no
longer sees it. The ledger remembers which issue belongs to which finding, so nothing is duplicated
across runs. Each issue opened is also announced in the department's WeCom or DingTalk group
(pipeline/notify.py), and one past its due date in the management group's too."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Iterable

from pipeline import forge as forge_module, notify
from pipeline.i18n import Text
from pipeline.ledger import Event, Kind, Ledger
from pipeline.patrol import Finding
from pipeline.policy import Policy

_BODY = Text("{detail}\n\n- 责任部门：{owner}\n- 整改期限：{due}\n- 首次发现：{first}\n- 最近复查：{today}（仍存在）\n\n"
             "整改后无需手动关闭：下一次巡查复查通过会自动关闭并留言（第七条第二款）。{mentions}",
             "{detail}\n\n- Owner: {owner}\n- Due: {due}\n- First seen: {first}\n- Last check: {today} (still there)\n\n"
             "The next patrol closes this when fixed. {mentions}")
_CLOSED = Text("{today} 复查：问题已整改，自动关闭。", "{today} re-check: fixed, closed automatically.")
_ADMIN = Text("管理员", "administrator")
_ASSIGNED = Text("【{label}】{title}", "[{label}] {title}")
_LATE = Text("【{label}·已超期】{title}", "[{label}, overdue] {title}")
_OWNER = Text("责任部门：{owner}；整改期限：{due}", "Owner: {owner}; due {due}")
_UNSYNCED = Text("⚠ 平台上的问题没有全部同步（{error}）。报告照常保存；已开、已关的问题已记入账本，其余的下一次运行时会重试",
                 "⚠ Forge issues not all synced ({error}). The report is kept; the next run retries the rest")


@dataclass(frozen=True)
class Synced:
    """What a sync did: issues opened, updated and closed, the forge's failure that stopped it (a line
    for the report), and the notifications that did not go out."""

    opened: int = 0
    updated: int = 0
    closed: int = 0
    failure: str = ""
    warnings: tuple[str, ...] = ()

    @property
    def counts(self) -> dict[str, int]:
        return {"opened": self.opened, "updated": self.updated, "closed": self.closed}


@dataclass(frozen=True)
class Tracked:
    key: str
    issue: int
    first_seen: str
    due: str


def open_issues(events: Iterable[Event]) -> dict[str, Tracked]:
    tracked: dict[str, Tracked] = {}
    for event in events:
        if event.kind != "finding":
            continue
        key = event.data["key"]
        if event.data.get("closed"):
            tracked.pop(key, None)
        else:
            tracked[key] = Tracked(key, int(event.data["issue"]), event.data["first_seen"], event.data["due"])
    return tracked


def owners(policy: Policy, finding: Finding) -> tuple[str, tuple[str, ...]]:
    department = policy.department(finding.department)
    if department:
        return department.name, department.heads
    return _ADMIN(), policy.members("administrator")


def sync(forge: forge_module.Forge, ledger: Ledger, policy: Policy, findings: Iterable[Finding],
         today: dt.date, scope: str = "patrol", label: str = "巡查", *, overdue: bool = False) -> Synced:
    """Open, update and close issues so they match `findings`.

    `scope` keeps the patrol's and the inbox's issues apart: each closes only its own. An issue
    opened is announced in the owner department's group with its due date; one past its due date,
    or every one when the findings are `overdue` themselves (unanswered comments), in the
    management group's too. Announcements go out after the issues are recorded, once each.
    """
    tracked = {key: item for key, item in open_issues(ledger.events).items() if key.startswith(f"{scope}/")}
    counts = {"opened": 0, "updated": 0, "closed": 0}
    events: list[Event] = []
    announcements: list[tuple[notify.Notice, Finding, bool]] = []
    current = {f"{scope}/{finding.key}": finding for finding in findings}
    failure = ""
    try:
        for key, finding in current.items():
            owner, people = owners(policy, finding)
            mentions = " ".join(f"@{person}" for person in people)
            if key in tracked:
                item = tracked[key]
                body = _body(finding, owner, item.due, item.first_seen, today, mentions)
                forge.update_issue(item.issue, body=body)
                counts["updated"] += 1
                if item.due < today.isoformat():
                    announcements.append((_notice(key, finding, owner, item.issue, item.due, label, late=True), finding, True))
                continue
            due = (today + dt.timedelta(days=policy.due_days)).isoformat()
            body = _body(finding, owner, due, today.isoformat(), today, mentions)
            number = forge.create_issue(f"【{label}】{finding.title}", body, list(people), due)
            events.append(Event(Kind.FINDING, finding.post, data={"key": key, "issue": number, "first_seen": today.isoformat(),
                                                                 "due": due, "kind": finding.kind}))
            counts["opened"] += 1
            announcements.append((_notice(key, finding, owner, number, due, label, late=overdue), finding, overdue))
        for key, item in tracked.items():
            if key not in current:
                forge.comment_issue(item.issue, _CLOSED(today=today.isoformat()))
                forge.update_issue(item.issue, closed=True)
                events.append(Event(Kind.FINDING, data={"key": key, "issue": item.issue, "closed": True,
                                                     "first_seen": item.first_seen, "due": item.due}))
                counts["closed"] += 1
    except forge_module.ForgeError as error:
        # The run's report matters more than its issues: what was done is recorded below, so the next run
        # neither opens an issue twice nor misses one; the rest is simply tried again then.
        failure = _UNSYNCED(error=str(error)) + "\n"
    if events:
        ledger.append(*events)
    warnings = [warning for notice, finding, late in announcements for warning in _announce(ledger, policy, notice, finding, late)]
    return Synced(**counts, failure=failure, warnings=tuple(warnings))


def _notice(key: str, finding: Finding, owner: str, issue: int, due: str, label: str, *, late: bool) -> notify.Notice:
    """A finding as its department's group reads it. The key names the issue and the severity: a
    finding back under a new issue is announced again, and so is one that turns serious while late
    (a comment unanswered for 3 months, a single veto)."""
    title = (_LATE if late else _ASSIGNED)(label=label, title=finding.title)
    lines = (notify.plain(finding.detail[:500]), _OWNER(owner=owner, due=due))
    return notify.Notice(f"finding:{key}:{issue}:{'overdue' if late else 'opened'}:{finding.severity}", title, lines,
                         notify.issue_link(issue), due)


def _announce(ledger: Ledger, policy: Policy, notice: notify.Notice, finding: Finding, late: bool) -> list[str]:
    """To the owner department's group, or the administrators' when no department owns it (as `owners`)."""
    department = policy.department(finding.department)
    return notify.notify(policy, notice, departments=(department.slug,) if department else (),
                         people=() if department else policy.members("administrator"), management=late, ledger=ledger)


def _body(finding: Finding, owner: str, due: str, first: str, today: dt.date, mentions: str) -> str:
    body = _BODY(detail=finding.detail, owner=owner, due=due, first=first, today=today.isoformat(), mentions=mentions)
    if finding.diff:
        body += "\n\n```diff\n" + finding.diff + "\n```\n"
    return body
