from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from pipeline.errors import ConfigError
from pipeline.policy import load_policy, parse_policy
from tests.support import POLICY_TEXT, line_of


def problems_of(text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_policy(text, "gzh.yml")
    return str(caught.value)


def test_shipped_policy_loads_with_the_union_as_data() -> None:
    policy = parse_policy(POLICY_TEXT, "gzh.yml")
    assert (policy.account_name, policy.wechat_id) == ("扬州市总工会", "yz-zgh")
    assert policy.leader == "wang-jun" and policy.deputies == ("zhao-min", "qian-li")
    assert len(policy.categories) == 6
    assert policy.department_by_folder("rights").name == "法律和权益保障部"
    assert policy.category("办事指南").slug == "guides" and policy.category("guides").name == "办事指南"
    assert policy.roles["secrecy_office"] == ("wu-fang",)
    assert "扬工发〔2026〕12号" in policy.allowed_values("document_numbers")


def test_duty_leader_prefers_a_dated_entry_over_the_weekday() -> None:
    policy = parse_policy(POLICY_TEXT, "gzh.yml")
    assert policy.duty_leader(dt.date(2026, 10, 1)) == "wang-jun"  # a Thursday with a dated entry
    assert policy.duty_leader(dt.date(2026, 10, 8)) == "qian-li"  # the Thursday after: the rota


def test_wrong_type_names_line_key_path_and_fix() -> None:
    text = POLICY_TEXT.replace("heads: [li-na]", "heads: li-na")
    assert problems_of(text).splitlines() == [
        "策略文件 gzh.yml 有 1 处错误，请逐条修改后重试：",
        f"  gzh.yml:{line_of(text, 'heads: li-na')}:12: departments[0].heads：应为列表，实际是文本",
    ]


def test_unknown_key_points_at_the_key_and_lists_allowed_ones() -> None:
    text = POLICY_TEXT.replace("    folder: office", "    foldr: office")
    report = problems_of(text)
    line = line_of(text, "foldr: office")
    assert f"gzh.yml:{line}:5: departments[0].foldr：未知字段“foldr”。可用的字段：folder、heads、leader_in_charge、name、slug" in report
    assert f"gzh.yml:{line - 2}:5: departments[0]：缺少必填字段“folder”" in report


def test_misspelt_username_is_caught_by_cross_reference() -> None:
    text = POLICY_TEXT.replace("  administrator: [sun-hao]", "  administrator: [sun-hoa]")
    line = line_of(text, "administrator: [sun-hoa]")
    assert f"gzh.yml:{line}:19: roles.administrator[0]：“sun-hoa”不在 people 名册中" in problems_of(text)


def test_duplicate_department_folder_is_an_error() -> None:
    text = POLICY_TEXT.replace("    folder: organization", "    folder: office")
    assert "departments[1].folder：部门文件夹“office”与前面的重复" in problems_of(text)


def test_pattern_errors_carry_the_schema_hint() -> None:
    text = POLICY_TEXT.replace("wechat_id: yz-zgh", "wechat_id: 扬州工会")
    assert "account.wechat_id：“扬州工会”格式不对。微信号以字母开头" in problems_of(text)


def test_allowlist_entry_needs_approver_and_reason() -> None:
    text = POLICY_TEXT.replace("        reason: 全国工会职工服务热线\n", "")
    assert "checks.allowlists.phones[1]：缺少必填字段“reason”" in problems_of(text)


def test_duplicate_keys_are_reported_not_silently_merged() -> None:
    text = POLICY_TEXT.replace("version: 1\n", "version: 1\nversion: 1\n")
    assert f"gzh.yml:{line_of(text, 'version') + 1}:1: version：字段“version”重复出现" in problems_of(text)


def test_syntax_error_gets_a_chinese_explanation() -> None:
    text = POLICY_TEXT.replace("  name: 扬州市总工会", "  name: 扬州: 市总工会")
    assert f"gzh.yml:{line_of(text, '扬州: 市总工会')}:11: 这里出现了多余的冒号" in problems_of(text)


def test_every_problem_is_reported_at_once() -> None:
    text = POLICY_TEXT.replace("heads: [li-na]", "heads: li-na").replace("wechat_id: yz-zgh", "wechat_id: 1")
    assert "有 2 处错误" in problems_of(text)


def test_english_messages_on_request(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    text = POLICY_TEXT.replace("heads: [li-na]", "heads: li-na")
    assert "departments[0].heads: " not in problems_of(text)
    assert "Expected a list, got text" in problems_of(text)


def test_missing_file_says_how_to_fix(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="找不到策略文件"):
        load_policy(tmp_path / "gzh.yml")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_any_text_gives_a_policy_or_a_clear_error(text: str) -> None:
    try:
        parse_policy(text, "gzh.yml")
    except ConfigError as error:
        assert str(error).startswith("策略文件 gzh.yml 有")


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_mutated_policy_lines_give_a_clear_error_or_load(data: st.DataObject) -> None:
    lines = POLICY_TEXT.splitlines()
    index = data.draw(st.integers(0, len(lines) - 1))
    lines[index] = data.draw(st.sampled_from(["", "  x: [", "- 1", "people: 3", "\t", lines[index][::-1], ": :"]))
    try:
        parse_policy("\n".join(lines), "gzh.yml")
    except ConfigError as error:
        assert "gzh.yml:" in str(error)


def test_routing_rule_must_name_a_department() -> None:
    text = POLICY_TEXT.replace("      department: rights\n", "      department: sport\n", 1)
    assert f"gzh.yml:{line_of(text, 'department: sport')}:19: inbox.routes[0].department：留言转交规则中的部门“sport”不存在" in problems_of(text)


DEAD_PUBLICITY = POLICY_TEXT.replace("heads: [gu-xin, zhou-yan]", "heads: [zhou-yan]")  # the shipped file before


def test_a_department_that_can_never_be_approved_is_a_configuration_error() -> None:
    line = line_of(DEAD_PUBLICITY, "heads: [zhou-yan]")
    assert problems_of(DEAD_PUBLICITY).splitlines()[1] == (
        f"  gzh.yml:{line}:12: departments[2].heads：宣网部的文章永远无法审批完成：部门负责人（宣网部，兼保密初审）、"
        "微信管理员、宣教部长、分管主席（宣网部）、主要领导 须由不同的人批准，但能担任这些环节的只有 "
        "@zhou-yan、@sun-hao、@qian-li、@wang-jun。请为该部门增加一位负责人（如副部长），"
        "或在 approval.combined_tiers 中写明允许某人兼任哪两个环节及理由")


def test_a_department_whose_secrecy_chain_cannot_be_filled_is_an_error() -> None:
    text = POLICY_TEXT.replace("heads: [li-na]", "heads: [wu-fang]")  # the secrecy office heading a department
    assert "办公室的文章需要保密办复审时无法审批完成" in problems_of(text)


def test_combined_tiers_let_one_person_fill_two_tiers_explicitly() -> None:
    text = DEAD_PUBLICITY.replace("  other_roles: [administrator]", """  other_roles: [administrator]
  combined_tiers:
    - person: zhou-yan
      tiers: [department, publicity_head]
      reason: 宣网部部长兼任宣教部长""")
    policy = parse_policy(text, "gzh.yml")
    assert policy.combined_tiers("zhou-yan") == {"department", "publicity_head"}
    assert policy.combined_tiers("sun-hao") == frozenset()


def test_the_secrecy_review_can_never_be_combined() -> None:
    text = POLICY_TEXT.replace("  other_roles: [administrator]", """  other_roles: [administrator]
  combined_tiers:
    - person: wu-fang
      tiers: [department, secrecy]
      reason: 不允许""")
    assert "approval.combined_tiers[0].tiers[1]" in problems_of(text)


def test_one_person_combines_exactly_two_tiers_in_one_entry() -> None:
    three = POLICY_TEXT.replace("  other_roles: [administrator]", """  other_roles: [administrator]
  combined_tiers:
    - person: zhou-yan
      tiers: [department, publicity_head, administrator]
      reason: 不允许三个""")
    assert "approval.combined_tiers[0].tiers" in problems_of(three)
    twice = POLICY_TEXT.replace("  other_roles: [administrator]", """  other_roles: [administrator]
  combined_tiers:
    - person: zhou-yan
      tiers: [department, publicity_head]
      reason: 第一条理由
    - person: zhou-yan
      tiers: [administrator, principal_leader]
      reason: 第二条理由""")
    assert "approval.combined_tiers[1].person：兼任环节的人“zhou-yan”与前面的重复" in problems_of(twice)
