"""One person, one tier: a maximum matching of people to approval tiers.

Used by the gate (who of the current approvers fills which tier) and by the policy's liveness
check (can every department's chain be filled by distinct people at all). Kuhn's augmenting
paths: the chains are a handful of tiers, so the simple algorithm is also the fast one.
"""
from __future__ import annotations

from typing import Iterable, Mapping, Sequence


def maximum_matching(slots: Mapping[str, Iterable[str]], people: Sequence[str]) -> dict[str, str]:
    """Assign people (in the given order of preference) to slots they are candidates for.

    `slots` maps a slot key to its candidates. Returns slot key -> person for as many slots as
    can be filled with each person used at most once.
    """
    candidates = {key: frozenset(members) for key, members in slots.items()}
    owner: dict[str, str] = {}

    def place(person: str, seen: set[str]) -> bool:
        for key, members in candidates.items():
            if person in members and key not in seen:
                seen.add(key)
                if key not in owner or place(owner[key], seen):
                    owner[key] = person
                    return True
        return False

    for person in people:
        place(person, set())
    return owner
