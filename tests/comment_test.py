"""The approval comment as a reviewer reads it on a phone (pipeline/comment.py), on both forge fakes."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from pipeline.comment import Gallery, Pictures, earlier_gallery
from tests.support import PullScenario, front_matter, post_text


@pytest.fixture(params=["github", "gitea"])
def pr(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[PullScenario]:
    scenario = PullScenario(tmp_path, request.param, body="市总工会召开全委会议。报名请联系 13812345678。\n")
    for key, value in scenario.forge.environment().items():
        monkeypatch.setenv(key, value)
    yield scenario
    scenario.close()


def test_the_comment_shows_the_article_its_secrecy_conclusion_and_each_finding(pr: PullScenario) -> None:
    pr.gate()
    comment = pr.comment()
    assert "#### 《" in comment and "办公室 · " in comment and "作者：" in comment
    assert "**保密审查**：可以公开（" in comment
    assert "⚠️ 第 " in comment and "138****5678" in comment and "13812345678" not in comment
    # each finding names its rule in Chinese, the id beside it for an ignore comment
    assert ("行 · 手机号码（`mobile-number`）：发现手机号码 138****5678。公开个人手机号须经本人同意：请删除，或改用单位公开电话；"
            "确需公开的，请加忽略注释写明理由") in comment
    head = pr.forge.pulls[1].head_sha
    assert f"{head}/content/office/2026-11-28-news/index.md" in comment  # the full text at the head, on the forge
    assert comment.index("#### 《") < comment.index("**审批环节**")  # the article first, then the tiers


def test_a_posts_own_words_cannot_ping_people_or_break_the_comment(pr: PullScenario) -> None:
    pr.post.write_text(post_text("正文。\n", front_matter(title="通知 @wang-jun <img src=x> | 表格")), "utf-8")
    pr.forge.push(1, pr.commit("标题"))
    pr.gate()
    comment = pr.comment()
    assert "@wang-jun" not in comment.split("**审批环节**")[0] and "<img src=x>" not in comment
    assert "&lt;img src=x&gt; \\| 表格" in comment


def test_pictures_from_an_earlier_run_are_reused_only_from_the_preview_branch() -> None:
    prefix = "https://github.com/o/r/raw/gzh-preview-pr-1/abc/"
    gallery = Gallery("abc", {"content/a/b": Pictures((prefix + "b/01.png",), False, prefix + "b/cover.jpg")})
    assert earlier_gallery("text " + gallery.marker(), "abc", prefix) == gallery
    assert earlier_gallery(gallery.marker(), "def", prefix) is None  # another head: taken again
    forged = Gallery("abc", {"content/a/b": Pictures(("https://evil.example/x.png",))})
    assert earlier_gallery(forged.marker(), "abc", prefix) is None
    assert earlier_gallery("<!-- gzh-pictures {not json} -->", "abc", prefix) is None
