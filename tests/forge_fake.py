"""Loopback fakes of the GitHub and Gitea REST subsets gzh uses, with their real JSON shapes and caps.

Each documented limit and quirk is modelled, so that code assuming otherwise fails a test:

GitHub: `/repos/...`, `per_page` (at most 100)/`page` with Link headers; the PR file list stops at
3,000 files (Gitea's at MAX_GIT_DIFF_FILES, 100 by default) while `changed_files` counts them all; reviews in APPROVED / CHANGES_REQUESTED /
COMMENTED / DISMISSED, and other users' PENDING drafts are not listed; `commits/{sha}/pulls` lists
"simple" pulls (`merged_at`, no `merged`, no `changed_files`); `user` and `actor` may be null (a
deleted account); label history in the issue events.
Gitea: `/api/v1/repos/...`, `page`/`limit` (at most 50) with Link and X-Total-Count; reviews in
APPROVED / REQUEST_CHANGES / COMMENT / REQUEST_REVIEW (user or team) with `dismissed`, `stale` and
`official`, and other users' PENDING reviews dropped after the page is cut (so a page can be short
while more follow); issue comments take no page or limit; combined statuses say `status`; label
history in the timeline (`body` "1" added, "" removed); labels are added by id; `/version`;
`commits/{sha}/pull` from 1.22.0, matching merge commits only from 1.22.3.
Both: issues people submit (`open_issue`, `edit_issue`) read back with GET /issues/{n}; pull requests
created through POST /pulls from a branch of `git_dir`, closed and reopened with PATCH /pulls/{n}, follow
their branch's tip while open (`sync_heads`, which every API request and the pull request's page run first);
issues and pull requests share one number sequence; an assignee who is not a collaborator
makes `POST /issues` fail with 422; 401 without the token and 404 for what does not exist.

The web pages a person opens, beside the API and matched before its token check (`web` is the root,
`http://127.0.0.1:PORT`, which `environment()` gives as GITHUB_SERVER_URL on both flavours):
- raw files from the bare repository `git_dir` (None: every raw URL is 404). GitHub
  `/{owner}/{repo}/raw/{ref}/{path}` (ref: a branch, tag or commit sha; the real one redirects to
  raw.githubusercontent.com, the fake answers at once); Gitea `/{owner}/{repo}/raw/branch/{branch}/{path}`
  and `/{owner}/{repo}/raw/commit/{sha}/{path}`. A branch with slashes is the shortest prefix of the path
  naming one, as Gitea resolves it. Images carry their type, other text is text/plain, the rest
  application/octet-stream; `raw_url()` builds the address.
- a pull request's conversation: GitHub `/{owner}/{repo}/pull/{n}`, Gitea `/{owner}/{repo}/pulls/{n}`
  (`pull_url()`): the title and each comment rendered as the forge renders comments (tests/forge_pages.py).
- issues: GitHub and Gitea `/{owner}/{repo}/issues/{n}` (`issue_url()`; a pull request's number redirects to
  its page), and the "new issue" page of a YAML issue form, `/{owner}/{repo}/issues/new?template=…`
  (`new_issue_url()`; GitHub: a file name under .github/ISSUE_TEMPLATE/, Gitea: the path from the root).
- attachments (`attach()`): GitHub `/user-attachments/assets/{uuid}` (other files
  `/user-attachments/files/{id}/{name}`), Gitea `/attachments/{uuid}` and `/{owner}/{repo}/attachments/{uuid}`;
  each served download is recorded in `downloads`.
Who may see them ("a logged-in member" of a private repository): a request with the cookie
`fake_session=<login>` for a login in `collaborators` (`web_cookie(login)` gives it in the shape
Playwright's `context.add_cookies` takes), or with the API token header; anyone else gets 404, as both
forges answer for a private repository; any other GET under /{owner}/{repo}/ is 404 too. Web requests
are not recorded in `requests`.
"""
from __future__ import annotations

import datetime as dt
import itertools
import json
import re
import subprocess
import threading
import uuid
from dataclasses import dataclass, field
from http.cookies import CookieError, SimpleCookie
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

import yaml

from pipeline.errors import HttpServer

TOKEN = "forge-token-for-tests"
BOT = "gzh-bot"             # who the token belongs to: what the fake records as the author of gzh's writes
APP_SLUG = "gzh-app"        # the GitHub App's slug; it acts as "gzh-app[bot]"
GITHUB_FILES_CAP = 3000     # "list pull request files" returns at most 3,000 files
GITEA_FILES_CAP = 100       # Gitea builds the file list from its diff, cut at [git] MAX_GIT_DIFF_FILES (default 100)
_GITEA_STATES = {"APPROVED": "APPROVED", "CHANGES_REQUESTED": "REQUEST_CHANGES", "COMMENTED": "COMMENT",
                 "PENDING": "PENDING"}
SESSION_COOKIE = "fake_session"  # the web session: its value is the login of the person signed in
_RAW_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
              ".webp": "image/webp", ".svg": "image/svg+xml"}
_RAW_POLICY = "default-src 'none'; style-src 'unsafe-inline'; sandbox"  # what both forges send with raw files
_COLLABORATORS = frozenset(yaml.safe_load((Path(__file__).resolve().parent.parent / "gzh.yml").read_text("utf-8"))["people"])


@dataclass
class FakePull:
    number: int
    author: str
    head_sha: str
    base_sha: str
    base_ref: str = "main"
    title: str = "新文章"
    files: list[dict[str, Any]] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    reviews: list[dict[str, Any]] = field(default_factory=list)
    comments: list[dict[str, Any]] = field(default_factory=list)
    requested: list[str] = field(default_factory=list)
    requested_teams: list[str] = field(default_factory=list)
    merge_base: str = ""  # where the branch forked: Gitea reports it; its base.sha is the base branch's tip
    label_events: list[dict[str, Any]] = field(default_factory=list)
    merged: bool = False
    merge_commit_sha: str = ""
    head_ref: str | None = None  # the head branch in git_dir (API-created pulls); None: reported as dept/{number}
    body: str = ""
    closed: bool = False  # closed without merging
    created_at: str = "2026-11-28T08:00:00Z"

    @property
    def state(self) -> str:
        return "closed" if self.merged or self.closed else "open"


