"""What happened last time: an interrupted write judged by what WeChat holds, never by a title alone.

Reads only. A draft or a live article is this post's when its first item has the post's title and
the fingerprint of the exact content sent (recorded in the write's intent). Drafts and articles are
looked for among the newest RECONCILE_PAGES pages: freepublish/batchget's quota is 100 calls a day.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from pipeline.ledger import PostState
from pipeline.render.sanitize import fingerprint
from pipeline.wechat import WeChat, WeChatError

RECONCILE_PAGES = 3  # drafts or articles read (20 a page) when looking for what an interrupted write did
_NO_SUCH_DRAFT = 40007


def holds(item: dict[str, Any], title: str, content: str) -> bool:
    """Whether a draft's or article's first item is this article: same title, same content fingerprint."""
    return item.get("title") == title and fingerprint(str(item.get("content", ""))) == content


@dataclass(frozen=True)
class Reconciler:
    wechat: WeChat

    def draft_exists(self, media_id: str) -> bool:
        return self._draft(media_id) is not None

    def draft_holding(self, state: PostState, title: str, content: str) -> str | None:
        """The draft an interrupted draft/add or draft/update left holding this very content, if any.

        An update names its draft: one draft/get tells. An add does not: the newest drafts are read.
        """
        media_id = str(state.intent("media_id") or "")
        if media_id:
            draft = self._draft(media_id)
            items = (draft or {}).get("news_item") or [{}]
            return media_id if draft is not None and holds(items[0], title, content) else None
        for page in range(RECONCILE_PAGES):
            answer = self.wechat.draft_batchget(page * 20, no_content=False)
            for item in answer.get("item", []):
                if holds(item["content"]["news_item"][0], title, content):
                    return str(item["media_id"])
            if (page + 1) * 20 >= int(answer.get("total_count", 0)):
                break
        return None

    def published(self, title: str, content: str) -> tuple[str, str]:
        """(URL, article id) of the live article holding this very content, or ("", "")."""
        for item in itertools.islice(self.wechat.all_published(no_content=False), RECONCILE_PAGES * 20):
            first = item["content"]["news_item"][0]
            if holds(first, title, content):
                return str(first.get("url", "")), str(item["article_id"])
        return "", ""

    def _draft(self, media_id: str) -> dict[str, Any] | None:
        try:
            return self.wechat.draft_get(media_id)
        except WeChatError as error:
            if error.code == _NO_SUCH_DRAFT:
                return None
            raise
