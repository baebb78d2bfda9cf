"""Followers' feedback (Art. 8): comments collected into the ledger, routed, tracked until answered.

Each comment or message is routed when it arrives: the department whose business a keyword rule of
the policy names owns it (the first rule that matches), and the department whose post it was left
on is told as well; without a keyword the article's department owns it, and without either the
administrators do. Each owner department has one forge issue listing what waits for it (see
`department_findings`), due on the earliest reply date of its items: the policy's working days
(China's, holidays and adjusted workdays included). The national ceiling of 3 months makes the
issue a hard failure, alerted long before. Followers' personal numbers are masked before anything
is stored or shown; a digest of the normalised content finds repeated complaints.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from pipeline import clock, notify
from pipeline.clock import add_working_days
from pipeline.i18n import Text
from pipeline.ledger import Event, Kind, Ledger, fold
from pipeline.notify import Notice, plain
from pipeline.patrol import Finding
from pipeline.policy import Policy
from pipeline.posts import BEIJING
from pipeline.redact import normalise, redact
from pipeline.wechat import WeChat

PAGE = 49  # comment/list refuses 50 or more
CEILING_DAYS = 90
WINDOW = dt.timedelta(hours=48)  # a follower's message can be answered until 48 hours after their last one (45015)
ADMINISTRATORS = "administrator"  # the owner "slug" of unrouted items in finding keys
LISTED = 100  # items written out in an issue's body; the rest are counted (a body holds 65,536 characters)
HIDDEN, DELETED = "hidden", "deleted"

_MESSAGE_TITLE = Text("后台消息", "message to the account")
_ADMIN = Text("管理员（未能确定部门）", "Administrator (no department)")
_ISSUE_TITLE = Text("{owner}：{count} 条读者留言待答复", "{owner}: {count} follower comment(s) waiting")
_ISSUE_HEAD = Text("以下读者留言和后台消息等待{owner}答复（共 {count} 条，按答复期限先后）。"
                   "读者的手机号、身份证号等已遮盖。",
                   "These comments and messages wait for {owner} ({count}, earliest due first). Personal numbers are masked.")
_ISSUE_ITEM = Text("**#{number}**　《{title}》　{when}　答复期限 {due}{late}{window}",
                   "**#{number}** 《{title}》 {when}, due {due}{late}{window}")
_LATE = Text("（已超期）", " (overdue)")
_CEILING_NOTE = Text("（超过 3 个月，国家检查指标单项否决）", " (over 3 months: single veto)")
_WINDOW = Text("　可回复至 {ends}", ", answerable until {ends}")
_WINDOW_PASSED = Text("　已过 48 小时回复时限（{ends}），须改用其他方式答复", ", 48-hour window closed at {ends}: answer another way")
_SAME = Text("同样的留言 {count} 条：{numbers}", "The same text {count} times: {numbers}")
_TOLD = Text("已告知：{departments}", "Also told: {departments}")
_MORE = Text("另有 {count} 条，运行 gzh inbox 查看全部", "{count} more: run gzh inbox to see them all")
_HOW = Text(
    "**怎么答复**（在本问题下发评论，一条评论一个命令，全角／也可以）：\n"
    "- `/答复 编号 答复内容`：发到文章的留言区。答复也是对外发布的内容，先按表述和保密规则检查，不通过的不发送，回复中说明原因\n"
    "- `/已处理 编号 怎么答复的`：已在别处答复（后台消息在公众平台回复后、电话答复后），记入账本\n"
    "- `/隐藏 编号 原因`、`/删除 编号 原因`：辱骂、广告等不当留言，从精选留言中移除或删除，记入账本\n\n"
    "只有负责该条的部门负责人和管理员可以执行；每条命令都会收到回复。全部答复后本问题自动关闭。",
    "**How to answer** (comment on this issue, one command per comment):\n"
    "- `/答复 N text`: sent to the article's comments after the wording and secrecy checks\n"
    "- `/已处理 N how`: answered elsewhere, recorded\n"
    "- `/隐藏 N reason`, `/删除 N reason`: an abusive comment hidden from the elected ones or deleted, recorded\n\n"
    "Only the owning department's heads and the administrators may; every command is answered. The issue closes itself.")

_NOTICE_COMMENT = Text("【读者留言】请在 {due} 前答复", "[Comment] Answer by {due}")
_NOTICE_MESSAGE = Text("【后台消息】请在 {due} 前答复", "[Message] Answer by {due}")
_NOTICE_TOLD = Text("【读者留言·知悉】已转{owner}答复", "[Comment, for information] {owner} answers it")
_NOTICE_WHERE = Text("读者在《{title}》下留言（{when}，#{number}）：", "A follower commented on 《{title}》 ({when}, #{number}):")
_NOTICE_MESSAGE_WHERE = Text("读者给公众号发来消息（{when}，#{number}）：", "A follower wrote to the account ({when}, #{number}):")
_NOTICE_REPLY = Text("答复：在本部门的读者留言问题下评论 /答复 {number} 答复内容，或运行 gzh inbox reply {number} --text \"……\"（须通过检查）",
                     "Answer: comment /答复 {number} … on the department's inbox issue, or gzh inbox reply {number} --text \"…\"")
_NOTICE_OWNER = Text("这条留言由{owner}负责答复（{due} 前），本部门知悉即可。", "{owner} answers it (by {due}); for your information.")
_NOTICE_DONE = Text("请在 {ends} 前（微信只允许在读者最后一条消息后 48 小时内回复）在公众平台“内容与互动 → 消息”中回复，"
                    "然后运行 gzh inbox done {number} --note \"……\"",
                    "Answer in the MP console before {ends} (WeChat allows 48 hours), then run gzh inbox done {number} --note \"…\"")


@dataclass(frozen=True)
class Comment:
    number: int             # 1-based, in ledger order: what staff type in `gzh inbox reply N` and `/答复 N`
    key: str                # msg_data_id:index:user_comment_id, or msg:… for a message
    post: str
    title: str
    content: str            # as stored: personal numbers masked
    created: dt.datetime
    departments: tuple[str, ...]  # the owner first, then the departments told
    answered: bool
    due: dt.date
    window_ends: dt.datetime | None = None  # messages only: when WeChat stops taking an answer
    content_sha256: str = ""  # of the normalised original: the same complaint, however spaced or written
    moderated: str = ""     # HIDDEN or DELETED (abusive): nothing more to answer

    @property
    def is_message(self) -> bool:
        return self.key.startswith("msg:")

    @property
    def thread(self) -> tuple[str, int, int]:
        """A comment's place as WeChat's comment/* calls name it: msg_data_id, index, user_comment_id."""
        msg_data_id, index, user_comment_id = self.key.split(":")
        return msg_data_id, int(index), int(user_comment_id)

    @property
    def owner(self) -> str:
        """The department that answers ("" for the administrators)."""
        return self.departments[0] if self.departments else ""

    @property
    def told(self) -> tuple[str, ...]:
        return self.departments[1:]

    @property
    def waiting(self) -> bool:
        return not self.answered and not self.moderated

    def late(self, today: dt.date) -> bool:
        return self.waiting and today > self.due

    def beyond_ceiling(self, today: dt.date) -> bool:
        return self.waiting and (today - self.created.date()).days > CEILING_DAYS


def route(policy: Policy, post: str, content: str) -> tuple[str, ...]:
    """The owner first: the department of the first keyword rule the text mentions, else the post's;
    then every other department concerned (the post's, other rules'), which is told."""
    department = policy.department_of(post)
    home = [department.slug] if department else []
    routed = [rule.department for rule in policy.routes if any(word in content for word in rule.keywords)]
    return tuple(dict.fromkeys(routed + home))


def fingerprint(content: str) -> str:
    """SHA-256 of the text as a reader means it: full-width forms folded, spaces dropped (Chinese has none
    between words; a number may be typed with or without). Kept beside the masked text, so repeated
    complaints are found without keeping what was masked."""
    return hashlib.sha256("".join(normalise(content).split()).encode("utf-8")).hexdigest()


def follower(openid: str) -> str:
    """Only a digest of a follower's openid is kept: it tells one follower's items apart, and nothing more."""
    return hashlib.sha256(openid.encode("utf-8")).hexdigest() if openid else ""


def collect(wechat: WeChat, policy: Policy, events: list[Event]) -> list[Event]:
    """New comments and replies made elsewhere, as events to record (nothing is written here)."""
    known = {event.data["key"] for event in events if event.kind is Kind.COMMENT}
    answered = {event.data["key"] for event in events if event.kind is Kind.ANSWERED}
    new: list[Event] = []
    for bundle, state in fold(events).items():
        if state.status != "published" or not state.msg_data_id:
            continue
        begin, total = 0, 1
        while begin < total:
            page = wechat.list_comments(state.msg_data_id, 0, begin, PAGE)
            total = int(page.get("total", 0))
            items = page.get("comment", [])
            for item in items:
                key = f"{state.msg_data_id}:0:{item['user_comment_id']}"
                if key not in known:
                    new.append(_arrived(policy, bundle, state.msg_data_id, key, item))
                if item.get("reply") and key not in answered:
                    new.append(Event(Kind.ANSWERED, bundle, data={"key": key, "content": item["reply"]["content"],
                                                               "elsewhere": True}))
            if not items:
                break
            begin += len(items)
    return new


def _arrived(policy: Policy, bundle: str, msg_data_id: str, key: str, item: dict[str, Any]) -> Event:
    """A comment as recorded: routed now, the text masked by the ledger, digests of the text and the follower."""
    content = str(item["content"])
    return Event(Kind.COMMENT, bundle, data={
        "key": key, "msg_data_id": msg_data_id, "index": 0, "user_comment_id": int(item["user_comment_id"]),
        "content": content, "content_sha256": fingerprint(content), "openid_sha256": follower(str(item.get("openid") or "")),
        "create_time": int(item["create_time"]), "departments": list(route(policy, bundle, content))})


def comments(policy: Policy, events: Iterable[Event], titles: Callable[[str], str] = str) -> list[Comment]:
    """Comments on articles and messages to the account, numbered in ledger order."""
    events = list(events)
    answered = {event.data["key"] for event in events if event.kind is Kind.ANSWERED}
    moderated = {event.data["key"]: event.data["action"] for event in events if event.kind is Kind.MODERATED}
    windows = _windows(events)
    result = []
    for event in (event for event in events if event.kind in (Kind.COMMENT, Kind.MESSAGE)):
        created = dt.datetime.fromtimestamp(event.data["create_time"], BEIJING)
        title = titles(event.post) if event.kind is Kind.COMMENT else _MESSAGE_TITLE()
        content = redact(event.data["content"])  # the ledger masks it; events written before it did are masked here
        result.append(Comment(len(result) + 1, event.data["key"], event.post, title, content, created,
                              tuple(event.data["departments"]), event.data["key"] in answered,
                              add_working_days(created.date(), policy.reply_within_days),
                              windows.get(event.data.get("openid_sha256", "")) if event.kind is Kind.MESSAGE else None,
                              event.data.get("content_sha256") or fingerprint(content), moderated.get(event.data["key"], "")))
    return result


def _windows(events: list[Event]) -> dict[str, dt.datetime]:
    """Each follower's answering window: it runs from their latest message, so a new one reopens it."""
    latest: dict[str, int] = {}
    for event in (event for event in events if event.kind is Kind.MESSAGE):
        follower_sha = event.data.get("openid_sha256", "")
        latest[follower_sha] = max(latest.get(follower_sha, 0), int(event.data["create_time"]))
    return {follower_sha: dt.datetime.fromtimestamp(stamp, BEIJING) + WINDOW for follower_sha, stamp in latest.items()}


def owner_name(policy: Policy, slug: str) -> str:
    department = policy.department(slug)
    return department.name if department else _ADMIN()


def grouped(items: Iterable[Comment]) -> list[tuple[Comment, tuple[Comment, ...]]]:
    """Waiting items with the same text shown once: the earliest due, with all of its twins (itself
    included), in order of due date. Messages are twins only within one answering window (one follower's)."""
    groups: dict[tuple[str, str, dt.datetime | None], list[Comment]] = {}
    for item in sorted((item for item in items if item.waiting), key=lambda item: (item.due, item.number)):
        groups.setdefault((item.owner, item.content_sha256, item.window_ends), []).append(item)
    return [(group[0], tuple(group)) for group in groups.values()]


def by_owner(items: Iterable[Comment]) -> dict[str, list[Comment]]:
    """The waiting items per owner department ("" for the administrators), in order of arrival."""
    owners: dict[str, list[Comment]] = {}
    for item in (item for item in items if item.waiting):
        owners.setdefault(item.owner, []).append(item)
    return owners


def told_names(policy: Policy, item: Comment) -> str:
    """The other departments told of an item, by name ("" when none)."""
    return "、".join(owner_name(policy, slug) for slug in item.told)


def same_text(twins: tuple[Comment, ...]) -> str:
    """"同样的留言 3 条：#3、#7、#9", or "" for a text said once."""
    return _SAME(count=len(twins), numbers="、".join(f"#{twin.number}" for twin in twins)) if len(twins) > 1 else ""


def window(item: Comment, now: dt.datetime) -> str:
    """A message's answering window (comments have none): open until when, or closed."""
    if item.window_ends is None:
        return ""
    return (_WINDOW if now <= item.window_ends else _WINDOW_PASSED)(ends=clock.minute(item.window_ends))


def department_findings(items: Iterable[Comment], policy: Policy, now: dt.datetime) -> list[Finding]:
    """One finding per department with items waiting (its forge issue): due on the earliest reply
    date, failing once any item waits over 3 months."""
    today = now.date()
    findings = []
    for slug, waiting in by_owner(items).items():
        name = owner_name(policy, slug)
        findings.append(Finding(
            f"department:{slug or ADMINISTRATORS}", "inbox", "fail" if any(item.beyond_ceiling(today) for item in waiting) else "warn",
            _ISSUE_TITLE(owner=name, count=len(waiting)), issue_body(policy, waiting, name, now), "", slug,
            due=min(item.due for item in waiting).isoformat()))
    return findings


def issue_body(policy: Policy, waiting: list[Comment], owner: str, now: dt.datetime) -> str:
    """What a department's issue lists: each waiting text once (with its twins' numbers), masked and
    made inert (no link, mention or heading a follower could plant), then how to answer."""
    today = now.date()
    groups = grouped(waiting)
    parts = [_ISSUE_HEAD(owner=owner, count=len(waiting))]
    for first, twins in groups[:LISTED]:
        late = _CEILING_NOTE() if first.beyond_ceiling(today) else _LATE() if first.late(today) else ""
        lines = [_ISSUE_ITEM(number=first.number, title=notify.inert(first.title), when=clock.minute(first.created),
                             due=first.due.isoformat(), late=late, window=window(first, now)),
                 f"> {notify.inert(first.content[:300])}"]
        told = told_names(policy, first)
        lines += [text for text in (same_text(twins), _TOLD(departments=told) if told else "") if text]
        parts.append("\n".join(lines))
    if len(groups) > LISTED:
        parts.append(_MORE(count=sum(len(twins) for _, twins in groups[LISTED:])))
    parts.append(_HOW())
    return "\n\n".join(parts)


def notice(item: Comment, link: str = "") -> Notice:
    """What the owner department of a comment or message is told in its group, once."""
    when = clock.minute(item.created)
    if item.is_message:
        lines = (_NOTICE_MESSAGE_WHERE(when=when, number=item.number), f"> {plain(redact(item.content)[:300])}",
                 _NOTICE_DONE(ends=clock.minute(item.window_ends), number=item.number))
    else:
        lines = (_NOTICE_WHERE(title=plain(item.title), when=when, number=item.number), f"> {plain(redact(item.content)[:300])}",
                 _NOTICE_REPLY(number=item.number))
    title = (_NOTICE_MESSAGE if item.is_message else _NOTICE_COMMENT)(due=item.due.isoformat())
    return Notice(f"comment:{item.key}", title, lines, link, item.due.isoformat())


def told_notice(item: Comment, owner: str, link: str = "") -> Notice:
    """What the other departments concerned (the article's own) are told: who answers, for information."""
    base = notice(item, link)
    return Notice(f"{base.key}:told", _NOTICE_TOLD(owner=owner), (*base.lines[:2], _NOTICE_OWNER(owner=owner, due=base.due)), link)


def announce(policy: Policy, ledger: Ledger, item: Comment, link: str = "") -> list[str]:
    """Tell the owner department's group (the administrators' when unrouted) and, for information, the
    other departments' concerned; the ledger lets each notice through once. Chinese warnings back."""
    warnings = notify.notify(policy, notice(item, link), departments=(item.owner,),
                             people=() if item.owner else policy.members("administrator"), ledger=ledger)
    if item.told:
        warnings += notify.notify(policy, told_notice(item, owner_name(policy, item.owner), link), departments=item.told,
                                  ledger=ledger)
    return warnings
