"""Gitea REST (/api/v1): page/limit pagination, and reviews mapped onto GitHub's states.

Gitea says REQUEST_CHANGES and COMMENT where GitHub says CHANGES_REQUESTED and COMMENTED; it has
no DISMISSED state but a `dismissed` flag, marks outdated reviews `stale`, and lists review
requests as REQUEST_REVIEW rows, which are not reviews at all.

Paging follows X-Total-Count, never the length of a page: Gitea drops other users' PENDING reviews
from a page after it has been cut, so a short page can come before more reviews. The issue
comments endpoint takes no page or limit at all (only since/before) and is read in one request.

Supported: Gitea 1.21 and later (Forgejo likewise). `GET /commits/{sha}/pull` exists from 1.22.0
and finds merge commits correctly from 1.22.3 (go-gitea PR 32117); on older servers the merged
pull request is found in the list of closed pull requests instead.
"""
from __future__ import annotations

import re
from typing import Any, Iterator
from urllib.parse import quote

from pipeline.approval import APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED, PENDING, PullRequest, Review
from pipeline.forge import Forge, ForgeError, _comment, _login, decoded, replies
from pipeline.i18n import Text
from pipeline.referrals import Comment, LabelEvent

PAGE_SIZE = 50
MINIMUM_VERSION = (1, 21, 0)
COMMIT_PULL_FIXED = (1, 22, 3)      # /commits/{sha}/pull matches merge commits from here on
CLOSED_PULL_PAGES = 10              # how far back the fallback looks: 500 closed pull requests
LABEL_COLOR = "#d73a4a"
_NOT_FOUND = Text(
    "在 Gitea {version} 上找不到合并提交 {sha} 的拉取请求：该版本没有可靠的按提交查找接口（需要 1.22.3 及以上），"
    "在最近 {count} 个已关闭的拉取请求中也没有找到它。为安全起见不发布；请升级 Gitea，或核实该提交是否经拉取请求合并",
    "No pull request found for merge commit {sha} on Gitea {version}: this version has no reliable lookup "
    "(1.22.3 or later needed) and the last {count} closed pull requests do not contain it. Not published; "
    "upgrade Gitea or check how the commit was merged")
_STATES = {"APPROVED": APPROVED, "REQUEST_CHANGES": CHANGES_REQUESTED, "COMMENT": COMMENTED,
           "PENDING": PENDING, "REQUEST_REVIEW": PENDING, "": PENDING}


class Gitea(Forge):
    name = "gitea"

    def _auth(self, token: str) -> dict[str, str]:
        return {"Authorization": f"token {token}", "Accept": "application/json"}

    @property
    def web(self) -> str:
        return self.api.removesuffix("/api/v1")

    def raw_url(self, branch: str, path: str) -> str:
        return f"{self.web}/{self.repository}/raw/branch/{quote(branch)}/{quote(path)}"

    def file_url(self, sha: str, path: str) -> str:
        return f"{self.web}/{self.repository}/src/commit/{sha}/{quote(path)}"

    def paginate(self, path: str, *, pages: int | None = None) -> Iterator[Any]:
        """Every item: until X-Total-Count says there is no next page (without it: until a page is empty)."""
        page = 1
        while pages is None or page <= pages:
            separator = "&" if "?" in path else "?"
            response = self.request("GET", f"{path}{separator}page={page}&limit={PAGE_SIZE}")
            items = decoded(response) or []
            yield from items
            total = response.headers.get("X-Total-Count", "")
            if (page * PAGE_SIZE >= int(total)) if total.isdigit() else not items:
                return  # a page emptied by hidden drafts is not the end while the total says more follow
            page += 1

    @replies
    def comments(self, number: int) -> list[Comment]:
        """One request: this endpoint has no page or limit parameter and always answers in full."""
        return [_comment(item) for item in self.json("GET", self.repo_path(f"/issues/{number}/comments")) or []]

    @replies
    def label_events(self, number: int) -> list[LabelEvent]:
        """From the issue timeline: `label` rows whose body is "1" when added and "" when removed."""
        return [LabelEvent(_login(item.get("user")), (item.get("label") or {}).get("name", ""),
                           item.get("body") == "1", item.get("created_at") or "")
                for item in self.paginate(self.repo_path(f"/issues/{number}/timeline"))
                if item.get("type") == "label"]

    @replies
    def add_label(self, number: int, name: str) -> None:
        """Gitea takes label ids: find the label by name, creating it the first time."""
        label = self._label(name) or self.json("POST", self.repo_path("/labels"), json={"name": name, "color": LABEL_COLOR})
        self.json("POST", self.repo_path(f"/issues/{number}/labels"), json={"labels": [int(label["id"])]})

    @replies
    def remove_label(self, number: int, name: str) -> None:
        label = self._label(name)
        if label is not None:
            self.json("DELETE", self.repo_path(f"/issues/{number}/labels/{int(label['id'])}"))

    def _label(self, name: str) -> dict[str, Any] | None:
        return next((item for item in self.paginate(self.repo_path("/labels")) if item.get("name") == name), None)

    @replies
    def version(self) -> tuple[int, int, int]:
        """The server's Gitea version; Forgejo reports its own number and the Gitea one after '+gitea-'."""
        data = self.json("GET", "/version")
        text = str(data.get("version", "")) if isinstance(data, dict) else ""
        gitea = text.split("+gitea-", 1)[1] if "+gitea-" in text else text
        numbers = [int(part) for part in re.findall(r"\d+", gitea)[:3]]
        return tuple(numbers + [0] * (3 - len(numbers)))  # type: ignore[return-value]

    def _due(self, due: str) -> dict[str, Any]:
        return {"due_date": f"{due}T23:59:59+08:00"}

    def _review(self, data: dict[str, Any]) -> Review:
        state = DISMISSED if data.get("dismissed") else _STATES.get(data.get("state", ""), PENDING)
        return Review(user=_login(data.get("user")), state=state,
                      commit_id=data.get("commit_id") or "", submitted_at=data.get("submitted_at") or "",
                      body=data.get("body") or "", stale=bool(data.get("stale")))

    @replies
    def pull_for_commit(self, sha: str) -> PullRequest | None:
        version = self.version()
        if version < COMMIT_PULL_FIXED:
            return self._closed_pull_merging(sha, version)
        try:
            pull = self._pull(self.json("GET", self.repo_path(f"/commits/{sha}/pull")))
        except ForgeError as error:
            if error.status == 404 and self.readable():
                return None  # the repository is readable, so the 404 really means "no pull request"
            raise
        return pull if pull.merged else None

    @replies
    def _closed_pull_merging(self, sha: str, version: tuple[int, int, int]) -> PullRequest:
        """Older Gitea: the merged pull request whose merge commit (or head, for a fast-forward) is `sha`."""
        for item in self.paginate(self.repo_path("/pulls?state=closed&sort=recentupdate"), pages=CLOSED_PULL_PAGES):
            pull = self._pull(item)
            if pull.merged and sha in (pull.merge_commit_sha, pull.head_sha) and pull.base_ref == self.default_branch:
                return pull
        raise ForgeError(_NOT_FOUND(version=".".join(map(str, version)), sha=sha[:12],
                                    count=CLOSED_PULL_PAGES * PAGE_SIZE))
