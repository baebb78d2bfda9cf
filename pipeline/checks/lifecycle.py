"""Rules about a post's life after review: what the ledger says has already happened to it."""
from __future__ import annotations

from typing import Iterator

from pipeline import assets
from pipeline.checks.model import Hit, PostView, Severity, rule
from pipeline.i18n import Text

_CHANGED = Text(
    "这篇文章已经发布（{url}），发布后不能再修改：本次改动不会生效。如需更正，请新建一篇更正说明，或按 docs/publishing.md 的“更正”流程处理",
    "This post is already published ({url}) and cannot change; this edit will not be published. "
    "Publish a correction as a new post (docs/publishing.md)")


@rule("published-changed", Severity.ERROR, Text("已发布的文章不再修改", "Published posts stay unchanged"),
      name=Text("发布后修改", "changed after publishing"))
def published_changed(view: PostView) -> Iterator[Hit]:
    published = view.published.get(view.post.bundle)
    if published and published[0] != assets.version(view.post):
        yield Hit(view.location(0), _CHANGED(url=published[1] or "—"))
