from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from pipeline.errors import ConfigError
from pipeline.inbox import route
from pipeline.policy import load_policy, parse_policy
from tests.support import POLICY_TEXT, PROJECT, line_of


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


def test_a_post_s_department_is_found_by_its_folder_and_named_by_its_slug() -> None:
    """Routing, patrol findings and withdrawals name departments by slug; a post names its folder."""
    text = POLICY_TEXT.replace("slug: rights\n    name: 法律和权益保障部\n    folder: rights",
                               "slug: rights\n    name: 法律和权益保障部\n    folder: quanyi")
    assert "folder: quanyi" in text
    policy = parse_policy(text, "gzh.yml")
    assert policy.department_of("content/quanyi/2026-09-25-aid").slug == "rights"  # type: ignore[union-attr]
    assert policy.department_of("content/rights/2026-09-25-aid") is None
    assert policy.department_of("content/quanyi") is None and policy.department_of("") is None
    assert route(policy, "content/quanyi/2026-09-25-aid", "谢谢") == ("rights",)


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


@pytest.mark.parametrize("key", ["adress", "0x10", "10", "true", "~", '"0x10"', "1.5"])
def test_a_severity_key_must_name_a_rule_as_written(key: str) -> None:
    """A key is judged as written: YAML reads `0x10` as 16, but the mistake is the text 0x10, at that key."""
    text = POLICY_TEXT.replace("    address: warning", f"    {key}: warning")
    written = key.strip('"')
    problems = problems_of(text)
    line = line_of(text, f"    {key}: warning")
    assert f"gzh.yml:{line}:5: checks.severity.{written}：checks.severity 里的规则“{written}”不存在" in problems
    assert "有 1 处错误" in problems and "“16”" not in problems


def test_an_unknown_rule_is_reported_with_the_other_problems() -> None:
    text = POLICY_TEXT.replace("    address: warning", "    adress: warnin").replace("wechat_id: yz-zgh", "wechat_id: 1")
    problems = problems_of(text)
    assert "有 3 处错误" in problems and "规则“adress”不存在" in problems


def test_the_rule_registry_is_imported_only_for_severity_overrides() -> None:
    """Loading a policy costs the check stage's import (~70 ms) only when checks.severity names rules."""
    without = POLICY_TEXT.replace("  severity:\n    address: warning\n", "")
    assert without != POLICY_TEXT
    script = ("import sys\nfrom pipeline.policy import parse_policy\n"
              "parse_policy(sys.stdin.read(), 'gzh.yml')\nprint('pipeline.checks.registry' in sys.modules)")
    for text, imported in ((without, "False"), (POLICY_TEXT, "True")):
        result = subprocess.run([sys.executable, "-c", script], input=text, capture_output=True, text=True,
                                cwd=PROJECT, check=True)
        assert result.stdout.strip() == imported


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


# --- bounds, cross-field rules, real dates and plain numbers -------------------------------------

@pytest.mark.parametrize(("line", "value", "key_path", "message", "hint"), [
    ("report_hours: 24", "100000000000000000000000000", "emergency.report_hours", "不能大于 168", "填 1～168 的整数"),
    ("report_hours: 24", "0", "emergency.report_hours", "不能小于 1", "填 1～168 的整数"),
    ("reply_within_days: 5 ", "1000000000", "inbox.reply_within_days", "不能大于 30", "填 1～30 的整数"),
    ("warn_days: 10 ", "91", "patrol.warn_days", "不能大于 90", "填 1～90 的整数"),
    ("fail_days: 14 ", "365", "patrol.fail_days", "不能大于 90", "填 1～90 的整数"),
    ("due_days: 3 ", "61", "patrol.due_days", "不能大于 60", "填 1～60 的整数"),
    ("mass_per_day: 1", "101", "publish.mass_per_day", "不能大于 100", "填 0～100 的整数"),
])
def test_every_number_has_an_upper_bound_reported_at_its_line(line: str, value: str, key_path: str, message: str,
                                                               hint: str) -> None:
    key = line.split(":")[0]
    text = POLICY_TEXT.replace(line, f"{key}: {value} ", 1)
    report = problems_of(text).splitlines()
    assert len(report) == 2
    assert report[1].startswith(f"  gzh.yml:{line_of(text, f'{key}: {value}')}:")
    assert f"{key_path}：{message}。" in report[1] and hint in report[1]


