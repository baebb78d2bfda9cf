"""The check stage: posts and a policy in, findings out. Every rule runs; nothing stops early.

Rules live in the sibling modules and are listed in `registry.RULES`; this module applies the
policy's severities, the inline ignore comments and the allowlists, and sums up what it found.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping

from pipeline.checks import ignores, limits
from pipeline.checks.frontmatter import NON_REGULAR_FILE, POST_LAYOUT, STRAY_FILE, non_regular_file
from pipeline.checks.model import Finding, Hit, PostView, Rule, Severity
from pipeline.checks.registry import RULE_IDS, RULES, RULES_BY_ID
from pipeline.i18n import Text
from pipeline.policy import Policy
from pipeline import posts
from pipeline.posts import Post
from pipeline.redact import redact
from pipeline.yamlsource import Location

__all__ = ["Finding", "PostReport", "Report", "Severity", "check_post", "check_posts", "rule_label", "RULES",
           "RULES_BY_ID"]


def rule_label(rule_id: str, *, code: bool = False) -> str:
    """How people read a rule: its Chinese name with the id beside it, e.g. 手机号码（mobile-number）.

    The id stays because ignore comments and gzh.yml name rules by it; `code=True` puts it in
    backticks for Markdown. An id no rule has (a rule since removed) is shown as it is.
    """
    rule = RULES_BY_ID.get(rule_id)
    shown = f"`{rule_id}`" if code else rule_id
    return f"{rule.name()}（{shown}）" if rule is not None else shown


@dataclass(frozen=True)
class PostReport:
    path: str
    findings: tuple[Finding, ...]
    needs_secrecy_review: bool
    secrecy_reasons: tuple[str, ...]  # rule ids that sent the post to the secrecy office

    def count(self, severity: Severity) -> int:
        return sum(1 for finding in self.findings if finding.severity is severity)


@dataclass(frozen=True)
class Report:
    posts: tuple[PostReport, ...]
    other: tuple[Finding, ...] = ()  # findings about files that are not posts

    @property
    def findings(self) -> Iterable[Finding]:
        for post in self.posts:
            yield from post.findings
        yield from self.other

    def count(self, severity: Severity) -> int:
        return sum(1 for finding in self.findings if finding.severity is severity)

    def failed(self, strict: bool = False) -> bool:
        return self.count(Severity.ERROR) > 0 or (strict and self.count(Severity.WARNING) > 0)


def severities(policy: Policy) -> Mapping[str, Severity | None]:
    """Each rule's effective severity; None means the policy turned the rule off."""
    result: dict[str, Severity | None] = {}
    for rule in RULES:
        configured = policy.severities.get(rule.id)
        result[rule.id] = rule.severity if configured is None else (None if configured == "off" else Severity(configured))
    return result


# What a text published as typed, outside any post, must pass: a reply to a follower, a correction note.
PUBLIC_TEXT_RULES = ("misstatement", "outdated-name", "traditional-chars", "secret-marking", "internal-marking",
                     "document-number", "id-number", "bank-card", "mobile-number", "address")
_PROBLEM = Text("  - {name}：{message}", "  - {name}: {message}")


def check_public_text(root: Path, policy: Policy, text: str) -> list[str]:
    """The wording and confidentiality problems of a text published as typed, one Chinese line each.

    It cannot carry an ignore comment (every reader sees it exactly as written): the lines say what to change."""
    synthetic = posts.parse_post(f"---\ntitle: x\n---\n{text}\n", "reply", root, "")
    report = check_post(synthetic, policy, root, ignore_comments=False)
    return [_PROBLEM(name=RULES_BY_ID[finding.rule_id].name(), message=finding.message) for finding in report.findings
            if finding.rule_id in PUBLIC_TEXT_RULES and finding.severity in (Severity.ERROR, Severity.WARNING)]


