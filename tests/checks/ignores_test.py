from __future__ import annotations

import time
from pathlib import Path

from tests.support import check_file, make_root, write_post


def rules_found(tmp_path: Path, body: str) -> list[tuple[str, int]]:
    root = make_root(tmp_path)
    report = check_file(root, write_post(root, body))
    return [(finding.rule_id, finding.location.line) for finding in report.findings]


def test_comment_on_its_own_line_covers_the_next_line(tmp_path: Path) -> None:
    body = "<!-- gzh-ignore mobile-number: 联系人本人同意公开 -->\n\n联系人13800138000。\n"
    assert rules_found(tmp_path, body) == []


def test_trailing_comment_covers_its_own_line(tmp_path: Path) -> None:
    body = "联系人13800138000。<!-- gzh-ignore mobile-number: 联系人本人同意公开 -->\n"
    assert rules_found(tmp_path, body) == []


def test_ignored_secrecy_finding_still_needs_the_secrecy_office(tmp_path: Path) -> None:
    root = make_root(tmp_path)
    body = "<!-- gzh-ignore mobile-number: 联系人本人同意公开 -->\n联系人13800138000。\n"
    report = check_file(root, write_post(root, body))
    assert report.findings == () and report.needs_secrecy_review


def test_comment_only_covers_the_named_rule(tmp_path: Path) -> None:
    body = "<!-- gzh-ignore address: 单位地址已公开 -->\n联系人13800138000。\n"
    assert rules_found(tmp_path, body) == [("ignore-unused", 11), ("mobile-number", 12)]


def test_malformed_comments_are_errors(tmp_path: Path) -> None:
    body = "<!-- gzh-ignore -->\n<!-- gzh-ignore mobile-number -->\n<!-- gzh-ignore no-such-rule: 理由充分写明 -->\n" \
           "<!-- gzh-ignore mobile-number: 好 -->\n正文。\n"
    assert rules_found(tmp_path, body) == [("ignore-comment", line) for line in (11, 12, 13, 14)]


def test_several_rules_in_one_comment(tmp_path: Path) -> None:
    body = "<!-- gzh-ignore mobile-number, address: 单位值班电话和地址均已公开 -->\n" \
           "值班电话13800138000，家住扬州市广陵区文昌路18号3栋。\n"
    assert rules_found(tmp_path, body) == []


def test_many_comments_each_cover_their_own_line(tmp_path: Path) -> None:
    own = "".join(f"<!-- gzh-ignore mobile-number: 联系人本人同意公开 -->\n联系人1380013{index:04d}。\n" for index in range(1500))
    trailing = "".join(f"联系人1390013{index:04d}。<!-- gzh-ignore mobile-number: 联系人本人同意公开 -->\n"
                       for index in range(1500))
    began = time.perf_counter()
    assert rules_found(tmp_path, own + "\n" + trailing) == [("body-size", 10)]  # far over WeChat's 20,000
    assert time.perf_counter() - began < 30  # each comment once rescanned the text before and after it


def test_a_comment_followed_only_by_blank_lines_covers_the_line_after_the_text(tmp_path: Path) -> None:
    body = "正文。\n<!-- gzh-ignore mobile-number: 联系人本人同意公开 -->\n\n\n"
    assert rules_found(tmp_path, body) == [("ignore-unused", 12)]


def test_unclosed_ignore_comments_are_no_comments(tmp_path: Path) -> None:
    body = "<!-- gzh-ignore mobile-number: 联系人本人同意公开\n" * 20_000 + "联系人13800138000。\n"
    began = time.perf_counter()
    assert [rule for rule, _ in rules_found(tmp_path, body)] == ["body-size", "mobile-number"]
    assert time.perf_counter() - began < 30  # was quadratic: every opener rescanned the rest


def test_a_reason_keeps_its_words_and_loses_its_trailing_space(tmp_path: Path) -> None:
    body = "联系人13800138000。<!-- gzh-ignore mobile-number: 联系人  本人同意公开 \n\n  -->\n"
    assert rules_found(tmp_path, body) == []
    found = rules_found(tmp_path / "short", "联系人13800138000。<!-- gzh-ignore mobile-number: 好" + " " * 50_000 + "-->\n")
    assert [item for item in found if item[0] != "typography"] == [("mobile-number", 11), ("ignore-comment", 11)]
