"""One person, one tier: the maximum matching behind the gate and the policy's liveness check."""
from __future__ import annotations

from pipeline.matching import maximum_matching


def test_a_person_already_placed_moves_over_to_make_room() -> None:
    # li-na comes first and could take either tier; only an augmenting path also fills the head's tier
    slots = {"department": ["li-na", "zhou-yan"], "publicity_head": ["li-na"]}
    assert maximum_matching(slots, ["li-na", "zhou-yan"]) == {"publicity_head": "li-na", "department": "zhou-yan"}


def test_one_person_never_fills_two_tiers() -> None:
    slots = {"department": ["wang-jun"], "principal_leader": ["wang-jun"]}
    assert maximum_matching(slots, ["wang-jun"]) in ({"department": "wang-jun"}, {"principal_leader": "wang-jun"})


def test_people_who_fill_no_tier_and_tiers_no_one_can_fill_are_left_out() -> None:
    slots = {"department": ["li-na"], "administrator": ["sun-hao"], "principal_leader": []}
    assert maximum_matching(slots, ["zhang-wei", "sun-hao", "li-na", "li-na"]) == {"administrator": "sun-hao",
                                                                                    "department": "li-na"}
