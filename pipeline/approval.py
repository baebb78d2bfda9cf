"""The approval stage: which tiers a pull request needs, and whether its reviews satisfy them.

Pure functions over normalised records, the same for GitHub and Gitea. The rules (Art. 5(3),
Art. 6), each written because the forges' own mechanisms get it wrong:

- tiers come from the policy on the **base** branch; the department tier follows each post's
  folder, and the leader in charge follows the department;
- only each person's latest approve/request-changes review counts (comments never do), and only
  an approval of the current head commit counts: older ones are listed as stale;
- the author cannot approve; a person outside a tier cannot approve for it;
- one person satisfies at most one tier (a maximum matching, not first come first served), unless
  the policy's `combined_tiers` explicitly lets that person fill two tiers of one chain;
- a change request from any tier member blocks until withdrawn or superseded;
- the secrecy office becomes a tier when the checks found confidentiality issues, the post's
  pre-review says 需保密办复审, or a referral stands (pipeline.referrals);
- with `strict_order`, a tier's approval counts only if given after the tiers before it.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Iterable, Sequence

from pipeline.i18n import Text
from pipeline.matching import maximum_matching

if TYPE_CHECKING:  # the policy module validates chains with this one, so import it for types only
    from pipeline.policy import Department, Policy

APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED, PENDING = (
    "APPROVED", "CHANGES_REQUESTED", "COMMENTED", "DISMISSED", "PENDING")
TIER_ORDER = ("department", "secrecy", "administrator", "publicity_head", "leader_in_charge", "principal_leader")

_TIER_NAMES = {
    "department": Text("部门负责人（{department}，兼保密初审）", "Department head ({department}, confidentiality pre-review)"),
    "secrecy": Text("保密委员会办公室复审", "Secrecy committee office"),
    "administrator": Text("微信管理员", "Account administrator"),
    "publicity_head": Text("宣教部长", "Publicity head"),
    "leader_in_charge": Text("分管主席（{department}）", "Leader in charge ({department})"),
    "principal_leader": Text("主要领导", "Principal leader"),
    "secrecy_office": Text("保密委员会办公室", "Secrecy committee office"),
}
_AUTHOR = Text("@{user} 是拉取请求的作者，不能批准自己的文章", "@{user} is the author and cannot approve")
_NOT_MEMBER = Text("@{user} 不在任何审批环节中，其批准不计入", "@{user} is not in any tier; not counted")
_STALE = Text("@{user} 批准的是旧版本 {commit}，文章之后又改过，需要重新批准", "@{user} approved an older commit {commit}; approve again")
_DOUBLE = Text("@{user} 同时属于多个环节，只能算其中一个（已计入：{tier}）", "@{user} is in several tiers but counts for one ({tier})")
_BLOCKING = Text("@{user} 要求修改：请按意见修改后，由其重新审核（批准）", "@{user} requested changes; they must approve again")
_UNKNOWN_DEPARTMENT = Text("文章所在的文件夹 content/{folder}/ 不是 gzh.yml 中登记的部门", "content/{folder}/ is not a department in gzh.yml")
_ORDER = Text("按规定顺序审批：{tier}的批准早于前一环节，不计入，请在前一环节批准后重新批准",
              "Strict order: {tier}'s approval came before the previous tier; approve again")


@dataclass(frozen=True)
class Review:
    """A review, normalised across forges (see forge/github.py and forge/gitea.py)."""

    user: str
    state: str              # APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED, PENDING
    commit_id: str
    submitted_at: str       # ISO 8601; order within one pull request
    body: str = ""
    stale: bool = False     # the forge itself marked it outdated (Gitea)


@dataclass(frozen=True)
class PullRequest:
    number: int
    author: str
    head_sha: str
    base_sha: str
    base_ref: str
    title: str = ""
    labels: tuple[str, ...] = ()
    merged: bool = False
    merge_commit_sha: str = ""
    url: str = ""
    changed_files: int | None = None    # the forge's own count, compared with git's
    merge_base: str = ""                # Gitea says where the branch forked (its base.sha is the base's tip)
    head_ref: str = ""                  # the branch it comes from (a submission's: gzh-submission/issue-N)


@dataclass(frozen=True)
class Tier:
    key: str                # e.g. "department:office", "administrator"
    kind: str               # one of TIER_ORDER
    name: str               # for people: 部门负责人（办公室，兼保密初审）
    members: tuple[str, ...]


@dataclass(frozen=True)
class TierResult:
    tier: Tier
    approved_by: Review | None
    stale: tuple[Review, ...] = ()


@dataclass(frozen=True)
class GateResult:
    state: str                          # success, pending, failure
    tiers: tuple[TierResult, ...]
    notes: tuple[str, ...]              # approvals not counted, and why
    blockers: tuple[str, ...]           # change requests, configuration problems
    secrecy_reasons: tuple[str, ...] = ()

    @property
    def missing(self) -> tuple[Tier, ...]:
        return tuple(result.tier for result in self.tiers if result.approved_by is None)

    @property
    def approvers(self) -> dict[str, str]:
        return {result.tier.key: result.approved_by.user for result in self.tiers if result.approved_by}


@dataclass(frozen=True)
class Needs:
    """What a pull request needs, worked out from its changed files before looking at reviews."""

    tiers: tuple[Tier, ...]
    problems: tuple[str, ...] = ()
    departments: tuple[str, ...] = field(default=())


def post_folders(paths: Iterable[str]) -> list[str]:
    """Department folders touched by post files (content/<dept>/...), in order, once each."""
    folders: dict[str, None] = {}
    for path in paths:
        parts = PurePosixPath(path).parts
        if len(parts) >= 3 and parts[0] == "content":
            folders[parts[1]] = None
    return list(folders)


def glob_regex(pattern: str) -> str:
    """A git-style glob as a regular expression: `**` crosses folders, `*` stays within one."""
    return re.escape(pattern).replace(r"\*\*", "\0").replace(r"\*", "[^/]*").replace("\0", ".*")


def matches(path: str, pattern: str) -> bool:
    return re.fullmatch(glob_regex(pattern), path) is not None


def needs(policy: Policy, changed: Sequence[str], secrecy: bool) -> Needs:
    """The tiers a pull request changing `changed` needs under `policy` (the base branch's)."""
    tiers: list[Tier] = []
    problems: list[str] = []
    folders = post_folders(changed)
    departments = []
    for folder in folders:
        department = policy.department_by_folder(folder)
        if department is None:
            problems.append(_UNKNOWN_DEPARTMENT(folder=folder))
            continue
        departments.append(department)
        tiers.append(_department_tier(department))
    if folders:
        tiers += [_role_tier(policy, role) for role in ("administrator", "publicity_head", "principal_leader")]
        leaders: dict[str, list[str]] = {}
        for department in departments:
            leaders.setdefault(department.leader_in_charge, []).append(department.name)
        tiers += [_leader_tier(leader, names) for leader, names in leaders.items()]
    if secrecy:
        tiers.append(_secrecy_tier(policy))
    for role in _protected_roles(policy, changed):
        if not any(tier.key == role for tier in tiers):
            tiers.append(_role_tier(policy, role))
    return Needs(_in_order(tiers), tuple(problems), tuple(department.slug for department in departments))


def department_chain(policy: Policy, department: Department, secrecy: bool) -> tuple[Tier, ...]:
    """The tiers one post of `department` needs: what the policy's liveness check must fill."""
    tiers = [_department_tier(department), _leader_tier(department.leader_in_charge, [department.name])]
    tiers += [_role_tier(policy, role) for role in ("administrator", "publicity_head", "principal_leader")]
    return _in_order(tiers + ([_secrecy_tier(policy)] if secrecy else []))


def fillable(policy: Policy, tiers: Sequence[Tier]) -> bool:
    """Whether distinct people (or people allowed to combine tiers) can fill every tier."""
    people = list(dict.fromkeys(member for tier in tiers for member in tier.members))
    return len(assign_people(policy, tiers, people)) == len(tiers)


def _department_tier(department: Department) -> Tier:
    return Tier(f"department:{department.slug}", "department",
                _TIER_NAMES["department"](department=department.name), department.heads)


def _leader_tier(leader: str, department_names: Sequence[str]) -> Tier:
    return Tier(f"leader_in_charge:{leader}", "leader_in_charge",
                _TIER_NAMES["leader_in_charge"](department="、".join(department_names)), (leader,))


def _role_tier(policy: Policy, role: str) -> Tier:
    return Tier(role, role, _TIER_NAMES[role](), policy.members(role))


def _secrecy_tier(policy: Policy) -> Tier:
    return Tier("secrecy", "secrecy", _TIER_NAMES["secrecy"](), policy.members("secrecy_office"))


def _in_order(tiers: Sequence[Tier]) -> tuple[Tier, ...]:
    return tuple(sorted(tiers, key=lambda tier: TIER_ORDER.index(tier.kind) if tier.kind in TIER_ORDER else len(TIER_ORDER)))


def _protected_roles(policy: Policy, changed: Sequence[str]) -> list[str]:
    """Roles for the files that are not posts: a protected pattern's roles, else `other_roles`."""
    roles: dict[str, None] = {}
    for path in changed:
        if post_folders([path]):
            continue  # a post or its image: the post tiers cover it
        rules = [rule for rule in policy.protected if any(matches(path, pattern) for pattern in rule.patterns)]
        for role in [role for rule in rules for role in rule.roles] if rules else policy.other_roles:
            roles[role] = None
    return list(roles)


def moment(text: str) -> dt.datetime:
    """An ISO 8601 time from a forge as an aware instant (offsets differ between servers; bad text sorts first)."""
    try:
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return dt.datetime.min.replace(tzinfo=dt.timezone.utc)
    return when if when.tzinfo else when.replace(tzinfo=dt.timezone.utc)


def latest_reviews(reviews: Sequence[Review]) -> dict[str, Review]:
    """Each person's latest deciding review: comments do not change a decision; a dismissal withdraws it."""
    latest: dict[str, Review] = {}
    for review in sorted(reviews, key=lambda item: moment(item.submitted_at)):
        if review.state in (APPROVED, CHANGES_REQUESTED, DISMISSED):
            latest[review.user] = review
    return {user: review for user, review in latest.items() if review.state != DISMISSED}


def evaluate(policy: Policy, pr: PullRequest, needed: Needs, reviews: Sequence[Review]) -> GateResult:
    latest = latest_reviews(reviews)
    members = {member for tier in needed.tiers for member in tier.members}
    notes: list[str] = []
    blockers = list(needed.problems)
    current: dict[str, Review] = {}
    stale: dict[str, list[Review]] = {}
    for user, review in latest.items():
        if review.state == CHANGES_REQUESTED:
            if user in members:
                blockers.append(_BLOCKING(user=user))
            continue
        if user == pr.author:
            notes.append(_AUTHOR(user=user))
        elif user not in members:
            notes.append(_NOT_MEMBER(user=user))
        elif review.commit_id != pr.head_sha or review.stale:
            notes.append(_STALE(user=user, commit=review.commit_id[:7]))
            for tier in needed.tiers:
                if user in tier.members:
                    stale.setdefault(tier.key, []).append(review)
        else:
            current[user] = review
    assignment = (_assign_in_order(policy, needed.tiers, current, notes) if policy.strict_order
                  else _assign(policy, needed.tiers, current))
    for user in current:
        counted = [key for key, review in assignment.items() if review.user == user]
        eligible = [tier for tier in needed.tiers if user in tier.members]
        if len(eligible) > len(counted) == 1:
            name = next(tier.name for tier in needed.tiers if tier.key == counted[0])
            notes.append(_DOUBLE(user=user, tier=name))
    results = tuple(TierResult(tier, assignment.get(tier.key), tuple(stale.get(tier.key, ()))) for tier in needed.tiers)
    if blockers:
        state = "failure"
    elif all(result.approved_by for result in results) and results:
        state = "success"
    else:
        state = "pending"
    return GateResult(state, results, tuple(notes), tuple(blockers))


def assign_people(policy: Policy, tiers: Sequence[Tier], people: Sequence[str]) -> dict[str, str]:
    """Tier key -> person: a maximum matching, where a person the policy lets combine tiers may
    fill each of those tiers at once. The best of matching with and without each such combination."""
    slots = {tier.key: tier.members for tier in tiers}
    best = maximum_matching(slots, people)
    for person in people:
        allowed = policy.combined_tiers(person)
        first_of_kind = {tier.kind: tier.key for tier in reversed(tiers) if person in tier.members and tier.kind in allowed}
        combined = list(first_of_kind.values())  # one tier of each allowed kind: two tiers, never more
        if len(combined) < 2:
            continue
        rest = {key: [member for member in members if member != person]
                for key, members in slots.items() if key not in combined}
        candidate = {**maximum_matching(rest, people), **{key: person for key in combined}}
        if len(candidate) > len(best):
            best = candidate
    return best


def _assign(policy: Policy, tiers: Sequence[Tier], current: dict[str, Review]) -> dict[str, Review]:
    """Approvers to tiers, earliest approval first: one person, one tier (or their combined tiers)."""
    people = sorted(current, key=lambda name: moment(current[name].submitted_at))
    return {key: current[user] for key, user in assign_people(policy, tiers, people).items()}


def _assign_in_order(policy: Policy, tiers: Sequence[Tier], current: dict[str, Review],
                     notes: list[str]) -> dict[str, Review]:
    """Strict order: each tier takes the earliest unused approval given after the previous tier's.

    A person allowed to combine tiers approves once, in the place of the last of them: that one
    approval also fills their earlier tier, without holding up the tiers in between.
    """
    used: dict[str, set[str]] = {}  # person -> kinds of the tiers they filled
    after = moment("")
    assignment: dict[str, Review] = {}
    deferred_tiers: dict[str, str] = {}  # person -> the earlier tier their later approval also fills

    def free(user: str, tier: Tier) -> bool:
        allowed = policy.combined_tiers(user)
        return user not in used or (tier.kind in allowed and tier.kind not in used[user] and used[user] <= allowed)

    def later_in_combination(user: str, index: int) -> bool:
        allowed, kind = policy.combined_tiers(user), tiers[index].kind
        return kind in allowed and any(user in tier.members and tier.kind in allowed and tier.kind != kind
                                       for tier in tiers[index + 1:])

    for index, tier in enumerate(tiers):
        candidates = sorted((review for user, review in current.items() if user in tier.members and free(user, tier)),
                            key=lambda review: moment(review.submitted_at))
        deferred = [review for review in candidates if later_in_combination(review.user, index)]
        if deferred:  # counted now, timed at their later tier
            assignment[tier.key] = deferred[0]
            used.setdefault(deferred[0].user, set()).add(tier.kind)
            deferred_tiers[deferred[0].user] = tier.key
            continue
        timely = [review for review in candidates if moment(review.submitted_at) >= after]
        if not timely:
            if candidates:
                notes.append(_ORDER(tier=tier.name))
            break  # later tiers cannot count before this one
        chosen = timely[0]
        assignment[tier.key] = chosen
        used.setdefault(chosen.user, set()).add(tier.kind)
        after = moment(chosen.submitted_at)
    for user, key in deferred_tiers.items():  # an earlier tier counts only if the later one did too
        if sum(1 for review in assignment.values() if review.user == user) < 2:
            del assignment[key]
    return assignment
