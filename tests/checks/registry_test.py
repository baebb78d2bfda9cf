"""The rules as people read them (pipeline.checks.rule_label) and text that cannot carry an ignore comment."""
from __future__ import annotations

import re
from pathlib import Path

from pipeline import posts
from pipeline.checks import RULES, check_post, rule_label
from tests.support import make_root, policy


def test_every_rule_has_a_short_chinese_name_and_a_stable_id() -> None:
    assert len({rule.id for rule in RULES}) == len(RULES)
    for rule in RULES:
        assert re.fullmatch(r"[a-z]+(-[a-z]+)*", rule.id), rule.id
        assert re.search(r"[\u4e00-\u9fff]", rule.name.zh) and len(rule.name.zh) <= 8, rule.id
        assert rule.name.en and rule.title.zh, rule.id


def test_a_rule_reads_as_its_chinese_name_with_the_id_beside_it() -> None:
    assert rule_label("mobile-number") == "手机号码（mobile-number）"
    assert rule_label("typography", code=True) == "排版（`typography`）"
    assert rule_label("placeholder") == "模板占位文字（placeholder）"
    assert rule_label("no-such-rule") == "no-such-rule"  # a rule since removed is shown as it was named


def test_text_sent_as_typed_gets_no_ignore_advice_and_honours_no_ignore_comment(tmp_path: Path) -> None:
    root = make_root(tmp_path)
    text = "---\ntitle: x\n---\n<!-- gzh-ignore mobile-number: 本人同意公开号码 -->\n请拨打13800138000，国土资源部\n"
    reply = posts.parse_post(text, "reply", root, "")
    as_post = {f.rule_id: f.message for f in check_post(reply, policy(root), root).findings}
    as_reply = {f.rule_id: f.message for f in check_post(reply, policy(root), root, ignore_comments=False).findings}
    assert "mobile-number" not in as_post and as_post["outdated-name"].endswith("。如确是回顾历史，请加忽略注释写明理由")
    assert as_reply["mobile-number"] == "发现手机号码 138****8000。公开个人手机号须经本人同意：请删除，或改用单位公开电话"
    assert as_reply["outdated-name"] == "“国土资源部”是机构改革前的旧称，现为“自然资源部”"
