"""`gzh emergency takedown TARGET --reason …`, `gzh emergency report INCIDENT --file …` and
`gzh emergency close INCIDENT --summary …` (Art. 9)."""
from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from pipeline import cli, clock, emergency, forge as forge_module, notify, output
from pipeline.connect import connect
from pipeline.errors import GzhError, UsageError
from pipeline.i18n import Text
from pipeline.ledger import Event, Kind, Ledger
from pipeline.policy import Policy, load_repository_policy
from pipeline.wechat import Credentials, WeChatError

_HELP = Text("应急处置：下线文章、通知领导、记录事件（第九条）", "emergency response (Art. 9)")
_TARGET = Text("文章文件夹、链接或 article_id", "post folder, URL or article_id")
_REASON = Text("原因（写进事件记录和通知）", "reason, for the record and the notice")
_INCIDENT = Text("事件编号", "incident id")
_SUMMARY = Text("结案说明", "closing summary")
_REPORT_HELP = Text("把书面报告（第九条第三款）写进事件记录", "add the written report (Art. 9(3)) to the incident record")
_FILE = Text("书面报告文件（Markdown，UTF-8）", "the written report (Markdown, UTF-8)")
_DONE = Text("已下线：{title}\n事件记录：{record}\n书面报告截止：{due}", "Taken down: {title}\nIncident record: {record}\nReport due: {due}")
_ALREADY = Text("《{title}》已于 {when} 下线（事件 {incident}），这次没有再删除，也没有再通知。事件记录：{record}",
                "《{title}》 was taken down at {when} (incident {incident}); nothing deleted or told again. Record: {record}")
_NOTIFIED = Text("已在代码托管平台上开问题 #{number}，通知：{people}", "Opened issue #{number} notifying {people}")
_TELL = Text("未配置代码托管平台，请立即把以下内容发给：{people}\n\n{body}", "No forge configured; send this at once to {people}:\n\n{body}")
_CLOSED = Text("事件 {incident} 已结案，记录已更新：{record}", "Incident {incident} closed: {record}")
_ISSUE_CLOSED = Text("平台上的问题 #{number} 已关闭", "Forge issue #{number} closed")
_REPORTED = Text("书面报告已写进事件 {incident} 的记录：{record}", "Written report added to incident {incident}: {record}")
_NO_FILE = Text("读不到书面报告文件 {file}：请确认路径，文件须是 UTF-8 编码的文字（Markdown）",
                "Cannot read the report {file}: check the path; it must be UTF-8 text (Markdown)")
_EMPTY = Text("书面报告文件 {file} 是空的", "The report {file} is empty")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    verbs = cli.add_verbs(parser, "emergency_command")
    takedown = verbs.add_parser("takedown", help=_HELP())
    takedown.add_argument("target", help=_TARGET())
    takedown.add_argument("--reason", required=True, help=_REASON())
    report = verbs.add_parser("report", help=_REPORT_HELP())
    report.add_argument("incident", help=_INCIDENT())
    report.add_argument("--file", required=True, help=_FILE())
    close = verbs.add_parser("close", help=_SUMMARY())
    close.add_argument("incident", help=_INCIDENT())
    close.add_argument("--summary", required=True, help=_SUMMARY())
    cli.add_today(parser, takedown, report, close)


def run(args: argparse.Namespace, root: Path) -> int:
    if args.emergency_command == "takedown":
        return takedown_command(root, args.target, args.reason, today=args.today)
    if args.emergency_command == "report":
        return report_command(root, args.incident, Path(args.file), today=args.today)
    return close_command(root, args.incident, args.summary, today=args.today)


def takedown_command(root: Path, target: str, reason: str, *, credentials: Credentials | None = None,
                     today: dt.date | None = None) -> int:
    policy = load_repository_policy(root)
    wechat, ledger = connect(root, credentials or Credentials.from_environment())
    now = clock.now(today)
    found = emergency.find_target(ledger, target)
    previous = emergency.taken_down(ledger.events, found.article_id)
    if previous:
        return _already(ledger, found, previous)
    if emergency.quota_used(ledger, now.date()):
        return _delete_by_hand(policy, ledger, found, reason, now)
    # Everything that could fail is worked out before the delete: after it, only recording is left.
    incident = emergency.incident_id(now, found)
    path = f"incidents/{incident}.md"
    due = emergency.report_due(policy, now)
    text = emergency.record(incident, found, reason, policy, now, detected=now.strftime("%Y-%m-%d %H:%M"))
    try:
        wechat.delete_article(found.article_id, 1)  # act first (Art. 9(2)); index 1: only this article
    except WeChatError as error:
        if error.code != emergency.QUOTA_USED:  # deletions made in the web console count too
            raise
        return _delete_by_hand(policy, ledger, found, reason, now)
    ledger.append(emergency.takedown_event(found, reason, incident),
                  Event(Kind.INCIDENT, found.post, data={"id": incident, "path": path, "reason": reason}),
                  files={path: text})
    takedown = emergency.Takedown(incident, found, reason, now, f"{ledger.branch}:{path}", due)
    output.write(_DONE(title=found.title, record=takedown.record, due=due) + "\n")
    people = emergency.leaders(policy, now.date())
    body = emergency.forge_body(takedown, _mentions(people))
    number = _tell_on_forge(policy, emergency.NOTIFY_TITLE(title=found.title), body, people)
    if number:
        ledger.append(Event(Kind.INCIDENT, found.post, data={"id": incident, "path": path, "issue": number}))
    link = notify.issue_link(number) if number else found.url
    warnings = notify.notify(policy, emergency.notice(takedown, link), people=people, management=True, ledger=ledger)
    output.write(notify.warning_text(warnings))
    return 0


