"""Rules on what the renderer cannot keep: literal emphasis marks and footnotes that go wrong."""
from __future__ import annotations

from pathlib import Path

from tests.support import findings_for


def test_unpaired_or_spaced_emphasis_marks_are_reported_where_they_stand(tmp_path: Path) -> None:
    found = findings_for(tmp_path, "emphasis-literal", "这是** 重点 **。\n")
    assert [(finding.location.col, finding.message.split("。")[0]) for finding in found] == [
        (3, "这里的“**”不会变成加粗，会原样显示"), (9, "这里的“**”不会变成加粗，会原样显示")]


def test_bold_beside_chinese_punctuation_is_not_reported(tmp_path: Path) -> None:
    body = "这是**“重点”**，**《工会法》**第三条，`代码里的**不算**`。\n"
    assert findings_for(tmp_path, "emphasis-literal", body) == []


def test_an_undefined_footnote_is_reported(tmp_path: Path) -> None:
    found = findings_for(tmp_path, "footnote-undefined", "依据规定[^law]执行。\n")
    assert len(found) == 1 and "注释 [^law] 没有定义" in found[0].message and found[0].location.col == 5


def test_an_unused_footnote_is_reported_at_its_definition(tmp_path: Path) -> None:
    found = findings_for(tmp_path, "footnote-unused", "正文[^a]。\n\n[^a]: 甲\n[^b]: 乙\n")
    assert [finding.message.split("，")[0] for finding in found] == ["注释 [^b] 定义了"]
    assert found[0].location.col == 1


def test_defined_and_cited_footnotes_are_fine(tmp_path: Path) -> None:
    body = "正文[^a]。\n\n[^a]: 甲\n"
    assert findings_for(tmp_path, "footnote-undefined", body) == findings_for(tmp_path / "b", "footnote-unused", body) == []
