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
    assert syntax_problem('title: "通知\n  第二行\n', line_offset=1) == Problem(
        Location("index.md", 4, 1), "", "引号或括号没有闭合")
    assert syntax_problem("title: [通知\nauthor: 办公室\n", line_offset=1) == Problem(
        Location("index.md", 3, 7), "", "方括号 [ ] 或花括号 { } 没有闭合。值以 [ 或 { 开头时，请用英文引号把整个值括起来")
    assert syntax_problem("a: *nope\n").message == "引用了未定义的锚点（*名称），请删除或先用 &名称 定义"


def slips(text: str) -> list[tuple[str, str]]:
    """(line:col, message) of every slip `parse` reports for front matter starting on the file's line 2."""
    with pytest.raises(YamlSyntaxError) as caught:
        yamlsource.parse(text, "index.md", line_offset=1)
    return [(f"{problem.location.line}:{problem.location.col}", problem.message) for problem in caught.value.problems]


FIELDS = "author: 办公室\nsecrecy:\n  conclusion: 可以公开\n  basis: 依据：已公开\n"


@pytest.mark.parametrize(("text", "expected"), [
    ("# 标题\ntitle：关于开展活动的通知\n" + FIELDS,
     ("3:6", "字段名“title”后面是中文冒号“：”，YAML 只认英文冒号。请改成英文冒号加一个空格：title: 关于开展活动的通知")),
    ("title ： 通知\n" + FIELDS,
     ("2:7", "字段名“title”后面是中文冒号“：”，YAML 只认英文冒号。请改成英文冒号加一个空格：title: 通知")),
    ("title: 通知\nsecrecy:\n\u3000\u3000conclusion: 可以公开\n",
     ("4:1", "这一行开头有全角空格（中文输入法打出的空格），YAML 只认半角空格。请删掉它，改用半角空格缩进（同一层的字段左对齐）")),
    ("title:\u3000通知\n" + FIELDS,
     ("2:7", "“title:”后面是全角空格（中文输入法打出的空格），YAML 要求冒号后面是半角空格。请改为：title: 通知")),
    ("title: 通知\nsecrecy:\n\tconclusion: 可以公开\n",
     ("4:1", "这一行开头用了 Tab 键缩进，YAML 不允许 Tab。请删掉 Tab，改用空格缩进（同一层的字段左对齐）")),
    ("title:通知\n" + FIELDS,
     ("2:6", "“title:”后面缺少空格，YAML 会把整行当成一段文字，而不是“字段: 值”。请在冒号后面加一个空格：title: 通知")),
    ("title: 通知\nsecrecy:\n  basis:公开的会议报道\n",
     ("4:8", "“basis:”后面缺少空格，YAML 会把整行当成一段文字，而不是“字段: 值”。请在冒号后面加一个空格：basis: 公开的会议报道")),
    ('title: "关于开展活动的通知\n' + FIELDS,
     ("2:8", "“title”的值以英文引号 \" 开头，但这一行没有结束的 \"，下面的字段会被当成这个值的一部分。"
             "请在值的末尾补上 \"（或删掉开头的 \"）：title: \"关于开展活动的通知\"")),
    ("title: 通知\nsecrecy:\n  basis: '公开的会议报道\n",
     ("4:10", "“basis”的值以英文引号 ' 开头，但这一行没有结束的 '，下面的字段会被当成这个值的一部分。"
              "请在值的末尾补上 '（或删掉开头的 '）：basis: '公开的会议报道'")),
    ('title: "通知"关于开展活动\n' + FIELDS,
     ("2:11", "“title”的值在英文引号 \" 结束后还有文字“关于开展活动”。整个值要放在一对引号里面；值里本身要用引号时，请改用中文引号“”")),
])
def test_keyboard_slips_are_reported_on_their_own_line_with_the_fix(text: str, expected: tuple[str, str]) -> None:
    assert slips(text) == [expected]


def test_every_slip_is_reported_at_once_up_to_a_screenful() -> None:
    assert [where for where, _ in slips("title：通知\nauthor:办公室\nsecrecy:\n\tbasis: 公开\n")] == ["2:6", "3:7", "5:1"]
    assert len(slips("a:b\n" * 1000)) == 20


@pytest.mark.parametrize("text", [
    "basis: 依据：市总工会2026年工作要点\n",                        # a full-width colon inside a value
    "url: https://example.com/a:b\nnote: http://x\n",             # URLs
    "title: 通知：关于 \u3000 开展活动\n",                          # full-width spaces inside a value
    "title: \"通知：“会议”\"\nb: 'it''s'\nc: \"a\\\"b\"\n",      # closed quotes, escaped quotes
    "title: \"第一行\n  第二行\"\n",                               # a quoted value continued on purpose
    "body: |\n  title：x\n  \tb:c\n  \u3000缩进\nnext: 1\n",       # a block scalar is text
    "# title：注释\na: 1  # b:c\n",                               # comments
    "time: 09:00\nlist:\n  - name: 甲\n",
])
def test_what_yaml_reads_as_intended_is_no_slip(text: str) -> None:
    assert yamlsource.slips(text, "x.yml") == []


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
