"""The gate's facts: a pull request's reviews, comments and label history from the forge; its changed
files, policy and templates from git (the base commit), and its posts from the head commit, read as
git objects (nothing from the pull request is ever executed); then evaluated by `pipeline.approval`.
Success needs both halves: every tier approved, and the checks on the head without errors.
"""
from __future__ import annotations

import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any, Iterator
from pathlib import Path, PurePosixPath

from pipeline import approval, forge as forge_module, posts, referrals, submission
from pipeline.approval import GateResult, PullRequest, Review
from pipeline.checks import Report, Severity, check_posts, rule_label
from pipeline.errors import ConfigError
from pipeline.gitrefs import (GITLINK_MODE, SYMLINK_MODE, Changes, OddTree, changed_paths, ensure_commit, export,
                              is_file, non_regular, open_repo, read_text)
from pipeline.i18n import Text
from pipeline.policy import POLICY_FILE, Policy, parse_policy
from pipeline.referrals import Comment, Said
from pipeline.render import TEMPLATES_DIR

_NO_POLICY = Text("目标分支上没有 gzh.yml，无法确定审批人", "The base branch has no gzh.yml; approvers are unknown")
_COUNT_MISMATCH = Text(
    "代码托管平台说这个拉取请求改了 {forge} 个文件，git 算出的是 {git} 个。两者不一致时无法确定需要哪些审批，"
    "请把目标分支合并进来（或变基）后重新推送",
    "The forge counts {forge} changed files but git counts {git}; the tiers cannot be determined. "
    "Merge the base branch in (or rebase) and push again")
_NON_REGULAR = Text(
    "{path} 是{kind}。content/ 和 templates/ 下只能放普通文件：请删除它，把真正的文件内容放进文章文件夹后重新提交",
    "{path} is a {kind}. Only plain files may live under content/ and templates/: remove it and commit the real file")
_KINDS = {SYMLINK_MODE: Text("符号链接", "symbolic link"), GITLINK_MODE: Text("子模块", "submodule")}
_NOT_DEFAULT = Text("拉取请求的目标分支是 {base}，不是发布分支 {default}：只有合并到 {default} 的拉取请求才能审批",
                    "The pull request targets {base}, not the publishing branch {default}; only pull requests into {default} can pass")
_CHECK_ERRORS = Text("发布前检查发现 {count} 个错误：批准齐了也不能合并，请先按下方检查结果修改",
                     "The checks found {count} error(s); fix them first, approvals alone are not enough")
_FINDING_REASON = Text("检查发现 {rules}", "the checks found {rules}")
GUARDED_FOLDERS = (posts.CONTENT_DIR, TEMPLATES_DIR)
MARKER = referrals.GATE_MARKER


@dataclass(frozen=True)
class GateReport:
    pr: PullRequest
    result: GateResult
    checks: Report | None
    secrecy_reasons: tuple[str, ...]
    restore_label: bool = False     # a referral stands but its label was removed: put it back
    posts: tuple[posts.Post, ...] = ()  # the changed posts as the head has them (checked, and shown in the comment)


def evaluate_pull(root: Path, forge: forge_module.Forge, number: int, pr: PullRequest | None = None,
                  policy_sha: str | None = None, workdir: Path | None = None) -> tuple[GateReport, Policy, list[Comment]]:
    """Everything the gate decides, without writing anything to the forge.

    The policy and templates come from `policy_sha` (default: the pull request's base commit);
    publishing passes the commit the merge was made on, i.e. the base as it stood at merge time.
    The changed files come from git, never from the forge's (capped) file list. The changed posts
    are exported (as plain files, under the base's templates) into `workdir` when given, where they
    stay for the caller to render; else into a folder removed afterwards.
    """
    pr = _submitter_is_author(forge, pr or forge.pull_request(number))
    reviews = forge.reviews(number)
    comments = forge.comments(number)
    repo = open_repo(root)
    base = ensure_commit(repo, pr.base_sha, pr.base_ref)
    policy_commit = ensure_commit(repo, policy_sha, pr.base_ref) if policy_sha else base
    head = ensure_commit(repo, pr.head_sha, f"refs/pull/{number}/head")
    policy_text = read_text(policy_commit, POLICY_FILE)
    if policy_text is None:
        raise ConfigError(_NO_POLICY())
    policy = parse_policy(policy_text, f"{policy_commit.hexsha[:7]}:{POLICY_FILE}")
    # An open pull request's diff is from where it meets its base now (git knows); a merged one's from the
    # forge's recorded fork point, since Gitea's base.sha has moved past the merge by then.
    fork_point = ensure_commit(repo, pr.merge_base, pr.base_ref) if pr.merged and pr.merge_base else None
    changes = changed_paths(repo, base, head, fork_point)
    odd_names: list[str] = []
    checked: tuple[posts.Post, ...] = ()
    try:
        with _folder(workdir) as folder:
            checks, flagged, checked = _check_head(policy_commit, head, changes.paths, policy, folder)
    except OddTree as odd:  # a name git refuses: a failing status that names it, not a crash
        checks, flagged, odd_names = None, [], [str(odd)]
    referred = _referrals(forge, number, pr, policy, changes.paths, reviews, comments)
    reasons = ((_FINDING_REASON(rules="、".join(rule_label(rule) for rule in flagged)),) if flagged else ()) + referred.reasons
    needed = approval.needs(policy, changes.paths, secrecy=bool(reasons))
    problems = odd_names + _integrity_problems(pr, changes, head, checks)
    if pr.base_ref != forge.default_branch:  # another branch's policy, and a status its head would share
        problems.insert(0, _NOT_DEFAULT(base=pr.base_ref, default=forge.default_branch))
    needed = replace(needed, problems=needed.problems + tuple(problems))
    result = approval.evaluate(policy, pr, needed, reviews)
    result = replace(result, notes=result.notes + referred.notes)
    restore = bool(reasons) and not referred.recorded
    return GateReport(pr, result, checks, reasons, restore, checked), policy, comments


