"""The deliberately broken posts under tests/resources/broken, checked inside a scratch repository."""
from __future__ import annotations

from pathlib import Path

from pipeline import posts
from pipeline.checks import check_posts
from tests.support import RESOURCES, copy_resource, make_root, policy

EXPECTED = RESOURCES / "broken" / "expected.yml"


def findings_by_post(tmp_path: Path) -> dict[str, list[str]]:
    """`{post path: ["rule-id line:col", ...]}` for every broken post."""
    root = make_root(tmp_path)
    copy_resource("broken", root)
    (root / "content" / "expected.yml").unlink()
    files, _ = posts.discover([root / "content"])
    report = check_posts([posts.load_post(file, root) for file in files], policy(root), root)
    return {
        post.path: [f"{finding.rule_id} {finding.location.line}:{finding.location.col}" for finding in post.findings]
        for post in report.posts
    }
