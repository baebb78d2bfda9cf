"""`gzh emergency open (FINDING | --by-hand) --reason …`, `gzh emergency takedown TARGET --reason …`,
`gzh emergency report INCIDENT --file …`, `gzh emergency close INCIDENT --summary …` and
`gzh emergency list` (Art. 9): an incident from its opening to its close."""
from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import functools
from pathlib import Path

from pipeline import cli, clock, emergency, findings, forge as forge_module, notify, output
from pipeline.connect import connect
from pipeline.errors import GzhError, UsageError
from pipeline.i18n import Text
from pipeline.ledger import Event, Kind, Ledger
from pipeline.policy import Policy, load_repository_policy
from pipeline.wechat import Credentials

_HELP = Text("应急处置：下线文章、通知领导、记录事件（第九条）", "emergency response (Art. 9)")
_TARGET = Text("文章文件夹、链接或 article_id", "post folder, URL or article_id")
_REASON = Text("原因（写进事件记录和通知）", "reason, for the record and the notice")
_INCIDENT = Text("事件编号，或文章文件夹（该文章最近的事件）", "incident id, or the post folder (its latest incident)")
_SUMMARY = Text("结案说明", "closing summary")
_REPORT_HELP = Text("把书面报告（第九条第三款）写进事件记录", "add the written report (Art. 9(3)) to the incident record")
_FILE = Text("书面报告文件（Markdown，UTF-8）", "the written report (Markdown, UTF-8)")
_DONE = Text("已下线：{title}\n事件记录：{record}\n书面报告截止：{due}", "Taken down: {title}\nIncident record: {record}\nReport due: {due}")
_ALREADY = Text("《{title}》已于 {when} 下线（事件 {incident}），这次没有再删除，也没有再通知。事件记录：{record}",
                "《{title}》 was taken down at {when} (incident {incident}); nothing deleted or told again. Record: {record}")
_WITHDRAWN = Text("《{title}》已于 {when} 例行下线（原因：{reason}），这次没有再删除，也没有再通知。"
                  "如需按第九条处理，请用 gzh emergency open {post} --reason … 立案（不会再删除）",
                  "《{title}》 was withdrawn routinely at {when} ({reason}); nothing deleted or told again. To handle it "
                  "under Art. 9, open an incident with gzh emergency open {post} --reason …")
_NOTIFIED = Text("已在代码托管平台上开问题 #{number}，通知：{people}", "Opened issue #{number} notifying {people}")
_COMMENTED = Text("已在事件的问题 #{number} 下留言，通知：{people}", "Commented on the incident's issue #{number}, notifying {people}")
_TELL = Text("未配置代码托管平台，请立即把以下内容发给：{people}\n\n{body}", "No forge configured; send this at once to {people}:\n\n{body}")
_CLOSED = Text("事件 {incident} 已结案，记录已更新：{record}", "Incident {incident} closed: {record}")
_ISSUE_CLOSED = Text("平台上的问题 #{number} 已关闭", "Forge issue #{number} closed")
_REPORTED = Text("书面报告已写进事件 {incident} 的记录：{record}", "Written report added to incident {incident}: {record}")
_NO_FILE = Text("读不到书面报告文件 {file}：请确认路径，文件须是 UTF-8 编码的文字（Markdown）",
                "Cannot read the report {file}: check the path; it must be UTF-8 text (Markdown)")
_EMPTY = Text("书面报告文件 {file} 是空的", "The report {file} is empty")
_OPEN_HELP = Text("立案：从巡查发现或手动打开事件记录，不下线文章（如文章被封禁、问题待查）",
                  "open an incident from a patrol finding or by hand, without a takedown")
_FINDING = Text("巡查发现：平台上的问题编号（如 #12）、发现的编号（如 tampered:content/…），或文章文件夹、链接、article_id",
                "the patrol finding: its forge issue (#12), its key, or the article's folder, URL or article_id")
