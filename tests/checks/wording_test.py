from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from pipeline.checks.model import html_comment_spans, inline_code_spans
from pipeline.checks.wording import LINT_CHUNK, dictionary
from tests.support import check_file, findings_for, front_matter, line_of, make_root, post_text, write_post


def test_dictionary_is_versioned_and_well_formed() -> None:
    version, entries = dictionary()
    assert version
    assert {entry.kind for entry in entries} == {"country", "organ", "slogan", "outdated"}
    for entry in entries:  # every entry catches its own example and not the corrected text
        assert entry.pattern.search(entry.wrong), entry.wrong
        assert not entry.pattern.search(entry.right), entry.right


@pytest.mark.parametrize(("body", "expected"), [
    ("热烈庆祝中华人民共合国成立。\n", ["中华人民共合国"]),
    ("扬州市总公会召开会议。\n", ["扬州市总公会"]),
    ("深入开展扫黑险恶专项斗争。\n", ["扫黑险恶"]),
    ("热烈庆祝中华人民共和国成立，扬州市总工会召开会议。\n", []),
    ("```\n中华人民共合国\n```\n", []),  # code is not prose
    ("示例：`扫黑险恶`。\n", []),
])
def test_misstatement(tmp_path: Path, body: str, expected: list[str]) -> None:
    found = findings_for(tmp_path, "misstatement", body)
    assert [finding.message.split("“")[1].split("”")[0] for finding in found] == expected


def test_misstatement_in_the_title_is_caught(tmp_path: Path) -> None:
    found = findings_for(tmp_path, "misstatement", meta=front_matter(title="市总公会召开全委会"))
    assert [finding.location.line for finding in found] == [2]


@pytest.mark.parametrize(("body", "count"), [
    ("原国土资源部的职责。\n", 1),
    ("农业部发布通知。\n", 1),
    ("各级农业部门积极配合。\n", 0),
    ("企业文化部组织活动。\n", 0),
    ("自然资源部发布通知。\n", 0),
])
def test_outdated_name(tmp_path: Path, body: str, count: int) -> None:
    assert len(findings_for(tmp_path, "outdated-name", body)) == count


def test_traditional_characters_are_grouped_and_located(tmp_path: Path) -> None:
    found = findings_for(tmp_path, "traditional-chars", "本會將舉辦職工運動會。\n")
    assert [finding.message.split("“")[1].split("”")[0] for finding in found] == ["會將舉辦職", "運動會"]
    assert found[0].location.col == 2


def test_allowlisted_traditional_character_passes(tmp_path: Path) -> None:
    assert findings_for(tmp_path, "traditional-chars", "於海同志获得表彰。\n") == []


def test_simplified_text_passes(tmp_path: Path) -> None:
    assert findings_for(tmp_path, "traditional-chars", "本会将举办职工运动会。\n") == []


@pytest.mark.parametrize(("body", "count"), [
    ("本周五下午召开职代会,请准时参加.\n", 1),
    ("今天是 2026 年 11 月 28 日。\n", 6),
    ("本周五下午3点召开职代会，请准时参加。\n", 0),
    ("```\na, b.\n```\n", 0),
    ("访问 https://www.acftu.org/a,b 查看。\n", 0),
])
def test_typography(tmp_path: Path, body: str, count: int) -> None:
    found = findings_for(tmp_path, "typography", body)
    assert len(found) == count
    assert all(finding.fix is not None for finding in found)


def test_typography_of_the_title_is_fixable(tmp_path: Path) -> None:
    found = findings_for(tmp_path, "typography", meta=front_matter(title="通知,请参加"))
    assert len(found) == 1 and "“通知，请参加”" in found[0].message and found[0].fix is not None


# --- long and hostile posts: the same findings, linear time, never a crash --------------------

_CODE_REGEX = re.compile(r"(`+)(?!`).+?(?<!`)\1")
_COMMENT_REGEX = re.compile(r"<!--.*?-->", re.S)


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet="``a \n", max_size=40), st.integers(min_value=0, max_value=40))
def test_code_spans_are_found_exactly_as_the_regex_found_them(text: str, start: int) -> None:
    start = min(start, len(text))
    assert list(inline_code_spans(text, start)) == [match.span() for match in _CODE_REGEX.finditer(text, start)]


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(["<!--", "-->", "-", ">", "<", "!", "a", "\n"]), max_size=14),
       st.integers(min_value=0, max_value=40))