def _submitter_is_author(forge: forge_module.Forge, pr: PullRequest) -> PullRequest:
    """A submission's pull request is opened by gzh's own account from `gzh-submission/issue-N`: for
    the tiers (nobody approves their own text) its author is whoever submitted the issue."""
    issue = submission.issue_of(pr.head_ref)
    if issue is None or pr.author != forge.login:
        return pr
    return replace(pr, author=forge.issue(issue).author)


def _integrity_problems(pr: PullRequest, changes: Changes, head: Any, checks: Report | None) -> list[str]:
    """What blocks a merge whatever the approvals: an unknown diff, links, and check errors."""
    problems = []
    if pr.changed_files is not None and pr.changed_files != changes.count:
        problems.append(_COUNT_MISMATCH(forge=pr.changed_files, git=changes.count))
    problems += [_NON_REGULAR(path=path, kind=_KINDS[mode]()) for path, mode in non_regular(head, GUARDED_FOLDERS)]
    errors = checks.count(Severity.ERROR) if checks is not None else 0
    if errors:
        problems.append(_CHECK_ERRORS(count=errors))
    return problems


def _referrals(forge: forge_module.Forge, number: int, pr: PullRequest, policy: Policy, paths: tuple[str, ...],
               reviews: list[Review], comments: list[Comment]) -> referrals.Referrals:
    heads = [user for folder in approval.post_folders(paths)
             if (department := policy.department_by_folder(folder)) for user in department.heads]
    # Neither forge says whether a review's summary was edited, and writers can edit it: a review body
    # can refer, never withdraw (read as edited).
    said = [Said(review.user, review.body, review.submitted_at, edited=True) for review in reviews]
    bot = forge.login
    said += [Said(comment.user, comment.body, comment.created_at, comment.edited)
             for comment in comments if not _own(comment, bot)]
    said += [item for item in referrals.received(number) if item.user != bot]  # as the service received them
    office = policy.members("secrecy_office")
    return referrals.standing(policy.secrecy_label, pr.labels, office, heads + list(office),
                              forge.label_events(number), said, bot=bot, author=pr.author)


def _own(comment: Comment, bot: str) -> bool:
    """The gate's own sticky comment (it quotes the commands): by its author where the login is known."""
    return comment.user == bot if bot else MARKER in comment.body


def own_sticky(comments: list[Comment], bot: str) -> str:
    """The text of the gate's own sticky comment so far ("" before the first run), never a look-alike."""
    return next((comment.body for comment in comments if MARKER in comment.body and _own(comment, bot)), "")


def _check_head(base: Any, head: Any, files: tuple[str, ...], policy: Policy,
                root: Path) -> tuple[Report | None, list[str], tuple[posts.Post, ...]]:
    """Check the pull request's posts as they are at its head, with the base's policy and templates."""
    bundles = sorted({bundle for path in files if (bundle := _bundle_at(head, path))})
    if not bundles:
        return None, [], ()
    export(base, TEMPLATES_DIR, root)
    loaded = []
    for bundle in bundles:
        if export(head, bundle, root) and (root / bundle / posts.POST_FILE).is_file():
            loaded.append(posts.load_post(root / bundle / posts.POST_FILE, root))
    report = check_posts(loaded, policy, root)
    flagged = sorted({reason for post in report.posts for reason in post.secrecy_reasons})
    return report, flagged, tuple(loaded)


@contextmanager
def _folder(given: Path | None) -> Iterator[Path]:
    if given is not None:
        given.mkdir(parents=True, exist_ok=True)
        yield given
        return
    with tempfile.TemporaryDirectory() as folder:
        yield Path(folder)


def _bundle_at(commit: Any, path: str) -> str | None:
    """The post folder (holding index.md at `commit`) that a changed path belongs to."""
    parts = PurePosixPath(path).parts
    if len(parts) < 3 or parts[0] != posts.CONTENT_DIR:
        return None
    for depth in range(len(parts), 2, -1):
        folder = "/".join(parts[:depth])
        if is_file(commit, f"{folder}/{posts.POST_FILE}"):
            return folder
    return None