_BY_HAND = Text("没有巡查发现时手动立案（发现时间记为现在）", "open by hand, with no patrol finding (detected: now)")
_LIST_HELP = Text("列出事件记录", "list the incidents")
_ONE_OF = Text("请写巡查发现（问题编号、发现编号或文章），或用 --by-hand 手动立案，二者选一",
               "Give a patrol finding (issue, key or article), or --by-hand, not both")
_NO_FINDING = Text("找不到未关闭的巡查发现“{finding}”：请写平台上的问题编号（如 #12）、发现的编号或文章文件夹；"
                   "巡查没有发现的，用 gzh emergency open --by-hand --reason … 手动立案",
                   "No open patrol finding '{finding}': give its forge issue (#12), its key or the article; "
                   "otherwise open by hand with --by-hand")
_OPEN_ALREADY = Text("《{title}》已有未结案的事件 {incident}，没有重复立案。事件记录：{record}",
                     "《{title}》 already has the open incident {incident}; nothing opened. Record: {record}")
_OPENED = Text("已立案：{title}\n事件记录：{record}\n书面报告截止：{due}", "Incident opened: {title}\nRecord: {record}\nReport due: {due}")
_JOINED = Text("并入已立案的事件 {incident}", "joined the open incident {incident}")
_LIST_HEAD = Text("事件编号　文章　状态　书面报告　平台上的问题", "incident　article　status　written report　forge issue")
_LIST_NONE = Text("还没有事件记录。", "No incidents yet.")
_STATUS = {False: Text("处置中", "in progress"), True: Text("已结案", "closed")}
_REPORT_FILED = Text("已提交", "filed")
_REPORT_DUE = Text("截止 {due}", "due {due}")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    verbs = cli.add_verbs(parser, "emergency_command")
    opening = verbs.add_parser("open", help=_OPEN_HELP())
    opening.add_argument("finding", nargs="?", help=_FINDING())
    opening.add_argument("--by-hand", action="store_true", help=_BY_HAND())
    opening.add_argument("--reason", required=True, help=_REASON())
    takedown = verbs.add_parser("takedown", help=_HELP())
    takedown.add_argument("target", help=_TARGET())
    takedown.add_argument("--reason", required=True, help=_REASON())
    report = verbs.add_parser("report", help=_REPORT_HELP())
    report.add_argument("incident", help=_INCIDENT())
    report.add_argument("--file", required=True, help=_FILE())
    close = verbs.add_parser("close", help=_SUMMARY())
    close.add_argument("incident", help=_INCIDENT())
    close.add_argument("--summary", required=True, help=_SUMMARY())
    verbs.add_parser("list", help=_LIST_HELP())  # no options: the incidents as the ledger holds them
    cli.add_today(parser, opening, takedown, report, close)


def run(args: argparse.Namespace, root: Path) -> int:
    if args.emergency_command == "open":
        if bool(args.finding) == args.by_hand:
            raise UsageError(_ONE_OF())
        return open_command(root, args.finding, args.reason, today=args.today)
    if args.emergency_command == "list":
        return list_command(root)
    if args.emergency_command == "takedown":
        return takedown_command(root, args.target, args.reason, today=args.today)
    if args.emergency_command == "report":
        return report_command(root, args.incident, Path(args.file), today=args.today)
    return close_command(root, args.incident, args.summary, today=args.today)


