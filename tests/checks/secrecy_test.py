from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.checks.secrecy import mask
from tests.support import findings_for


@pytest.mark.parametrize(("body", "expected"), [
    ("秘密★1年\n", ["秘密★1年"]),
    ("机密★10年\n", ["机密★10年"]),
    ("绝密 ★ 长期\n", ["绝密 ★ 长期"]),
    ("文件标注秘密★启用前\n", ["秘密★启用前"]),
    ("秘密\n\n正文。\n", ["秘密"]),
    ("【机密】\n", ["机密"]),
    # must not catch ordinary words
    ("学习《中华人民共和国保守国家秘密法》。\n", []),
    ("这是我们的秘密武器。\n", []),
    ("机密文件的管理要严格。\n", []),
    ("保守秘密是每个人的责任。\n", []),
])
def test_secret_marking(tmp_path: Path, body: str, expected: list[str]) -> None:
    found = findings_for(tmp_path, "secret-marking", body)
    assert [finding.message.split("“")[1].split("”")[0] for finding in found] == expected


@pytest.mark.parametrize(("body", "count"), [
    ("内部资料 注意保存\n", 1),
    ("内部资料，免费交流\n", 1),
    ("内部事项 注意保管\n", 1),
    ("本材料仅供内部参考。\n", 1),
    ("严禁外传。\n", 1),
    ("职工内部团结协作。\n", 0),
    ("请内部人员前往报名。\n", 0),
])
def test_internal_marking(tmp_path: Path, body: str, count: int) -> None:
    assert len(findings_for(tmp_path, "internal-marking", body)) == count


def test_document_number_needs_review_unless_allowlisted(tmp_path: Path) -> None:
    found = findings_for(tmp_path, "document-number", "根据苏工发〔2026〕5号文件和扬工发〔2026〕12号文件。\n")
    assert [finding.message.split("“")[1].split("”")[0] for finding in found] == ["苏工发〔2026〕5号"]
    assert found[0].location.col == 3  # at 苏, after the lead-in word 根据


def test_allowlist_matches_a_malformed_citation_of_the_same_document(tmp_path: Path) -> None:
    assert findings_for(tmp_path, "document-number", "依据扬工发[2026]第012号。\n") == []


@pytest.mark.parametrize("number", ["苏扬工发〔2026〕12号", "扬工发〔2026〕112号", "扬工发〔2016〕12号"])
def test_allowlist_matches_the_whole_number_not_its_end(tmp_path: Path, number: str) -> None:
    """扬工发〔2026〕12号 is allowlisted; another organ's number that ends the same way is not."""
    found = findings_for(tmp_path, "document-number", f"依据{number}文件。\n")
    assert [finding.message.split("“")[1].split("”")[0] for finding in found] == [number]


@pytest.mark.parametrize(("body", "fixed"), [
    ("依据扬工发[2026]第012号。\n", "扬工发〔2026〕12号"),
    ("依据扬工发（2026）3号。\n", "扬工发〔2026〕3号"),
    ("依据扬工发【2026】03号。\n", "扬工发〔2026〕3号"),
])
def test_document_number_style(tmp_path: Path, body: str, fixed: str) -> None:
    found = findings_for(tmp_path, "document-number-style", body)
    assert len(found) == 1 and f"应写作“{fixed}”" in found[0].message
    assert found[0].fix is not None


def test_correct_document_number_style_passes(tmp_path: Path) -> None:
    assert findings_for(tmp_path, "document-number-style", "依据扬工发〔2026〕12号。\n") == []


@pytest.mark.parametrize(("body", "count"), [
    ("身份证号11010519491231002X。\n", 1),
    ("身份证号110105194912310021。\n", 0),  # wrong check digit
    ("编号110105194912310029999。\n", 0),  # embedded in a longer number
])
def test_id_number_uses_the_gb11643_check_digit(tmp_path: Path, body: str, count: int) -> None:
    found = findings_for(tmp_path, "id-number", body)
    assert len(found) == count
    for finding in found:
        assert "11010519491231002X" not in finding.message and "110***********002X" in finding.message


@pytest.mark.parametrize(("body", "count"), [
    ("卡号6217 0000 0000 0000 004。\n", 1),
    ("卡号6217000000000000004。\n", 1),
    ("卡号6217000000000000005。\n", 0),  # fails Luhn
    ("身份证号11010519491231002X。\n", 0),
    ("订单号1234567890123456789012。\n", 0),  # too long to be a card
])
def test_bank_card_uses_luhn(tmp_path: Path, body: str, count: int) -> None:
    found = findings_for(tmp_path, "bank-card", body)
    assert len(found) == count
    assert all("6217***********0004" in finding.message for finding in found)


@pytest.mark.parametrize(("body", "count"), [
    ("联系电话13800138000。\n", 1),
    ("联系电话138 0013 8000。\n", 1),
    ("联系电话+86 138-0013-8000。\n", 1),
    ("热线12351，电话0514-87363210。\n", 0),
    ("编号213800138000。\n", 0),
    ("见 https://example.com/13800138000 。\n", 0),  # inside a URL
])
def test_mobile_number(tmp_path: Path, body: str, count: int) -> None:
    found = findings_for(tmp_path, "mobile-number", body)
    assert len(found) == count
    assert all("138****8000" in finding.message for finding in found)


def test_allowlisted_phone_is_not_reported(tmp_path: Path) -> None:
    policy_text = (Path(__file__).parents[2] / "gzh.yml").read_text("utf-8").replace(
        'value: "12351"', 'value: "13912345678"')
    from tests.support import make_root, rule_hits, write_post

    root = make_root(tmp_path, policy_text)
    file = write_post(root, "值班手机139-1234-5678。\n")
    assert rule_hits(root, file, "mobile-number") == []


@pytest.mark.parametrize(("body", "count"), [
    ("住在扬州市广陵区文昌路18号3栋2单元。\n", 1),
    ("地址：扬州市邗江区某某村5号。\n", 1),
    ("地点：扬州市文昌中路18号。\n", 0),  # the allowlisted office street
    ("地点：扬州市文昌中路18号3栋201室。\n", 1),  # a dwelling on that street is still personal
    ("全市各区县工会积极参与。\n", 0),
])
def test_address(tmp_path: Path, body: str, count: int) -> None:
    assert len(findings_for(tmp_path, "address", body)) == count


def test_mask_keeps_only_the_ends() -> None:
    assert mask("138 0013 8000") == "138****8000"
    assert mask("6217000000000000004", 4, 4) == "6217***********0004"