def test_the_upper_bounds_themselves_are_allowed() -> None:
    text = (POLICY_TEXT.replace("report_hours: 24", "report_hours: 168")
            .replace("reply_within_days: 5 ", "reply_within_days: 30 ")
            .replace("warn_days: 10 ", "warn_days: 89 ").replace("fail_days: 14 ", "fail_days: 90 ")
            .replace("due_days: 3 ", "due_days: 60 ").replace("mass_per_day: 1", "mass_per_day: 100"))
    policy = parse_policy(text, "gzh.yml")
    assert (policy.report_hours, policy.reply_within_days, policy.warn_days, policy.fail_days, policy.due_days,
            policy.mass_per_day) == (168, 30, 89, 90, 60, 100)


@pytest.mark.parametrize(("warn", "fail"), [("20", "14"), ("14", "14")])
def test_warn_days_must_come_before_fail_days(warn: str, fail: str) -> None:
    text = POLICY_TEXT.replace("warn_days: 10 ", f"warn_days: {warn} ").replace("fail_days: 14 ", f"fail_days: {fail} ")
    assert problems_of(text).splitlines()[1] == (
        f"  gzh.yml:{line_of(text, 'fail_days:')}:14: patrol.fail_days：提醒天数 warn_days（{warn}）必须小于不合格天数 "
        f"fail_days（{fail}），否则巡查来不及提醒就直接判为不合格。请把 warn_days 改小或把 fail_days 改大，例如 10 和 14")


def test_warn_days_is_compared_with_the_default_fail_days_too() -> None:
    text = POLICY_TEXT.replace("  fail_days: 14      # 超过 14 天没有发布即不合格\n", "").replace("warn_days: 10 ", "warn_days: 20 ")
    line = problems_of(text).splitlines()[1]
    assert line.startswith(f"  gzh.yml:{line_of(text, 'warn_days: 20')}:14: patrol.warn_days：")
    assert "fail_days（14，未填写时的默认值）" in line


def test_mass_as_the_default_mode_needs_a_mass_send_a_day() -> None:
    text = POLICY_TEXT.replace("  mode: publish", "  mode: mass").replace("mass_per_day: 1", "mass_per_day: 0")
    assert (f"gzh.yml:{line_of(text, 'mass_per_day: 0')}:17: publish.mass_per_day："
            "默认发布方式 mode 为 mass（群发），但每天群发次数 mass_per_day 为 0") in problems_of(text)
    assert parse_policy(text.replace("  mode: mass", "  mode: publish"), "gzh.yml").mass_per_day == 0


@pytest.mark.parametrize("key", ['"2026-13-45"', '"2026-02-30"', '"2026-1-2"', "2026-10-32", "20261002"])
def test_a_duty_date_must_be_a_real_date_reported_at_its_own_line(key: str) -> None:
    text = POLICY_TEXT.replace('    "2026-10-01": wang-jun', f'    "2026-10-01": wang-jun\n    {key}: qian-li')
    shown = key.strip('"')
    assert problems_of(text).splitlines()[1] == (
        f"  gzh.yml:{line_of(text, f'{key}: qian-li')}:5: duty_roster.dates.{shown}：“{shown}”不是有效的日期。"
        "请按“年-月-日”写成四位年、两位月（01～12）、两位日（不超过当月天数），并加英文引号，例如 \"2026-10-01\"")


def test_a_leap_day_is_a_real_date() -> None:
    text = POLICY_TEXT.replace('    "2026-10-01": wang-jun', '    "2028-02-29": wang-jun')
    assert parse_policy(text, "gzh.yml").duty_leader(dt.date(2028, 2, 29)) == "wang-jun"


