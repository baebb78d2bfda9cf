"""The forge fakes as a clerk's issue form meets them: issues submitted from a form, images dragged into
them, pull requests opened and closed through the API from a pushed branch (whose head follows the
branch), and the pages the guide photographs (tests/forge_fake.py, tests/forge_pages.py)."""
from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import git
import pytest
import requests
from PIL import Image

from pipeline import browser, gitrefs
from tests.forge_fake import BOT, TOKEN, ForgeFake
from tests.forge_pages import issue_form, screenshot_page
from tests.support import init_git

needs_chromium = pytest.mark.skipif(
    browser.chromium_path() is None and not os.environ.get("CI"),
    reason="Chromium is not installed (CI installs it; locally: apt-get install chromium)",
)

MEMBER, OUTSIDER, CLERK = "li-na", "mallory", "wang-jun"
BRANCH = "gzh-submission/issue-{number}"
FORM = """\
name: 提交稿件
description: 部门通讯员提交一篇稿件，由 gzh 转成合并请求
title: "【稿件】"
labels: ["稿件"]
body:
  - type: markdown
    attributes:
      value: "请先阅读 **投稿须知**，再填写。"
  - type: dropdown
    id: department
    attributes:
      label: 部门
      description: 稿件所属部门
      options: [办公室, 组织部]
    validations:
      required: true
  - type: input
    id: title
    attributes:
      label: 标题
      placeholder: 例：市总工会召开十届五次全委会议
    validations:
      required: true
  - type: textarea
    id: body
    attributes:
      label: 正文
      description: 图片用鼠标拖进这个框
      placeholder: 在这里写正文……
    validations:
      required: true
  - type: textarea
    id: digest
    attributes:
      label: 摘要
  - type: checkboxes
    id: confirm
    attributes:
      label: 确认
      options:
        - label: 内容不涉密
          required: true
        - label: 已经 *部门负责人* 看过
"""


def _png(colour: tuple[int, int, int] = (200, 40, 40), kind: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (120, 80), colour).save(buffer, kind)
    return buffer.getvalue()


def _auth(fake: ForgeFake) -> dict[str, str]:
    return {"Authorization": f"{'token' if fake.flavour == 'gitea' else 'Bearer'} {TOKEN}"}


def _api(fake: ForgeFake, method: str, path: str, **kwargs: Any) -> requests.Response:
    return requests.request(method, f"{fake.api}/repos/{fake.repository}{path}", headers=_auth(fake), timeout=10, **kwargs)


def _get(url: str, login: str | None = None, **headers: str) -> requests.Response:
    cookies = {"fake_session": login} if login else {}
    return requests.get(url, cookies=cookies, headers=headers, timeout=10, allow_redirects=False)


@pytest.fixture
def content(fake: ForgeFake, tmp_path: Path) -> git.Repo:
    """A working copy whose main carries the issue form, pushed to a bare repository the fake serves."""
    work = tmp_path / "work"
    (work / ".github/ISSUE_TEMPLATE").mkdir(parents=True)
    (work / ".github/ISSUE_TEMPLATE/submit-post.yml").write_text(FORM, "utf-8")
    (work / ".github/ISSUE_TEMPLATE/broken.yml").write_text("name: [unclosed\n", "utf-8")
    (work / "content/office/old/index.md").parent.mkdir(parents=True)
    (work / "content/office/old/index.md").write_text("旧文章\n", "utf-8")
    repo = init_git(work)
    bare = tmp_path / "content.git"
    git.Repo.init(bare, bare=True, initial_branch="main")
    repo.create_remote("origin", str(bare)).push("main:main")
    fake.git_dir = bare
    return repo


def _submit(repo: git.Repo, number: int, text: str = "正文。\n", *, force: bool = False) -> str:
    """gzh's push of a submission branch: a commit on main adding the post (force: replacing the last one)."""
    branch = BRANCH.format(number=number)
    repo.git.checkout(branch) if force else repo.git.checkout("-B", branch, "main")
    folder = Path(repo.working_tree_dir or "") / f"content/office/2026-11-28-issue-{number}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "index.md").write_text(text, "utf-8")
    (folder / "1.png").write_bytes(_png())
    repo.git.add(A=True)
    if force:
        repo.git.commit("--amend", "-m", f"稿件 #{number}（修改）")
    else:
        repo.index.commit(f"稿件 #{number}")
    repo.remote("origin").push(f"+{branch}:{branch}")
    sha = repo.head.commit.hexsha
    repo.git.checkout("main")
    return sha


