"""Findings as tracked items (Art. 7(2)) and forge issues: one issue per finding, assigned to the
department that must fix it with a due date, updated while the finding persists (its title too),
escalated once when it is past its due date, closed by the re-check that no longer sees it.

The ledger is the record: a finding is written down when first seen (the time, not only the date,
and its due date) before the forge is asked anything, so neither slides when the forge fails; the
issue's number, the escalation and the close follow as events. Each issue is also announced in the
department's WeCom or DingTalk group (pipeline/notify.py); a late one to the leader in charge and
the management group too. A serious finding (`Finding.alarming`: tampering, a ban, a deletion, an
article published outside the pipeline, secret data) is reported at once to the administrators,
the group leader and the day's duty leader (Art. 9(2)), on the issue and in their groups.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
from dataclasses import dataclass
from typing import Iterable

from pipeline import clock, emergency, forge as forge_module, notify
from pipeline.i18n import Text
from pipeline.ledger import Event, Kind, Ledger
from pipeline.patrol import ALERT_KINDS, Finding
from pipeline.policy import Policy

_BODY = Text("{detail}\n\n- 责任部门：{owner}\n- 整改期限：{due}\n- 首次发现：{first}\n- 最近复查：{today}（仍存在）\n\n"
             "整改后无需手动关闭：下一次巡查复查通过会自动关闭并留言（第七条第二款）。{mentions}",
             "{detail}\n\n- Owner: {owner}\n- Due: {due}\n- First seen: {first}\n- Last check: {today} (still there)\n\n"
             "The next patrol closes this when fixed. {mentions}")
_ALERT_LINE = Text("\n\n**紧急**：按第九条第二款，已同时报告管理员、管理小组组长和当日值班领导：{people}。"
                   "需要立案的，用 gzh emergency open 打开事件记录；需要下线的，用 gzh emergency takedown。",
                   "\n\n**Urgent**: reported under Art. 9(2) to the administrators, the group leader and the duty leader: "
                   "{people}. Record an incident with gzh emergency open; take it down with gzh emergency takedown.")
_CLOSED = {"patrol": Text("{today} 复查：问题已整改，自动关闭。", "{today} re-check: fixed, closed automatically."),
           "inbox": Text("{today}：本部门的读者留言都已答复或处置，自动关闭。", "{today}: every item answered or moderated, closed.")}
_ESCALATED_COUNT = Text("超过整改期限、已提请分管领导督办 {count} 个。", " {count} past their due date, escalated to the leader in charge.")
_ESCALATED = Text("{mentions} 本问题已超过整改期限（{due}），仍未整改。按第七条第二款提请分管领导督办。\n\n"
                  "- 责任部门：{owner}\n- 首次发现：{first}\n- 整改期限：{due}\n\n整改后下一次复查通过会自动关闭。",
                  "{mentions} This is past its due date ({due}) and not fixed; escalated to the leader in charge (Art. 7(2)).\n\n"
                  "- Owner: {owner}\n- First seen: {first}\n- Due: {due}\n\nThe next re-check closes it when fixed.")
_ADMIN = Text("管理员", "administrator")
_ASSIGNED = Text("【{label}】{title}", "[{label}] {title}")
_URGENT = Text("【{label}·紧急】{title}", "[{label}, urgent] {title}")
_LATE = Text("【{label}·已超期】{title}", "[{label}, overdue] {title}")
_OWNER = Text("责任部门：{owner}；整改期限：{due}", "Owner: {owner}; due {due}")
_ALERT_LINES = (Text("首次发现：{first}；责任部门：{owner}", "First seen {first}; owner: {owner}"),
                Text("按第九条第二款报告管理员、管理小组组长和当日值班领导", "Reported under Art. 9(2) to the administrators and the leaders"))
_UNSYNCED = Text("⚠ 平台上的问题没有全部同步（{error}）。报告照常保存；已开、已关的问题已记入账本，其余的下一次运行时会重试",
                 "⚠ Forge issues not all synced ({error}). The report is kept; the next run retries the rest")


@dataclass(frozen=True)
class Synced:
    """What a sync did: issues opened, updated and closed, findings escalated past their due date, the
    forge's failure that stopped it (a line for the report), and the notifications that did not go out."""

    opened: int = 0
    updated: int = 0
    closed: int = 0
    escalated: int = 0
    failure: str = ""
    warnings: tuple[str, ...] = ()

    @property
    def counts(self) -> dict[str, int]:
        return {"opened": self.opened, "updated": self.updated, "closed": self.closed}

    @property
    def escalation(self) -> str:
        """The report's words on what this run escalated ("" when nothing)."""
        return _ESCALATED_COUNT(count=self.escalated) if self.escalated else ""


