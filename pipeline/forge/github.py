"""GitHub REST: Link-header pagination, 100 per page, reviews already in the common states."""
from __future__ import annotations

import os
from typing import Any, Iterator
from urllib.parse import quote

from pipeline.approval import PullRequest, Review
from pipeline.forge import Forge, _login, decoded, replies
from pipeline.referrals import LabelEvent


class GitHub(Forge):
    name = "github"
    _default_login = "github-actions[bot]"

    def _auth(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": "2022-11-28"}

    @property
    def web(self) -> str:
        return (os.environ.get("GITHUB_SERVER_URL") or "https://github.com").rstrip("/")

    def raw_url(self, branch: str, path: str) -> str:
        return f"{self.web}/{self.repository}/raw/{quote(branch)}/{quote(path)}"

    def file_url(self, sha: str, path: str) -> str:
        return f"{self.web}/{self.repository}/blob/{sha}/{quote(path)}"

    def paginate(self, path: str) -> Iterator[Any]:
        url: str | None = f"{path}{'&' if '?' in path else '?'}per_page=100"
        while url:
            response = self.request("GET", url)
            yield from decoded(response) or []
            url = response.links.get("next", {}).get("url")

    def _review(self, data: dict[str, Any]) -> Review:
        return Review(user=(data.get("user") or {}).get("login", ""), state=data.get("state", ""),
                      commit_id=data.get("commit_id") or "", submitted_at=data.get("submitted_at") or "",
                      body=data.get("body") or "")

    @replies
    def label_events(self, number: int) -> list[LabelEvent]:
        """From the issue events (`labeled`/`unlabeled` with their `actor`), which nobody can edit."""
        return [LabelEvent(_login(item.get("actor")), (item.get("label") or {}).get("name", ""),
                           item.get("event") == "labeled", item.get("created_at") or "")
                for item in self.paginate(self.repo_path(f"/issues/{number}/events"))
                if item.get("event") in ("labeled", "unlabeled")]

    def add_label(self, number: int, name: str) -> None:
        self.json("POST", self.repo_path(f"/issues/{number}/labels"), json={"labels": [name]})

    def remove_label(self, number: int, name: str) -> None:
        self.json("DELETE", self.repo_path(f"/issues/{number}/labels/{quote(name, safe='')}"))

    @replies
    def pull_for_commit(self, sha: str) -> PullRequest | None:
        """The merged pull request that brought the commit into the default branch, if any.

        The list holds "simple" pulls, which have `merged_at` but no `merged` field.
        """
        merged = [self._pull(item) for item in self.json("GET", self.repo_path(f"/commits/{sha}/pulls")) or []]
        merged = [pull for pull in merged if pull.merged]
        into_default = [pull for pull in merged if pull.base_ref == self.default_branch]
        return (into_default or merged or [None])[0]  # one into another branch is returned, and refused
