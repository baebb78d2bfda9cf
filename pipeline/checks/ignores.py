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

_COMMENT = re.compile(r"<!--\s*gzh-ignore\b(?P<inner>.*?)-->", re.S)
_INNER = re.compile(r"^\s*(?P<rules>[A-Za-z0-9-]+(?:\s*[,，、]\s*[A-Za-z0-9-]+)*)\s*[:：]\s*(?P<reason>\S.*?)\s*$", re.S)
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
    text = view.post.text
    for match in _COMMENT.finditer(text, view.body_offset):
        location = view.location(match.start())
        parsed = _INNER.match(match.group("inner"))
        if parsed is None:
            problems.append(Hit(location, _MALFORMED()))
            continue
        rule_ids = tuple(part.strip() for part in re.split(r"[,，、]", parsed.group("rules")))
        unknown = [rule_id for rule_id in rule_ids if rule_id not in known_rules]
        if unknown:
            problems.append(Hit(location, _UNKNOWN_RULE(rule_id=unknown[0])))
        elif len(parsed.group("reason")) < MIN_REASON_CHARS:
            problems.append(Hit(location, _SHORT_REASON(count=MIN_REASON_CHARS)))
        else:
            found.append(Directive(rule_ids, parsed.group("reason"), location, _target_line(text, match)))
    return found, problems


def _target_line(text: str, match: re.Match[str]) -> int:
    line_start = text.rfind("\n", 0, match.start()) + 1
    line_end = text.find("\n", match.end())
    line_end = len(text) if line_end < 0 else line_end
    own_line = not text[line_start:match.start()].strip() and not text[match.end():line_end].strip()
    if not own_line:
        return text.count("\n", 0, match.start()) + 1
    next_line = text.count("\n", 0, match.end()) + 2
    for line in text[line_end + 1:].split("\n"):
        if line.strip():
            return next_line
        next_line += 1
    return next_line


IGNORE_COMMENT = Rule(
    "ignore-comment", Severity.ERROR, Text("忽略注释写明已知规则和理由", "Ignore comments name known rules and a reason"),
    check=None,  # reported by the engine from `directives`, which it needs anyway for suppression
)
IGNORE_UNUSED = Rule(
    "ignore-unused", Severity.WARNING, Text("忽略注释确有对应的问题", "Ignore comments suppress something"),
    check=None,  # decided by the engine after every rule has run: see pipeline.checks.check_post
)


def unused_hits(found: list[Directive]) -> Iterator[Hit]:
    for directive in found:
        unused = [rule_id for rule_id in directive.rule_ids if rule_id not in directive.used]
        if unused:
            yield Hit(directive.location, _UNUSED(rules="、".join(unused)))
