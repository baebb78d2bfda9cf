"""GitHub REST: Link-header pagination, 100 per page, reviews already in the common states."""
from __future__ import annotations

from typing import Any, Iterator

from pipeline.approval import PullRequest, Review
from pipeline.forge import Forge


class GitHub(Forge):
    name = "github"

    def _auth(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": "2022-11-28"}

    def paginate(self, path: str) -> Iterator[Any]:
        url: str | None = f"{path}{'&' if '?' in path else '?'}per_page=100"
        while url:
            response = self.request("GET", url)
            yield from response.json()
            url = response.links.get("next", {}).get("url")

    def _review(self, data: dict[str, Any]) -> Review:
        return Review(user=(data.get("user") or {}).get("login", ""), state=data.get("state", ""),
                      commit_id=data.get("commit_id") or "", submitted_at=data.get("submitted_at") or "",
                      body=data.get("body") or "")

    def pull_for_commit(self, sha: str) -> PullRequest | None:
        """The merged pull request that brought the commit into the default branch, if any."""
        for item in self.json("GET", self.repo_path(f"/commits/{sha}/pulls")) or []:
            pull = self._pull(item)
            if pull.merged or item.get("merged_at"):
                return pull
        return None