@dataclass(frozen=True)
class Tracked:
    """A finding as the ledger knows it, from first seen to closed."""

    key: str                      # scope/finding key
    issue: int                    # 0 until the forge has taken it
    first_seen: str               # YYYY-MM-DD
    due: str                      # YYYY-MM-DD
    seen_at: str = ""             # YYYY-MM-DD HH:MM, Beijing (records older than this field: the date)
    post: str = ""
    kind: str = ""
    escalated: bool = False


def open_issues(events: Iterable[Event]) -> dict[str, Tracked]:
    """The findings still open, by key: the first event opens one, later ones add the issue or the escalation."""
    tracked: dict[str, Tracked] = {}
    for event in events:
        if event.kind != "finding":
            continue
        data, key = event.data, event.data["key"]
        known = tracked.get(key)
        if data.get("closed"):
            tracked.pop(key, None)
        elif known is not None:
            # a new deadline (a department's earliest waiting comment was answered): escalated again only if missed
            moved = data.get("due", known.due) != known.due
            tracked[key] = dataclasses.replace(known, issue=int(data.get("issue") or known.issue), due=data.get("due", known.due),
                                               escalated=not moved and (known.escalated or bool(data.get("escalated"))))
        elif "first_seen" in data:
            tracked[key] = Tracked(key, int(data.get("issue") or 0), data["first_seen"], data["due"],
                                   data.get("seen_at") or data["first_seen"], event.post, data.get("kind", ""))
    return tracked


def owners(policy: Policy, finding: Finding) -> tuple[str, tuple[str, ...]]:
    department = policy.department(finding.department)
    if department:
        return department.name, department.heads
    return _ADMIN(), policy.members("administrator")


def supervisors(policy: Policy, finding: Finding) -> tuple[str, ...]:
    """Whom a late finding escalates to: the owning department's leader in charge (分管领导). What no
    department owns (timeliness, articles published outside the pipeline) concerns every department's
    supply, so it goes to all the leaders in charge (the group's deputies), or to the group leader
    when there are none; the principal leader is otherwise kept for emergencies (Art. 9)."""
    department = policy.department(finding.department)
    if department:
        return (department.leader_in_charge,)
    return policy.deputies or (policy.leader,)


def sync(forge: forge_module.Forge | None, ledger: Ledger, policy: Policy, findings: Iterable[Finding],
         today: dt.date, scope: str = "patrol", label: str = "巡查") -> Synced:
    """Record, open, update, escalate and close so the tracked findings match `findings`.

    `scope` keeps the patrol's and the inbox's issues apart: each closes only its own. Without a forge
    (None) the findings are still tracked and told. A finding carrying its own due date (a department's
    unanswered comments) is late from the day after it. Announcements go out after the forge's work is
    recorded, and whatever the forge did: each notice once (pipeline/notify.py keeps the ledger of them).
    """
    now = clock.now(today)
    current = {f"{scope}/{finding.key}": finding for finding in findings}
    tracked = _tracked(ledger, scope)
    first = [_seen(key, finding, policy, now) for key, finding in current.items() if key not in tracked]
    moved = [Event(Kind.FINDING, finding.post, data={"key": key, "issue": tracked[key].issue, "due": finding.due})
             for key, finding in current.items() if key in tracked and finding.due and finding.due != tracked[key].due]
    if first or moved:  # written before the forge is asked: the first-seen time and the due date never slide
        ledger.append(*first, *moved)
        tracked = _tracked(ledger, scope)
    step = _Step(forge, policy, today, scope, label)
    failure = ""
    try:
        if forge is not None:
            for key, finding in current.items():
                tracked[key] = step.issue(tracked[key], finding)
        for key in [key for key in tracked if key not in current]:
            step.close(tracked.pop(key))
    except forge_module.ForgeError as error:
        # The run's report matters more than its issues: what was done is recorded below, so the next run
        # neither opens an issue twice nor misses one; the rest is simply tried again then.
        failure = _UNSYNCED(error=str(error)) + "\n"
    if step.events:
        ledger.append(*step.events)
    warnings = [warning for key, finding in current.items() for warning in step.announce(ledger, tracked[key], finding)]
    return Synced(step.opened, step.updated, step.closed, step.escalated, failure, tuple(warnings))