# -- issues as forms produce them ---------------------------------------------------------------------------


def test_an_issue_from_a_form_reads_back_in_full(fake: ForgeFake) -> None:
    fake.open_pull(1, CLERK, "h1", "b1", [])
    issue = fake.open_issue(CLERK, "【稿件】全委会", "### 部门\n\n办公室\n", labels=("稿件",))
    assert issue["number"] == 2  # one sequence with pull requests
    answer = _api(fake, "GET", "/issues/2")
    assert answer.status_code == 200
    data = answer.json()
    assert (data["number"], data["title"], data["body"], data["state"]) == (2, "【稿件】全委会", "### 部门\n\n办公室\n", "open")
    assert data["user"]["login"] == CLERK and [label["name"] for label in data["labels"]] == ["稿件"]
    assert data["html_url"] == f"{fake.web}/{fake.repository}/issues/2" and data["created_at"].endswith("Z")
    if fake.flavour == "github":
        assert "pull_request" not in data
        assert "pull_request" in _api(fake, "GET", "/issues/1").json()
    else:
        assert data["pull_request"] is None and _api(fake, "GET", "/issues/1").json()["pull_request"]["merged"] is False
    assert _api(fake, "GET", "/issues/99").status_code == 404

    fake.edit_issue(2, MEMBER, body="### 部门\n\n组织部\n", title="【稿件】全委会（改）")
    fake.edit_issue(2, CLERK, state="closed")
    data = _api(fake, "GET", "/issues/2").json()
    assert (data["body"], data["title"], data["state"]) == ("### 部门\n\n组织部\n", "【稿件】全委会（改）", "closed")
    assert data["closed_at"] and [edit["user"] for edit in fake.issues[-1]["edits"]] == [MEMBER, CLERK]
    if fake.flavour == "github":
        assert data["closed_by"] == {"login": CLERK}
    listed = _api(fake, "GET", "/issues", params={"state": "closed"}).json()
    assert [row["number"] for row in listed] == [2]


def test_gzh_comments_on_a_submitted_issue_and_its_own_issues_still_work(fake: ForgeFake) -> None:
    fake.open_issue(CLERK, "【稿件】", "正文")
    posted = _api(fake, "POST", "/issues/1/comments", json={"body": "已收到，合并请求 #2"})
    assert posted.status_code == 201 and posted.json()["user"]["login"] == BOT
    _api(fake, "PATCH", f"/issues/comments/{posted.json()['id']}", json={"body": "已更新"})
    comments = _api(fake, "GET", "/issues/1/comments").json()
    assert [comment["body"] for comment in comments] == ["已更新"]
    assert _api(fake, "GET", "/issues/1").json()["comments"] == 1

    created = _api(fake, "POST", "/issues", json={"title": "告警", "body": "正文"})
    assert created.status_code == 201 and created.json()["number"] == 2 and fake.issues[-1]["comments"] == []
    assert _api(fake, "GET", "/issues/2").json()["user"]["login"] == BOT


# -- attachments ------------------------------------------------------------------------------------------------


