from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.support import check_file, findings_for, front_matter, make_root, write_post


@pytest.mark.parametrize(("field", "rule_id", "limit"), [
    ("title", "title-length", 32), ("author", "author-length", 16), ("digest", "digest-length", 128),
])
def test_field_length_limits(tmp_path: Path, field: str, rule_id: str, limit: int) -> None:
    assert findings_for(tmp_path / "ok", rule_id, meta=front_matter(**{field: "字" * limit})) == []
    found = findings_for(tmp_path / "long", rule_id, meta=front_matter(**{field: "字" * (limit + 3)}))
    assert len(found) == 1
    assert f"有 {limit + 3} 个字，微信最多允许 {limit} 个，请删减 3 个字" in found[0].message


def test_source_url_limit_is_in_bytes(tmp_path: Path) -> None:
    url = "https://www.workercn.cn/" + "a" * 1001
    meta = front_matter(repost=True, source={"name": "工人日报", "url": url})
    assert "1025 字节" in findings_for(tmp_path, "source-url-length", meta=meta)[0].message
    ok = front_matter(repost=True, source={"name": "工人日报", "url": url[:1024]})
    assert findings_for(tmp_path / "ok", "source-url-length", meta=ok) == []


def test_body_size_reports_the_figure(tmp_path: Path) -> None:
    found = findings_for(tmp_path / "big", "body-size", "很长的段落。" * 3500 + "\n")
    assert len(found) == 1 and "个字符" in found[0].message
    assert findings_for(tmp_path / "ok", "body-size", "正常的段落。\n") == []


def test_empty_body(tmp_path: Path) -> None:
    assert len(findings_for(tmp_path, "body-empty", "\n\n")) == 1
    assert findings_for(tmp_path / "ok", "body-empty", "一句话。\n") == []


def test_a_file_over_the_check_limit_gets_one_error_and_its_field_rules(tmp_path: Path) -> None:
    root = make_root(tmp_path)
    body = "正文,有排版问题.联系人13800138000。\n\n" * 60_000  # 2.4 MB
    file = write_post(root, body, meta=front_matter(title="标" * 40))
    began = time.perf_counter()
    report = check_file(root, file)
    assert time.perf_counter() - began < 10
    assert [(finding.rule_id, finding.location.line) for finding in report.findings] == [
        ("body-size", 1), ("title-length", 2)]
    assert report.findings[0].severity.value == "error" and "没有检查正文" in report.findings[0].message


def test_a_file_just_under_the_check_limit_is_checked_fully(tmp_path: Path) -> None:
    root = make_root(tmp_path)
    file = write_post(root, "正文内容没有问题。\n\n" * 65_000 + "结尾,请参加.\n")  # 1.9 MB
    rules = [finding.rule_id for finding in check_file(root, file).findings]
    assert rules == ["body-size", "typography"]


def test_a_body_whose_text_alone_is_too_long_is_reported_without_rendering(tmp_path: Path, monkeypatch) -> None:
    from pipeline import render

    def must_not_render(*args: object, **kwargs: object) -> None:
        raise AssertionError("body-size rendered a post it could judge from its text")

    monkeypatch.setattr(render, "render_post", must_not_render)
    found = findings_for(tmp_path, "body-size", "很长的正文。" * 4000 + "\n")
    assert len(found) == 1 and "正文的文字就有 24000 个字符" in found[0].message