def takedown_command(root: Path, target: str, reason: str, *, credentials: Credentials | None = None,
                     today: dt.date | None = None) -> int:
    removal = emergency.removal(root, target, credentials, today)
    policy, ledger, now, found = removal.policy, removal.ledger, removal.now, removal.target
    if removal.previous:
        return _already(ledger, found, removal.previous)
    # Everything that could fail is worked out before the delete: after it, only recording is left.
    joined = emergency.open_for(ledger.events, found)
    if joined:  # opened before without a takedown: the takedown is its next step, not a second incident
        incident, path, due, issue = joined.id, joined.path, joined.due, joined.issue
        write_record = functools.partial(emergency.with_takedown, ledger.read_document(path) or "", now)
        events = [Event(Kind.INCIDENT, found.post, data={"id": incident, "path": path, "takedown": reason})]
    else:
        evidence = findings.about(ledger, found)  # 发现时间 and the evidence from the patrol, when it saw this first
        opening, issue = emergency.new_incident(policy, ledger.events, found, now, evidence), None
        incident, path, due = opening.id, opening.path, opening.due
        write_record = functools.partial(emergency.record, incident, found, reason, policy, now, opening.detected, evidence)
        events = [emergency.opened_event(incident, path, found, reason, due, evidence)]
    deletion = emergency.delete(removal)  # act first (Art. 9(2))
    if deletion is emergency.Deletion.REFUSED:
        return _delete_by_hand(policy, ledger, found, reason, now)
    ledger.append(emergency.takedown_event(found, reason, deletion, incident), *events,
                  files={path: write_record(deletion=deletion)})
    takedown = emergency.Takedown(incident, found, reason, now, f"{ledger.branch}:{path}", due)
    output.write(_DONE(title=found.title, record=takedown.record, due=due) + (f"（{_JOINED(incident=incident)}）" if joined else "")
                 + (emergency.FOUND_DELETED() if deletion is emergency.Deletion.GONE else "") + "\n")
    _tell_leaders(policy, ledger, takedown, path, issue)
    return 0


def _tell_leaders(policy: Policy, ledger: Ledger, reported: emergency.Takedown, path: str, issue: int | None,
                  *, opened: bool = False) -> None:
    """A takedown, or an incident `opened` without one, reported to the leaders (Art. 9(2)): on the incident's
    forge issue (opened now, its number recorded, unless it has one) and in the groups."""
    people = emergency.leaders(policy, reported.when.date())
    title = (emergency.OPENED_TITLE if opened else emergency.NOTIFY_TITLE)(title=reported.target.title)
    body = emergency.forge_body(reported, _mentions(people), opened=opened)
    number = _tell_on_forge(policy, title, body, people, issue)
    if number and not issue:
        ledger.append(Event(Kind.INCIDENT, reported.target.post, data={"id": reported.incident, "path": path, "issue": number}))
    link = notify.issue_link(number) if number else reported.target.url
    warnings = notify.notify(policy, emergency.notice(reported, link, opened=opened), people=people, management=True,
                             ledger=ledger)
    output.write(notify.warning_text(warnings))


def _already(ledger: Ledger, target: emergency.Target, previous: Event) -> int:
    """A second takedown of the same article: WeChat would refuse it, and the leaders have been told
    (or, after a routine withdrawal, nobody needed to be: opening an incident is the way to tell them)."""
    if previous.data.get("routine"):
        output.write(_WITHDRAWN(title=target.title, when=emergency.minute(previous.time), post=target.post,
                                reason=previous.data.get("reason", "—")) + "\n")
        return 0
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
    raise GzhError(emergency.quota_message(target, policy.names(people)))


def _mentions(people: list[str]) -> str:
    return " ".join(f"@{person}" for person in people)


def _tell_on_forge(policy: Policy, title: str, body: str, people: list[str], issue: int | None = None) -> int | None:
    """The leaders told through a forge issue (its number; a comment on `issue`, the incident's own, when it
    has one), or, without a forge, the text to send them at once."""
    if not forge_module.configured():
        output.write(_TELL(people=policy.names(people), body=body) + "\n")
        return None
    forge = forge_module.from_environment()
    if issue:
        forge.comment_issue(issue, f"**{title}**\n\n{body}")
        output.write(_COMMENTED(number=issue, people=policy.names(people)) + "\n")
        return issue
    number = forge.create_issue(title, body, people)
    output.write(_NOTIFIED(number=number, people=policy.names(people)) + "\n")
    return number


