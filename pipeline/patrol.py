"""The inspection stage (Art. 7): the live account compared with what was approved and recorded.

What is inspected, through the APIs in the WeChat reference:
- every article published through the pipeline is still online (deleted: status 5; banned: 6);
- every live article is known to the ledger (anything else was published outside the pipeline);
- live content equals what was approved (a fingerprint of text, images and links, with a diff);
- timeliness: days since the last publication, expired notices still online, overdue schedules;
- accuracy: live text re-scanned with today's wording dictionary and confidentiality rules;
- links to the account's own articles that are no longer online.
Not inspected, because the API in the reference does not cover them: the account's home page,
custom menus and automatic replies, and articles mass-sent from the web console (freepublish
lists only what was published, not mass-sent).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable

from pipeline import clock, posts, render
from pipeline.checks import check_post
from pipeline.i18n import Text
from pipeline.ledger import Event, Kind, Phase, PostState, Status, fold
from pipeline.notify import inert
from pipeline.policy import Policy
from pipeline.posts import BEIJING
from pipeline.render.sanitize import fingerprint, readable_text
from pipeline.wechat import WeChat, WeChatError

RESCAN_RULES = ("misstatement", "outdated-name", "secret-marking", "internal-marking", "id-number", "bank-card")
SECRECY_RULES = ("secret-marking", "internal-marking", "id-number", "bank-card")
SINGLE_VETO = ("stale", "tampered", "secrecy")
# Art. 9: tampered or illegal content, an article gone or published outside the pipeline. These reach the
# administrators, the group leader and the day's duty leader at once; the rest go to the department with a deadline.
ALERT_KINDS = ("tampered", "banned", "deleted", "unknown", "secrecy")

_TITLES = {
    "deleted": Text("已发布的文章被删除（不是经本流程删除的）：《{title}》", "A published article was deleted outside the pipeline: 《{title}》"),
    "banned": Text("已发布的文章被平台封禁：《{title}》", "A published article was banned by the platform: 《{title}》"),
    "missing": Text("已发布的文章在线上找不到：《{title}》", "A published article is not online: 《{title}》"),
    "unknown": Text("线上有未经本流程发布的文章：《{title}》", "A live article was published outside the pipeline: 《{title}》"),
    "tampered": Text("线上内容与审批通过的版本不一致（疑似被篡改）：《{title}》",
                     "Live content differs from the approved version (tampering?): 《{title}》"),
    "stale": Text("已 {days} 天没有发布新内容", "Nothing published for {days} days"),
    "expired": Text("已过期的通知仍在线上：《{title}》", "An expired notice is still online: 《{title}》"),
    "overdue": Text("定时发布的文章超时未发布：《{title}》", "A scheduled post is overdue: 《{title}》"),
    "wording": Text("线上文章有表述问题：{rule}（《{title}》）", "Wording problem in a live article: {rule} (《{title}》)"),
    "secrecy": Text("线上文章发现涉密或个人信息：{rule}（《{title}》）", "Secret or personal data in a live article: {rule} (《{title}》)"),
    "broken-link": Text("文章链接到已下线的本号文章：《{title}》", "An article links to one of ours that is offline: 《{title}》"),
}
_DETAILS = {
    "deleted": Text("《{title}》（{url}）已于线上删除，但发布记录中没有经本流程删除的记录。请核实是谁删除、为什么", "《{title}》 ({url}) was deleted but not through gzh"),
    "banned": Text("《{title}》（{url}）被平台封禁（状态 6）。请在公众平台查看原因；需要立案跟踪的，用 gzh emergency open 打开事件记录",
                   "《{title}》 ({url}) was banned (status 6); gzh emergency open records an incident"),
    "missing": Text("《{title}》（{url}）不在已发布列表中，也无法查询状态", "《{title}》 ({url}) is neither live nor traceable"),
    "unknown": Text("《{title}》（{url}）不在发布记录中，可能是有人直接在公众平台发布的。按第五条，未经审批的信息不得发布", "《{title}》 ({url}) is not in the ledger"),
    "tampered": Text("《{title}》（{url}）的正文与发布时记录的不同。请立即核实，必要时用 gzh emergency takedown 下线", "《{title}》 ({url}) differs from what was approved"),
    "stale": Text("最近一次发布是 {last}。国家检查指标：2 周不更新即不合格。请各部门及时提供稿件", "The last publication was on {last}"),
    "expired": Text("《{title}》（{url}）的有效期到 {expires} 为止，已过期。请下线（gzh withdraw {post} --reason …，常规下线，"
                    "不启动应急流程）或发布更新说明", "《{title}》 ({url}) expired on {expires}: withdraw it (gzh withdraw {post} "
                    "--reason …, routine, no emergency) or publish an update"),
    "overdue": Text("《{title}》计划 {when} 发布，至今未发布。请检查发布工作流", "《{title}》 was due at {when}"),
    "rescan": Text("《{title}》（{url}）：{message}", "《{title}》 ({url}): {message}"),
    "broken-link": Text("《{title}》（{url}）链接到 {target}，该文章已不在线上", "《{title}》 ({url}) links to {target}, which is offline"),
}
_VERDICT_PASS = Text("合格", "pass")
_VERDICT_FAIL = Text("不合格", "fail")


@dataclass(frozen=True)
class Finding:
    key: str               # stable across runs: one forge issue per key
    kind: str
    severity: str          # fail or warn
    title: str
    detail: str
    post: str = ""         # content/<dept>/<post>, when the finding belongs to a post
    department: str = ""   # department slug responsible; "" means the administrator
    diff: str = ""
    due: str = ""          # YYYY-MM-DD when the finding itself sets the deadline (a comment's reply date); else policy.due_days

    @property
    def alarming(self) -> bool:
        """Told to the administrators and the leaders at once (Art. 9(2)), not only to the department."""
        return self.kind in ALERT_KINDS


@dataclass(frozen=True)
class PatrolReport:
    date: str
    findings: tuple[Finding, ...]
    live: int
    published: int
    last_published: str
    days_since: int | None
    calls: dict[str, int] = field(default_factory=dict)

    @property
    def score(self) -> int:
        deduction = sum(15 if finding.severity == "fail" else 5 for finding in self.findings)
        return max(0, 100 - deduction)

    @property
    def vetoed(self) -> list[Finding]:
        return [finding for finding in self.findings if finding.kind in SINGLE_VETO and finding.severity == "fail"]

    @property
    def passed(self) -> bool:
        return not self.vetoed and self.score >= 60

    def to_json(self) -> dict[str, Any]:
        return {"date": self.date, "score": self.score, "passed": self.passed, "live": self.live,
                "published": self.published, "last_published": self.last_published, "days_since": self.days_since,
                "calls": self.calls, "findings": [asdict(finding) for finding in self.findings]}


def inspect(root: Path, policy: Policy, wechat: WeChat, events: list[Event], today: dt.date) -> PatrolReport:
    before = len(wechat.calls)
    live = {item["article_id"]: item for item in wechat.all_published(no_content=False)}
    states = fold(events)
    published = {bundle: state for bundle, state in states.items() if state.status == Status.PUBLISHED}
    by_article = {state.article_id: bundle for bundle, state in published.items() if state.article_id}
    titles = Titles(root, events)
    findings: list[Finding] = []
    for bundle, state in published.items():
        if not state.article_id:
            continue  # mass-sent: freepublish/batchget never lists it, so the patrol cannot see it either way
        if state.article_id in live:
            findings += _compare(root, policy, bundle, state, live[state.article_id], titles(bundle))
        else:  # taken down or withdrawn through gzh: no longer published in the ledger, so not here
            findings += _gone(wechat, bundle, state, titles(bundle))
    for article_id, item in live.items():
        if article_id not in by_article:
            first = item["content"]["news_item"][0]
            findings.append(_finding("unknown", f"unknown:{article_id}", "fail", inert(first["title"]), first.get("url", "")))
    offline_urls = {state.url for bundle, state in published.items() if state.article_id not in live and state.url}
    findings += _broken_links(live, offline_urls, by_article, titles)
    findings += _rescan(root, policy, live, by_article, titles)
    findings += _expired(root, published, live, today)
    findings += _overdue(root, states, today)
    last, days = _last_publication(live, events, today)
    if days is not None and days >= policy.warn_days:
        severity = "fail" if days >= policy.fail_days else "warn"
        findings.append(Finding("stale", "stale", severity, _TITLES["stale"](days=days), _DETAILS["stale"](last=last)))
    calls: dict[str, int] = {}
    for endpoint in wechat.calls[before:]:
        calls[endpoint] = calls.get(endpoint, 0) + 1
    findings = [_owned(policy, finding) for finding in findings]
    return PatrolReport(today.isoformat(), tuple(sorted(findings, key=lambda f: (f.severity != "fail", f.kind, f.key))),
                        len(live), len(published), last, days, calls)


def _finding(kind: str, key: str, severity: str, title: str, url: str, post: str = "", diff: str = "",
             **values: Any) -> Finding:
    return Finding(key, kind, severity, _TITLES[kind](title=title, **values),
                   _DETAILS[kind](title=title, url=url, post=post, **values), post, diff=diff)


def _owned(policy: Policy, finding: Finding) -> Finding:
    """The finding's department: the one whose folder holds its post; none (the administrator) for the account's."""
    department = policy.department_of(finding.post)
    return dataclasses.replace(finding, department=department.slug if department else "")


class Titles:
    """What people call an article (reports and issues name articles, not folders): its title in the
    repository's front matter, else the last title the ledger recorded for it (an event's `article`,
    written by findings and incidents), else its folder."""

    def __init__(self, root: Path, events: Iterable[Event]) -> None:
        self.root = root
        self.recorded = {event.post: str(event.data["article"]) for event in events if event.post and event.data.get("article")}
        self._read: dict[str, str] = {}  # each post's file is parsed once, however many findings or comments name it

    def __call__(self, bundle: str) -> str:
        if bundle not in self._read:
            file = self.root / bundle / posts.POST_FILE
            meta = posts.load_post(file, self.root).meta if bundle and file.is_file() else None
            self._read[bundle] = (meta.title if meta else "") or self.recorded.get(bundle) or bundle
        return self._read[bundle]


def _compare(root: Path, policy: Policy, bundle: str, state: PostState, item: dict[str, Any], title: str) -> list[Finding]:
    content = item["content"]["news_item"][0]
    if not state.content_sha256 or fingerprint(content.get("content", "")) == state.content_sha256:
        return []
    diff = "\n".join(difflib.unified_diff(_approved_text(root, policy, bundle).splitlines(),
                                          readable_text(content.get("content", "")).splitlines(),
                                          "审批通过的版本", "线上版本", lineterm="", n=1))
    return [_finding("tampered", f"tampered:{bundle}", "fail", title, state.url, bundle, diff)]


def _approved_text(root: Path, policy: Policy, bundle: str) -> str:
    """The approved article's text, rendered again from the repository (images do not matter here)."""
    file = root / bundle / posts.POST_FILE
    if not file.is_file():
        return ""
    try:
        return readable_text(render.render_post(posts.load_post(file, root), policy, root).html)
    except render.RenderError:
        return ""


