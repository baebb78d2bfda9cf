"""`gzh inbox` (collect, route, act on the forge's commands, keep each department's issue, report),
`gzh inbox reply N --text …`, `done N --note …`, `hide N --reason …` and `delete N --reason …` (Art. 8)."""
from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from pipeline import answers, cli, clock, findings as findings_module, forge as forge_module, inbox, notify, output, patrol
from pipeline.connect import connect
from pipeline.i18n import Text
from pipeline.ledger import Ledger, actor, fold
from pipeline.policy import Policy, load_repository_policy
from pipeline.wechat import Credentials

_REPLY = Text("reply：答复一条留言", "reply: answer a comment")
_NUMBER = Text("留言编号（gzh inbox 列出的 #编号）", "comment number from gzh inbox")
_TEXT = Text("答复内容", "the answer")
_MARK_DONE = Text("done：记录一条留言或后台消息已在别处答复", "done: record an item as answered elsewhere")
_NOTE = Text("怎么答复的（记入账本）", "how it was answered")
_HIDE = Text("hide：把不当留言从精选留言中移除（读者不再看到）", "hide: take an abusive comment out of the elected ones")
_DELETE = Text("delete：删除不当留言", "delete: delete an abusive comment")
_REASON = Text("原因（记入账本）", "why (recorded)")
_HEADER = Text("# 读者留言（{date}）：共 {total} 条，未答复 {open} 条，超期 {late} 条", "# Comments ({date}): {total}, {open} open, {late} overdue")
_DEPARTMENT = Text("## {name}（{count} 条待答复）", "## {name} ({count} open)")
_ITEM = Text("- #{number}《{title}》{when}：“{content}”　答复期限 {due}{late}{window}", "- #{number} 《{title}》 {when}: \"{content}\" due {due}{late}{window}")
_LATE = Text("（已超期）", " (overdue)")
_EXTRA = Text("  {text}", "  {text}")
_TOLD = Text("已告知 {departments}", "also told: {departments}")
_NEW = Text("本次收集到新留言 {count} 条。", "{count} new comment(s) collected.")
_ISSUES = Text("各部门的留言问题：新开 {opened} 个，更新 {updated} 个，全部答复后关闭 {closed} 个。",
               "Departments' inbox issues: {opened} opened, {updated} updated, {closed} closed.")

_VERBS = ((_HIDE, "hide", inbox.HIDDEN), (_DELETE, "delete", inbox.DELETED))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    verbs = cli.add_verbs(parser, "inbox_command", required=False, help=_REPLY)
    reply = verbs.add_parser("reply", help=_REPLY())
    reply.add_argument("number", type=int, help=_NUMBER())
    reply.add_argument("--text", required=True, help=_TEXT())
    done = verbs.add_parser("done", help=_MARK_DONE())
    done.add_argument("number", type=int, help=_NUMBER())
    done.add_argument("--note", required=True, help=_NOTE())
    moderation = []
    for help_text, name, _ in _VERBS:
        verb = verbs.add_parser(name, help=help_text())
        verb.add_argument("number", type=int, help=_NUMBER())
        verb.add_argument("--reason", required=True, help=_REASON())
        moderation.append(verb)
    cli.add_today(parser, reply, done, *moderation)


def run(args: argparse.Namespace, root: Path) -> int:
    if args.inbox_command == "reply":
        return reply_command(root, args.number, args.text, today=args.today)
    if args.inbox_command == "done":
        return done_command(root, args.number, args.note)
    if args.inbox_command in ("hide", "delete"):
        action = next(action for _, name, action in _VERBS if name == args.inbox_command)
        return moderate_command(root, args.number, action, args.reason)
    return inbox_command(root, today=args.today)


def _desk(root: Path, credentials: Credentials | None, today: dt.date | None) -> answers.Desk:
    policy = load_repository_policy(root)
    wechat, ledger = connect(root, credentials or Credentials.from_environment())
    return answers.Desk(root, policy, wechat, ledger, clock.now(today), patrol.Titles(root, ledger.events))


def inbox_command(root: Path, *, credentials: Credentials | None = None, today: dt.date | None = None) -> int:
    desk = _desk(root, credentials, today)
    policy, ledger = desk.policy, desk.ledger
    new = inbox.collect(desk.wechat, policy, ledger.events)
    if new:
        ledger.append(*new)
    text, warnings = "", []
    forge = forge_module.from_environment() if forge_module.configured() else None
    if forge is not None:  # the departments' answers first: what they settled no longer waits below
        handled = answers.from_forge(desk, forge)
        text, warnings = handled.summary, list(handled.warnings)
    items = desk.items()
    waiting = inbox.department_findings(items, policy, desk.now)
    text = _report(policy, items, desk.now) + _NEW(count=sum(1 for e in new if e.kind == "comment")) + "\n" + text
    warnings += _announce(policy, ledger, items)
    if forge is not None:
        synced = findings_module.sync(forge, ledger, policy, waiting, desk.now.date(), scope="inbox", label="留言")
        text += _ISSUES(**synced.counts) + synced.escalation + "\n" + synced.failure
        warnings += synced.warnings
    output.write(text + notify.warning_text(warnings))
    return 1 if any(finding.severity == "fail" for finding in waiting) else 0


def _announce(policy: Policy, ledger: Ledger, items: list[inbox.Comment]) -> list[str]:
    """Every item still waiting is announced. Asked on every run: the ledger lets each through once,
    and one held back by a robot's limit goes next time."""
    urls = {bundle: state.url for bundle, state in fold(ledger.events).items()}
    return [warning for item in items if item.waiting for warning in inbox.announce(policy, ledger, item, urls.get(item.post, ""))]


def _report(policy: Policy, items: list[inbox.Comment], now: dt.datetime) -> str:
    today = now.date()
    waiting = [item for item in items if item.waiting]
    lines = [_HEADER(date=today.isoformat(), total=len(items), open=len(waiting), late=sum(item.late(today) for item in waiting))]
    for slug, group in inbox.by_owner(waiting).items():
        lines += ["", _DEPARTMENT(name=inbox.owner_name(policy, slug), count=len(group))]
        for first, twins in inbox.grouped(group):
            lines.append(_ITEM(number=first.number, title=first.title, when=first.created.strftime("%m-%d %H:%M"),
                               content=first.content[:60], due=first.due.isoformat(),
                               late=_LATE() if first.late(today) else "", window=inbox.window(first, now)))
            told = inbox.told_names(policy, first)
            lines += [_EXTRA(text=extra) for extra in (inbox.same_text(twins), _TOLD(departments=told) if told else "") if extra]
    return "\n".join(lines) + "\n\n"


def reply_command(root: Path, number: int, text: str, *, credentials: Credentials | None = None,
                  today: dt.date | None = None) -> int:
    desk = _desk(root, credentials, today)
    output.write(answers.reply(desk, desk.find(number), text, actor()) + "\n")
    return 0


def done_command(root: Path, number: int, note: str, *, credentials: Credentials | None = None) -> int:
    """Mark an item answered elsewhere (a message answered in the MP console, a phone call back)."""
    desk = _desk(root, credentials, None)
    output.write(answers.done(desk, desk.find(number), note, actor()) + "\n")
    return 0


def moderate_command(root: Path, number: int, action: str, reason: str, *, credentials: Credentials | None = None) -> int:
    """Hide or delete an abusive comment, with who and why in the ledger."""
    desk = _desk(root, credentials, None)
    output.write(answers.moderate(desk, desk.find(number), action, reason, actor()) + "\n")
    return 0