def _tracked(ledger: Ledger, scope: str) -> dict[str, Tracked]:
    return {key: item for key, item in open_issues(ledger.events).items() if key.startswith(f"{scope}/")}


def _seen(key: str, finding: Finding, policy: Policy, now: dt.datetime) -> Event:
    due = finding.due or (now.date() + dt.timedelta(days=policy.due_days)).isoformat()
    return Event(Kind.FINDING, finding.post, data={"key": key, "issue": 0, "first_seen": now.date().isoformat(),
                                                   "seen_at": clock.minute(now), "due": due,
                                                   "kind": finding.kind, "severity": finding.severity})


class _Step:
    """One sync's work on the forge and in the groups: the events to record and what was done."""

    def __init__(self, forge: forge_module.Forge | None, policy: Policy, today: dt.date, scope: str, label: str) -> None:
        self.forge, self.policy, self.today, self.scope, self.label = forge, policy, today, scope, label
        self.events: list[Event] = []
        self.opened = self.updated = self.closed = self.escalated = 0

    def late(self, item: Tracked) -> bool:
        return item.due < self.today.isoformat()

    def title(self, item: Tracked, finding: Finding) -> str:
        """The issue's title as it should read today: it changes with the finding's title and when it turns late."""
        form = _LATE if self.late(item) else _URGENT if finding.alarming else _ASSIGNED
        return form(label=self.label, title=finding.title)

    def people(self, finding: Finding) -> list[str]:
        """Who is assigned and mentioned: the owner, and for a serious finding the administrators and the leaders."""
        _, heads = owners(self.policy, finding)
        alerted = emergency.leaders(self.policy, self.today) if finding.alarming else []
        return list(dict.fromkeys([*heads, *alerted]))

    def issue(self, item: Tracked, finding: Finding) -> Tracked:
        assert self.forge is not None
        people = self.people(finding)
        body = self.body(item, finding, people)
        if item.issue:
            self.forge.update_issue(item.issue, title=self.title(item, finding), body=body, due=item.due)
            self.updated += 1
        else:
            number = self.forge.create_issue(self.title(item, finding), body, people, item.due)
            item = dataclasses.replace(item, issue=number)
            self.events.append(Event(Kind.FINDING, finding.post, data={"key": item.key, "issue": number}))
            self.opened += 1
        if self.late(item) and not item.escalated:
            self.forge.comment_issue(item.issue, self.escalation(item, finding))
            item = dataclasses.replace(item, escalated=True)
            self.events.append(Event(Kind.FINDING, finding.post, data={"key": item.key, "issue": item.issue, "escalated": True}))
            self.escalated += 1
        return item

    def body(self, item: Tracked, finding: Finding, people: list[str]) -> str:
        owner, _ = owners(self.policy, finding)
        body = _BODY(detail=finding.detail, owner=owner, due=item.due, first=item.seen_at, today=self.today.isoformat(),
                     mentions=" ".join(f"@{person}" for person in people))
        if finding.alarming:
            body += _ALERT_LINE(people=self.policy.names(emergency.leaders(self.policy, self.today)))
        if finding.diff:
            body += "\n\n```diff\n" + finding.diff + "\n```\n"
        return body

    def escalation(self, item: Tracked, finding: Finding) -> str:
        owner, _ = owners(self.policy, finding)
        mentions = " ".join(f"@{person}" for person in supervisors(self.policy, finding))
        return _ESCALATED(mentions=mentions, due=item.due, owner=owner, first=item.seen_at)

    def close(self, item: Tracked) -> None:
        if item.issue and self.forge is not None:
            self.forge.comment_issue(item.issue, _CLOSED.get(self.scope, _CLOSED["patrol"])(today=self.today.isoformat()))
            self.forge.update_issue(item.issue, closed=True)
            self.closed += 1
        self.events.append(Event(Kind.FINDING, item.post, data={"key": item.key, "issue": item.issue, "closed": True,
                                                              "first_seen": item.first_seen, "due": item.due}))

    def announce(self, ledger: Ledger, item: Tracked, finding: Finding) -> list[str]:
        """The groups' side, each notice once: a serious finding to the leaders at once; the issue to its
        department; a late one to the leader in charge and the management group too."""
        warnings = []
        department = self.policy.department(finding.department)
        departments = (department.slug,) if department else ()
        owner = department.name if department else _ADMIN()
        if finding.alarming:
            warnings += notify.notify(self.policy, self.alert(item, finding, owner), people=emergency.leaders(self.policy, self.today),
                                      management=True, ledger=ledger)
        if item.issue:  # the department's notice points to its issue: it waits for the forge
            late = self.late(item)
            people = [*(() if department else self.policy.members("administrator")),
                      *(supervisors(self.policy, finding) if late else ())]
            warnings += notify.notify(self.policy, self.notice(item, finding, owner, late), departments=departments,
                                      people=people, management=late, ledger=ledger)
        return warnings

    def alert(self, item: Tracked, finding: Finding, owner: str) -> notify.Notice:
        """Keyed by the finding and when it was first seen: once, whatever the forge does."""
        lines = (notify.plain(finding.detail[:500]), *(line(first=item.seen_at, owner=owner) for line in _ALERT_LINES))
        link = notify.issue_link(item.issue) if item.issue else ""
        return notify.Notice(f"alert:{item.key}:{item.seen_at}", _URGENT(label=self.label, title=finding.title), lines, link)

    def notice(self, item: Tracked, finding: Finding, owner: str, late: bool) -> notify.Notice:
        """A finding as its department's group reads it. The key names the issue and the severity: a
        finding back under a new issue is announced again, and so is one that turns serious while late
        (a comment unanswered for 3 months, a single veto)."""
        title = (_LATE if late else _ASSIGNED)(label=self.label, title=finding.title)
        lines = (notify.plain(finding.detail[:500]), _OWNER(owner=owner, due=item.due))
        return notify.Notice(f"finding:{item.key}:{item.issue}:{'overdue' if late else 'opened'}:{finding.severity}", title,
                             lines, notify.issue_link(item.issue), item.due)