def _gone(wechat: WeChat, bundle: str, state: PostState, title: str) -> list[Finding]:
    status = None
    if state.publish_id:
        try:
            status = int(wechat.publish_status(state.publish_id).get("publish_status", -1))
        except WeChatError:
            status = None
    kind = {5: "deleted", 6: "banned"}.get(status or -1, "missing")
    return [_finding(kind, f"{kind}:{bundle}", "fail", title, state.url, bundle)]


def _broken_links(live: dict[str, dict[str, Any]], offline: set[str], by_article: dict[str, str],
                  titles: Titles) -> list[Finding]:
    findings = []
    for article_id, item in live.items():
        first = item["content"]["news_item"][0]
        for target in re.findall(r'<a\b[^>]*\bhref="([^"]*)"', first.get("content", "")):
            if target in offline:
                bundle = by_article.get(article_id, "")
                title = titles(bundle) if bundle else inert(first["title"])
                findings.append(_finding("broken-link", f"broken-link:{article_id}:{target}", "warn", title,
                                         first.get("url", ""), bundle, target=target))
    return findings


def _rescan(root: Path, policy: Policy, live: dict[str, dict[str, Any]], by_article: dict[str, str],
            titles: Titles) -> list[Finding]:
    """Today's rules over yesterday's articles: a word added to the dictionary still catches old posts."""
    findings = []
    for article_id, item in live.items():
        first = item["content"]["news_item"][0]
        bundle = by_article.get(article_id, "")
        title = titles(bundle) if bundle else inert(first["title"])
        text = readable_text(first.get("content", ""))
        synthetic = posts.parse_post(f"---\ntitle: x\n---\n{text}\n", f"live/{article_id}", root, "")
        report = check_post(synthetic, policy, root)
        for hit in (finding for finding in report.findings if finding.rule_id in RESCAN_RULES):
            secret = hit.rule_id in SECRECY_RULES
            kind = "secrecy" if secret else "wording"
            findings.append(Finding(
                f"{kind}:{article_id}:{hit.rule_id}:{hit.location.line}", kind, "fail" if secret or hit.severity.value == "error" else "warn",
                _TITLES[kind](rule=hit.rule_id, title=title),
                _DETAILS["rescan"](title=title, url=first.get("url", ""), message=hit.message),
                bundle))
    return findings


