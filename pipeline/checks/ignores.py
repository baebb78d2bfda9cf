"""Inline ignore comments: `<!-- gzh-ignore RULE[, RULE]: 理由 -->`.

A comment alone on its line applies to the next non-blank line; at the end of a line it applies to
that line. It must name known rules and give a reason, because someone approves it in review.
An ignored confidentiality finding still sends the post to the secrecy office: the comment is
written by the author in the pull request itself, so it may lower the error count but not the
level of review. Reviewed, standing exceptions belong in the policy's allowlists instead.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterator

from pipeline.checks.model import Hit, PostView, Rule, Severity
from pipeline.i18n import Text
from pipeline.yamlsource import Location

_OPENER = re.compile(r"<!--\s*gzh-ignore\b")  # the comment runs to the first --> after it
# The reason is the rest, trailing whitespace stripped by the caller (a lazy `.*?` before `\s*$`
# would retry the end at every character: quadratic in a long reason).
_INNER = re.compile(r"^\s*(?P<rules>[A-Za-z0-9-]+(?:\s*[,，、]\s*[A-Za-z0-9-]+)*)\s*[:：]\s*(?P<reason>\S.*)$", re.S)
_NON_SPACE = re.compile(r"\S")
MIN_REASON_CHARS = 4

_MALFORMED = Text(
    "忽略注释要写明规则编号和理由，例如 <!-- gzh-ignore mobile-number: 活动联系人本人同意公开 -->",
    "An ignore comment names the rule and a reason, e.g. <!-- gzh-ignore mobile-number: the contact agreed -->")
_UNKNOWN_RULE = Text("忽略注释里的规则“{rule_id}”不存在。可用 gzh check --list-rules 查看规则编号",
                     "Rule '{rule_id}' in the ignore comment does not exist; see gzh check --list-rules")
_SHORT_REASON = Text("忽略注释的理由太简单（至少 {count} 个字），请写明为什么可以忽略",
                     "The ignore comment's reason is too short (at least {count} characters); say why")
_UNUSED = Text("这条忽略注释没有对应的问题（{rules}），请删除它",
               "This ignore comment suppresses nothing ({rules}); remove it")


@dataclass
class Directive:
    rule_ids: tuple[str, ...]
    reason: str
    location: Location
    target_line: int
    used: set[str] = field(default_factory=set)

    def suppresses(self, rule_id: str, line: int) -> bool:
        if rule_id in self.rule_ids and line == self.target_line:
            self.used.add(rule_id)
            return True
        return False


def directives(view: PostView, known_rules: frozenset[str]) -> tuple[list[Directive], list[Hit]]:
    """The valid ignore comments of a post, and hits for the malformed ones."""
    found: list[Directive] = []
    problems: list[Hit] = []
    for start, end, inner in _comments(view.post.text, view.body_offset):
        location = view.location(start)
        parsed = _INNER.match(inner)
        if parsed is None:
            problems.append(Hit(location, _MALFORMED()))
            continue
        reason = parsed.group("reason").rstrip()
        rule_ids = tuple(part.strip() for part in re.split(r"[,，、]", parsed.group("rules")))
        unknown = [rule_id for rule_id in rule_ids if rule_id not in known_rules]
        if unknown:
            problems.append(Hit(location, _UNKNOWN_RULE(rule_id=unknown[0])))
        elif len(reason) < MIN_REASON_CHARS:
            problems.append(Hit(location, _SHORT_REASON(count=MIN_REASON_CHARS)))
        else:
            found.append(Directive(rule_ids, reason, location, _target_line(view, start, end)))
    return found, problems


def _comments(text: str, start: int) -> Iterator[tuple[int, int, str]]:
    """(start, end, inner text) of each ignore comment, as `<!--\\s*gzh-ignore\\b(.*?)-->` (re.S)
    would match them, in one pass: with no `-->` after an opener there is no later comment either."""
    position = start
    while (opener := _OPENER.search(text, position)) is not None:
        closer = text.find("-->", opener.end())
        if closer < 0:
            return
        yield opener.start(), closer + 3, text[opener.end():closer]
        position = closer + 3


def _target_line(view: PostView, start: int, end: int) -> int:
    """The line a comment at text[start:end] covers: its own, unless it stands alone on its line;
    then the next non-blank line. Each look stops at the first non-space character, so a post full
    of comments is read once, not once per comment."""
    text = view.post.text
    first, last = view.location(start), view.location(end)
    line_begin = start - first.col + 1
    before = start
    while before > line_begin and text[before - 1].isspace():
        before -= 1
    line_end = view.line_end(end)
    own_line = before == line_begin and _NON_SPACE.search(text, end, line_end) is None
    if not own_line:
        return first.line
    following = _NON_SPACE.search(text, line_end + 1)
    if following is not None:
        return view.location(following.start()).line
    return last.line + 2 + text.count("\n", line_end + 1)


IGNORE_COMMENT = Rule(
    "ignore-comment", Severity.ERROR, Text("忽略注释写明已知规则和理由", "Ignore comments name known rules and a reason"),
    check=None,  # reported by the engine from `directives`, which it needs anyway for suppression
    name=Text("忽略注释", "ignore comment"),
)
IGNORE_UNUSED = Rule(
    "ignore-unused", Severity.WARNING, Text("忽略注释确有对应的问题", "Ignore comments suppress something"),
    check=None,  # decided by the engine after every rule has run: see pipeline.checks.check_post
    name=Text("多余的忽略注释", "unused ignore comment"),
)


def unused_hits(found: list[Directive]) -> Iterator[Hit]:
    for directive in found:
        unused = [rule_id for rule_id in directive.rule_ids if rule_id not in directive.used]
        if unused:
            yield Hit(directive.location, _UNUSED(rules="、".join(unused)))
