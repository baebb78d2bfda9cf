"""YAML with positions: plain values, duplicate keys, syntax and schema errors at line:col (pipeline.yamlsource)."""
from __future__ import annotations

import jsonschema
import pytest

from pipeline import yamlsource
from pipeline.yamlsource import Location, Problem, YamlSyntaxError

SCHEMA = {
    "type": "object", "required": ["title", "secrecy"], "additionalProperties": False,
    "properties": {
        "title": {"type": "string", "maxLength": 5},
        "count": {"type": "integer", "x-hint-zh": "写一个整数"},
        "category": {"enum": ["news", "notice"]},
        "secrecy": {"type": "object", "required": ["reviewer"],
                    "properties": {"reviewer": {"type": "string", "x-hint-zh": "写审核人的账号"},
                                   "basis": {"type": "string"}}},
    },
}


def syntax_problem(text: str, line_offset: int = 0) -> Problem:
    with pytest.raises(YamlSyntaxError) as caught:
        yamlsource.parse(text, "index.md", line_offset)
    return caught.value.problem


def test_only_true_and_false_are_booleans_and_dates_stay_text() -> None:
    text = "a: yes\nb: no\nc: off\nd: 2026-12-01\ne: 2026-12-01 9:00\nf: true\ng: False\nh: 12\n"
    assert yamlsource.parse(text, "p.yml").data == {
        "a": "yes", "b": "no", "c": "off", "d": "2026-12-01", "e": "2026-12-01 9:00", "f": True, "g": False, "h": 12}


def test_a_duplicate_key_is_reported_at_the_second_one() -> None:
    assert syntax_problem("title: 甲\nauthor: 乙\ntitle: 丙\n", line_offset=1) == Problem(
        Location("index.md", 4, 1), "title", "字段“title”重复出现，后一个会覆盖前一个。请删除其中一个")
    nested = syntax_problem("title: 甲\nsecrecy:\n  reviewer: li-na\n  reviewer: wu-fang\n")
    assert (nested.location, nested.key_path) == (Location("index.md", 4, 3), "reviewer")


def test_syntax_errors_are_located_in_the_file_and_explained_in_chinese() -> None:
    assert syntax_problem('title: "通知\nauthor: 办公室\n', line_offset=1) == Problem(
        Location("index.md", 4, 1), "", "引号或括号没有闭合")
    assert syntax_problem("a: *nope\n").message == "引用了未定义的锚点（*名称），请删除或先用 &名称 定义"


def test_schema_errors_point_at_the_value_or_the_unknown_key_in_file_order() -> None:
    text = "title: 一二三四五六\ncount: yes\nsecrecy:\n  basis: 公开的会议报道\ncategroy: news\n"
    document = yamlsource.parse(text, "index.md", line_offset=1)
    problems = yamlsource.validate(document, jsonschema.Draft202012Validator(SCHEMA))
    assert [(str(problem.location), problem.key_path, problem.message) for problem in problems] == [
        ("index.md:2:8", "title", "最多 5 个字符，现在是 6 个"),
        ("index.md:3:8", "count", "应为整数，实际是文本。写一个整数"),
        ("index.md:5:3", "secrecy", "缺少必填字段“reviewer”。写审核人的账号"),
        ("index.md:6:1", "categroy", "未知字段“categroy”。可用的字段：category、count、secrecy、title"),
    ]


def test_locate_falls_back_to_the_deepest_existing_ancestor_and_key_paths_read_naturally() -> None:
    document = yamlsource.parse("posts:\n  - title: 甲\n  - title: 乙\n    tags: [a, b]\n", "x.yml")
    assert document.locate(("posts", 1, "tags", 1)) == Location("x.yml", 4, 15)
    assert document.locate(("posts", 1, "title"), key=True) == Location("x.yml", 3, 5)
    assert document.locate(("posts", 5, "title")) == Location("x.yml", 2, 3)  # no sixth post: the list itself
    assert yamlsource.format_key_path(("posts", 1, "tags", 0)) == "posts[1].tags[0]"
