"""The gate's facts: a pull request's files, reviews and comments from the forge, its policy and
templates from the base commit and its posts from the head commit, read as git objects (nothing
from the pull request is ever executed), then evaluated by `pipeline.approval`.
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass
from typing import Any
from pathlib import Path, PurePosixPath

from pipeline import approval, forge as forge_module, posts
from pipeline.approval import GateResult, PullRequest
from pipeline.checks import Report, check_posts
from pipeline.errors import ConfigError
from pipeline.gitrefs import ensure_commit, export, open_repo, read_text
from pipeline.i18n import Text
from pipeline.policy import POLICY_FILE, Policy, parse_policy
from pipeline.render import TEMPLATES_DIR

_NO_POLICY = Text("目标分支上没有 gzh.yml，无法确定审批人", "The base branch has no gzh.yml; approvers are unknown")
_SECRECY_LABEL_REASON = Text("部门负责人请求", "requested by the department head")


@dataclass(frozen=True)
class GateReport:
    pr: PullRequest
    result: GateResult
    checks: Report | None
    secrecy_reasons: tuple[str, ...]


def evaluate_pull(root: Path, forge: forge_module.Forge, number: int, pr: PullRequest | None = None,
                  policy_sha: str | None = None) -> tuple[GateReport, Policy, list[tuple[int, str, str]]]:
    """Everything the gate decides, without writing anything to the forge.

    The policy and templates come from `policy_sha` (default: the pull request's base commit);
    publishing passes the commit the merge was made on, i.e. the base as it stood at merge time.
    """
    pr = pr or forge.pull_request(number)
    files = forge.pull_files(number)
    reviews = forge.reviews(number)
    comments = forge.comments(number)
    repo = open_repo(root)
    base = ensure_commit(repo, policy_sha or pr.base_sha, pr.base_ref)
    head = ensure_commit(repo, pr.head_sha, f"refs/pull/{number}/head")
    policy_text = read_text(base, POLICY_FILE)
    if policy_text is None:
        raise ConfigError(_NO_POLICY())
    policy = parse_policy(policy_text, f"{base.hexsha[:7]}:{POLICY_FILE}")
    checks, flagged = _check_head(base, head, files, policy)
    heads = [head_user for folder in approval.post_folders(files)
             if (department := policy.department_by_folder(folder)) for head_user in department.heads]
    asked = approval.wants_secrecy_review(policy, pr, reviews, heads, [(user, body) for _, user, body in comments])
    reasons = tuple(flagged) + ((_SECRECY_LABEL_REASON(),) if asked else ())
    needed = approval.needs(policy, files, secrecy=bool(reasons))
    result = approval.evaluate(policy, pr, needed, reviews)
    return GateReport(pr, result, checks, reasons), policy, comments


def _check_head(base: Any, head: Any, files: list[str], policy: Policy) -> tuple[Report | None, list[str]]:
    """Check the pull request's posts as they are at its head, with the base's policy and templates."""
    bundles = sorted({bundle for path in files if (bundle := _bundle_at(head, path))})
    if not bundles:
        return None, []
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        export(base, TEMPLATES_DIR, root)
        loaded = []
        for bundle in bundles:
            if export(head, bundle, root) and (root / bundle / posts.POST_FILE).is_file():
                loaded.append(posts.load_post(root / bundle / posts.POST_FILE, root))
        report = check_posts(loaded, policy, root)
    flagged = sorted({reason for post in report.posts for reason in post.secrecy_reasons})
    return report, flagged


def _bundle_at(commit: Any, path: str) -> str | None:
    """The post folder (holding index.md at `commit`) that a changed path belongs to."""
    parts = PurePosixPath(path).parts
    if len(parts) < 3 or parts[0] != posts.CONTENT_DIR:
        return None
    for depth in range(len(parts), 2, -1):
        folder = "/".join(parts[:depth])
        if read_text(commit, f"{folder}/{posts.POST_FILE}") is not None:
            return folder
    return None