def test_an_attachment_is_served_to_members_and_the_token_only(fake: ForgeFake) -> None:
    files = {"page.png": (_png(), "image/png"), "photo.jpg": (_png(kind="JPEG"), "image/jpeg"),
             "anim.gif": (_png(kind="GIF"), "image/gif")}
    for name, (data, content_type) in files.items():
        url = fake.attach(data, name)
        if fake.flavour == "github":
            assert url.startswith(f"{fake.web}/user-attachments/assets/")
            assert fake.attachment_markdown(url, name) == f"![{name}]({url})"
        else:
            assert url.startswith(f"{fake.web}/attachments/")
            assert fake.attachment_markdown(url, name) == f"![{name}]({url.removeprefix(fake.web)})"
        for answer in (_get(url, MEMBER), _get(url, **_auth(fake))):
            assert (answer.status_code, answer.headers["Content-Type"], answer.content) == (200, content_type, data)
        assert _get(url).status_code == 404 and _get(url, OUTSIDER).status_code == 404
        assert _get(url, Authorization="Bearer wrong").status_code == 404
    assert len(fake.downloads) == 6 and all(path.startswith("/") and "://" not in path for path in fake.downloads)
    missing = f"{fake.web}/{'user-attachments/assets' if fake.flavour == 'github' else 'attachments'}/{'0' * 8}-0000-0000-0000-{'0' * 12}"
    assert _get(missing, MEMBER).status_code == 404

    document = fake.attach(b"%PDF-1.4", "通知.pdf")
    assert fake.attachment_markdown(document, "通知.pdf").startswith("[通知.pdf](")
    assert _get(document, MEMBER).headers["Content-Type"] == "application/octet-stream"

    fake.attachment_token = False  # GitHub, private repository, installation token: reported 404
    url = fake.attach(_png(), "x.png")
    assert _get(url, **_auth(fake)).status_code == 404 and _get(url, MEMBER).status_code == 200


def test_gitea_lists_an_issues_attachments_as_assets(fake: ForgeFake) -> None:
    url = fake.attach(_png(), "1.png")
    fake.open_issue(CLERK, "【稿件】", f"### 正文\n\n{fake.attachment_markdown(url, '1.png')}\n")
    data = _api(fake, "GET", "/issues/1").json()
    if fake.flavour == "gitea":
        assert [(asset["name"], asset["browser_download_url"]) for asset in data["assets"]] == [("1.png", url)]
    else:
        assert "assets" not in data


# -- pull requests through the API ---------------------------------------------------------------------------


def test_a_pull_request_is_opened_from_a_pushed_branch(fake: ForgeFake, content: git.Repo) -> None:
    fake.open_issue(CLERK, "【稿件】", "正文")
    head = _submit(content, 1)
    answer = _api(fake, "POST", "/pulls", json={"title": "【稿件】全委会", "body": "来自 #1", "head": BRANCH.format(number=1),
                                                 "base": "main"})
    assert answer.status_code == 201, answer.text
    data = answer.json()
    assert data["number"] == 2 and data["user"]["login"] == BOT and data["state"] == "open" and data["body"] == "来自 #1"
    assert data["head"] == {"sha": head, "ref": "gzh-submission/issue-1",
                            "label": ("yzzgh:" if fake.flavour == "github" else "") + "gzh-submission/issue-1"}
    assert data["base"]["ref"] == "main" and data["base"]["sha"] == content.heads.main.commit.hexsha
    repo = git.Repo(fake.git_dir)
    changes = gitrefs.changed_paths(repo, repo.commit("main"), repo.commit(head))
    assert data["changed_files"] == changes.count == 2  # what the gate compares
    files = _api(fake, "GET", "/pulls/2/files").json()
    assert sorted(item["filename"] for item in files) == sorted(changes.paths)
    assert {item["status"] for item in files} == {"added"}

    listed = _api(fake, "GET", "/pulls", params={"state": "open"}).json()
    assert [(row["number"], row["head"]["ref"]) for row in listed] == [(2, "gzh-submission/issue-1")]
    if fake.flavour == "github":  # GitHub's filter by owner:branch
        assert len(_api(fake, "GET", "/pulls", params={"head": "yzzgh:gzh-submission/issue-1"}).json()) == 1
        assert _api(fake, "GET", "/pulls", params={"head": "yzzgh:other"}).json() == []
    owner_form = _api(fake, "POST", "/pulls", json={"title": "t", "head": "yzzgh:gzh-submission/issue-1", "base": "main"})
    assert owner_form.status_code == (422 if fake.flavour == "github" else 409)  # the same pull request again


