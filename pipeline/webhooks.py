"""Forge webhooks, as the trusted service receives them: signature, delivery id, and the job they ask for.

Pure functions over the raw request (headers and body bytes), so the service, the forge fakes and
the tests share one reading of GitHub's and Gitea's documented formats:

- GitHub signs the body with HMAC-SHA256 under the webhook secret: `X-Hub-Signature-256: sha256=<hex>`;
  the delivery is `X-GitHub-Delivery`, the event `X-GitHub-Event`.
- Gitea signs the same way in `X-Gitea-Signature: <hex>` (newer versions also send GitHub's header);
  the delivery is `X-Gitea-Delivery`, the event `X-Gitea-Event` (with `X-Gitea-Event-Type` for the
  review kind).

Which job a delivery asks for is decided from the payload's shape, not from event names that differ
between forges and versions: anything about a pull request (opened, pushed, labelled, reviewed,
review edited or dismissed, commented) re-runs the gate for it; a push to the default branch
publishes; a new comment on an issue opening with an inbox command (`/答复 12 …`) runs the inbox, which
reads the comment from the forge itself and checks who wrote it. The pull request number always comes
from the payload, so fork pull requests work.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from typing import Any, Mapping

from pipeline import inbox_syntax
from pipeline.referrals import GATE_MARKER, Said
from pipeline.submission import LABEL

GATE, PUBLISH, PATROL, INBOX, SUBMIT = "gate", "publish", "patrol", "inbox", "submit"
_HEX_DIGEST = re.compile(r"[0-9a-fA-F]{64}")
JOB_KINDS = (GATE, PUBLISH, PATROL, INBOX, SUBMIT)
SUBMISSION_ACTIONS = ("opened", "edited", "closed", "reopened")


@dataclass(frozen=True)
class Job:
    kind: str               # one of JOB_KINDS
    pr: int | None = None   # for GATE; for SUBMIT the issue's number
    editor: str = ""        # for SUBMIT after an edit: who edited (only the issue's author may change it)

    @property
    def key(self) -> str:
        """Jobs with the same key are the same work: a queued one absorbs a later twin."""
        if self.pr is None:
            return self.kind
        return f"{self.kind}:{self.pr}" + (f":{self.editor}" if self.editor else "")

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "pr": self.pr, "editor": self.editor}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Job":
        kind, pr, editor = str(data["kind"]), data.get("pr"), data.get("editor", "")
        if kind not in JOB_KINDS or (pr is not None and not isinstance(pr, int)) or not isinstance(editor, str):
            raise ValueError(f"not a job: {data!r}")
        return cls(kind, pr, editor)


@dataclass(frozen=True)
class Delivery:
    id: str
    event: str
    job: Job | None         # None: nothing to do (a ping, another branch, an event gzh ignores)
    repository: str = ""    # the payload's repository.full_name: the service serves one repository
    said: Said | None = None  # a new comment on a pull request, as the forge signed it


def _header(headers: Mapping[str, str], name: str) -> str:
    lowered = {key.lower(): value for key, value in headers.items()}
    return lowered.get(name.lower(), "")


def sign(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verified(flavour: str, secret: str, headers: Mapping[str, str], body: bytes) -> bool:
    """Whether the body was signed with `secret`; compared in constant time. No secret: never."""
    if not secret:
        return False
    expected = sign(secret, body)
    github = _header(headers, "X-Hub-Signature-256")
    given = github.removeprefix("sha256=") if github.startswith("sha256=") else ""
    if flavour == "gitea":
        given = _header(headers, "X-Gitea-Signature") or given
    return _HEX_DIGEST.fullmatch(given) is not None and hmac.compare_digest(given.lower(), expected)


def delivery_id(flavour: str, headers: Mapping[str, str]) -> str:
    return _header(headers, "X-Gitea-Delivery" if flavour == "gitea" else "X-GitHub-Delivery")


def read(flavour: str, headers: Mapping[str, str], body: bytes, default_branch: str) -> Delivery:
    """The delivery's id, event and job. Raises ValueError for a body that is not a JSON object."""
    payload = json.loads(body.decode("utf-8"))
    if not isinstance(payload, dict):
        raise ValueError("the payload is not a JSON object")
    event = _header(headers, "X-Gitea-Event" if flavour == "gitea" else "X-GitHub-Event") or _header(headers, "X-GitHub-Event")
    repository = payload.get("repository")
    full_name = str(repository.get("full_name") or "") if isinstance(repository, dict) else ""
    return Delivery(delivery_id(flavour, headers), event, job_for(event, payload, default_branch), full_name,
                    _new_comment(payload))


def _new_comment(payload: Mapping[str, Any]) -> Said | None:
    """A comment as written (action "created"); an edit is the forge's copy changing, never a new record."""
    comment = payload.get("comment")
    if payload.get("action") != "created" or not isinstance(comment, dict):
        return None
    user = comment.get("user") if isinstance(comment.get("user"), dict) else {}
    return Said(str(user.get("login") or ""), str(comment.get("body") or ""), str(comment.get("created_at") or ""))


def job_for(event: str, payload: Mapping[str, Any], default_branch: str) -> Job | None:
    if event == "push":
        return Job(PUBLISH) if payload.get("ref") == f"refs/heads/{default_branch}" else None
    pull = payload.get("pull_request")
    if isinstance(pull, dict) and _number(pull.get("number")):
        return Job(GATE, _number(pull.get("number")))
    issue = payload.get("issue")
    comment = payload.get("comment")
    if event == "issues" and isinstance(issue, dict):
        return _submission_job(payload, issue)
    if isinstance(comment, dict) and GATE_MARKER in str(comment.get("body") or ""):
        return None  # the gate's own comment: re-running on it would loop
    if isinstance(issue, dict) and issue.get("pull_request") and isinstance(comment, dict):
        number = _number(issue.get("number"))
        return Job(GATE, number) if number else None  # a comment on a pull request: /保密复审 and the like
    if isinstance(issue, dict) and isinstance(comment, dict) and payload.get("action") == "created" \
            and inbox_syntax.parse(str(comment.get("body") or "")) is not None:
        return Job(INBOX)  # a department's answer on its inbox issue: sent within a minute, not at the next round
    return None


def _submission_job(payload: Mapping[str, Any], issue: Mapping[str, Any]) -> Job | None:
    """An issue submitted with the form 提交稿件 (its label), opened, edited, closed or reopened."""
    labels = [label.get("name") for label in issue.get("labels") or [] if isinstance(label, dict)]
    number = _number(issue.get("number"))
    if LABEL not in labels or number is None or payload.get("action") not in SUBMISSION_ACTIONS or issue.get("pull_request"):
        return None
    sender = payload.get("sender") if isinstance(payload.get("sender"), dict) else {}
    return Job(SUBMIT, number, str(sender.get("login") or "") if payload.get("action") == "edited" else "")


def _number(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None
