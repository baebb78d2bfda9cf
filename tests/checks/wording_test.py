from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.checks.wording import dictionary
from tests.support import findings_for, front_matter


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
