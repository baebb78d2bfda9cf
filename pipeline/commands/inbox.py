"""`gzh inbox` (collect, route, report) and `gzh inbox reply N --text …` (Art. 8)."""
from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from pipeline import cli, clock, findings as findings_module, forge as forge_module, inbox, notify, output, posts
from pipeline.checks import RULES_BY_ID, Severity, check_post
from pipeline.connect import connect
from pipeline.errors import GzhError, UsageError
from pipeline.i18n import Text
from pipeline.ledger import Event, Kind, Ledger, actor, fold
from pipeline.policy import Policy, load_repository_policy
from pipeline.wechat import Credentials

_REPLY = Text("reply：答复一条留言", "reply: answer a comment")
_NUMBER = Text("留言编号（gzh inbox 列出的 #编号）", "comment number from gzh inbox")
_TEXT = Text("答复内容", "the answer")
_MARK_DONE = Text("done：记录一条留言或后台消息已在别处答复", "done: record an item as answered elsewhere")
_NOTE = Text("怎么答复的（记入账本）", "how it was answered")
_HEADER = Text("# 读者留言（{date}）：共 {total} 条，未答复 {open} 条，超期 {late} 条", "# Comments ({date}): {total}, {open} open, {late} overdue")
_DEPARTMENT = Text("## {name}（{count} 条待答复）", "## {name} ({count} open)")
_ITEM = Text("- #{number}《{title}》{when}：“{content}”　答复期限 {due}{late}{window}", "- #{number} 《{title}》 {when}: \"{content}\" due {due}{late}{window}")
_LATE = Text("（已超期）", " (overdue)")
_WINDOW = Text("　可回复至 {ends}", ", answerable until {ends}")
_WINDOW_PASSED = Text("　已过 48 小时回复时限（{ends}），须改用其他方式答复", ", 48-hour window closed at {ends}: answer another way")
_NEW = Text("本次收集到新留言 {count} 条。", "{count} new comment(s) collected.")
_ISSUES = Text("超期留言：新开问题 {opened} 个，更新 {updated} 个，已答复关闭 {closed} 个。", "Overdue: {opened} opened, {updated} updated, {closed} closed.")
_NO_SUCH = Text("没有编号为 #{number} 的留言。先运行 gzh inbox 查看编号", "No comment #{number}; run gzh inbox first")
_ALREADY = Text("#{number} 已经答复过了", "#{number} is already answered")
_REFUSED = Text(
    "答复没有通过检查，未发送。答复会原样显示在文章的留言区，所有读者都能看到，请按下面的提示修改答复，"
    "再运行 gzh inbox reply {number} --text \"……\"：\n{problems}",
    "The reply failed the checks and was not sent. Every reader sees it under the article as typed: change it as "
    "below, then run gzh inbox reply {number} --text \"…\" again:\n{problems}")
_PROBLEM = Text("  - {name}：{message}", "  - {name}: {message}")
_MESSAGE = Text("#{number} 是读者发给公众号的后台消息，接口不能答复：请在 {ends} 前（微信只允许在读者最后一条消息后 48 小时内回复）"
                "在公众平台“内容与互动 → 消息”中回复，然后运行 gzh inbox done {number} --note \"……\"",
                "#{number} is a message to the account; answer it in the MP console before {ends} (WeChat allows 48 hours), "
                "then run gzh inbox done {number}")
_CLOSED_WINDOW = Text(
    "#{number} 是读者发给公众号的后台消息，微信只允许在读者最后一条消息后 48 小时内回复，已于 {ends} 截止，公众号已无法答复，未发送。"
    "请改用其他方式：读者在文章下留过言的，在该文章的留言区答复（gzh inbox reply 留言编号）；留下了电话的，打电话答复。"
    "答复后运行 gzh inbox done {number} --note \"怎么答复的\" 记入账本",
    "#{number} is a message to the account and WeChat's 48-hour window closed at {ends}; nothing was sent. Answer another "
    "way (in the article's comments, by phone), then run gzh inbox done {number} --note \"how\"")
