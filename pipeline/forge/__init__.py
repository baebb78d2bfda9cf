"""The forge edge: GitHub REST and Gitea REST behind one interface, with normalised records.

Everything the gate and the publisher need from a forge goes through `Forge`; the two
implementations translate JSON shapes (Gitea's REQUEST_CHANGES, COMMENT, `dismissed`, `stale` into
GitHub's states; GitHub's issue events and Gitea's timeline into one label history), pagination
(Link headers, page/per_page vs page/limit and X-Total-Count) and errors. A 404 is never read as
"no": it is an error unless the same token can read the repository itself. `user` may be null
(a deleted account) in every shape.
"""
from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from typing import Any, Callable, Iterator, TypeVar

import requests

from pipeline.approval import PullRequest, Review
from pipeline.errors import GzhError
from pipeline.i18n import Text
from pipeline.redact import redact
from pipeline.referrals import Comment, LabelEvent

STATUS_CONTEXT = "gzh/approval"
T = TypeVar("T")

_NO_CONFIG = Text("没有代码托管平台的连接信息：请设置 GITHUB_REPOSITORY（owner/repo）和令牌 GITHUB_TOKEN（或 GZH_FORGE_TOKEN）；Gitea 另设 GZH_FORGE=gitea",
                  "No forge settings: set GITHUB_REPOSITORY and GITHUB_TOKEN (or GZH_FORGE_TOKEN); GZH_FORGE=gitea for Gitea")
_TOO_LARGE = Text("附件 {url} 超过 {limit} MB，没有下载", "The attachment {url} is over {limit} MB; not downloaded")
_HTTP = Text("代码托管平台接口 {method} {path} 返回 {status}：{message}", "Forge API {method} {path} returned {status}: {message}")
_UNREACHABLE = Text("无法连接代码托管平台 {url}：{error}", "Cannot reach the forge at {url}: {error}")
_FORBIDDEN = Text("令牌没有权限执行 {method} {path}（{status}）。请检查工作流的 permissions 或令牌的权限范围（见 docs/setup.md）",
                  "The token may not {method} {path} ({status}); check the workflow permissions or token scopes")

_MALFORMED = Text(
    "代码托管平台接口的回答不是预期的格式（{detail}），可能是代理或网关返回的错误页，或平台版本不受支持。按失败处理，请稍后重试；反复出现请管理员检查 GZH_FORGE_API",
    "The forge API answered in an unexpected shape ({detail}), perhaps a proxy's error page or an unsupported "
    "version. Treated as a failure; retry later, and have the administrator check GZH_FORGE_API if it recurs")
_NO_DEFAULT_BRANCH = Text("代码托管平台没有告诉 {repository} 的默认分支，无法判断拉取请求是否合并到发布分支，按不通过处理",
                          "The forge did not say {repository}'s default branch; the pull request is not approved")
_UNASSIGNABLE = Text("（{mentions}：平台拒绝把此事项指派给你们——可能不是仓库成员，或 gzh.yml 中的用户名有误——请管理员核对。）",
                     "({mentions}: the forge refused to assign this to you, perhaps not a collaborator or a misspelt "
                     "username in gzh.yml; the administrator should check.)")