def _expired(root: Path, published: dict[str, PostState], live: dict[str, Any], today: dt.date) -> list[Finding]:
    findings = []
    for bundle, state in published.items():
        file = root / bundle / posts.POST_FILE
        if state.article_id not in live or not file.is_file():
            continue
        post = posts.load_post(file, root)
        if post.meta and post.meta.expires and post.meta.expires < today:
            findings.append(_finding("expired", f"expired:{bundle}", "warn", post.meta.title, state.url, bundle,
                                     expires=post.meta.expires.isoformat()))
    return findings


def _overdue(root: Path, states: dict[str, PostState], today: dt.date) -> list[Finding]:
    findings = []
    now = dt.datetime.combine(today, dt.time(23, 59), BEIJING)
    for bundle, state in states.items():
        file = root / bundle / posts.POST_FILE
        if state.status != "scheduled" or not file.is_file():
            continue
        post = posts.load_post(file, root)
        if post.meta and post.meta.publish_at and post.meta.publish_at < now - dt.timedelta(hours=1):
            findings.append(_finding("overdue", f"overdue:{bundle}", "warn", post.meta.title, "", bundle,
                                     when=clock.minute(post.meta.publish_at)))
    return findings


def _last_publication(live: dict[str, dict[str, Any]], events: Iterable[Event], today: dt.date) -> tuple[str, int | None]:
    stamps = [dt.datetime.fromtimestamp(int(item.get("update_time", 0)), BEIJING) for item in live.values()]
    stamps += [dt.datetime.fromisoformat(event.time).astimezone(BEIJING) for event in events
               if event.kind in (Kind.PUBLISH, Kind.MASS) and event.phase is Phase.RESULT]
    if not stamps:
        return "—", None
    last = max(stamps)
    return last.strftime("%Y-%m-%d"), max(0, (today - last.date()).days)