def _already(ledger: Ledger, target: emergency.Target, previous: Event) -> int:
    """A second takedown of the same article: WeChat would refuse it, and the leaders have been told."""
    incident = previous.data.get("incident", "—")
    known = emergency.incidents(ledger.events).get(incident)
    record = f"{ledger.branch}:{known.path}" if known else "—"
    output.write(_ALREADY(title=target.title, when=emergency.minute(previous.time), incident=incident, record=record) + "\n")
    return 0


def _delete_by_hand(policy: Policy, ledger: Ledger, target: emergency.Target, reason: str, now: dt.datetime) -> int:
    """The day's deletions are used: recorded, the leaders and the management group told how to delete by hand."""
    ledger.append(emergency.manual_event(target, reason))
    people = emergency.leaders(policy, now.date())
    body = emergency.manual_body(target, reason, now, _mentions(people))
    number = _tell_on_forge(policy, emergency.MANUAL_TITLE(title=target.title), body, people)
    link = notify.issue_link(number) if number else target.url
    warnings = notify.notify(policy, emergency.manual_notice(target, reason, now, link), people=people, management=True,
                             ledger=ledger)
    output.write(notify.warning_text(warnings))
    raise GzhError(emergency.quota_message(target, _names(policy, people)))


def _mentions(people: list[str]) -> str:
    return " ".join(f"@{person}" for person in people)


def _names(policy: Policy, people: list[str]) -> str:
    return "、".join(policy.person(person).display() for person in people)


def _tell_on_forge(policy: Policy, title: str, body: str, people: list[str]) -> int | None:
    """The leaders told through a forge issue (its number), or, without a forge, the text to send them at once."""
    if not forge_module.configured():
        output.write(_TELL(people=_names(policy, people), body=body) + "\n")
        return None
    number = forge_module.from_environment().create_issue(title, body, people)
    output.write(_NOTIFIED(number=number, people=_names(policy, people)) + "\n")
    return number


def report_command(root: Path, incident: str, file: Path, *, credentials: Credentials | None = None,
                   today: dt.date | None = None) -> int:
    """The written report (Art. 9(3)) in the incident's record, open or closed: it may come after the close."""
    load_repository_policy(root)
    _, ledger = connect(root, credentials or Credentials.from_environment())
    known = emergency.incident(ledger, incident)
    report = _read_report(file)
    text = emergency.with_report(ledger.read_document(known.path) or "", report, clock.now(today))
    ledger.append(Event(Kind.INCIDENT, data={"id": incident, "path": known.path, "report": file.name}),
                  files={known.path: text})
    output.write(_REPORTED(incident=incident, record=f"{ledger.branch}:{known.path}") + "\n")
    return 0


def _read_report(file: Path) -> str:
    try:
        report = file.read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        raise UsageError(_NO_FILE(file=file)) from None
    if not report.strip():
        raise UsageError(_EMPTY(file=file))
    return report


def close_command(root: Path, incident: str, summary: str, *, credentials: Credentials | None = None,
                  today: dt.date | None = None) -> int:
    load_repository_policy(root)
    _, ledger = connect(root, credentials or Credentials.from_environment())
    known = emergency.incident(ledger, incident, open_only=True)
    closing = emergency.closing(summary, clock.now(today))
    text = (ledger.read_document(known.path) or "").replace("| 当前状态 | 处置中 |", "| 当前状态 | 已结案 |")
    ledger.append(Event(Kind.INCIDENT, data={"id": incident, "path": known.path, "closed": True, "summary": summary}),
                  files={known.path: text + closing})
    output.write(_CLOSED(incident=incident, record=f"{ledger.branch}:{known.path}") + "\n")
    if known.issue and forge_module.configured():
        forge = forge_module.from_environment()
        forge.comment_issue(known.issue, closing)
        forge.update_issue(known.issue, closed=True)
        output.write(_ISSUE_CLOSED(number=known.issue) + "\n")
    return 0
