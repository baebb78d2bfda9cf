from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import findings_for, front_matter


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
