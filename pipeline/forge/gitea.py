"""Gitea REST (/api/v1): page/limit pagination, and reviews mapped onto GitHub's states.

Gitea says REQUEST_CHANGES and COMMENT where GitHub says CHANGES_REQUESTED and COMMENTED; it has
no DISMISSED state but a `dismissed` flag, marks outdated reviews `stale`, and lists review
requests as REQUEST_REVIEW rows, which are not reviews at all.
"""
from __future__ import annotations

from typing import Any, Iterator

from pipeline.approval import APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED, PENDING, PullRequest, Review
from pipeline.forge import Forge, ForgeError

PAGE_SIZE = 50
_STATES = {"APPROVED": APPROVED, "REQUEST_CHANGES": CHANGES_REQUESTED, "COMMENT": COMMENTED,
           "PENDING": PENDING, "REQUEST_REVIEW": PENDING, "": PENDING}


class Gitea(Forge):
    name = "gitea"

    def _auth(self, token: str) -> dict[str, str]:
        return {"Authorization": f"token {token}", "Accept": "application/json"}

    def paginate(self, path: str) -> Iterator[Any]:
        page = 1
        while True:
            separator = "&" if "?" in path else "?"
            response = self.request("GET", f"{path}{separator}page={page}&limit={PAGE_SIZE}")
            items = response.json() or []
            yield from items
            total = response.headers.get("X-Total-Count")
            if len(items) < PAGE_SIZE or (total is not None and page * PAGE_SIZE >= int(total)):
                return  # the total says there is no next page: save the empty request
            page += 1

    def _due(self, due: str) -> dict[str, Any]:
        return {"due_date": f"{due}T23:59:59+08:00"}

    def _review(self, data: dict[str, Any]) -> Review:
        state = DISMISSED if data.get("dismissed") else _STATES.get(data.get("state", ""), PENDING)
        return Review(user=(data.get("user") or {}).get("login", ""), state=state,
                      commit_id=data.get("commit_id") or "", submitted_at=data.get("submitted_at") or "",
                      body=data.get("body") or "", stale=bool(data.get("stale")))

    def pull_for_commit(self, sha: str) -> PullRequest | None:
        try:
            pull = self._pull(self.json("GET", self.repo_path(f"/commits/{sha}/pull")))
        except ForgeError as error:
            if error.status == 404 and self.readable():
                return None  # the repository is readable, so the 404 really means "no pull request"
            raise
        return pull if pull.merged else None
