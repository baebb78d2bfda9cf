"""Routine removal and restore: `gzh withdraw` and `gzh republish`.

A withdrawal is the everyday sibling of an emergency takedown (pipeline/emergency.py): an expired
notice, a department asking to remove its post. It deletes the same way (freepublish/delete, index 1)
and is recorded as the same `takedown` event, marked `routine`, so the ten deletions a day are counted
once for both and neither deletes an article the other already removed; but it opens no incident and
tells the post's department and the administrators, not the leaders.

WeChat cannot edit a published article, so a removed post comes back as a new article: its approved
version on the branch, published again by the publish stage (approvals re-verified, intents and
reconciliation as for any post) with a correction note at the top. The note is recorded before any
write (a `republish` event), so a re-run after a kill publishes the very same text, once.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from markupsafe import escape

from pipeline import clock, emergency, notify, posts
from pipeline.checks import check_public_text
from pipeline.errors import GzhError
from pipeline.i18n import Text
from pipeline.ledger import Event, Kind, Ledger, Phase, PostState, Status, actor, fold
from pipeline.notify import Notice, plain
from pipeline.policy import Policy
from pipeline.render.sanitize import sanitize

# Article text, not interface text: followers read it in Chinese whatever language gzh speaks to its user.
_NOTE_PREFIX = "更正说明："
_DEFAULT_NOTE = "本文于 {first} 首次发布，因“{reason}”于 {removed} 下线，现于 {today} 按审批通过的版本重新发布。"
# Inline styles only: WeChat keeps no classes, and sanitize() keeps only the properties it allows.
_NOTE_HTML = ('<section style="margin: 0 0 16px; padding: 8px 12px; background-color: #fdf6ec; '
              'border-left: 3px solid #e6a23c;"><p style="margin: 0; font-size: 14px; color: #555;">{note}</p></section>')
_UNKNOWN = Text("找不到要重新发布的文章“{target}”：请写发布记录中的文章文件夹（content/…）、它被下线前的链接或 article_id",
                "Cannot find '{target}' to republish: give the post folder, the removed article's URL or its article_id")
_LIVE = Text("《{title}》仍在线上（{url}），不能重新发布：微信不允许修改已发布的文章，重新发布会多出一篇。"
             "请先下线被篡改的文章（例行：gzh withdraw {post} --reason …；应急：gzh emergency takedown {post} --reason …），再运行 gzh republish {post}",
             "《{title}》 is still live ({url}): remove it first (gzh withdraw {post} --reason … or gzh emergency takedown), "
             "then run gzh republish {post}")
_NOT_REMOVED = Text("《{title}》没有下线过，无需重新发布；要发布它，请用 gzh publish {post}",
                    "《{title}》 was never removed; publish it with gzh publish {post}")
_GONE = Text("主分支上已没有 {post}：重新发布的是审批通过、仍在主分支上的版本", "{post} is no longer on the branch; only the approved version there can be republished")
_MAY_WITHDRAW = Text("@{user} 不能例行下线《{title}》：只有该文章所属部门的负责人（{heads}）和管理员（{administrators}）可以。"
                     "紧急情况请按第九条用 gzh emergency takedown",
                     "@{user} may not withdraw 《{title}》: only its department's heads ({heads}) and the administrators "
                     "({administrators}) may; in an emergency use gzh emergency takedown")
_MAY_REPUBLISH = Text("@{user} 不能重新发布文章：只有管理员（{administrators}）可以", "@{user} may not republish: only the administrators ({administrators}) may")
_RESERVED = Text("今天已删除 {count} 次，剩下的 {reserve} 次留给应急下线（微信每天只允许删除 {limit} 次），这次例行下线没有执行。"
                 "请明天再运行；如属第九条的紧急情况，请用 gzh emergency takedown",
                 "{count} deletions today; the last {reserve} of WeChat's {limit} are kept for emergencies, so nothing was "
                 "withdrawn. Run it tomorrow, or use gzh emergency takedown in an emergency")
_NOTE_REFUSED = Text("更正说明没有通过检查，没有重新发布。说明会原样显示在文章开头，所有读者都能看到，请按下面的提示修改后再运行：\n{problems}",
                     "The correction note failed the checks; nothing was published. Every reader sees it as typed: "
                     "change it as below and run again:\n{problems}")
_REPUBLISH_TITLE = Text("【重新发布】{title}", "[Republished] {title}")
_REPUBLISH_LINES = (
    Text("已于 {when} 按审批通过的版本重新发布为新文章（原文章 {previous} 已下线）",
         "Published again at {when} as a new article, from the approved version (the old one, {previous}, was removed)"),
    Text("文章开头的{note}", "It opens with: {note}"),
    Text("执行人：{who}", "By {who}"),
)
_TOLD = Text("已通知：{recipients}", "Told: {recipients}")
_NOT_TOLD = Text("gzh.yml 没有配置通知群（notifications），请自行告知：{recipients}", "No notification channels in gzh.yml; tell {recipients} yourself")
_DEPARTMENT = Text("{name}的群", "{name}'s group")
EMERGENCY_RESERVE = 2  # of the day's deletions, never used by routine withdrawals: an attack may still need them
_NOTICE_TITLE = Text("【例行下线】{title}", "[Withdrawn] {title}")
_NOTICE_LINES = (
    Text("文章已于 {when} 从公众号下线（例行下线，不是应急事件）", "Removed from the account at {when} (routine, not an emergency)"),
    Text("原因：{reason}", "Reason: {reason}"),
    Text("执行人：{who}；如需恢复，管理员运行 gzh republish", "By {who}; to restore it, an administrator runs gzh republish"),
)


def authorize_withdrawal(policy: Policy, target: emergency.Target, user: str) -> None:
    """A department removes its own posts; the administrators any. Others are refused: each removal uses one of
    the day's ten deletions, which an emergency may need."""
    department = policy.department_of(target.post)
    heads = department.heads if department else ()
    administrators = policy.members("administrator")
    if user not in (*heads, *administrators):
        raise GzhError(_MAY_WITHDRAW(user=user, title=target.title, heads=policy.names(heads),
                                     administrators=policy.names(administrators)))