class ForgeFake:
    """The forge's data plus a loopback HTTP server speaking one flavour (github or gitea)."""

    def __init__(self, flavour: str, repository: str = "yzzgh/gzh-content", version: str = "1.24.6",
                 git_dir: Path | None = None) -> None:
        self.flavour, self.repository = flavour, repository
        self.git_dir: Path | None = git_dir  # the repository's bare git directory, for raw files
        self.version = version  # Gitea's /version
        self.private = True  # the repository's visibility, as GET /repos/{owner}/{repo} reports it
        self.collaborators: set[str] = set(_COLLABORATORS)
        self.labels: dict[str, int] = {}  # the repository's labels: name -> id
        self.pulls: dict[int, FakePull] = {}
        self.statuses: dict[str, list[dict[str, Any]]] = {}
        self.issues: list[dict[str, Any]] = []
        self.requests: list[tuple[str, str]] = []
        self._ids = itertools.count(1000)
        self._clock = itertools.count(1)
        self.tokens: set[str] = {TOKEN}  # what the API accepts: the bot's token, and App installation tokens
        self.app: tuple[int, int, str] | None = None  # GitHub App: id, installation id, public key (PEM)
        self.status_tokens: list[str] = []  # who wrote each status, to show which identity the gate used
        self.tampered: list[tuple[str, bytes]] = []  # (path regex, raw body): a proxy answering in place of the API
        self.attachments: dict[str, dict[str, Any]] = {}  # uuid (GitHub files: id) -> name, data, content type
        self.downloads: list[str] = []  # the paths of attachments served
        self.attachment_token = True  # whether the API token alone may download an attachment (see attach())
        self.lock = threading.Lock()
        self.server = HttpServer(("127.0.0.1", 0), _handler(self))
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def prefix(self) -> str:
        return "/api/v1" if self.flavour == "gitea" else ""

    @property
    def api(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}{self.prefix}"

    @property
    def web(self) -> str:
        """The web root, where people browse (Gitea: the API's address without /api/v1)."""
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def environment(self) -> dict[str, str]:
        """The variables GitHub or Gitea Actions would give a job."""
        env = {"GITHUB_REPOSITORY": self.repository, "GZH_FORGE_TOKEN": TOKEN, "GZH_FORGE_API": self.api,
               "GZH_FORGE": self.flavour, "GITHUB_SERVER_URL": self.web}
        return env

    def web_cookie(self, login: str) -> dict[str, str]:
        """The session cookie of `login` signed in on the web, for Playwright's `context.add_cookies`."""
        return {"name": SESSION_COOKIE, "value": login, "url": self.web}

    def raw_url(self, path: str, *, branch: str | None = None, commit: str | None = None) -> str:
        """Where the forge's web serves a file of the repository at a branch or a commit."""
        if (branch is None) == (commit is None):
            raise ValueError("give a branch or a commit")
        ref = quote(branch or commit or "")
        if self.flavour == "gitea":
            ref = f"branch/{ref}" if branch is not None else f"commit/{ref}"
        return f"{self.web}/{self.repository}/raw/{ref}/{quote(path)}"

    def pull_url(self, number: int) -> str:
        """The pull request's conversation page."""
        return f"{self.web}/{self.repository}/{'pulls' if self.flavour == 'gitea' else 'pull'}/{number}"

    def issue_url(self, number: int) -> str:
        """An issue's page (both forges redirect it to the pull request's page for a pull request)."""
        return f"{self.web}/{self.repository}/issues/{number}"

    def new_issue_url(self, template: str) -> str:
        """The "new issue" page filled from the issue form `template` (a file name under
        .github/ISSUE_TEMPLATE/): GitHub takes the file name, Gitea the path from the repository's root."""
        if self.flavour == "gitea":
            template = f".github/ISSUE_TEMPLATE/{template}"
        return f"{self.web}/{self.repository}/issues/new?template={quote(template, safe='')}"

    def blob(self, kind: str, ref: str, path: str) -> bytes | None:
        """A file's bytes at a branch, tag or commit (`kind`) of `git_dir`; None when there is none."""
        commit = self._commit(kind, ref)
        if commit is None or not path or any(part in ("", ".", "..") for part in path.split("/")):
            return None
        spec = f"{commit}:{path}"
        if self._git("cat-file", "-t", spec).stdout.strip() != b"blob":
            return None
        found = self._git("cat-file", "blob", spec)
        return found.stdout if found.returncode == 0 else None

    def _commit(self, kind: str, ref: str) -> str | None:
        if self.git_dir is None:
            return None
        if kind == "commit":
            if not re.fullmatch(r"[0-9a-fA-F]{7,64}", ref):
                return None
            name = ref
        elif not ref or ".." in ref or "@{" in ref or re.search(r"[\s~^:?*\[\\]", ref):
            return None
        else:
            name = f"refs/{'heads' if kind == 'branch' else 'tags'}/{ref}"
        found = self._git("rev-parse", "--verify", "--quiet", "--end-of-options", f"{name}^{{commit}}")
        return (found.stdout.decode().strip() or None) if found.returncode == 0 else None

    def _git(self, *args: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(["git", "--git-dir", str(self.git_dir), *args], capture_output=True, check=False)

    def start(self) -> "ForgeFake":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # -- what people do on the forge ----------------------------------------------------------------

    def _now(self) -> str:
        return (dt.datetime(2026, 11, 28, 8, 0, tzinfo=dt.timezone.utc)
                + dt.timedelta(minutes=next(self._clock))).isoformat().replace("+00:00", "Z")

    def open_pull(self, number: int, author: str, head_sha: str, base_sha: str, files: list[str],
                  renamed: dict[str, str] | None = None, labels: list[str] | None = None) -> FakePull:
        entries = [{"filename": name, "status": "added"} for name in files]
        for new, old in (renamed or {}).items():
            entries.append({"filename": new, "status": "renamed", "previous_filename": old})
        pull = FakePull(number, author, head_sha, base_sha, files=entries, merge_base=base_sha)
        self.pulls[number] = pull
        for name in labels or []:
            self.label(number, author, name)
        return pull

    def _next_number(self) -> int:
        """Issues and pull requests share one sequence."""
        return max([*self.pulls, *(item["number"] for item in self.issues)], default=0) + 1

    def open_issue(self, author: str, title: str, body: str, labels: tuple[str, ...] | list[str] = ()) -> dict[str, Any]:
        """A person submits an issue (the form's text as `body`, the form's `labels:`); the stored
        issue, in `issues` beside those gzh opens. Attachments named in the body become its assets (Gitea)."""
        now = self._now()
        issue: dict[str, Any] = {
            "number": self._next_number(), "title": title, "body": body, "state": "open", "comments": [],
            "assignees": [], "user": {"login": author}, "labels": list(labels), "created_at": now, "updated_at": now,
            "closed_at": None, "edits": [],
        }
        issue["html_url"] = self.issue_url(issue["number"])
        for name in labels:
            self.labels.setdefault(name, next(self._ids))
        self.issues.append(issue)
        return issue

    def edit_issue(self, number: int, user: str, body: str | None = None, title: str | None = None,
                   state: str | None = None) -> dict[str, Any]:
        """Someone edits an issue (its author, or anyone with write access) or closes/reopens it; the
        forge keeps who did it (`edits`; GitHub's `closed_by`)."""
        issue = next(item for item in self.issues if item["number"] == number)
        changes = {key: value for key, value in (("body", body), ("title", title), ("state", state)) if value is not None}
        if state is not None and state not in ("open", "closed"):
            raise ValueError(f"state: open or closed, not {state}")
        now = self._now()
        if "state" in changes and changes["state"] != issue["state"]:
            issue["closed_at"] = now if state == "closed" else None
            issue["closed_by"] = {"login": user} if state == "closed" else None
        issue.update(changes, updated_at=now)
        issue.setdefault("edits", []).append({"user": user, "at": now, **changes})
        return issue

    # -- attachments: what the forge does with a file dragged into a textarea ------------------------------

    def attach(self, data: bytes, name: str) -> str:
        """A file dragged into a textarea: stored, and the address the forge puts into the text returned.

        GitHub: images `{web}/user-attachments/assets/{uuid}`, other files
        `{web}/user-attachments/files/{id}/{name}`; Gitea: `{web}/attachments/{uuid}` (the text gets the
        relative `/attachments/{uuid}`: see `attachment_markdown`). Served to a signed-in member and, while
        `attachment_token` is true, to a request with the API token, as raw files are; 404 to anyone else.

        Caveat (GitHub): for a private repository GitHub is reported to answer 404 to API tokens here
        (fine-grained and installation tokens; octokit/octokit.js#2786, josegonzalez/python-github-backup#477,
        whose fix renders the body through the Markdown API to get signed private-user-images URLs). Set
        `attachment_token = False` to model that. Gitea accepts a token for attachment downloads.
        """
        content_type = _sniff(data)
        if self.flavour == "gitea":
            key = str(uuid.uuid4())
            url = f"{self.web}/attachments/{key}"
        elif content_type.startswith("image/"):
            key = str(uuid.uuid4())
            url = f"{self.web}/user-attachments/assets/{key}"
        else:
            key = str(next(self._ids) + 17_000_000)
            url = f"{self.web}/user-attachments/files/{key}/{quote(name)}"
        self.attachments[key] = {"name": name, "data": data, "type": content_type, "url": url,
                                 "created_at": self._now()}
        return url

    def attachment_markdown(self, url: str, name: str) -> str:
        """What the forge inserts into the textarea for an upload: an image as `![name](…)`, another file as
        `[name](…)`; GitHub the full address, Gitea the path `/attachments/{uuid}`. (GitHub's editor may
        instead insert `<img width=… alt="Image" src="…" />` for a pasted screenshot.)"""
        stored = next((item for item in self.attachments.values() if item["url"] == url), None)
        image = stored["type"].startswith("image/") if stored else "/user-attachments/files/" not in url
        target = url.removeprefix(self.web) if self.flavour == "gitea" else url
        return f"{'!' if image else ''}[{name}]({target})"

    def _attachment(self, path: str) -> dict[str, Any] | None:
        if self.flavour == "gitea":
            found = re.fullmatch(rf"(?:/{re.escape(self.repository)})?/attachments/([0-9a-f-]{{36}})", path)
        else:
            found = (re.fullmatch(r"/user-attachments/assets/([0-9a-f-]{36})", path)
                     or re.fullmatch(r"/user-attachments/files/(\d+)/[^/]+", path))
        return self.attachments.get(found.group(1)) if found else None

    # -- branches in git_dir: what API-created pull requests follow ---------------------------------------

    def sync_heads(self) -> None:
        """Moves each open API-created pull request's head to its branch's tip in git_dir, as a forge does
        when the branch is pushed (a force-push too): head sha, files, merge base, base sha; Gitea marks
        earlier reviews stale. A deleted branch leaves the head where it was; closed and merged pull
        requests do not follow (both forges update only open ones; reopening catches up). The routes that
        read pull requests call this first."""
        if self.git_dir is None:
            return
        for pull in self.pulls.values():
            if pull.head_ref is None or pull.state != "open":
                continue
            sha = self._commit("branch", pull.head_ref)
            if sha is not None and sha != pull.head_sha:
                self._follow(pull, sha)

    def _follow(self, pull: FakePull, sha: str) -> None:
        base = self._commit("branch", pull.base_ref) or pull.base_sha
        fork = self._merge_base(base, sha) or pull.merge_base
        self.push(pull.number, sha)
        pull.base_sha, pull.merge_base, pull.files = base, fork, self._diff_files(fork, sha)

    def _merge_base(self, one: str, two: str) -> str:
        found = self._git("merge-base", one, two)
        return found.stdout.decode().strip() if found.returncode == 0 else ""

    def _diff_files(self, base: str, head: str) -> list[dict[str, Any]]:
        """`git diff --name-status -M base head` as the forge's file list (a rename is one file),
        with each forge's words for the status."""
        output = self._git("diff", "--name-status", "-z", "-M", "--no-ext-diff", "--no-color", base, head).stdout.decode()
        fields = output.split("\0") if output else []
        words = ({"A": "added", "M": "changed", "D": "deleted", "R": "renamed", "C": "copied", "T": "changed"}
                 if self.flavour == "gitea" else
                 {"A": "added", "M": "modified", "D": "removed", "R": "renamed", "C": "copied", "T": "changed"})
        files: list[dict[str, Any]] = []
        index = 0
        while index < len(fields) and fields[index]:
            status = fields[index]
            if status[0] in "RC":
                files.append({"filename": fields[index + 2], "status": words[status[0]], "previous_filename": fields[index + 1]})
                index += 3
            else:
                files.append({"filename": fields[index + 1], "status": words.get(status[0], "changed")})
                index += 2
        return files

    def label(self, number: int, user: str | None, name: str, added: bool = True) -> None:
        """Someone adds (or removes) a label; the forge keeps the history with who did it."""
        pull = self.pulls[number]
        if added == (name in pull.labels):
            return
        if added:
            pull.labels.append(name)
            self.labels.setdefault(name, next(self._ids))
        else:
            pull.labels.remove(name)
        pull.label_events.append({"user": user, "name": name, "added": added, "at": self._now()})

    def push(self, number: int, head_sha: str, files: list[str] | None = None) -> None:
        pull = self.pulls[number]
        pull.head_sha = head_sha
        if files is not None:
            pull.files = [{"filename": name, "status": "added"} for name in files]
        if self.flavour == "gitea":  # Gitea marks earlier reviews stale on a push
            for review in pull.reviews:
                review["stale"] = review["commit_id"] != head_sha

    def review(self, number: int, user: str, state: str, commit_id: str | None = None, body: str = "") -> dict[str, Any]:
        """state: APPROVED, CHANGES_REQUESTED, COMMENTED or PENDING (an unsubmitted draft); GitHub's words,
        stored in the flavour's."""
        pull = self.pulls[number]
        review = {"id": next(self._ids), "user": {"login": user, "id": hash(user) % 10**6}, "body": body,
                  "commit_id": commit_id or pull.head_sha, "submitted_at": self._now()}
        if self.flavour == "gitea":
            if state in ("APPROVED", "CHANGES_REQUESTED"):
                for earlier in pull.reviews:  # only the latest approve/reject is official
                    if earlier["user"]["login"] == user:
                        earlier["official"] = False
            review.update(state=_GITEA_STATES[state], stale=False, dismissed=False, official=state in ("APPROVED", "CHANGES_REQUESTED"),
                          team=None, comments_count=0, updated_at=review["submitted_at"])
        else:
            review.update(state=state, author_association="MEMBER", html_url="", pull_request_url="")
        pull.reviews.append(review)
        return review

    def dismiss(self, number: int, review_id: int) -> None:
        for review in self.pulls[number].reviews:
            if review["id"] == review_id:
                if self.flavour == "gitea":
                    review["dismissed"] = True
                else:
                    review["state"] = "DISMISSED"

    def comment(self, number: int, user: str | None, body: str) -> dict[str, Any]:
        """A comment by `user` (None: an account deleted since, which GitHub shows as a null user)."""
        now = self._now()
        comment = {"id": next(self._ids), "user": {"login": user} if user else None, "body": body,
                   "created_at": now, "updated_at": now}
        self.pulls[number].comments.append(comment)
        return comment

    def edit_comment(self, comment_id: int, body: str) -> None:
        """Anyone with write access may edit someone else's comment; the author shown stays the same."""
        for pull in self.pulls.values():
            for comment in pull.comments:
                if comment["id"] == comment_id:
                    comment.update(body=body, updated_at=self._now())

    def delete_comment(self, comment_id: int) -> None:
        for pull in self.pulls.values():
            pull.comments = [comment for comment in pull.comments if comment["id"] != comment_id]

    def merge(self, number: int, merge_commit_sha: str) -> None:
        pull = self.pulls[number]
        pull.merged, pull.merge_commit_sha = True, merge_commit_sha
        if self.flavour == "gitea":  # Gitea's base.sha follows the base branch, past the merge itself
            pull.base_sha = merge_commit_sha

    def status(self, sha: str) -> dict[str, Any] | None:
        """The latest status with gzh's context on a commit."""
        matching = [item for item in self.statuses.get(sha, []) if item["context"] == "gzh/approval"]
        return matching[-1] if matching else None

    def sticky(self, number: int) -> list[str]:
        return [comment["body"] for comment in self.pulls[number].comments if "<!-- gzh-gate -->" in comment["body"]]

    # -- webhooks, as the forge delivers them ------------------------------------------------------------

    def deliver(self, url: str, secret: str, event: str, payload: dict[str, Any], delivery: str | None = None,
                signature: str | None = None) -> tuple[int, dict[str, Any]]:
        """POST a webhook the way this forge signs and names it; returns the receiver's status and JSON."""
        import urllib.error
        import urllib.request

        from pipeline.webhooks import sign

        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        digest = sign(secret, body) if signature is None else signature
        delivery = delivery or f"delivery-{next(self._ids)}"
        if self.flavour == "gitea":
            gitea_event = "pull_request" if event.startswith("pull_request") else event
            headers = {"X-Gitea-Delivery": delivery, "X-Gitea-Event": gitea_event, "X-Gitea-Event-Type": event,
                       "X-Gitea-Signature": digest, "X-GitHub-Event": gitea_event}
        else:
            headers = {"X-GitHub-Delivery": delivery, "X-GitHub-Event": event, "X-Hub-Signature-256": f"sha256={digest}"}
        request = urllib.request.Request(url, data=body, method="POST",
                                         headers={"Content-Type": "application/json", **headers})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"{}")

    def event_payload(self, number: int, action: str, **extra: Any) -> dict[str, Any]:
        """A pull request event's payload (opened, synchronize, labeled; a review with `review=`)."""
        pull = self.pulls[number]
        return {"action": action, "number": number, "pull_request": self.pull_json(pull),
                "repository": {"full_name": self.repository, "default_branch": "main"},
                "sender": {"login": pull.author}, **extra}

    def comment_payload(self, number: int, comment: dict[str, Any]) -> dict[str, Any]:
        marker = {"url": f"{self.api}/pulls/{number}"} if self.flavour == "github" else {"merged": False}
        return {"action": "created", "issue": {"number": number, "pull_request": marker},
                "comment": comment, "repository": {"full_name": self.repository}, "sender": comment["user"]}

    # -- JSON shapes ----------------------------------------------------------------------------------

    def pull_json(self, pull: FakePull, simple: bool = False) -> dict[str, Any]:
        """A pull request; `simple` is GitHub's "pull-request-simple" (lists): no `merged`, no counts."""
        data: dict[str, Any] = {
            "number": pull.number, "title": pull.title, "state": pull.state,
            "user": {"login": pull.author}, "labels": [{"name": name, "id": self.labels.get(name)} for name in pull.labels],
            "head": {"sha": pull.head_sha, "ref": pull.head_ref or f"dept/{pull.number}"},
            "base": {"sha": pull.base_sha, "ref": pull.base_ref},
            "merge_commit_sha": pull.merge_commit_sha or None,
            "html_url": self.pull_url(pull.number),
        }
        if pull.head_ref is not None:  # API-created: the real head branch, its label and the description
            owner = self.repository.split("/")[0]
            data["head"]["label"] = f"{owner}:{pull.head_ref}" if self.flavour == "github" else pull.head_ref
            data["body"] = (pull.body or None) if self.flavour == "github" else pull.body
            data["created_at"] = pull.created_at
        if self.flavour == "github":
            data["merged_at"] = "2026-11-28T10:00:00Z" if pull.merged else None
            data["requested_teams"] = [{"slug": team} for team in pull.requested_teams]
        else:
            data["merge_base"] = pull.merge_base
        if not simple:
            data.update(merged=pull.merged, changed_files=len(pull.files))
        return data

    def issue_json(self, number: int) -> dict[str, Any]:
        """GET /issues/{n}: an issue (those gzh opens and those people submit) or, as both forges answer
        there, a pull request; GitHub marks a pull request with `pull_request` and omits it for an issue,
        Gitea always has the key (null for an issue)."""
        pull = self.pulls.get(number)
        if pull is not None:
            data: dict[str, Any] = {
                "number": number, "title": pull.title, "body": pull.body or (None if self.flavour == "github" else ""),
                "state": pull.state, "user": {"login": pull.author},
                "labels": [self._label_json(name) for name in pull.labels], "html_url": self.pull_url(number),
                "comments": len(pull.comments), "created_at": pull.created_at, "assignees": [],
            }
            merged_at = "2026-11-28T10:00:00Z" if pull.merged else None
            if self.flavour == "github":
                data["pull_request"] = {"url": f"{self.api}/repos/{self.repository}/pulls/{number}",
                                        "html_url": self.pull_url(number), "merged_at": merged_at}
            else:
                data["pull_request"] = {"merged": pull.merged, "merged_at": merged_at, "draft": False,
                                        "html_url": self.pull_url(number)}
            return data
        issue = next((item for item in self.issues if item["number"] == number), None)
        if issue is None:
            raise LookupError
        data = {
            "number": number, "title": issue["title"], "body": issue.get("body") or "",
            "state": issue["state"], "user": issue.get("user") or {"login": BOT},
            "labels": [self._label_json(name) for name in issue.get("labels", [])],
            "html_url": self.issue_url(number), "comments": len(issue.get("comments", [])),
            "assignees": issue.get("assignees", []), "created_at": issue.get("created_at", "2026-11-28T08:00:00Z"),
            "updated_at": issue.get("updated_at", issue.get("created_at", "2026-11-28T08:00:00Z")),
            "closed_at": issue.get("closed_at"),
        }
        if self.flavour == "github":
            data["closed_by"] = issue.get("closed_by") if issue["state"] == "closed" else None
            data["state_reason"] = "completed" if issue["state"] == "closed" else None
        else:
            data["pull_request"] = None
            data["assets"] = [{"name": item["name"], "uuid": key, "size": len(item["data"]),
                               "browser_download_url": item["url"], "created_at": item["created_at"]}
                              for key, item in self.attachments.items() if key in data["body"]]
        return data

    def _label_json(self, name: str) -> dict[str, Any]:
        return {"id": self.labels.setdefault(name, next(self._ids)), "name": name, "color": "d73a4a"}

    def _version(self) -> tuple[int, ...]:
        return tuple(int(part) for part in self.version.split(".")[:3])