def test_comments_are_found_exactly_as_the_regex_found_them(parts: list[str], start: int) -> None:
    text = "".join(parts)
    start = min(start, len(text))
    assert list(html_comment_spans(text, start)) == [match.span() for match in _COMMENT_REGEX.finditer(text, start)]


@pytest.mark.parametrize("body", [
    "`" * 20_000 + "\n",                      # the regex backtracked through every shorter run
    "正文<!--" * 40_000 + "\n",                # and rescanned the rest from every unclosed comment
    "".join(f"变量`v{index}`和" for index in range(20_000)) + "\n",
])
def test_prose_of_hostile_text_is_quick(tmp_path: Path, body: str) -> None:
    began = time.perf_counter()
    findings_for(tmp_path, "misstatement", body)
    assert time.perf_counter() - began < 20  # was 5 s, 75 s and 2 s; now well under 1 s each


def _paragraphs(count: int) -> str:
    """A body far over one AutoCorrect chunk, with one typography error per paragraph and code
    whose commas are never reported."""
    filler = "市总工会组织开展职工技能竞赛活动，各基层工会积极参与。" * 12
    return "".join(f"{filler}\n第{index}段,请参加.\n\n```\na, b.\n\n{index}, c.\n```\n\n" for index in range(count))


def test_typography_of_a_long_body_is_found_chunk_by_chunk(tmp_path: Path) -> None:
    body = _paragraphs(150)
    assert len(body) > 3 * LINT_CHUNK
    found = findings_for(tmp_path, "typography", body)
    text = post_text(body)
    expected = [line_of(text, f"第{index}段,") for index in range(150)]
    assert [finding.location.line for finding in found] == expected
    assert all(finding.fix is not None and "请参加。" in finding.message for finding in found)


def test_autocorrect_switch_holds_across_chunks(tmp_path: Path) -> None:
    body = "<!-- autocorrect-disable -->\n\n" + _paragraphs(60) + "<!-- autocorrect: true -->\n\n结尾,再见.\n"
    found = findings_for(tmp_path, "typography", body)
    assert [finding.location.line for finding in found] == [line_of(post_text(body), "结尾,")]


def test_text_autocorrect_cannot_take_is_skipped_and_said_so(tmp_path: Path) -> None:
    # 50,000 '"' overflowed AutoCorrect's stack (the process died); 10,000 "[" reach its call limit
    body = "开头,请参加.\n\n" + '"' * 50_000 + "\n\n" + "[" * 10_000 + "\n\n结尾,请参加.\n"
    found = findings_for(tmp_path, "typography", body)
    text = post_text(body)
    assert [finding.location.line for finding in found] == [
        line_of(text, "开头"), line_of(text, '"""'), line_of(text, "[[["), line_of(text, "结尾")]
    assert "排版检查跳过了从这里开始的 1 行" in found[1].message and found[1].fix is None


def test_typography_of_a_huge_title_is_not_attempted(tmp_path: Path) -> None:
    assert findings_for(tmp_path, "typography", meta=front_matter(title='"' * 60_000)) == []


def test_quoted_text_never_shows_personal_data(tmp_path: Path) -> None:
    """The typography rule quotes the text around a fix; full-width numbers in it are masked."""
    body = "联系人王某,身份证号１１０１０５１９４９１２３１００２Ｘ,电话１３９１２３４５６７８。\n"
    root = make_root(tmp_path)
    report = check_file(root, write_post(root, body))
    quoted = " ".join(finding.message for finding in report.findings)
    assert "typography" in {finding.rule_id for finding in report.findings}
    for secret in ("１２３１００２", "１２３４５６７８", "1231002", "12345678"):
        assert secret not in quoted, quoted


def test_several_large_posts_in_one_process_stay_within_autocorrects_limit(tmp_path: Path) -> None:
    """AutoCorrect's call limit once ended the check (exit 3) at the second post of about 300 KB."""
    root = make_root(tmp_path)
    paragraph = "市总工会召开全委会议,传达学习全会精神。\n\n"
    for index in range(3):
        report = check_file(root, write_post(root, paragraph * 9000, slug=f"2026-11-29-large-{index}"))
        assert any(finding.rule_id == "typography" for finding in report.findings)
