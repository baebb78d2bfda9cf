"""The forge fakes' web side: raw files for signed-in members, a pull request's conversation rendered
as the forge renders comments, and a phone-width screenshot of it (tests/forge_pages.py)."""
from __future__ import annotations

import io
import os
from pathlib import Path

import git
import pytest
import requests
from PIL import Image, ImageDraw

from pipeline import browser
from tests.forge_fake import TOKEN, ForgeFake
from tests.forge_pages import comment_html, screenshot_pull
from tests.support import init_git

needs_chromium = pytest.mark.skipif(
    browser.chromium_path() is None and not os.environ.get("CI"),
    reason="Chromium is not installed (CI installs it; locally: apt-get install chromium)",
)

NUMBER = 7
BRANCH = f"gzh-preview-pr-{NUMBER}"
PAGE, COVER = "previews/pr-7/正文-1.png", "previews/pr-7/封面.png"
MEMBER, OUTSIDER = "li-na", "mallory"


def _png(size: tuple[int, int], colour: tuple[int, int, int]) -> bytes:
    image = Image.new("RGB", size, (255, 255, 255))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, size[0] - 1, size[1] // 6), fill=colour)
    for row in range(size[1] // 4, size[1] - 20, 40):
        draw.rectangle((30, row, size[0] - 30, row + 14), fill=(210, 210, 210))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def previews(fake: ForgeFake, tmp_path: Path) -> dict[str, bytes]:
    """A bare repository whose branch gzh-preview-pr-7 holds a rendered page and a cover; the fake serves it."""
    files = {PAGE: _png((750, 1400), (180, 30, 30)), COVER: _png((360, 153), (30, 90, 180))}
    work = tmp_path / "work"
    for name, content in files.items():
        (work / name).parent.mkdir(parents=True, exist_ok=True)
        (work / name).write_bytes(content)
    repo = init_git(work)
    bare = tmp_path / "content.git"
    git.Repo.init(bare, bare=True, initial_branch="main")
    repo.git.push(str(bare), f"main:{BRANCH}")
    fake.git_dir = bare
    fake.open_pull(NUMBER, "wang-jun", "a" * 40, "b" * 40, ["content/office/2026-11-28-meeting/index.md"])
    files["commit"] = repo.head.commit.hexsha.encode()
    return files


def _sticky(fake: ForgeFake) -> str:
    return "\n".join([
        "<!-- gzh-gate -->",
        "### 审批：等待部门负责人",
        "",
        f'<img src="{fake.raw_url(COVER, branch=BRANCH)}" width="120" alt="封面">',
        "",
        "<details open><summary>预览：市总工会召开全委会议（手机宽度）</summary>",
        "",
        f'<img src="{fake.raw_url(PAGE, branch=BRANCH)}" width="375" alt="正文第 1 屏">',
        "",
        "</details>",
        "",
        "| 层级 | 审批人 | 结论 |",
        "| --- | --- | :---: |",
        "| 部门 | li-na | 待审 |",
        "| 保密 | zhou-yan | ~~已通过~~ 待复核 |",
        "",
        "说明见 https://example.invalid/gzh/approval",
        '<script>alert("不该执行")</script>',
        "",
        '<sub>gzh · <a href="javascript:alert(1)" onclick="alert(2)">详情</a></sub>',
    ])


def _post_comment(fake: ForgeFake, body: str) -> None:
    scheme = "token" if fake.flavour == "gitea" else "Bearer"
    answer = requests.post(f"{fake.api}/repos/{fake.repository}/issues/{NUMBER}/comments", json={"body": body},
                           headers={"Authorization": f"{scheme} {TOKEN}"}, timeout=10)
    assert answer.status_code == 201


def _get(url: str, login: str | None = None, **headers: str) -> requests.Response:
    cookies = {"fake_session": login} if login else {}
    return requests.get(url, cookies=cookies, headers=headers, timeout=10, allow_redirects=False)


def test_the_web_root_is_the_server_url(fake: ForgeFake) -> None:
    assert fake.environment()["GITHUB_SERVER_URL"] == fake.web == os.environ["GITHUB_SERVER_URL"]
    assert fake.api == fake.web + ("/api/v1" if fake.flavour == "gitea" else "")
    assert fake.web_cookie(MEMBER) == {"name": "fake_session", "value": MEMBER, "url": fake.web}


def test_raw_files_are_served_to_members_only(fake: ForgeFake, previews: dict[str, bytes]) -> None:
    commit = previews["commit"].decode()
    for url in (fake.raw_url(PAGE, branch=BRANCH), fake.raw_url(PAGE, commit=commit),
                fake.raw_url(PAGE, commit=commit[:12])):
        answer = _get(url, MEMBER)
        assert (answer.status_code, answer.headers["Content-Type"]) == (200, "image/png"), url
        assert answer.content == previews[PAGE]
        assert _get(url).status_code == 404  # not signed in: a private repository does not exist
        assert _get(url, OUTSIDER).status_code == 404
    scheme = "token" if fake.flavour == "gitea" else "Bearer"
    by_token = _get(fake.raw_url(COVER, branch=BRANCH), Authorization=f"{scheme} {TOKEN}")
    assert (by_token.status_code, by_token.content) == (200, previews[COVER])
    assert _get(fake.raw_url(COVER, branch=BRANCH), Authorization=f"{scheme} wrong").status_code == 404


def test_raw_files_that_do_not_exist_are_404(fake: ForgeFake, previews: dict[str, bytes]) -> None:
    missing = [fake.raw_url("previews/pr-7/none.png", branch=BRANCH), fake.raw_url(PAGE, branch="main"),
               fake.raw_url("previews/pr-7", branch=BRANCH), fake.raw_url(PAGE, commit="0" * 40),
               fake.raw_url(f"../{PAGE}", branch=BRANCH), fake.raw_url(PAGE, branch=f"{BRANCH}..main")]
    for url in missing:
        assert _get(url, MEMBER).status_code == 404, url
    other = "pull" if fake.flavour == "gitea" else "pulls"  # the other forge's address for the same page
    assert _get(f"{fake.web}/{fake.repository}/{other}/{NUMBER}", MEMBER).status_code == 404
    fake.git_dir = None
    assert _get(fake.raw_url(PAGE, branch=BRANCH), MEMBER).status_code == 404


def test_the_api_is_unchanged_beside_the_web(fake: ForgeFake, previews: dict[str, bytes]) -> None:
    pull_api = f"{fake.api}/repos/{fake.repository}/pulls/{NUMBER}"
    assert _get(pull_api, MEMBER).status_code == 401  # the session cookie is no API credential
    assert _get(fake.raw_url(PAGE, branch=BRANCH), MEMBER).status_code == 200
    assert all("/raw/" not in path for _, path in fake.requests)


def test_the_conversation_page_renders_comments_as_the_forge_does(fake: ForgeFake, previews: dict[str, bytes]) -> None:
    _post_comment(fake, _sticky(fake))
    fake.comment(NUMBER, None, "谁删了账号？")
    answer = _get(fake.pull_url(NUMBER), MEMBER)
    assert (answer.status_code, answer.headers["Content-Type"]) == (200, "text/html; charset=utf-8")
    page = answer.text
    assert f'<img src="{fake.raw_url(PAGE, branch=BRANCH)}" width="375" alt="正文第 1 屏">' in page
    assert '<details open=""><summary>预览：市总工会召开全委会议（手机宽度）</summary>' in page
    assert "<table>" in page and '<th style="text-align:center">结论</th>' in page
    assert "<del>已通过</del>" in page and '<sub>gzh · <a rel="nofollow">详情</a></sub>' in page
    assert '<a href="https://example.invalid/gzh/approval" rel="nofollow">' in page  # a bare address, linked
    assert "<script" not in page and "不该执行" not in page
    assert "alert" not in page and "onclick" not in page and "javascript:" not in page and "gzh-gate" not in page
    assert ("ghost" if fake.flavour == "github" else "Ghost") in page and "gzh-bot" in page
    assert _get(fake.pull_url(NUMBER)).status_code == 404
    assert _get(fake.pull_url(99), MEMBER).status_code == 404


def test_comment_markdown_keeps_what_github_keeps() -> None:
    html = comment_html('line one\nline two\n\n<div style="position:fixed" class="x" id="y">box</div>\n\n'
                        '`www.example.invalid` and [link](https://example.invalid) <style>p{}</style>'
                        '<img src="x.png" onerror="alert(1)" style="width:9999px" loading="lazy">')
    assert "line one<br>\nline two" in html  # comments break at each newline
    assert "<div>box</div>" in html
    assert "<code>www.example.invalid</code>" in html and html.count("<a ") == 1 and "<style" not in html
    assert '<img src="x.png">' in html


@needs_chromium
def test_screenshot_of_the_conversation_at_phone_width(fake: ForgeFake, previews: dict[str, bytes],
                                                       tmp_path: Path) -> None:
    _post_comment(fake, _sticky(fake))
    out = tmp_path / f"pull-{fake.flavour}.png"
    report = screenshot_pull(fake, NUMBER, out, login=MEMBER)
    assert report.broken_images == () and report.console_errors == () and report.overflow_px == 0
    with Image.open(out) as shot:
        assert shot.width == 750 and shot.height > 1624  # 375 × 2, longer than one screen
    fake.comment(NUMBER, MEMBER, f'<img src="{fake.raw_url("previews/pr-7/none.png", branch=BRANCH)}" width="375">')
    report = screenshot_pull(fake, NUMBER, tmp_path / "broken.png")  # as the author: the broken image shows
    assert len(report.broken_images) == 1