_DONE = Text("已记录 #{number} 已答复", "Recorded #{number} as answered")
_SENT = Text("已答复 #{number}", "Answered #{number}")
_ADMIN = Text("管理员（未能确定部门）", "Administrator (no department)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    verbs = cli.add_verbs(parser, "inbox_command", required=False, help=_REPLY)
    reply = verbs.add_parser("reply", help=_REPLY())
    reply.add_argument("number", type=int, help=_NUMBER())
    reply.add_argument("--text", required=True, help=_TEXT())
    done = verbs.add_parser("done", help=_MARK_DONE())
    done.add_argument("number", type=int, help=_NUMBER())
    done.add_argument("--note", required=True, help=_NOTE())
    cli.add_today(parser, reply, done)


def run(args: argparse.Namespace, root: Path) -> int:
    if args.inbox_command == "reply":
        return reply_command(root, args.number, args.text, today=args.today)
    if args.inbox_command == "done":
        return done_command(root, args.number, args.note)
    return inbox_command(root, today=args.today)


def _titles(root: Path) -> dict[str, str]:
    titles = {}
    for file in posts.discover([root / posts.CONTENT_DIR])[0]:
        post = posts.load_post(file, root)
        titles[post.bundle] = post.meta.title if post.meta else post.bundle
    return titles


def inbox_command(root: Path, *, credentials: Credentials | None = None, today: dt.date | None = None) -> int:
    policy = load_repository_policy(root)
    wechat, ledger = connect(root, credentials or Credentials.from_environment())
    now = clock.now(today)
    today = now.date()
    new = inbox.collect(wechat, policy, ledger.events)
    if new:
        ledger.append(*new)
    items = inbox.comments(policy, ledger.events, _titles(root))
    overdue = inbox.overdue_findings(items, policy, today)
    text = _report(policy, items, now) + _NEW(count=sum(1 for e in new if e.kind == "comment")) + "\n"
    warnings = _announce(policy, ledger, items)
    if forge_module.configured():
        synced = findings_module.sync(forge_module.from_environment(), ledger, policy, overdue, today,
                                      scope="inbox", label="留言", overdue=True)
        text += _ISSUES(**synced.counts) + "\n" + synced.failure
        warnings += synced.warnings
    output.write(text + notify.warning_text(warnings))
    return 1 if any(finding.severity == "fail" for finding in overdue) else 0


def _announce(policy: Policy, ledger: Ledger, items: list[inbox.Comment]) -> list[str]:
    """Every item still waiting, in its departments' groups (the administrators' when unrouted). Asked
    on every run: the ledger lets each through once, and one held back by a robot's limit goes next time."""
    urls = {bundle: state.url for bundle, state in fold(ledger.events).items()}
    warnings = []
    for item in (item for item in items if not item.answered):
        warnings += notify.notify(policy, inbox.notice(item, urls.get(item.post, "")), departments=item.departments,
                                  people=() if item.departments else policy.members("administrator"), ledger=ledger)
    return warnings


def _report(policy: Policy, items: list[inbox.Comment], now: dt.datetime) -> str:
    today = now.date()
    waiting = [item for item in items if not item.answered]
    late = [item for item in waiting if today > item.due]
    lines = [_HEADER(date=today.isoformat(), total=len(items), open=len(waiting), late=len(late))]
    groups: dict[str, list[inbox.Comment]] = {}
    for item in waiting:
        for slug in item.departments or ("",):
            groups.setdefault(slug, []).append(item)
    for slug, group in groups.items():
        department = policy.department(slug)
        lines += ["", _DEPARTMENT(name=department.name if department else _ADMIN(), count=len(group))]
        lines += [_ITEM(number=item.number, title=item.title, when=item.created.strftime("%m-%d %H:%M"),
                        content=item.content[:60], due=item.due.isoformat(), late=_LATE() if today > item.due else "",
                        window=_window(item, now))
                  for item in group]
    return "\n".join(lines) + "\n\n"


def _window(item: inbox.Comment, now: dt.datetime) -> str:
    """A message's answering window (comments have none): open until when, or closed."""
    if item.window_ends is None:
        return ""
    return (_WINDOW if now <= item.window_ends else _WINDOW_PASSED)(ends=inbox.minute(item.window_ends))


def reply_command(root: Path, number: int, text: str, *, credentials: Credentials | None = None,
                  today: dt.date | None = None) -> int:
    policy = load_repository_policy(root)
    wechat, ledger = connect(root, credentials or Credentials.from_environment())
    items = {item.number: item for item in inbox.comments(policy, ledger.events, {})}
    item = items.get(number)
    if item is None:
        raise UsageError(_NO_SUCH(number=number))
    if item.answered:
        raise GzhError(_ALREADY(number=number))
    if item.is_message:  # never sent through WeChat: refused before any call, inside the window or past it
        passed = item.window_ends is not None and clock.now(today) > item.window_ends
        raise GzhError((_CLOSED_WINDOW if passed else _MESSAGE)(number=number, ends=inbox.minute(item.window_ends)))
    problems = _check_reply(root, policy, text)
    if problems:
        raise GzhError(_REFUSED(number=number, problems="\n".join(problems)))
    msg_data_id, index, user_comment_id = item.key.split(":")
    wechat.reply_comment(msg_data_id, int(index), int(user_comment_id), text)
    ledger.append(Event(Kind.ANSWERED, item.post, data={"key": item.key, "content": text, "by": actor()}))
    output.write(_SENT(number=number) + "\n")
    return 0


def done_command(root: Path, number: int, note: str, *, credentials: Credentials | None = None) -> int:
    """Mark an item answered elsewhere (a message answered in the MP console, a phone call back)."""
    policy = load_repository_policy(root)
    _, ledger = connect(root, credentials or Credentials.from_environment())
    item = {item.number: item for item in inbox.comments(policy, ledger.events, {})}.get(number)
    if item is None:
        raise UsageError(_NO_SUCH(number=number))
    if item.answered:
        raise GzhError(_ALREADY(number=number))
    ledger.append(Event(Kind.ANSWERED, item.post, data={"key": item.key, "note": note, "by": actor(), "elsewhere": True}))
    output.write(_DONE(number=number) + "\n")
    return 0


def _check_reply(root: Path, policy: Policy, text: str) -> list[str]:
    """A reply is published content too: the same wording and confidentiality rules as a post.

    It is sent as typed, so it cannot carry an ignore comment: the problems say what to change."""
    synthetic = posts.parse_post(f"---\ntitle: x\n---\n{text}\n", "reply", root, "")
    report = check_post(synthetic, policy, root, ignore_comments=False)
    families = ("misstatement", "outdated-name", "traditional-chars", "secret-marking", "internal-marking",
                "document-number", "id-number", "bank-card", "mobile-number", "address")
    return [_PROBLEM(name=RULES_BY_ID[finding.rule_id].name(), message=finding.message) for finding in report.findings
            if finding.rule_id in families and finding.severity in (Severity.ERROR, Severity.WARNING)]