@pytest.mark.parametrize(("written", "message"), [
    ("0x10", "“0x10”不是普通的十进制整数：YAML 会把它读成 16"),
    ("010", "“010”不是普通的十进制整数：YAML 会把它读成 8"),
    ("0b11", "“0b11”不是普通的十进制整数：YAML 会把它读成 3"),
    ("1_0", "“1_0”不是普通的十进制整数：YAML 会把它读成 10"),
    ("1:30", "“1:30”不是普通的十进制整数：YAML 会把它读成 90"),
    ("10.0", "“10.0”是小数，这里应为整数（不带小数点，不用科学计数法），例如 10"),
    ("1.0e+1", "“1.0e+1”是小数，这里应为整数（不带小数点，不用科学计数法），例如 10"),
])
def test_numbers_are_written_in_plain_decimal(written: str, message: str) -> None:
    text = POLICY_TEXT.replace("due_days: 3 ", f"due_days: {written} ")
    assert problems_of(text).splitlines()[1:] == [
        f"  gzh.yml:{line_of(text, f'due_days: {written}')}:13: patrol.due_days：{message}" + (
            "（0 开头、0x、0b、“_”和“:”都是特殊写法）。请只用数字 0～9 书写、不以 0 开头，例如 "
            + message.rsplit(" ", 1)[1] if "十进制" in message else "")]


def test_version_written_as_a_fraction_is_reported() -> None:
    assert "version：“1.0”是小数" in problems_of(POLICY_TEXT.replace("version: 1", "version: 1.0"))


@pytest.mark.parametrize(("written", "actual"), [("true", "true 或 false"), ("yes", "文本"), ("1e3", "文本"),
                                                 ('"10"', "文本")])
def test_booleans_and_text_are_not_integers(written: str, actual: str) -> None:
    text = POLICY_TEXT.replace("due_days: 3 ", f"due_days: {written} ")
    assert f"patrol.due_days：应为整数，实际是{actual}。" in problems_of(text)


def test_bounds_and_order_messages_have_english_twins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    assert "Must be at most 168. Hours until the written incident report is due, 1-168" in problems_of(
        POLICY_TEXT.replace("report_hours: 24", "report_hours: 1000"))
    assert "warn_days (20) must be less than fail_days (14)" in problems_of(
        POLICY_TEXT.replace("warn_days: 10 ", "warn_days: 20 "))
    assert "'2026-13-45' is not a valid date" in problems_of(POLICY_TEXT.replace("2026-10-01", "2026-13-45"))
    assert "'0x10' is not a plain decimal integer: YAML reads it as 16" in problems_of(
        POLICY_TEXT.replace("due_days: 3 ", "due_days: 0x10 "))


def test_every_policy_loader_runs_the_bounds(tmp_path: Path) -> None:
    from pipeline import gate
    from pipeline.policy import load_repository_policy

    text = POLICY_TEXT.replace("report_hours: 24", "report_hours: 100000000000000000000000000")
    (tmp_path / "gzh.yml").write_text(text, "utf-8")
    for load in (lambda: load_repository_policy(tmp_path), lambda: load_policy(tmp_path / "gzh.yml"),
                 lambda: gate.parse_policy(text, "abc1234:gzh.yml")):
        with pytest.raises(ConfigError, match="emergency.report_hours：不能大于 168"):
            load()


def test_every_number_in_the_schema_is_bounded_and_its_range_documented() -> None:
    from pipeline.yamlsource import load_schema
    from tests.support import PROJECT

    guide = (PROJECT / "docs" / "policy.md").read_text("utf-8")

    def integers(schema: dict, path: str) -> list[tuple[str, dict]]:
        found = [(path, schema)] if schema.get("type") == "integer" else []
        for name, child in schema.get("properties", {}).items():
            found += integers(child, f"{path}.{name}" if path else name)
        return found

    fields = integers(load_schema("policy").schema, "")
    assert {name for name, _ in fields} == {"patrol.warn_days", "patrol.fail_days", "patrol.due_days",
                                            "inbox.reply_within_days", "emergency.report_hours", "publish.mass_per_day"}
    for name, schema in fields:
        low, high = schema["minimum"], schema["maximum"]
        assert f"{low}～{high}" in schema["x-hint-zh"] and f"{low}-{high}" in schema["x-hint-en"], name
        assert re.search(rf"^\| `{re.escape(name)}` \| {low}～{high}[ （]", guide, re.M), name