def open_command(root: Path, finding: str | None, reason: str, *, credentials: Credentials | None = None,
                 today: dt.date | None = None) -> int:
    """An incident without a takedown (a ban, a finding under investigation): the record, the leaders told.
    From a patrol finding it carries the finding's first-seen time and evidence; `None`: opened by hand."""
    policy = load_repository_policy(root)
    _, ledger = connect(root, credentials or Credentials.from_environment())
    now = clock.now(today)
    evidence, target = _finding_and_target(root, ledger, finding) if finding else (None, emergency.BY_HAND)
    known = emergency.open_for(ledger.events, target)
    if known:
        output.write(_OPEN_ALREADY(title=target.title, incident=known.id, record=f"{ledger.branch}:{known.path}") + "\n")
        return 0
    opening = emergency.new_incident(policy, ledger.events, target, now, evidence)
    text = emergency.record(opening.id, target, reason, policy, now, opening.detected, evidence)
    ledger.append(emergency.opened_event(opening.id, opening.path, target, reason, opening.due, evidence),
                  files={opening.path: text})
    opened = emergency.Takedown(opening.id, target, reason, now, f"{ledger.branch}:{opening.path}", opening.due)
    output.write(_OPENED(title=target.title, record=opened.record, due=opening.due) + "\n")
    _tell_leaders(policy, ledger, opened, opening.path, None, opened=True)
    return 0


def _finding_and_target(root: Path, ledger: Ledger, finding: str) -> tuple[emergency.Evidence | None, emergency.Target]:
    """A finding named by its issue or key, else the open finding about the article named."""
    evidence = findings.named(ledger, finding)
    if evidence is None:
        try:
            target = emergency.find_target(ledger, finding, root)
        except GzhError:
            raise GzhError(_NO_FINDING(finding=finding)) from None
        evidence = findings.about(ledger, target)
        if evidence is None:
            raise GzhError(_NO_FINDING(finding=finding))
        return evidence, target
    if evidence.post:
        return evidence, emergency.find_target(ledger, evidence.post, root)
    _, _, article_id = evidence.key.partition(":")  # published outside the pipeline: its article_id, else no article
    about = emergency.find_target(ledger, article_id.split(":")[0], root) if article_id else emergency.BY_HAND
    return evidence, dataclasses.replace(about, title=evidence.title)


def list_command(root: Path, *, credentials: Credentials | None = None) -> int:
    """The incidents, oldest first: id, article, status, written report filed or due, forge issue."""
    load_repository_policy(root)
    _, ledger = connect(root, credentials or Credentials.from_environment())
    known = list(emergency.incidents(ledger.events).values())
    if not known:
        output.write(_LIST_NONE() + "\n")
        return 0
    rows = [_LIST_HEAD()]
    for item in known:
        report = _REPORT_FILED() if item.reported else _REPORT_DUE(due=item.due or "—")
        rows.append("　".join((item.id, f"《{item.title or item.post or '—'}》", _STATUS[item.closed](), report,
                              f"#{item.issue}" if item.issue else "—")))
    output.write("\n".join(rows) + "\n")
    return 0


def report_command(root: Path, incident: str, file: Path, *, credentials: Credentials | None = None,
                   today: dt.date | None = None) -> int:
    """The written report (Art. 9(3)) in the incident's record, open or closed: it may come after the close."""
    load_repository_policy(root)
    _, ledger = connect(root, credentials or Credentials.from_environment())
    known = emergency.incident(ledger, incident)
    report = _read_report(file)
    text = emergency.with_report(ledger.read_document(known.path) or "", report, clock.now(today))
    ledger.append(Event(Kind.INCIDENT, data={"id": known.id, "path": known.path, "report": file.name}),
                  files={known.path: text})
    output.write(_REPORTED(incident=known.id, record=f"{ledger.branch}:{known.path}") + "\n")
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
    ledger.append(Event(Kind.INCIDENT, data={"id": known.id, "path": known.path, "closed": True, "summary": summary}),
                  files={known.path: text + closing})
    output.write(_CLOSED(incident=known.id, record=f"{ledger.branch}:{known.path}") + "\n")
    if known.issue and forge_module.configured():
        forge = forge_module.from_environment()
        forge.comment_issue(known.issue, closing)
        forge.update_issue(known.issue, closed=True)
        output.write(_ISSUE_CLOSED(number=known.issue) + "\n")
    return 0