def _handler(fake: ForgeFake) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            return

        def do_GET(self) -> None:  # noqa: N802
            self._route("GET")

        def do_POST(self) -> None:  # noqa: N802
            self._route("POST")

        def do_PATCH(self) -> None:  # noqa: N802
            self._route("PATCH")

        def do_DELETE(self) -> None:  # noqa: N802
            self._route("DELETE")

        def _route(self, method: str) -> None:
            url = urlsplit(self.path)
            if method == "GET" and self._web(url.path, url.query):
                return
            query = {key: values[-1] for key, values in parse_qs(url.query).items()}
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            data = json.loads(body) if body else {}
            with fake.lock:
                fake.requests.append((method, url.path))
                if method == "POST" and fake.app and re.fullmatch(r"/app/installations/\d+/access_tokens", url.path):
                    return self._app_token(url.path)
                if method == "GET" and fake.app and url.path == "/app":
                    return self._app_token(url.path)
                scheme = "token" if fake.flavour == "gitea" else "Bearer"
                given = self.headers.get("Authorization", "")
                if not (given.startswith(f"{scheme} ") and given.split(" ", 1)[1] in fake.tokens):
                    return self._json(401, {"message": "Bad credentials"})
                self._token = given.split(" ", 1)[1]
                fake.sync_heads()  # a pushed branch has moved its pull request before anyone reads it
                path = url.path.removeprefix(fake.prefix)
                for pattern, raw in fake.tampered:
                    if method == "GET" and re.search(pattern, path):
                        return self._raw(200, raw)
                if method == "GET" and path == "/user":  # installation tokens are no user: GitHub says 403
                    if self._token != TOKEN:
                        return self._json(403, {"message": "Resource not accessible by integration"})
                    return self._json(200, {"login": BOT})
                if fake.flavour == "gitea" and method == "GET" and path == "/version":
                    return self._json(200, {"version": fake.version})
                prefix = f"/repos/{fake.repository}"
                if not path.startswith(prefix):
                    return self._json(404, {"message": "Not Found"})
                self._dispatch(method, path.removeprefix(prefix), query, data)

        def _dispatch(self, method: str, path: str, query: dict[str, str], data: dict[str, Any]) -> None:
            routes = [
                ("GET", r"", lambda m: (200, {"full_name": fake.repository, "default_branch": "main",
                                              "private": fake.private})),
                ("GET", r"/pulls/(\d+)", lambda m: (200, fake.pull_json(self._pull(m)))),
                ("GET", r"/pulls", lambda m: self._page([fake.pull_json(pull) for pull in self._listed_pulls(query)], query)),
                ("POST", r"/pulls", lambda m: self._create_pull(data)),
                ("PATCH", r"/pulls/(\d+)", lambda m: self._edit_pull(self._pull(m), data)),
                ("GET", r"/issues/(\d+)", lambda m: (200, fake.issue_json(int(m.group(1))))),
                ("GET", r"/pulls/(\d+)/files", lambda m: self._files(self._pull(m), query)),
                ("GET", r"/pulls/(\d+)/reviews", lambda m: self._reviews(self._pull(m), query)),
                ("GET", r"/issues/(\d+)/comments", lambda m: self._comments(self._thread(int(m.group(1))), query)),
                ("GET", r"/issues/(\d+)/events", lambda m: self._page(self._events(self._pull(m)), query)),
                ("GET", r"/issues/(\d+)/timeline", lambda m: self._page(self._timeline(self._pull(m)), query)),
                ("POST", r"/issues/(\d+)/labels", lambda m: self._add_labels(self._pull(m), data)),
                ("DELETE", r"/issues/(\d+)/labels/([^/]+)", lambda m: self._remove_label(self._pull(m), m.group(2))),
                ("GET", r"/labels", lambda m: self._page([{"id": ident, "name": name} for name, ident in fake.labels.items()], query)),
                ("POST", r"/labels", lambda m: self._create_label(data)),
                ("POST", r"/issues/(\d+)/comments", lambda m: self._comment_on(int(m.group(1)), data)),
                ("PATCH", r"/issues/(\d+)", lambda m: self._edit_issue(int(m.group(1)), data)),
                ("PATCH", r"/issues/comments/(\d+)", lambda m: self._edit_comment(int(m.group(1)), data)),
                ("POST", r"/statuses/(\w+)", lambda m: self._add_status(m.group(1), data)),
                ("GET", r"/commits/(\w+)/statuses", lambda m: self._page(self._statuses(m.group(1)), query)),
                ("POST", r"/pulls/(\d+)/requested_reviewers", lambda m: self._request(self._pull(m), data)),
                ("POST", r"/issues", lambda m: self._add_issue(data)),
                ("GET", r"/issues", lambda m: self._page(self._issues(query), query)),
                ("GET", r"/commits/(\w+)/pulls", lambda m: self._github_pulls_for(m.group(1))),
                ("GET", r"/commits/(\w+)/pull", lambda m: self._pull_for_commit(m.group(1))),
            ]
            for verb, pattern, action in routes:
                match = re.fullmatch(pattern, path)
                if verb == method and match:
                    try:
                        status, payload = action(match)
                    except LookupError:
                        status, payload = 404, {"message": "Not Found"}
                    return self._json(status, payload, getattr(self, "_headers", {}))
            self._json(404, {"message": "Not Found"})

        # -- the web: raw files and the conversation page, for signed-in members -----------------------

        def _web(self, path: str, query: str = "") -> bool:
            """Answers a GET of the web's space (True: 404 beyond its routes), or leaves the request to the
            API (False), whose paths start /repos/, /user, /app or /api/v1/. The web's space: everything
            under /{owner}/{repo}/, and the attachments (GitHub /user-attachments/, Gitea /attachments/)."""
            attachment = fake._attachment(path)
            if attachment is not None or path.startswith("/user-attachments/" if fake.flavour == "github" else "/attachments/"):
                self._attachment_file(path, attachment)
                return True
            prefix = f"/{fake.repository}/"
            if not path.startswith(prefix):
                return False
            rest = unquote(path.removeprefix(prefix))
            if fake.flavour == "gitea":
                page = re.fullmatch(r"pulls/(\d+)", rest)
                raw = re.fullmatch(r"raw/(branch|commit)/(.+)", rest)
            else:
                page = re.fullmatch(r"pull/(\d+)", rest)
                raw = re.fullmatch(r"raw/()(.+)", rest)
            issue = re.fullmatch(r"issues/(\d+)", rest)
            new = rest == "issues/new"
            if not (page or raw or issue or new) or not self._member():  # the web's space: no other page here
                self._page_reply(404, "text/html; charset=utf-8", b"<h1>404 Not Found</h1>")
            elif page:
                self._conversation(int(page.group(1)))
            elif issue:
                self._issue_page(int(issue.group(1)))
            elif new:
                self._new_issue_page(parse_qs(query).get("template", [""])[-1])
            else:
                assert raw is not None
                self._raw_file(raw.group(1), raw.group(2))
            return True

        def _attachment_file(self, path: str, attachment: dict[str, Any] | None) -> None:
            """An upload, to a member (or the token, while `attachment_token`), with the type of its bytes;
            404 to anyone else, as for anything of a private repository."""
            if attachment is None or not self._member(token=fake.attachment_token):
                return self._page_reply(404, "text/html; charset=utf-8", b"<h1>404 Not Found</h1>")
            with fake.lock:
                fake.downloads.append(path)
            headers = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": _RAW_POLICY}
            if not attachment["type"].startswith("image/"):
                headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(attachment['name'])}"
            self._page_reply(200, attachment["type"], attachment["data"], headers)

        def _issue_page(self, number: int) -> None:
            """An issue's page; both forges redirect a pull request's number to its own page."""
            from tests.forge_pages import issue_page

            if number in fake.pulls:
                self.send_response(302)
                self.send_header("Location", fake.pull_url(number))
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            with fake.lock:
                issue = next((item for item in fake.issues if item["number"] == number), None)
                html = issue_page(fake, issue) if issue is not None else None
            if html is None:
                return self._page_reply(404, "text/html; charset=utf-8", b"<h1>404 Not Found</h1>")
            self._page_reply(200, "text/html; charset=utf-8", html.encode("utf-8"))

        def _new_issue_page(self, template: str) -> None:
            from tests.forge_pages import new_issue_page

            with fake.lock:
                html = new_issue_page(fake, template)
            self._page_reply(200, "text/html; charset=utf-8", html.encode("utf-8"))

        def _member(self, token: bool = True) -> bool:
            """A collaborator's session cookie, or (if `token`) the API token."""
            try:
                cookies = SimpleCookie(self.headers.get("Cookie", ""))
            except CookieError:
                cookies = SimpleCookie()
            session = cookies.get(SESSION_COOKIE)
            if session is not None and session.value in fake.collaborators:
                return True
            if not token:
                return False
            scheme = "token" if fake.flavour == "gitea" else "Bearer"
            given = self.headers.get("Authorization", "")
            return given.startswith(f"{scheme} ") and given.split(" ", 1)[1] in fake.tokens

        def _raw_file(self, kind: str, rest: str) -> None:
            """The file after the shortest prefix of `rest` that names a ref of the asked kind (GitHub:
            a branch, then a tag, then a commit)."""
            parts = rest.split("/")
            kinds = [kind] if kind else ["branch", "tag", "commit"]
            for cut in range(1, len(parts)):
                ref, path = "/".join(parts[:cut]), "/".join(parts[cut:])
                for each in kinds:
                    if fake._commit(each, ref) is None:
                        continue
                    content = fake.blob(each, ref, path)
                    if content is None:
                        return self._page_reply(404, "text/plain; charset=utf-8", b"404: Not Found")
                    return self._page_reply(200, _raw_type(path, content), content,
                                            {"Content-Security-Policy": _RAW_POLICY, "X-Content-Type-Options": "nosniff"})
            self._page_reply(404, "text/plain; charset=utf-8", b"404: Not Found")

        def _conversation(self, number: int) -> None:
            from tests.forge_pages import pull_page

            with fake.lock:
                fake.sync_heads()
                pull = fake.pulls.get(number)
                html = pull_page(fake, pull) if pull is not None else None
            if html is None:
                return self._page_reply(404, "text/html; charset=utf-8", b"<h1>404 Not Found</h1>")
            self._page_reply(200, "text/html; charset=utf-8", html.encode("utf-8"))

        def _page_reply(self, status: int, content_type: str, body: bytes, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)

        # -- the API's helpers ----------------------------------------------------------------------------

        def _pull(self, match: re.Match[str]) -> FakePull:
            pull = fake.pulls.get(int(match.group(1)))
            if pull is None:
                raise LookupError
            return pull

        def _files(self, pull: FakePull, query: dict[str, str]) -> tuple[int, list[Any]]:
            listed = pull.files[:GITHUB_FILES_CAP if fake.flavour == "github" else GITEA_FILES_CAP]
            return self._page(listed, query)

        def _reviews(self, pull: FakePull, query: dict[str, str]) -> tuple[int, list[Any]]:
            def hidden(row: dict[str, Any]) -> bool:  # other users' drafts; the caller is the bot
                return row["state"] == "PENDING" and (row.get("user") or {}).get("login") != BOT

            if fake.flavour == "github":
                return self._page([row for row in pull.reviews if not hidden(row)], query)
            rows = list(pull.reviews)  # Gitea: requests are rows; drafts are dropped after the page is cut
            rows += [{"id": next(fake._ids), "user": {"login": user}, "team": None, "state": "REQUEST_REVIEW",
                      "commit_id": "", "stale": False, "dismissed": False, "official": True,
                      "submitted_at": fake._now(), "body": ""} for user in pull.requested]
            rows += [{"id": next(fake._ids), "user": None, "team": {"name": team}, "state": "REQUEST_REVIEW",
                      "commit_id": "", "stale": False, "dismissed": False, "official": True,
                      "submitted_at": fake._now(), "body": ""} for team in pull.requested_teams]
            status, page = self._page(rows, query)
            return status, [row for row in page if not hidden(row)]

        def _thread(self, number: int) -> list[dict[str, Any]]:
            """The comments of a pull request or of an issue."""
            if number in fake.pulls:
                return fake.pulls[number].comments
            return self._issue(number)["comments"]

        def _comments(self, comments: list[dict[str, Any]], query: dict[str, str]) -> tuple[int, list[Any]]:
            if fake.flavour == "gitea":  # no page or limit here: always the whole list
                self._headers = {"X-Total-Count": str(len(comments))}
                return 200, list(comments)
            return self._page(comments, query)

        def _events(self, pull: FakePull) -> list[dict[str, Any]]:
            """GitHub's issue events, with other kinds mixed in as the real list has them."""
            events: list[dict[str, Any]] = [{"id": 1, "event": "review_requested", "actor": {"login": pull.author},
                                             "created_at": "2026-11-28T08:00:00Z"}]
            for item in pull.label_events:
                events.append({"id": next(fake._ids), "event": "labeled" if item["added"] else "unlabeled",
                               "actor": {"login": item["user"]} if item["user"] else None,
                               "label": {"name": item["name"], "color": "d73a4a"}, "created_at": item["at"]})
            return events

        def _timeline(self, pull: FakePull) -> list[dict[str, Any]]:
            """Gitea's timeline: comments and label changes (body "1" added, "" removed), oldest first."""
            rows = [{"id": comment["id"], "type": "comment", "user": comment["user"], "body": comment["body"],
                     "created_at": comment["created_at"]} for comment in pull.comments]
            rows += [{"id": next(fake._ids), "type": "label", "user": {"login": item["user"]} if item["user"] else None,
                      "body": "1" if item["added"] else "", "label": {"name": item["name"], "id": fake.labels[item["name"]]},
                      "created_at": item["at"]} for item in pull.label_events]
            return sorted(rows, key=lambda row: row["created_at"])

        def _add_labels(self, pull: FakePull, data: dict[str, Any]) -> tuple[int, list[Any]]:
            names = data.get("labels", [])
            if fake.flavour == "gitea":  # ids, as the documented API takes them
                by_id = {ident: name for name, ident in fake.labels.items()}
                if not all(isinstance(ident, int) and ident in by_id for ident in names):
                    return 422, {"message": "labels must be existing label ids"}
                names = [by_id[ident] for ident in names]
            for name in names:
                fake.label(pull.number, self._actor(), name)
            return 200, [{"name": name, "id": fake.labels[name]} for name in pull.labels]

        def _actor(self) -> str:
            return BOT if self._token == TOKEN else f"{APP_SLUG}[bot]"

        def _remove_label(self, pull: FakePull, name: str) -> tuple[int, list[Any]]:
            from urllib.parse import unquote

            name = unquote(name)
            if fake.flavour == "gitea":
                by_id = {str(ident): label for label, ident in fake.labels.items()}
                name = by_id.get(name, "")
            if name not in pull.labels:
                raise LookupError
            fake.label(pull.number, self._actor(), name, added=False)
            return 200, [{"name": label} for label in pull.labels]

        def _create_label(self, data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
            ident = fake.labels.setdefault(data["name"], next(fake._ids))
            return 201, {"id": ident, "name": data["name"], "color": data.get("color", "")}

        def _issues(self, query: dict[str, str]) -> list[dict[str, Any]]:
            """Issues and (on GitHub, marked with `pull_request`) pull requests, newest first."""
            wanted = query.get("state", "open")
            rows = [dict(issue) for issue in fake.issues if wanted in ("all", issue["state"])]
            if fake.flavour == "github":
                rows += [{"number": pull.number, "title": pull.title, "state": pull.state,
                          "pull_request": {"url": f"{fake.api}/pulls/{pull.number}"}}
                         for pull in fake.pulls.values() if not pull.merged and wanted in ("all", pull.state)]
            return sorted(rows, key=lambda row: -row["number"])

        def _statuses(self, sha: str) -> list[dict[str, Any]]:
            rows = list(reversed(fake.statuses.get(sha, [])))
            if fake.flavour == "gitea":  # Gitea's CommitStatus says `status`, not `state`
                rows = [{"status": row["state"], **{k: v for k, v in row.items() if k != "state"}} for row in rows]
            return rows

        def _listed_pulls(self, query: dict[str, str]) -> list[FakePull]:
            wanted = query.get("state", "open")
            pulls = sorted(fake.pulls.values(), key=lambda pull: -pull.number)
            pulls = [pull for pull in pulls if wanted == "all" or pull.state == wanted]
            if fake.flavour == "github":  # GitHub filters by `head` (owner:branch) and `base`; Gitea has neither here
                owner = fake.repository.split("/")[0]
                if "head" in query:
                    pulls = [pull for pull in pulls if f"{owner}:{pull.head_ref or f'dept/{pull.number}'}" == query["head"]]
                if "base" in query:
                    pulls = [pull for pull in pulls if pull.base_ref == query["base"]]
            return pulls

        def _page(self, items: list[Any], query: dict[str, str]) -> tuple[int, list[Any]]:
            page = int(query.get("page", 1))
            size = int(query.get("limit" if fake.flavour == "gitea" else "per_page", 30))
            size = min(size, 50 if fake.flavour == "gitea" else 100)
            chunk = items[(page - 1) * size: page * size]
            headers = {"X-Total-Count": str(len(items))} if fake.flavour == "gitea" else {}
            if page * size < len(items):
                key = "limit" if fake.flavour == "gitea" else "per_page"
                host, port = fake.server.server_address[:2]
                headers["Link"] = f'<http://{host}:{port}{self.path.split("?")[0]}?{key}={size}&page={page + 1}>; rel="next"'
            self._headers = headers
            return 200, chunk

        def _add_comment(self, pull: FakePull, data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
            return 201, fake.comment(pull.number, self._actor(), data["body"])

        def _issue(self, number: int) -> dict[str, Any]:
            issue = next((item for item in fake.issues if item["number"] == number), None)
            if issue is None:
                raise LookupError
            return issue

        def _comment_on(self, number: int, data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
            if number in fake.pulls:
                return self._add_comment(fake.pulls[number], data)
            now = fake._now()
            comment = {"id": next(fake._ids), "user": {"login": self._actor()}, "body": data["body"],
                       "created_at": now, "updated_at": now}
            self._issue(number)["comments"].append(comment)
            return 201, comment

        def _edit_issue(self, number: int, data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
            issue = self._issue(number)
            fields = ("body", "state", "title", "due_date") if fake.flavour == "gitea" else ("body", "state", "title")
            changes = {key: value for key, value in data.items() if key in fields}
            if "edits" in issue:  # a submitted issue: record who edited, as edit_issue does
                fake.edit_issue(number, self._actor(), **changes)
                return 200, fake.issue_json(number)
            issue.update(changes)
            return 200, issue

        def _edit_comment(self, comment_id: int, data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
            threads = [pull.comments for pull in fake.pulls.values()] + [issue["comments"] for issue in fake.issues]
            for thread in threads:
                for comment in thread:
                    if comment["id"] == comment_id:
                        comment.update(body=data["body"], updated_at=fake._now())
                        return 200, comment
            raise LookupError

        def _app_token(self, path: str) -> None:
            """GitHub App: a JWT signed with the App's key, naming the App, buys an installation token."""
            import jwt as pyjwt

            assert fake.app is not None
            app_id, installation, public_key = fake.app
            given = self.headers.get("Authorization", "").removeprefix("Bearer ")
            try:
                claims = pyjwt.decode(given, public_key, algorithms=["RS256"])
            except pyjwt.PyJWTError:
                return self._json(401, {"message": "A JSON web token could not be decoded"})
            if path == "/app" and claims.get("iss") == str(app_id):
                return self._json(200, {"id": app_id, "slug": APP_SLUG})
            if claims.get("iss") != str(app_id) or path != f"/app/installations/{installation}/access_tokens":
                return self._json(404, {"message": "Not Found"})
            token = f"ghs_{next(fake._ids)}"
            fake.tokens.add(token)
            self._json(201, {"token": token, "expires_at": "2026-11-28T09:00:00Z"})

        def _add_status(self, sha: str, data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
            allowed = ("pending", "success", "error", "failure") + (("warning",) if fake.flavour == "gitea" else ())
            if data.get("state") not in allowed:
                return 422, {"message": "Validation Failed"}
            fake.status_tokens.append(self._token)
            fake.statuses.setdefault(sha, []).append(dict(data))
            return 201, dict(data)

        def _request(self, pull: FakePull, data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
            if pull.author in data.get("reviewers", []):
                return 422, {"message": "Review cannot be requested from pull request author."}
            pull.requested = list(dict.fromkeys(pull.requested + data.get("reviewers", [])))
            return 201, fake.pull_json(pull)

        # -- pull requests opened and closed through the API ----------------------------------------------

        def _refusal(self, status: int, message: str, errors: list[Any] | None = None) -> tuple[int, dict[str, Any]]:
            """An error answer in the flavour's shape. GitHub: {"message", "errors", "documentation_url",
            "status"}; Gitea's APIError: {"message", "url"} (the swagger address), 404s with "errors"."""
            if fake.flavour == "github":
                payload: dict[str, Any] = {"message": message, "documentation_url":
                                           "https://docs.github.com/rest/pulls/pulls", "status": str(status)}
                if errors is not None:
                    payload["errors"] = errors
                return status, payload
            payload = {"message": message, "url": f"{fake.web}/api/swagger"}
            if errors is not None:
                payload["errors"] = errors
            return status, payload

        def _open_from(self, ref: str, base: str) -> FakePull | None:
            return next((pull for pull in fake.pulls.values()
                         if pull.state == "open" and pull.head_ref == ref and pull.base_ref == base), None)

        def _create_pull(self, data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
            """POST /pulls {title, body, head, base}; head is a branch or `owner:branch` (no forks here).

            GitHub (REST 2022-11-28, answers as reported by its users): 422 "Validation Failed" with errors
            [{"resource": "PullRequest", "field": "head"|"base", "code": "invalid"}] for a branch that does not
            exist (or another owner's), {"code": "missing_field", "field": "title"} without a title, and
            {"code": "custom", "message": "A pull request already exists for owner:branch."} or
            "No commits between base and branch" otherwise.
            Gitea (routers/api/v1/repo/pull.go CreatePullRequest, parseCompareInfo): 422 "Invalid
            PullRequest: There are no changes between the head and the base" when head == base; 404
            "The target couldn't be found." when either branch (or the head's owner) does not exist; 409
            ErrPullRequestAlreadyExists ("pull request already exists for these targets [id: …, issue_id: N,
            head_repo_id: …, base_repo_id: …, head_branch: …, base_branch: …]") when an open, unmerged pull
            request has the same head and base (GetUnmergedPullRequest); a missing title fails the form's
            `binding:"Required"` with 422. Gitea does not refuse a head with no new commits here.
            """
            title, body = str(data.get("title") or ""), str(data.get("body") or "")
            head, base = str(data.get("head") or ""), str(data.get("base") or "")
            owner = fake.repository.split("/")[0]
            ref = head
            if ":" in head:
                who, ref = head.split(":", 1)
                who = who.split("/")[0]  # Gitea also takes owner/repo:branch
            else:
                who = owner
            if fake.flavour == "github":
                def invalid(error: dict[str, Any]) -> tuple[int, dict[str, Any]]:
                    return self._refusal(422, "Validation Failed", [{"resource": "PullRequest", **error}])

                if not title:
                    return invalid({"code": "missing_field", "field": "title"})
                base_sha = fake._commit("branch", base)
                if base_sha is None:
                    return invalid({"field": "base", "code": "invalid"})
                head_sha = fake._commit("branch", ref) if who == owner else None
                if head_sha is None:
                    return invalid({"field": "head", "code": "invalid"})
                if self._open_from(ref, base) is not None:
                    return invalid({"code": "custom", "message": f"A pull request already exists for {owner}:{ref}."})
                fork = fake._merge_base(base_sha, head_sha)
                if fork == head_sha:
                    return invalid({"code": "custom", "message": f"No commits between {base} and {ref}"})
            else:
                if head == base:
                    return self._refusal(422, "Invalid PullRequest: There are no changes between the head and the base")
                if not title:
                    return self._refusal(422, "[Title]: Required")
                base_sha = fake._commit("branch", base)
                head_sha = fake._commit("branch", ref) if who == owner else None
                if base_sha is None or head_sha is None:
                    return self._refusal(404, "The target couldn't be found.", [])
                existing = self._open_from(ref, base)
                if existing is not None:
                    return self._refusal(409, f"pull request already exists for these targets [id: {existing.number + 500}, "
                                              f"issue_id: {existing.number}, head_repo_id: 1, base_repo_id: 1, "
                                              f"head_branch: {ref}, base_branch: {base}]")
                fork = fake._merge_base(base_sha, head_sha)
            pull = FakePull(fake._next_number(), self._actor(), head_sha, base_sha, base_ref=base, title=title,
                            files=fake._diff_files(fork, head_sha), merge_base=fork, head_ref=ref, body=body,
                            created_at=fake._now())
            fake.pulls[pull.number] = pull
            return 201, fake.pull_json(pull)

        def _edit_pull(self, pull: FakePull, data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
            """PATCH /pulls/{n} {state, title, body}. GitHub answers 200; Gitea 201 (its "TODO this should be
            200"), having changed title and body before refusing a state change of a merged pull request
            (412 "cannot change state of this pull request, it was already merged") or an unknown state
            (412 "unknown state: …", closeOrReopenIssue). GitHub refuses an unknown state with 422, and
            reopening while another open pull request has the same head and base with 422 "A pull request
            already exists for owner:branch." (as creating does; assumed, not found documented). Reopening
            moves the head to the branch's tip."""
            state = data.get("state")
            owner = fake.repository.split("/")[0]
            if fake.flavour == "github":
                if state not in (None, "open", "closed"):
                    return self._refusal(422, "Validation Failed", [{"resource": "PullRequest", "field": "state", "code": "invalid"}])
                if state is not None and pull.merged and state != pull.state:
                    return self._refusal(422, "Validation Failed", [{"resource": "PullRequest", "code": "custom",
                                                                     "message": "state cannot be changed. The pull request has already been merged."}])
                if state == "open" and pull.closed and pull.head_ref is not None and self._open_from(pull.head_ref, pull.base_ref):
                    return self._refusal(422, "Validation Failed", [{"resource": "PullRequest", "code": "custom",
                                                                     "message": f"A pull request already exists for {owner}:{pull.head_ref}."}])
            if data.get("title"):
                pull.title = str(data["title"])
            if data.get("body") is not None:
                pull.body = str(data["body"])
            if fake.flavour == "gitea" and state is not None:
                if pull.merged:
                    return self._refusal(412, "cannot change state of this pull request, it was already merged")
                if state not in ("open", "closed"):
                    return self._refusal(412, f"unknown state: {state}")
            if state is not None and not pull.merged:
                pull.closed = state == "closed"
                if state == "open":
                    fake.sync_heads()
            return (200 if fake.flavour == "github" else 201), fake.pull_json(pull)

        def _add_issue(self, data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
            refused = [user for user in data.get("assignees", []) if user not in fake.collaborators]
            if refused:  # both forges refuse the whole issue rather than drop one assignee
                return 422, {"message": "Validation Failed", "errors": [{"field": "assignees", "code": "invalid"}]}
            issue = {"number": fake._next_number(), "title": data["title"], "body": data.get("body", ""),
                     "state": "open", "comments": [], "assignees": [{"login": user} for user in data.get("assignees", [])]}
            if fake.flavour == "gitea":
                issue["due_date"] = data.get("due_date")
            fake.issues.append(issue)
            return 201, issue

        def _github_pulls_for(self, sha: str) -> tuple[int, list[Any]]:
            return 200, [fake.pull_json(pull, simple=True) for pull in fake.pulls.values()
                         if sha in (pull.merge_commit_sha, pull.head_sha)]

        def _pull_for_commit(self, sha: str) -> tuple[int, Any]:
            if fake._version() < (1, 22, 0):
                raise LookupError  # the route does not exist yet
            fixed = fake._version() >= (1, 22, 3)  # before go-gitea PR 32117 only head commits matched
            for pull in fake.pulls.values():
                if sha == pull.head_sha or (fixed and sha == pull.merge_commit_sha):
                    return 200, fake.pull_json(pull)
            raise LookupError

        def _json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
            self._raw(status, json.dumps(payload, ensure_ascii=False).encode("utf-8"), headers)

        def _raw(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)
            self._headers = {}

    return Handler


def _sniff(data: bytes) -> str:
    """An upload's type from its first bytes, as the forges serve attachments."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    return "application/octet-stream"


def _raw_type(path: str, content: bytes) -> str:
    """The Content-Type raw files are served with: images as themselves, text as plain text."""
    suffix = Path(path).suffix.lower()
    if suffix in _RAW_TYPES:
        return _RAW_TYPES[suffix]
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        return "application/octet-stream"
    return "text/plain; charset=utf-8"
