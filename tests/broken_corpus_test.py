from __future__ import annotations

from pathlib import Path

import yaml

from tests.broken_corpus import EXPECTED, findings_by_post


def test_each_broken_post_triggers_exactly_its_expected_rules(tmp_path: Path) -> None:
    expected = yaml.safe_load(EXPECTED.read_text("utf-8"))["posts"]
    assert findings_by_post(tmp_path) == expected
