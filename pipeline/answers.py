"""Answering and moderating followers' items (Art. 8), from the command line or from the forge.

The same four acts either way: an answer sent to the article's comments (checked first: it is
published content), an answer given elsewhere recorded, an abusive comment hidden from the elected
comments (comment/unmarkelect) or deleted (comment/delete). On the forge a department answers by
commenting a command on its inbox issue (`/答复 12 您好……`, `/已处理 12 …`, `/隐藏 12 …`,
`/删除 12 …`; the full-width slash too). A comment is hostile until checked: only a head of the
item's owner department or an administrator may act, an edited comment is never run (anyone with
write access can rewrite someone else's words under their name), and each comment is acted on once,
its id recorded in the ledger with what came of it. Every command gets a reply comment.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Iterable

from pipeline import clock, findings, forge as forge_module, inbox
from pipeline.checks import check_public_text
from pipeline.errors import GzhError, UsageError
from pipeline.i18n import Text
from pipeline.inbox_syntax import DELETE, DONE, HIDE, REPLY, Command, parse
from pipeline.ledger import Event, Kind, Ledger
from pipeline.policy import Policy
from pipeline.redact import redact
from pipeline.referrals import Comment as ForgeComment
from pipeline.wechat import WeChat

MARKER = "<!-- gzh-inbox -->"  # opens every reply gzh writes; no command starts with it

_NO_SUCH = Text("没有编号为 #{number} 的留言。先运行 gzh inbox 查看编号", "No comment #{number}; run gzh inbox first")
_ALREADY = Text("#{number} 已经答复过了", "#{number} is already answered")
_SETTLED = {inbox.HIDDEN: Text("#{number} 已隐藏（不当留言），不再答复", "#{number} was hidden as abusive; nothing to answer"),
            inbox.DELETED: Text("#{number} 已删除（不当留言），不再答复", "#{number} was deleted as abusive; nothing to answer")}
_REFUSED = Text(
    "答复没有通过检查，未发送。答复会原样显示在文章的留言区，所有读者都能看到，请按下面的提示修改答复，"
    "{again}：\n{problems}",
    "The reply failed the checks and was not sent. Every reader sees it under the article as typed: change it as "
    "below, then {again}:\n{problems}")
_MESSAGE = Text("#{number} 是读者发给公众号的后台消息，接口不能答复：请在 {ends} 前（微信只允许在读者最后一条消息后 48 小时内回复）"
                "在公众平台“内容与互动 → 消息”中回复，然后{done}",
                "#{number} is a message to the account; answer it in the MP console before {ends} (WeChat allows 48 hours), "
                "then {done}")
_CLOSED_WINDOW = Text(
    "#{number} 是读者发给公众号的后台消息，微信只允许在读者最后一条消息后 48 小时内回复，已于 {ends} 截止，公众号已无法答复，未发送。"
    "请改用其他方式：读者在文章下留过言的，在该文章的留言区答复（{reply_any}）；留下了电话的，打电话答复。"
    "答复后{done_how} 记入账本",
    "#{number} is a message to the account and WeChat's 48-hour window closed at {ends}; nothing was sent. Answer another "
    "way (in the article's comments, by phone), then {done_how}")
_NOT_A_COMMENT = Text("#{number} 是读者发给公众号的后台消息，不在文章的留言区，不能隐藏或删除",
                      "#{number} is a message to the account, not a comment: it cannot be hidden or deleted")
_ALREADY_MODERATED = Text("#{number} 已经{done}了", "#{number} is already {done}")
_MODERATED_NAMES = {inbox.HIDDEN: Text("隐藏", "hidden"), inbox.DELETED: Text("删除", "deleted")}
_SENT = Text("已答复 #{number}", "Answered #{number}")
_DONE = Text("已记录 #{number} 已答复", "Recorded #{number} as answered")
_HID = Text("已隐藏 #{number}（从精选留言中移除，读者不再看到）。原因：{reason}", "Hid #{number} from the elected comments. Reason: {reason}")
_DELETED = Text("已删除 #{number}。原因：{reason}", "Deleted #{number}. Reason: {reason}")

_EDITED = Text("这条评论发出后被改过（改动可能出自别人），不执行。请重新发一条评论", "This comment was edited (perhaps by someone else); not run. Comment again")
_USAGE = Text("命令要写成“/{verb} 编号 {what}”，例如 /{verb} 12 {example}，未执行", "Write /{verb} NUMBER {what}; not run")
_WHAT = {REPLY: (Text("答复内容", "answer"), "您好，……"), DONE: (Text("怎么答复的", "how"), "已电话答复"),
         HIDE: (Text("原因", "reason"), "辱骂他人"), DELETE: (Text("原因", "reason"), "广告")}
_DENIED = Text("{user} 不能对 #{number} 执行这个命令：只有{owner}负责人（{heads}）和管理员（{admins}）可以，未执行",
               "{user} may not do this for #{number}: only the heads of {owner} ({heads}) and the administrators ({admins}) may")
_DENIED_UNROUTED = Text("{user} 不能对 #{number} 执行这个命令：这一条未能分派到部门，只有管理员（{admins}）可以，未执行",
                        "{user} may not do this for #{number}: it is unrouted, only the administrators ({admins}) may")
_NOBODY = Text("无", "none")
_OK = Text("✅ {text}", "✅ {text}")
_NOT_DONE = Text("❌ {text}", "❌ {text}")
_UNREPLIED = Text("命令已处理，但没能在平台上回复（{error}）", "The command was handled but the reply could not be posted ({error})")
_UNREAD = Text("读不到问题 #{issue} 的评论（{error}），其中的命令下次运行时处理", "Cannot read issue #{issue}'s comments ({error}); next run")
_HANDLED = Text("平台上的命令：执行 {done} 条，未执行 {refused} 条。", "Forge commands: {done} done, {refused} refused.")


@dataclass(frozen=True)
class Syntax:
    """How a person tries again, in the words of where they are: a command line or a forge comment."""

    again: str              # after a refused answer
    reply_any: str          # an answer to some comment
    done: str               # recording an answer given elsewhere
    done_how: str


CLI = Syntax('再运行 gzh inbox reply {number} --text "……"', "gzh inbox reply 留言编号",
             '运行 gzh inbox done {number} --note "……"', '运行 gzh inbox done {number} --note "怎么答复的"')
FORGE = Syntax("再发一条评论 /答复 {number} 修改后的答复", "/答复 留言编号 答复内容",
               "发评论 /已处理 {number} 怎么答复的", "发评论 /已处理 {number} 怎么答复的")


@dataclass(frozen=True)
class Desk:
    """What answering needs: the repository (the checks' dictionaries), the policy, WeChat, the ledger,
    the time (the 48-hour window), the articles' titles and how people retry."""

    root: Path
    policy: Policy
    wechat: WeChat
    ledger: Ledger
    now: dt.datetime
    titles: Callable[[str], str]   # a post's title (patrol.Titles)
    syntax: Syntax = CLI

    def items(self) -> list[inbox.Comment]:
        return inbox.comments(self.policy, self.ledger.events, self.titles)

    def find(self, number: int) -> inbox.Comment:
        item = next((item for item in self.items() if item.number == number), None)
        if item is None:
            raise UsageError(_NO_SUCH(number=number))
        return item


def _waiting(item: inbox.Comment) -> None:
    if item.answered:
        raise GzhError(_ALREADY(number=item.number))
    if item.moderated:
        raise GzhError(_SETTLED[item.moderated](number=item.number))


def reply(desk: Desk, item: inbox.Comment, text: str, by: str, **recorded: Any) -> str:
    """Send an answer to a comment's thread, after the checks; refused (GzhError, why and how to retry)
    for a message (WeChat's API cannot answer one) or an answer that fails them. `recorded` joins the event."""
    _waiting(item)
    retry = {"number": item.number, "reply_any": desk.syntax.reply_any, "done": desk.syntax.done.format(number=item.number),
             "done_how": desk.syntax.done_how.format(number=item.number)}
    if item.is_message:  # never sent through WeChat: refused before any call, inside the window or past it
        passed = item.window_ends is not None and desk.now > item.window_ends
        raise GzhError((_CLOSED_WINDOW if passed else _MESSAGE)(ends=clock.minute(item.window_ends), **retry))
    problems = check_public_text(desk.root, desk.policy, text)
    if problems:
        raise GzhError(_REFUSED(again=desk.syntax.again.format(number=item.number), problems="\n".join(problems)))
    desk.wechat.reply_comment(*item.thread, text)
    desk.ledger.append(Event(Kind.ANSWERED, item.post, data={"key": item.key, "content": text, "by": by, **recorded}))
    return _SENT(number=item.number)


def done(desk: Desk, item: inbox.Comment, note: str, by: str, **recorded: Any) -> str:
    """Record an item answered elsewhere (a message answered in the MP console, a phone call back)."""
    _waiting(item)
    desk.ledger.append(Event(Kind.ANSWERED, item.post, data={"key": item.key, "note": note, "by": by, "elsewhere": True,
                                                          **recorded}))
    return _DONE(number=item.number)


def moderate(desk: Desk, item: inbox.Comment, action: str, reason: str, by: str, **recorded: Any) -> str:
    """Hide an abusive comment from the elected ones (comment/unmarkelect) or delete it (comment/delete),
    recorded with who and why; it waits for no answer any more."""
    if item.is_message:
        raise GzhError(_NOT_A_COMMENT(number=item.number))
    if item.moderated == inbox.DELETED or item.moderated == action:
        raise GzhError(_ALREADY_MODERATED(number=item.number, done=_MODERATED_NAMES[item.moderated]()))
    if action == inbox.HIDDEN:
        desk.wechat.unmark_elected_comment(*item.thread)
    else:
        desk.wechat.delete_comment(*item.thread)
    desk.ledger.append(Event(Kind.MODERATED, item.post, data={"key": item.key, "action": action, "reason": reason,
                                                           "by": by, **recorded}))
    return (_HID if action == inbox.HIDDEN else _DELETED)(number=item.number, reason=redact(reason))


# -- from the forge -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Handled:
    """What the forge's commands came to: done and refused counts, and what did not reach the forge."""

    done: int = 0
    refused: int = 0
    warnings: tuple[str, ...] = ()

    @property
    def summary(self) -> str:
        return _HANDLED(done=self.done, refused=self.refused) + "\n" if self.done or self.refused else ""


def from_forge(desk: Desk, forge: forge_module.Forge, scope: str = "inbox") -> Handled:
    """Act on every command not acted on yet in the comments of the open inbox issues, oldest first."""
    desk = replace(desk, syntax=FORGE)
    acted = {event.data["forge_comment_id"] for event in desk.ledger.events
             if event.kind in (Kind.ANSWERED, Kind.MODERATED, Kind.COMMAND) and "forge_comment_id" in event.data}
    handled = Handled()
    for issue in inbox_issues(desk.ledger.events, scope):
        try:
            said = forge.comments(issue)
        except forge_module.ForgeError as error:
            handled = replace(handled, warnings=(*handled.warnings, _UNREAD(issue=issue, error=error)))
            continue
        for comment in said:
            command = parse(comment.body) if comment.id not in acted else None
            if command is not None:
                handled = _merge(handled, _act(desk, forge, issue, comment, command))
    return handled


def inbox_issues(events: Iterable[Event], scope: str = "inbox") -> list[int]:
    """The open issues gzh opened for departments' waiting items (no other issue's comments are read)."""
    return sorted(item.issue for key, item in findings.open_issues(events).items()
                  if item.issue and key.startswith(f"{scope}/department:"))


def _merge(handled: Handled, outcome: tuple[bool, str]) -> Handled:
    ok, warning = outcome
    return Handled(handled.done + ok, handled.refused + (not ok), handled.warnings + ((warning,) if warning else ()))


def _act(desk: Desk, forge: forge_module.Forge, issue: int, comment: ForgeComment, command: Command) -> tuple[bool, str]:
    """One command: done, or refused with why; recorded once, answered on the issue. (done?, warning)."""
    recorded = {"forge_comment_id": comment.id, "issue": issue}
    try:
        text = _run(desk, comment, command, recorded)
        ok = True
    except GzhError as error:
        text, ok = str(error), False
        desk.ledger.append(Event(Kind.COMMAND, data={**recorded, "by": comment.user, "verb": command.verb,
                                                "number": command.number, "outcome": "refused", "reason": text}))
    mention = f"@{comment.user} " if comment.user else ""  # the one who asked hears what came of it
    try:
        forge.comment_issue(issue, f"{MARKER}\n{mention}{(_OK if ok else _NOT_DONE)(text=text)}")
    except forge_module.ForgeError as error:
        return ok, _UNREPLIED(error=error)
    return ok, ""


def _run(desk: Desk, comment: ForgeComment, command: Command, recorded: dict[str, Any]) -> str:
    if comment.edited:
        raise GzhError(_EDITED())
    what, example = _WHAT[command.verb]
    if command.number is None or not command.text:
        raise UsageError(_USAGE(verb=command.word, what=what(), example=example))
    item = desk.find(command.number)
    _allowed(desk.policy, item, comment.user)
    if command.verb == REPLY:
        return reply(desk, item, command.text, comment.user, **recorded)
    if command.verb == DONE:
        return done(desk, item, command.text, comment.user, **recorded)
    return moderate(desk, item, inbox.HIDDEN if command.verb == HIDE else inbox.DELETED, command.text, comment.user, **recorded)


def may(policy: Policy, item: inbox.Comment, user: str) -> bool:
    """A head of the item's owner department, or an administrator."""
    department = policy.department(item.owner)
    return bool(user) and (user in policy.members("administrator") or (department is not None and user in department.heads))


def _allowed(policy: Policy, item: inbox.Comment, user: str) -> None:
    if may(policy, item, user):
        return
    admins = _names(policy, policy.members("administrator"))
    department = policy.department(item.owner)
    who = user or "?"
    if department is None:
        raise GzhError(_DENIED_UNROUTED(user=who, number=item.number, admins=admins))
    raise GzhError(_DENIED(user=who, number=item.number, owner=department.name, heads=_names(policy, department.heads),
                           admins=admins))


def _names(policy: Policy, usernames: Iterable[str]) -> str:
    """People by name and login, without an @: a refusal must not ping everyone it names."""
    return "、".join(f"{policy.person(name).name}（{name}）" for name in usernames) or _NOBODY()
