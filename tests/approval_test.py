"""The approval stage as pure functions: tiers, the one-person-one-tier matching, combined tiers."""
from __future__ import annotations

from pipeline import approval
from pipeline.approval import APPROVED, PullRequest, Review
from pipeline.policy import Policy, parse_policy
from tests.support import POLICY_TEXT

COMBINED = POLICY_TEXT.replace("heads: [gu-xin, zhou-yan]", "heads: [zhou-yan]").replace(
    "  other_roles: [administrator]", """  other_roles: [administrator]
  combined_tiers:
    - person: zhou-yan
      tiers: [department, publicity_head]
      reason: 宣网部部长兼任宣教部长""")
PR = PullRequest(7, "zhang-wei", "head", "base", "main")
POST = ["content/publicity/x/index.md"]


def review(user: str, minute: int) -> Review:
    return Review(user, APPROVED, "head", f"2026-11-28T08:{minute:02}:00Z")


def evaluate(policy: Policy, *users: str) -> approval.GateResult:
    needed = approval.needs(policy, POST, secrecy=False)
    return approval.evaluate(policy, PR, needed, [review(user, index) for index, user in enumerate(users)])


def test_an_allowed_person_fills_both_of_their_combined_tiers() -> None:
    policy = parse_policy(COMBINED, "gzh.yml")
    result = evaluate(policy, "zhou-yan", "sun-hao", "qian-li", "wang-jun")
    assert result.state == "success"
    assert result.approvers["department:publicity"] == result.approvers["publicity_head"] == "zhou-yan"
    assert not any("只能算其中一个" in note for note in result.notes)


def test_under_strict_order_a_combined_approval_takes_the_place_of_the_later_tier() -> None:
    policy = parse_policy(COMBINED.replace("strict_order: false", "strict_order: true"), "gzh.yml")
    early = evaluate(policy, "zhou-yan", "sun-hao", "qian-li", "wang-jun")  # before the administrator
    assert early.state == "pending" and [tier.key for tier in early.missing] == [
        "department:publicity", "publicity_head", "leader_in_charge:qian-li", "principal_leader"]
    late = evaluate(policy, "sun-hao", "zhou-yan", "qian-li", "wang-jun")
    assert late.state == "success" and late.approvers["department:publicity"] == "zhou-yan"


def test_without_the_allowance_one_person_still_counts_once() -> None:
    policy = parse_policy(POLICY_TEXT, "gzh.yml")
    result = evaluate(policy, "zhou-yan", "sun-hao", "qian-li", "wang-jun")
    assert result.state == "pending" and len(result.missing) == 1
    assert any("@zhou-yan 同时属于多个环节，只能算其中一个" in note for note in result.notes)


def test_the_allowance_does_not_reach_other_tiers() -> None:
    policy = parse_policy(COMBINED.replace("  administrator: [sun-hao]", "  administrator: [sun-hao, zhou-yan]"), "gzh.yml")
    result = evaluate(policy, "zhou-yan", "qian-li", "wang-jun")
    assert result.state == "pending" and [tier.key for tier in result.missing] == ["administrator"]


def test_fillable_finds_a_matching_that_greedy_order_would_miss() -> None:
    policy = parse_policy(POLICY_TEXT, "gzh.yml")
    department = policy.department("publicity")
    tiers = approval.department_chain(policy, department, secrecy=True)
    assert [tier.kind for tier in tiers] == ["department", "secrecy", "administrator", "publicity_head",
                                             "leader_in_charge", "principal_leader"]
    assert approval.fillable(policy, tiers)  # zhou-yan must go to publicity_head, gu-xin to department