def test_a_missing_branch_or_a_second_pull_request_is_refused(fake: ForgeFake, content: git.Repo) -> None:
    missing = _api(fake, "POST", "/pulls", json={"title": "t", "head": "gzh-submission/issue-9", "base": "main"})
    other_owner = _api(fake, "POST", "/pulls", json={"title": "t", "head": "someone:main", "base": "main"})
    if fake.flavour == "github":
        for answer in (missing, other_owner):
            assert answer.status_code == 422 and answer.json()["message"] == "Validation Failed"
            assert answer.json()["errors"] == [{"resource": "PullRequest", "field": "head", "code": "invalid"}]
    else:
        assert missing.status_code == other_owner.status_code == 404
        assert missing.json()["message"] == "The target couldn't be found."
    _submit(content, 1)
    first = _api(fake, "POST", "/pulls", json={"title": "t", "head": BRANCH.format(number=1), "base": "main"})
    second = _api(fake, "POST", "/pulls", json={"title": "t", "head": BRANCH.format(number=1), "base": "main"})
    assert first.status_code == 201
    if fake.flavour == "github":
        assert second.status_code == 422 and second.json()["errors"][0]["message"] == \
            "A pull request already exists for yzzgh:gzh-submission/issue-1."
    else:
        assert second.status_code == 409
        assert second.json()["message"].startswith("pull request already exists for these targets [id: ")
        assert "issue_id: 1, " in second.json()["message"]
    same = _api(fake, "POST", "/pulls", json={"title": "t", "head": "main", "base": "main"})
    assert same.status_code == 422
    assert len(fake.pulls) == 1


def test_a_pull_request_is_closed_and_reopened(fake: ForgeFake, content: git.Repo) -> None:
    _submit(content, 1)
    number = _api(fake, "POST", "/pulls", json={"title": "t", "head": BRANCH.format(number=1), "base": "main"}).json()["number"]
    closed = _api(fake, "PATCH", f"/pulls/{number}", json={"state": "closed", "title": "【已撤回】t"})
    assert closed.status_code == (200 if fake.flavour == "github" else 201)  # Gitea answers 201
    assert (closed.json()["state"], closed.json()["merged"], closed.json()["title"]) == ("closed", False, "【已撤回】t")
    assert _api(fake, "GET", "/pulls", params={"state": "open"}).json() == []
    assert [row["number"] for row in _api(fake, "GET", "/pulls", params={"state": "closed"}).json()] == [number]
    assert [row["number"] for row in _api(fake, "GET", "/pulls", params={"state": "all"}).json()] == [number]
    reopened = _api(fake, "PATCH", f"/pulls/{number}", json={"state": "open"})
    assert reopened.json()["state"] == "open"
    assert _api(fake, "PATCH", f"/pulls/{number}", json={"state": "merged"}).status_code == \
        (422 if fake.flavour == "github" else 412)
    fake.merge(number, "m" * 40)
    assert _api(fake, "PATCH", f"/pulls/{number}", json={"state": "open"}).status_code == \
        (422 if fake.flavour == "github" else 412)
    assert _api(fake, "PATCH", "/pulls/99", json={"state": "closed"}).status_code == 404


def test_the_head_follows_a_force_push_while_open(fake: ForgeFake, content: git.Repo) -> None:
    first = _submit(content, 1)
    number = _api(fake, "POST", "/pulls", json={"title": "t", "head": BRANCH.format(number=1), "base": "main"}).json()["number"]
    fake.review(number, MEMBER, "APPROVED")
    second = _submit(content, 1, "改过的正文。\n", force=True)
    assert second != first
    data = _api(fake, "GET", f"/pulls/{number}").json()
    assert data["head"]["sha"] == second and data["changed_files"] == 2
    assert [row["head"]["sha"] for row in _api(fake, "GET", "/pulls").json()] == [second]
    if fake.flavour == "gitea":  # an approval of the old head is stale
        assert _api(fake, "GET", f"/pulls/{number}/reviews").json()[0]["stale"] is True

    _api(fake, "PATCH", f"/pulls/{number}", json={"state": "closed"})
    third = _submit(content, 1, "再改。\n", force=True)
    assert _api(fake, "GET", f"/pulls/{number}").json()["head"]["sha"] == second  # a closed one stays
    assert _api(fake, "PATCH", f"/pulls/{number}", json={"state": "open"}).json()["head"]["sha"] == third
    fake.sync_heads()  # what the routes call, also callable directly
    assert fake.pulls[number].head_sha == third


# -- pages ------------------------------------------------------------------------------------------------------