class ForgeError(GzhError):
    """A forge API call failed; never a silent 'no'."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def replies(method: Callable[..., T]) -> Callable[..., T]:
    """Mark a method that reads the forge's JSON: a reply of the wrong shape (a proxy's HTML, `{}`, a
    null where an object belongs) becomes a ForgeError, never a crash in the gate."""

    @functools.wraps(method)
    def translated(self: "Forge", *args: Any, **kwargs: Any) -> T:
        try:
            return method(self, *args, **kwargs)
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as error:
            raise ForgeError(_MALFORMED(detail=type(error).__name__)) from None

    return translated


class Forge:
    """What gzh asks of a forge. Subclasses: forge.github.GitHub, forge.gitea.Gitea."""

    name = "forge"

    def __init__(self, api: str, repository: str, token: str, *, timeout: float = 30.0) -> None:
        self.api, self.repository, self.timeout = api.rstrip("/"), repository, timeout
        self.session = requests.Session()
        self.session.headers.update(self._auth(token))
        self.calls = 0  # API requests made: the gate's cost is stated and tested

    # -- plumbing ----------------------------------------------------------------------------------

    def _auth(self, token: str) -> dict[str, str]:
        raise NotImplementedError

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        url = path if path.startswith("http") else f"{self.api}{path}"
        if isinstance(kwargs.get("json"), dict):  # what people read: comments, issues, statuses
            kwargs["json"] = {key: _masked(key, value) for key, value in kwargs["json"].items()}
        self.calls += 1
        try:
            response = self.session.request(method, url, timeout=self.timeout, **kwargs)
        except requests.RequestException as error:
            raise ForgeError(_UNREACHABLE(url=self.api, error=redact(type(error).__name__))) from None
        if response.status_code in (401, 403):
            raise ForgeError(_FORBIDDEN(method=method, path=_short(path), status=response.status_code), response.status_code)
        if response.status_code >= 400:
            message = redact(_message(response))
            raise ForgeError(_HTTP(method=method, path=_short(path), status=response.status_code, message=message),
                             response.status_code)
        return response

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        return decoded(self.request(method, path, **kwargs))

    def paginate(self, path: str) -> Iterator[Any]:
        raise NotImplementedError

    def repo_path(self, suffix: str) -> str:
        return f"/repos/{self.repository}{suffix}"

    # -- pages people open (in a browser, logged in) ------------------------------------------------

    @property
    def web(self) -> str:
        """The forge's web root: the runner's GITHUB_SERVER_URL (Gitea Actions sets it too)."""
        raise NotImplementedError

    def raw_url(self, branch: str, path: str) -> str:
        """A file of a branch as the browser gets it: members of a private repository see it, no one else."""
        raise NotImplementedError

    def file_url(self, sha: str, path: str) -> str:
        """A file at a commit, shown by the forge (Markdown rendered)."""
        raise NotImplementedError

    @functools.cached_property
    @replies
    def default_branch(self) -> str:
        """The branch that publishes: only pull requests into it can be approved."""
        data = self.json("GET", self.repo_path(""))
        branch = data.get("default_branch") if isinstance(data, dict) else None
        if not isinstance(branch, str) or not branch:  # never guess: the gate's verdict depends on it
            raise ForgeError(_NO_DEFAULT_BRANCH(repository=self.repository))
        return branch

    @functools.cached_property
    def login(self) -> str:
        """Who this token writes as, so the gate can tell its own labels and comments from people's.

        A GitHub Actions or App installation token cannot read /user: then GZH_BOT_LOGIN, else
        GitHub Actions' own name.
        """
        try:
            return _login(self.json("GET", "/user"))
        except ForgeError:
            return os.environ.get("GZH_BOT_LOGIN") or self._default_login

    _default_login = ""

    def readable(self) -> bool:
        """Whether this token can read the repository at all (what makes a 404 mean 'none')."""
        try:
            self.json("GET", self.repo_path(""))
            return True
        except ForgeError:
            return False

    # -- the interface -----------------------------------------------------------------------------

    @replies
    def pull_request(self, number: int) -> PullRequest:
        return self._pull(self.json("GET", self.repo_path(f"/pulls/{number}")))

    @replies
    def reviews(self, number: int) -> list[Review]:
        """Submitted reviews; drafts and (on Gitea) review requests are not reviews."""
        reviews = [self._review(item) for item in self.paginate(self.repo_path(f"/pulls/{number}/reviews"))]
        return [review for review in reviews if review.state != "PENDING"]

    @replies
    def comments(self, number: int) -> list[Comment]:
        return [_comment(item) for item in self.paginate(self.repo_path(f"/issues/{number}/comments"))]

    def label_events(self, number: int) -> list[LabelEvent]:
        """The pull request's label history, oldest first: who added or removed which label, when."""
        raise NotImplementedError

    def add_label(self, number: int, name: str) -> None:
        raise NotImplementedError

    def remove_label(self, number: int, name: str) -> None:
        raise NotImplementedError

    def upsert_comment(self, number: int, marker: str, body: str, existing: list[Comment] | None = None) -> None:
        """One sticky comment per pull request, found by its hidden marker and edited in place; only a
        comment this token wrote is ever edited (anyone can paste the marker into their own)."""
        mine = self.login
        for comment in existing if existing is not None else self.comments(number):
            if marker in comment.body and (comment.user == mine if mine else True):
                self.json("PATCH", self.repo_path(f"/issues/comments/{comment.id}"), json={"body": body})
                return
        self.json("POST", self.repo_path(f"/issues/{number}/comments"), json={"body": body})

    def set_status(self, sha: str, state: str, description: str, target_url: str = "") -> None:
        data = {"state": state, "context": STATUS_CONTEXT, "description": description[:140]}
        if target_url:
            data["target_url"] = target_url
        self.json("POST", self.repo_path(f"/statuses/{sha}"), json=data)

    @replies
    def statuses(self, sha: str) -> list[tuple[str, str]]:
        """(context, state) of a commit's statuses, newest first (Gitea names the state `status`)."""
        return [(item.get("context", ""), item.get("state") or item.get("status") or "")
                for item in self.paginate(self.repo_path(f"/commits/{sha}/statuses"))]

    def request_reviewers(self, number: int, users: list[str]) -> None:
        if users:
            self.json("POST", self.repo_path(f"/pulls/{number}/requested_reviewers"), json={"reviewers": users})

    @replies
    def create_issue(self, title: str, body: str, assignees: list[str] | None = None, due: str | None = None) -> int:
        """Open an issue; `due` (YYYY-MM-DD) is a field on Gitea and a line of the body on GitHub.

        Both forges refuse the whole issue (422) when one assignee cannot be assigned (not a
        collaborator, or a misspelt name in gzh.yml). An alert must never be lost for that: the
        issue is then created without assignees, mentioning them instead, and saying why.
        """
        data: dict[str, Any] = {"title": title, "body": body}
        if due:
            data.update(self._due(due))
        if assignees:
            try:
                return int(self.json("POST", self.repo_path("/issues"), json={**data, "assignees": assignees})["number"])
            except ForgeError as error:
                if error.status != 422:
                    raise
            mentions = " ".join(f"@{user}" for user in assignees)
            data["body"] = f"{body}\n\n{_UNASSIGNABLE(mentions=mentions)}"
        return int(self.json("POST", self.repo_path("/issues"), json=data)["number"])

    def _due(self, due: str) -> dict[str, Any]:
        return {}

    def update_issue(self, number: int, *, body: str | None = None, closed: bool | None = None,
                     title: str | None = None, due: str | None = None) -> None:
        data: dict[str, Any] = self._due(due) if due else {}
        if title is not None:
            data["title"] = title
        if body is not None:
            data["body"] = body
        if closed is not None:
            data["state"] = "closed" if closed else "open"
        self.json("PATCH", self.repo_path(f"/issues/{number}"), json=data)

    def comment_issue(self, number: int, body: str) -> None:
        self.json("POST", self.repo_path(f"/issues/{number}/comments"), json={"body": body})

    def pull_for_commit(self, sha: str) -> PullRequest | None:
        raise NotImplementedError

    def open_pull_with_head(self, sha: str) -> int | None:
        """The open pull request whose head is `sha`: how a review event of a fork pull request, which
        carries no number (GitHub's workflow_run, Gitea's too), finds its pull request."""
        found = self._first_pull("open", lambda item: (item.get("head") or {}).get("sha") == sha)
        return found.number if found else None

    @replies
    def issue(self, number: int) -> Issue:
        data = self.json("GET", self.repo_path(f"/issues/{number}"))
        return Issue(int(data["number"]), _login(data.get("user")), str(data.get("title") or ""),
                     str(data.get("body") or ""), str(data["state"]),
                     tuple(str(label["name"]) for label in data.get("labels") or []),
                     str(data.get("created_at") or ""), str(data.get("html_url") or ""))

    def open_pull_from(self, head_ref: str) -> PullRequest | None:
        """The open pull request from the branch `head_ref` of this repository, if any."""
        return self._first_pull("open", lambda item: (item.get("head") or {}).get("ref") == head_ref)

    def closed_pull_from(self, head_ref: str) -> PullRequest | None:
        """A pull request from `head_ref` closed without merging (a withdrawn submission), if any."""
        return self._first_pull("closed", lambda item: (item.get("head") or {}).get("ref") == head_ref
                                and not (item.get("merged") or item.get("merged_at")))

    @replies
    def _first_pull(self, state: str, matches: Callable[[dict[str, Any]], bool]) -> PullRequest | None:
        for item in self.paginate(self.repo_path(f"/pulls?state={state}")):
            if matches(item):
                return self._pull(item)
        return None

    @replies
    def create_pull(self, title: str, body: str, head_ref: str, base: str) -> PullRequest:
        return self._pull(self.json("POST", self.repo_path("/pulls"),
                                    json={"title": title, "body": body, "head": head_ref, "base": base}))

    def set_pull_open(self, number: int, is_open: bool, *, title: str | None = None) -> None:
        data: dict[str, Any] = {"state": "open" if is_open else "closed"}
        if title is not None:
            data["title"] = title
        self.json("PATCH", self.repo_path(f"/pulls/{number}"), json=data)

    def download(self, url: str, limit: int) -> bytes:
        """A file the forge keeps (an issue's attachment), with the token; refused beyond `limit` bytes."""
        response = self.request("GET", url, stream=True)
        data = bytearray()
        for chunk in response.iter_content(64 * 1024):
            data += chunk
            if len(data) > limit:
                response.close()
                raise ForgeError(_TOO_LARGE(url=_short(url), limit=limit // 1024 // 1024))
        return bytes(data)

    @replies
    def open_issue_titled(self, title: str) -> int | None:
        """An open issue (not a pull request) with exactly this title, so repeated alerts update one issue."""
        for item in self.paginate(self.repo_path("/issues?state=open")):
            if item.get("title") == title and not item.get("pull_request"):
                return int(item["number"])
        return None

    # -- translation -------------------------------------------------------------------------------

    def _pull(self, data: dict[str, Any]) -> PullRequest:
        changed = data.get("changed_files")
        return PullRequest(
            number=int(data["number"]), author=_login(data.get("user")), head_sha=data["head"]["sha"],
            base_sha=data["base"].get("sha", ""), base_ref=data["base"]["ref"], title=data.get("title", ""),
            labels=tuple(label["name"] for label in data.get("labels") or []),
            merged=bool(data.get("merged") or data.get("merged_at")),
            merge_commit_sha=data.get("merge_commit_sha") or "", url=data.get("html_url", ""),
            changed_files=int(changed) if isinstance(changed, int) else None, merge_base=data.get("merge_base") or "",
            head_ref=str((data.get("head") or {}).get("ref") or ""))

    def _review(self, data: dict[str, Any]) -> Review:
        raise NotImplementedError


@dataclass(frozen=True)
class Issue:
    number: int
    author: str
    title: str
    body: str
    state: str              # open / closed
    labels: tuple[str, ...]
    created_at: str
    url: str


def _login(user: dict[str, Any] | None) -> str:
    """A user's login; "" for a deleted account (GitHub sends null, or the 'ghost' user)."""
    return str(user.get("login") or "") if isinstance(user, dict) else ""


def _comment(item: dict[str, Any]) -> Comment:
    created = item.get("created_at") or ""
    updated = item.get("updated_at") or created
    return Comment(int(item["id"]), _login(item.get("user")), item.get("body") or "", created, updated != created)


def _message(response: requests.Response) -> str:
    try:
        return str(response.json().get("message", ""))[:200]
    except ValueError:
        return response.text[:200]


def _masked(key: str, value: Any) -> Any:
    """Personal data and credentials masked in the text fields people read on the forge."""
    return redact(value) if key in ("body", "title", "description") and isinstance(value, str) else value


def decoded(response: requests.Response) -> Any:
    """The JSON of a reply (None when empty); anything else, such as a proxy's HTML page, is a ForgeError."""
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        raise ForgeError(_MALFORMED(detail="JSON")) from None


def _short(path: str) -> str:
    return path.split("?")[0]


def from_environment() -> Forge:
    """The forge the CI job runs on: GitHub, or Gitea (GZH_FORGE=gitea, or under Gitea Actions)."""
    from pipeline.forge.gitea import Gitea
    from pipeline.forge.github import GitHub

    repository = os.environ.get("GITHUB_REPOSITORY", "")
    token = os.environ.get("GZH_FORGE_TOKEN") or os.environ.get("GITHUB_TOKEN") or os.environ.get("GITEA_TOKEN") or ""
    if not repository or not token:
        raise GzhError(_NO_CONFIG())
    if kind() == "gitea":
        server = os.environ.get("GITHUB_SERVER_URL", "").rstrip("/")
        api = os.environ.get("GZH_FORGE_API") or os.environ.get("GITHUB_API_URL") or f"{server}/api/v1"
        return Gitea(api, repository, token)
    return GitHub(os.environ.get("GZH_FORGE_API") or os.environ.get("GITHUB_API_URL") or "https://api.github.com",
                  repository, token)


def kind() -> str:
    """"gitea" or "github": GZH_FORGE, else Gitea under Gitea Actions."""
    return os.environ.get("GZH_FORGE") or ("gitea" if os.environ.get("GITEA_ACTIONS") == "true" else "github")


def configured() -> bool:
    return bool(os.environ.get("GITHUB_REPOSITORY") and (
        os.environ.get("GZH_FORGE_TOKEN") or os.environ.get("GITHUB_TOKEN") or os.environ.get("GITEA_TOKEN")))