def authorize_republish(policy: Policy, user: str) -> None:
    """Publishing again, with a note nobody approved, is the administrators' call."""
    if user not in policy.members("administrator"):
        raise GzhError(_MAY_REPUBLISH(user=user, administrators=policy.names(policy.members("administrator"))))


def check_reserve(ledger: Ledger, today: dt.date) -> None:
    """Routine removals leave the day's last deletions to emergencies (all used up is the quota's own message)."""
    count = emergency.deletions_today(ledger, today)
    if emergency.DELETES_PER_DAY - EMERGENCY_RESERVE <= count < emergency.DELETES_PER_DAY:
        raise GzhError(_RESERVED(count=count, reserve=EMERGENCY_RESERVE, limit=emergency.DELETES_PER_DAY))


def notice(target: emergency.Target, reason: str, when: dt.datetime) -> Notice:
    """The withdrawal as the department's group and the administrators read it (once per article)."""
    values = {"when": clock.minute(when), "reason": plain(reason), "who": actor()}
    return Notice(f"withdraw:{target.article_id}", _NOTICE_TITLE(title=target.title), tuple(line(**values) for line in _NOTICE_LINES),
                  target.url)


def republish_notice(restored: "Restore", article_id: str, url: str, when: dt.datetime) -> Notice:
    """The restored article as the department's group and the administrators read it (once per new article)."""
    values = {"when": clock.minute(when), "note": plain(restored.note), "who": actor(),
              "previous": restored.previous_url or "—"}
    return Notice(f"republish:{article_id}", _REPUBLISH_TITLE(title=restored.title),
                  tuple(line(**values) for line in _REPUBLISH_LINES), url)


def tell(policy: Policy, ledger: Ledger, post: str, notice: Notice) -> str:
    """Tell the post's department and the administrators, once per notice; never the leaders (a routine
    removal or restore is not Art. 9). Returns what to print: who was told, or who to tell by hand."""
    department = policy.department_of(post)  # none for an article the pipeline never published
    administrators = policy.members("administrator")
    group = _DEPARTMENT(name=department.name) if department else ""
    recipients = "、".join(filter(None, [group, policy.names(administrators)]))
    if policy.notifications is None:
        return _NOT_TOLD(recipients=recipients) + "\n"
    warnings = notify.notify(policy, notice, departments=[department.slug] if department else [], people=administrators,
                             ledger=ledger)
    return _TOLD(recipients=recipients) + "\n" + notify.warning_text(warnings)


@dataclass(frozen=True)
class Restore:
    """What `gzh republish` publishes: the post, its correction note, and whether an earlier run began it."""

    post: str
    title: str
    note: str
    resumed: bool                 # the note was recorded by an earlier, interrupted republish
    previous_url: str


def restore(root: Path, policy: Policy, ledger: Ledger, target: str, note: str, today: dt.date) -> Restore:
    """The removed post behind `target` and the note it comes back with; refused while it is live, or when
    the note fails the checks a published text must pass (it is the one part nobody approved)."""
    try:
        found = emergency.find_target(ledger, target, root)
    except GzhError:
        raise GzhError(_UNKNOWN(target=target)) from None
    state = fold(ledger.events).get(found.post) if found.post else None
    if state is None:
        raise GzhError(_UNKNOWN(target=target))
    if state.correction and state.status not in (Status.PUBLISHED, Status.TAKEN_DOWN):  # begun, not finished
        return Restore(found.post, found.title, state.correction, True, state.previous_url)
    if state.status is not Status.TAKEN_DOWN:
        refusal = _LIVE if state.status is Status.PUBLISHED else _NOT_REMOVED
        raise GzhError(refusal(title=found.title, url=state.url, post=found.post))
    if not (root / found.post / posts.POST_FILE).is_file():
        raise GzhError(_GONE(post=found.post))
    text = correction(note or _default_note(ledger.events, found.post, state, today))
    problems = check_public_text(root, policy, text)
    if problems:
        raise GzhError(_NOTE_REFUSED(problems="\n".join(problems)))
    return Restore(found.post, found.title, text, False, state.url)


def correction(note: str) -> str:
    """The note as the article opens with it: 更正说明：…, whether or not the person typed the words."""
    return note if note.startswith(_NOTE_PREFIX) else _NOTE_PREFIX + note


def _default_note(events: list[Event], post: str, state: PostState, today: dt.date) -> str:
    first = next((event for event in events if event.post == post and event.kind in (Kind.PUBLISH, Kind.MASS)
                  and event.phase is not Phase.INTENT), None)
    removed = next(event for event in reversed(events) if event.post == post and event.kind is Kind.TAKEDOWN)
    return _DEFAULT_NOTE.format(first=emergency.minute(first.time)[:10] if first else "—", reason=state.reason,
                                removed=emergency.minute(removed.time)[:10], today=today.isoformat())


def correction_html(note: str) -> str:
    """The note as the article's first lines, escaped (it is typed in a workflow's form) and sanitized like the body."""
    return sanitize(_NOTE_HTML.format(note=escape(note)))
