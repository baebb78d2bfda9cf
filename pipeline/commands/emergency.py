"""`gzh emergency takedown TARGET --reason …` and `gzh emergency close INCIDENT --summary …` (Art. 9)."""
from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from pipeline import cli, emergency, forge as forge_module, notify, output
from pipeline.connect import connect
from pipeline.i18n import Text
from pipeline.ledger import Event, Kind
from pipeline.policy import Policy, load_repository_policy
from pipeline.posts import BEIJING
from pipeline.wechat import Credentials

_HELP = Text("应急处置：下线文章、通知领导、记录事件（第九条）", "emergency response (Art. 9)")
_TARGET = Text("文章文件夹、链接或 article_id", "post folder, URL or article_id")
_REASON = Text("原因（写进事件记录和通知）", "reason, for the record and the notice")
_INCIDENT = Text("事件编号", "incident id")
_SUMMARY = Text("结案说明", "closing summary")
_DONE = Text("已下线：{title}\n事件记录：{record}\n书面报告截止：{due}", "Taken down: {title}\nIncident record: {record}\nReport due: {due}")
_NOTIFIED = Text("已在代码托管平台上开问题 #{number}，通知：{people}", "Opened issue #{number} notifying {people}")
_TELL = Text("未配置代码托管平台，请立即把以下内容发给：{people}\n\n{body}", "No forge configured; send this at once to {people}:\n\n{body}")
_CLOSED = Text("事件 {incident} 已结案，记录已更新：{record}", "Incident {incident} closed: {record}")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    verbs = cli.add_verbs(parser, "emergency_command")
    takedown = verbs.add_parser("takedown", help=_HELP())
    takedown.add_argument("target", help=_TARGET())
    takedown.add_argument("--reason", required=True, help=_REASON())
    close = verbs.add_parser("close", help=_SUMMARY())
    close.add_argument("incident", help=_INCIDENT())
    close.add_argument("--summary", required=True, help=_SUMMARY())


def run(args: argparse.Namespace, root: Path) -> int:
    if args.emergency_command == "takedown":
        return takedown_command(root, args.target, args.reason)
    return close_command(root, args.incident, args.summary)


def takedown_command(root: Path, target: str, reason: str, *, credentials: Credentials | None = None,
                     now: dt.datetime | None = None) -> int:
    policy = load_repository_policy(root)
    wechat, ledger = connect(root, credentials or Credentials.from_environment())
    now = now or dt.datetime.now(BEIJING)
    found = emergency.find_target(ledger, target)
    emergency.check_quota(ledger, now.date())
    # Everything that could fail is worked out before the delete: after it, only recording is left.
    incident = emergency.incident_id(now, found)
    path = f"incidents/{incident}.md"
    due = emergency.report_due(policy, now)
    text = emergency.record(incident, found, reason, policy, now, detected=now.strftime("%Y-%m-%d %H:%M"))
    wechat.delete_article(found.article_id, 1)  # act first (Art. 9(2)); index 1: only this article
    ledger.append(emergency.takedown_event(found, reason),
                  Event(Kind.INCIDENT, found.post, data={"id": incident, "path": path, "reason": reason}),
                  files={path: text})
    takedown = emergency.Takedown(incident, found, reason, now, f"{ledger.branch}:{path}", due)
    output.write(_DONE(title=found.title, record=takedown.record, due=due) + "\n")
    people = emergency.leaders(policy, now.date())
    number = _tell_on_forge(policy, takedown, people)
    link = notify.issue_link(number) if number else found.url
    warnings = notify.notify(policy, emergency.notice(takedown, link), people=people, management=True, ledger=ledger)
    output.write(notify.warning_text(warnings))
    return 0


def _tell_on_forge(policy: Policy, takedown: emergency.Takedown, people: list[str]) -> int | None:
    """The leaders told through a forge issue (its number), or, without a forge, the text to send them at once."""
    body = emergency.forge_body(takedown, " ".join(f"@{person}" for person in people))
    names = "、".join(policy.person(person).display() for person in people)
    if not forge_module.configured():
        output.write(_TELL(people=names, body=body) + "\n")
        return None
    number = forge_module.from_environment().create_issue(emergency.NOTIFY_TITLE(title=takedown.target.title), body, people)
    output.write(_NOTIFIED(number=number, people=names) + "\n")
    return number


def close_command(root: Path, incident: str, summary: str, *, credentials: Credentials | None = None,
                  now: dt.datetime | None = None) -> int:
    load_repository_policy(root)
    _, ledger = connect(root, credentials or Credentials.from_environment())
    path = emergency.close_record(ledger, incident)
    text = (ledger.read_document(path) or "").replace("| 当前状态 | 处置中 |", "| 当前状态 | 已结案 |")
    text += emergency.closing(summary, now or dt.datetime.now(BEIJING))
    ledger.append(Event(Kind.INCIDENT, data={"id": incident, "path": path, "closed": True, "summary": summary}),
                  files={path: text})
    output.write(_CLOSED(incident=incident, record=f"{ledger.branch}:{path}") + "\n")
    return 0
