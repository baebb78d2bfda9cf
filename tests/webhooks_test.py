"""Reading forge webhooks: signatures as each forge documents them, and the job each delivery asks for."""
from __future__ import annotations

import json

import pytest

from pipeline.webhooks import GATE, INBOX, PUBLISH, SUBMIT, Job, job_for, read, sign, verified

BODY = json.dumps({"action": "opened", "pull_request": {"number": 7}}).encode("utf-8")


@pytest.mark.parametrize(("flavour", "headers"), [
    ("github", {"X-Hub-Signature-256": "sha256=" + sign("s3cret", BODY)}),
    ("gitea", {"X-Gitea-Signature": sign("s3cret", BODY)}),
    ("gitea", {"x-hub-signature-256": "sha256=" + sign("s3cret", BODY)}),  # newer Gitea sends GitHub's header too
])
def test_a_correct_signature_is_accepted(flavour: str, headers: dict[str, str]) -> None:
    assert verified(flavour, "s3cret", headers, BODY)


@pytest.mark.parametrize("headers", [
    {}, {"X-Hub-Signature-256": ""}, {"X-Hub-Signature-256": "sha256=" + sign("other", BODY)},
    {"X-Hub-Signature-256": sign("s3cret", BODY)},  # GitHub's header without its sha256= prefix
    {"X-Hub-Signature": "sha1=" + sign("s3cret", BODY)},  # the old SHA-1 header is not enough
])
def test_anything_else_is_refused(headers: dict[str, str]) -> None:
    assert not verified("github", "s3cret", headers, BODY)


def test_a_changed_body_breaks_the_signature() -> None:
    headers = {"X-Hub-Signature-256": "sha256=" + sign("s3cret", BODY)}
    assert not verified("github", "s3cret", headers, BODY.replace(b"7", b"8"))


def test_no_secret_configured_verifies_nothing() -> None:
    assert not verified("github", "", {"X-Hub-Signature-256": "sha256=" + sign("", BODY)}, BODY)


@pytest.mark.parametrize(("event", "payload", "job"), [
    ("pull_request", {"pull_request": {"number": 7}}, Job(GATE, 7)),
    ("pull_request_review", {"review": {}, "pull_request": {"number": 7}}, Job(GATE, 7)),
    ("issue_comment", {"issue": {"number": 7, "pull_request": {"url": "x"}}, "comment": {"body": "/保密复审"}}, Job(GATE, 7)),
    ("issue_comment", {"issue": {"number": 7, "pull_request": None}, "comment": {"body": "/保密复审"}}, None),
    ("issue_comment", {"issue": {"number": 7, "pull_request": {"url": "x"}},
                       "comment": {"body": "<!-- gzh-gate -->\n审批进度"}}, None),  # the gate's own comment: no loop
    # a department's answer on its inbox issue runs the inbox; the job reads and checks the comment itself
    ("issue_comment", {"action": "created", "issue": {"number": 9, "pull_request": None},
                       "comment": {"body": "／答复 12 您好"}}, Job(INBOX)),
    ("issue_comment", {"action": "created", "issue": {"number": 9}, "comment": {"body": "/删除 3 广告"}}, Job(INBOX)),
    ("issue_comment", {"action": "edited", "issue": {"number": 9}, "comment": {"body": "/答复 12 您好"}}, None),
    ("issue_comment", {"action": "created", "issue": {"number": 9}, "comment": {"body": "谢谢，/答复 12 不是命令"}}, None),
    ("issue_comment", {"action": "created", "issue": {"number": 9},
                       "comment": {"body": "<!-- gzh-inbox -->\n@li-na ✅ 已答复 #12"}}, None),  # its own reply: no loop
    ("push", {"ref": "refs/heads/main"}, Job(PUBLISH)),
    ("push", {"ref": "refs/heads/dept/news"}, None),
    ("push", {"ref": "refs/tags/v1"}, None),
    ("ping", {"zen": "Keep it logically awesome."}, None),
    ("pull_request", {"pull_request": {"number": "7"}}, None),
    ("pull_request", {"pull_request": {"number": True}}, None),
])
def test_the_job_comes_from_the_payload(event: str, payload: dict, job: Job | None) -> None:
    assert job_for(event, payload, "main") == job


def test_gitea_names_the_event_in_its_own_header() -> None:
    delivery = read("gitea", {"X-Gitea-Event": "pull_request", "X-Gitea-Delivery": "d-1"}, BODY, "main")
    assert (delivery.id, delivery.event, delivery.job) == ("d-1", "pull_request", Job(GATE, 7))


@pytest.mark.parametrize("body", [b"[]", b"null", b"{", "\u00ff".encode("latin-1")])
def test_a_body_that_is_not_a_json_object_is_an_error(body: bytes) -> None:
    with pytest.raises(ValueError):
        read("github", {"X-GitHub-Event": "push"}, body, "main")


def test_a_new_comment_is_read_as_written_and_an_edit_is_not() -> None:
    comment = {"user": {"login": "li-na"}, "body": "/保密复审", "created_at": "2026-11-28T08:00:00Z"}
    base = {"issue": {"number": 7, "pull_request": {"url": "x"}}, "comment": comment}
    created = read("github", {"X-GitHub-Event": "issue_comment"}, json.dumps({**base, "action": "created"}).encode(), "main")
    edited = read("github", {"X-GitHub-Event": "issue_comment"}, json.dumps({**base, "action": "edited"}).encode(), "main")
    assert created.said is not None and (created.said.user, created.said.body) == ("li-na", "/保密复审")
    assert edited.said is None and edited.job == created.job == Job(GATE, 7)


def _issue_event(action: str, labels: list[str], sender: str = "zhang-wei", **issue: object) -> dict:
    return {"action": action, "sender": {"login": sender},
            "issue": {"number": 7, "labels": [{"name": name} for name in labels], "user": {"login": "zhang-wei"}, **issue}}


@pytest.mark.parametrize(("payload", "job"), [
    (_issue_event("opened", ["稿件"]), Job(SUBMIT, 7)),
    (_issue_event("edited", ["稿件"], sender="li-na"), Job(SUBMIT, 7, "li-na")),  # who edited: refused unless the author
    (_issue_event("closed", ["稿件"]), Job(SUBMIT, 7)),
    (_issue_event("reopened", ["稿件"]), Job(SUBMIT, 7)),
    (_issue_event("labeled", ["稿件"]), None),                 # "opened" already carries the form's label
    (_issue_event("opened", ["bug"]), None),                   # not a submission
    (_issue_event("opened", ["稿件"], pull_request={"url": "x"}), None),
])
def test_an_issue_submitted_with_the_form_is_a_submission_job(payload: dict, job: Job | None) -> None:
    assert job_for("issues", payload, "main") == job


def test_a_submission_job_survives_the_queue_and_its_twins_are_told_apart_by_editor() -> None:
    edited = Job(SUBMIT, 7, "li-na")
    assert Job.from_json(json.loads(json.dumps(edited.to_json()))) == edited
    assert edited.key != Job(SUBMIT, 7).key and Job.from_json({"kind": "gate", "pr": 1}) == Job(GATE, 1)