# -- the patrol's findings as an incident's evidence (Art. 9(2)) ------------------------------------------

def named(ledger: Ledger, name: str) -> emergency.Evidence | None:
    """The open patrol finding named by its forge issue (#12 or 12) or its key (tampered:content/…)."""
    wanted = name.strip().removeprefix("#")
    for item in _patrol_findings(ledger):
        if (item.issue and wanted == str(item.issue)) or wanted in (item.key, item.key.removeprefix("patrol/")):
            return evidence(ledger, item)
    return None


def about(ledger: Ledger, target: emergency.Target) -> emergency.Evidence | None:
    """The open patrol finding about this article, the serious kinds first, then the one seen first."""
    found = [item for item in _patrol_findings(ledger)
             if (target.post and item.post == target.post) or (target.article_id and target.article_id in item.key.split(":")[1:2])]
    found.sort(key=lambda item: (item.kind not in ALERT_KINDS, item.seen_at))
    return evidence(ledger, found[0]) if found else None


def evidence(ledger: Ledger, item: Tracked) -> emergency.Evidence:
    """The finding as the latest patrol report kept it (its detail and diff), and when it was first seen."""
    reported = _latest_report(ledger).get(item.key.removeprefix("patrol/"), {})
    return emergency.Evidence(item.key, str(reported.get("title") or item.kind), item.seen_at, str(reported.get("detail", "")),
                              str(reported.get("diff", "")), item.issue, item.post)


def _patrol_findings(ledger: Ledger) -> list[Tracked]:
    return list(_tracked(ledger, "patrol").values())


def _latest_report(ledger: Ledger) -> dict[str, dict[str, object]]:
    dates = [event.data["date"] for event in ledger.events if event.kind is Kind.PATROL]
    text = ledger.read_document(f"patrols/{dates[-1]}.json") if dates else None
    return {finding["key"]: finding for finding in json.loads(text)["findings"]} if text else {}