def check_posts(posts: Iterable[Post], policy: Policy, root: Path, strays: Iterable[str] = (),
                published: Mapping[str, tuple[str, str]] | None = None, links: Iterable[str] = ()) -> Report:
    """Every post, plus findings about other files: stray Markdown, and links outside post folders
    (`links`, e.g. under templates/)."""
    levels = severities(policy)
    reports = tuple(check_post(post, policy, root, levels, published) for post in posts)
    layout, linked = levels[POST_LAYOUT.id], levels[non_regular_file.id]
    other = tuple(Finding(POST_LAYOUT.id, layout, Location(path), STRAY_FILE()) for path in strays if layout)
    other += tuple(Finding(non_regular_file.id, linked, Location(path), NON_REGULAR_FILE(path=path))
                   for path in links if linked)
    return Report(reports, other)


def check_post(post: Post, policy: Policy, root: Path, levels: Mapping[str, Severity | None] | None = None,
               published: Mapping[str, tuple[str, str]] | None = None, *, ignore_comments: bool = True) -> PostReport:
    """Every enabled rule on one post; `published` maps a post folder to its published (version, URL).

    `ignore_comments=False` is for text sent exactly as typed (a reply to a follower): an ignore
    comment there would be shown to readers, not obeyed, so none is honoured and no message offers one.
    """
    levels = levels if levels is not None else severities(policy)
    view = PostView(post, policy, root, published or {})
    size = len(post.text.encode("utf-8"))
    if size > posts.MAX_POST_BYTES:
        return _too_large(view, levels, size)
    found, malformed = ignores.directives(view, RULE_IDS) if ignore_comments else ([], [])
    by_line: dict[int, list[ignores.Directive]] = {}  # in order: the first that suppresses a hit is used
    for directive in found:
        by_line.setdefault(directive.target_line, []).append(directive)
    findings: list[Finding] = []
    secrecy_reasons: set[str] = set()
    for rule in RULES:
        if rule.check is None or levels[rule.id] is None:
            continue
        for hit in rule.check(view):
            if rule.secrecy:
                secrecy_reasons.add(rule.id)  # even when ignored inline: see pipeline.checks.ignores
            candidates = by_line.get(hit.location.line, ())
            if not any(directive.suppresses(rule.id, hit.location.line) for directive in candidates):
                findings.append(_finding(rule, levels, hit, ignore_comments))
    for rule, hits in ((ignores.IGNORE_COMMENT, malformed), (ignores.IGNORE_UNUSED, ignores.unused_hits(found))):
        if levels[rule.id] is not None:
            findings.extend(_finding(rule, levels, hit) for hit in hits)
    findings.sort(key=lambda finding: (finding.location.line, finding.location.col, finding.rule_id))
    return PostReport(post.path, tuple(findings), bool(secrecy_reasons), tuple(sorted(secrecy_reasons)))


def _too_large(view: PostView, levels: Mapping[str, Severity | None], size: int) -> PostReport:
    """A file over posts.MAX_POST_BYTES: one error, always (it can never be published), and only
    the rules that do not read the body; a check never stalls on a huge or hostile post."""
    message = limits.FILE_TOO_LARGE(size=round(size / 1024 / 1024, 1), limit=posts.MAX_POST_BYTES // 1024 // 1024)
    findings = [Finding(limits.body_size.id, Severity.ERROR, Location(view.path, 1, 1), message)]
    secrecy_reasons: set[str] = set()
    for rule in RULES:
        if rule.check is None or levels[rule.id] is None or rule.id not in limits.FIELD_RULES:
            continue
        for hit in rule.check(view):
            if rule.secrecy:
                secrecy_reasons.add(rule.id)
            findings.append(_finding(rule, levels, hit))
    findings.sort(key=lambda finding: (finding.location.line, finding.location.col, finding.rule_id))
    return PostReport(view.path, tuple(findings), bool(secrecy_reasons), tuple(sorted(secrecy_reasons)))


def _finding(rule: Rule, levels: Mapping[str, Severity | None], hit: Hit, ignore_comments: bool = True) -> Finding:
    severity = levels[rule.id]
    assert severity is not None
    message = f"{hit.message}{hit.waiver}" if ignore_comments else hit.message
    # Messages quote the post (typography shows the text around a fix): whatever a rule quotes, the
    # report, the annotations, the pull-request comment and the preview never show personal data.
    return Finding(rule.id, severity, hit.location, redact(message), rule.secrecy, hit.fix)