def test_the_form_page_shows_every_field(fake: ForgeFake, content: git.Repo) -> None:
    url = fake.new_issue_url("submit-post.yml")
    assert url.endswith("template=submit-post.yml" if fake.flavour == "github"
                        else "template=.github%2FISSUE_TEMPLATE%2Fsubmit-post.yml")
    answer = _get(url, MEMBER)
    assert (answer.status_code, answer.headers["Content-Type"]) == (200, "text/html; charset=utf-8")
    page = answer.text
    assert "<h1 class=\"title\">提交稿件</h1>" in page and "部门通讯员提交一篇稿件" in page
    assert 'value="【稿件】"' in page and '<span class="label">稿件</span>' in page
    assert "<strong>投稿须知</strong>" in page  # the markdown block
    assert page.count('aria-label="Required">*</span>') == 5  # title, 部门, 标题, 正文, one checkbox
    assert '<select class="form-control" id="issue_form_department"' in page
    assert "<option>办公室</option>" in page and "<option>组织部</option>" in page
    assert 'placeholder="例：市总工会召开十届五次全委会议"' in page and 'placeholder="在这里写正文……"' in page
    assert page.count('type="checkbox"') == 2 and "<em>部门负责人</em>" in page
    assert ("Paste, drop, or click to add files" if fake.flavour == "github" else "Drop files or click here to upload.") in page
    assert "data-template-error" not in page
    for template in ("broken.yml", "none.yml"):  # both forges fall back to the blank issue
        blank = _get(fake.new_issue_url(template), MEMBER).text
        assert "data-template-error=" in blank and "提交稿件" not in blank and 'id="issue_body"' in blank
    assert _get(url).status_code == 404 and _get(url, OUTSIDER).status_code == 404
    with pytest.raises(ValueError, match="label"):
        issue_form("name: x\ndescription: y\nbody:\n  - type: input\n    attributes: {}\n")


def test_the_issue_page_shows_the_body_and_comments(fake: ForgeFake, content: git.Repo) -> None:
    url = fake.attach(_png(), "1.png")
    fake.open_issue(CLERK, "【稿件】全委会", f"### 正文\n\n会议召开。\n\n{fake.attachment_markdown(url, '1.png')}\n",
                    labels=("稿件",))
    _api(fake, "POST", "/issues/1/comments", json={"body": "已转为合并请求 **#2**"})
    answer = _get(fake.issue_url(1), MEMBER)
    assert answer.status_code == 200
    page = answer.text
    assert "【稿件】全委会" in page and CLERK in page and "<h3>正文</h3>" in page
    src = url if fake.flavour == "github" else url.removeprefix(fake.web)
    assert f'<img src="{src}" alt="1.png">' in page
    assert "<strong>#2</strong>" in page and BOT in page and '<span class="label">稿件</span>' in page
    assert ("opened" if fake.flavour == "github" else "commented") in page
    assert _get(fake.issue_url(1)).status_code == 404 and _get(fake.issue_url(9), MEMBER).status_code == 404
    fake.open_pull(5, CLERK, "h", "b", [])
    moved = _get(fake.issue_url(5), MEMBER)
    assert (moved.status_code, moved.headers["Location"]) == (302, fake.pull_url(5))


@needs_chromium
def test_screenshots_of_the_form_and_the_issue(fake: ForgeFake, content: git.Repo, tmp_path: Path) -> None:
    report = screenshot_page(fake, fake.new_issue_url("submit-post.yml"), tmp_path / "form.png", login=CLERK)
    assert report.console_errors == () and report.overflow_px == 0
    with Image.open(tmp_path / "form.png") as shot:
        assert shot.width == 750 and shot.height > 1624
    url = fake.attach(_png(), "1.png")
    fake.open_issue(CLERK, "【稿件】", f"### 正文\n\n{fake.attachment_markdown(url, '1.png')}\n")
    report = screenshot_page(fake, f"/{fake.repository}/issues/1", tmp_path / "issue.png", login=CLERK)
    assert report.broken_images == () and report.console_errors == () and report.overflow_px == 0
    assert any("attachments/" in path for path in fake.downloads)  # the browser loaded it with the cookie
