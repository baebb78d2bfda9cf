"""The sample content is part of the product: it must pass and show every kind of post."""
from __future__ import annotations

from pipeline import posts
from pipeline.checks import check_posts
from tests.support import PROJECT, policy


def load_samples() -> list[posts.Post]:
    files, strays = posts.discover([PROJECT / "content"])
    assert strays == []
    return [posts.load_post(file, PROJECT) for file in files]


def test_samples_pass_every_rule_without_warnings() -> None:
    report = check_posts(load_samples(), policy(PROJECT), PROJECT)
    assert [(finding.location, finding.rule_id) for finding in report.findings] == []


def test_samples_cover_all_categories_and_several_departments() -> None:
    samples = load_samples()
    rules = policy(PROJECT)
    assert len(samples) >= 8
    assert {rules.category(post.meta.category).slug for post in samples} == {cat.slug for cat in rules.categories}
    assert len({post.department_folder for post in samples}) >= 4
    assert sum(1 for post in samples if post.meta.repost and post.meta.source) >= 1
    assert sum(1 for post in samples if "![" in post.body) >= 4