# -- the report --------------------------------------------------------------------------------------

_REPORT_TITLE = Text("# 公众号日常巡查报告（{date}）", "# Account patrol report ({date})")
_SCORE = Text("**结论：{verdict}**　得分 {score}（每个严重问题扣 15 分、一般问题扣 5 分；出现单项否决项即不合格）",
              "**Verdict: {verdict}**, score {score}")
_FACTS = Text("- 线上文章 {live} 篇，发布记录中的文章 {published} 篇\n- 最近一次发布：{last}（{days} 天前）\n- 本次调用的接口：{calls}",
              "- {live} live articles, {published} in the ledger\n- Last publication: {last} ({days} days ago)\n- API calls: {calls}")
_VETO = Text("单项否决：{items}", "Single veto: {items}")
_NONE = Text("没有发现问题。", "No findings.")
_SCOPE = Text(
    "巡查范围：经本流程发布的文章是否仍在线（删除、封禁）、线上是否有未经本流程发布的文章、线上内容与审批版本是否一致、"
    "更新是否及时、过期通知、超时的定时发布、按现行词典和保密规则复查线上文章、指向本号已下线文章的链接。"
    "未巡查（接口不支持）：公众号主页、自定义菜单和自动回复、在公众平台网页上群发的文章。",
    "Scope: published articles online, unknown articles, tampering, timeliness, expiry, overdue schedules, "
    "re-scan with current rules, links to offline articles. Not covered by the API: home page, menus, auto-replies, "
    "articles mass-sent from the web console.")
_FINDINGS = Text("## 发现的问题（{count}）", "## Findings ({count})")
_SEVERITY = {"fail": Text("严重", "serious"), "warn": Text("一般", "minor")}


def markdown(report: PatrolReport, policy: Policy) -> str:
    verdict = _VERDICT_PASS() if report.passed else _VERDICT_FAIL()
    lines = [_REPORT_TITLE(date=report.date), "", _SCORE(verdict=verdict, score=report.score), ""]
    if report.vetoed:
        lines += [_VETO(items="；".join(finding.title for finding in report.vetoed)), ""]
    calls = "、".join(f"{name} {count} 次" for name, count in sorted(report.calls.items())) or "—"
    lines += [_FACTS(live=report.live, published=report.published, last=report.last_published,
                     days="—" if report.days_since is None else report.days_since, calls=calls), "",
              _FINDINGS(count=len(report.findings))]
    if not report.findings:
        lines.append(_NONE())
    for finding in report.findings:
        department = policy.department(finding.department)
        owner = department.name if department else "管理员"
        lines.append(f"- **{_SEVERITY[finding.severity]()}**｜{finding.title}｜{owner}：{finding.detail}")
        if finding.diff:
            lines += ["", "  ```diff"] + [f"  {line}" for line in finding.diff.splitlines()] + ["  ```"]
    lines += ["", f"<sub>{_SCOPE()}</sub>"]
    return "\n".join(lines) + "\n"

