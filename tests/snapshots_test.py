"""Phone pictures of a pull request's posts (pipeline/snapshots.py), hosted on its preview branch."""
from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Iterator

import git
import pytest
from PIL import Image

from pipeline import browser
from pipeline.commands.gate import gate_command
from pipeline.snapshots import SCREEN_HEIGHT, screens_of
from tests.support import PullScenario, write_image

needs_chromium = pytest.mark.skipif(
    browser.chromium_path() is None and not os.environ.get("CI"),
    reason="Chromium is not installed (CI installs it; locally: apt-get install chromium)")


def test_a_long_picture_is_cut_into_phone_screens() -> None:
    out = io.BytesIO()
    Image.new("RGB", (750, SCREEN_HEIGHT * 2 + 100), "white").save(out, "PNG")
    screens = [Image.open(io.BytesIO(data)) for data in screens_of(out.getvalue())]
    assert [(screen.width, screen.height) for screen in screens] == [(750, SCREEN_HEIGHT), (750, SCREEN_HEIGHT), (750, 100)]


@pytest.fixture(params=["github", "gitea"])
def pr(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[PullScenario]:
    scenario = PullScenario(tmp_path, request.param, body="市总工会召开全委会议。\n\n![会场](photo.jpg)\n")
    write_image(scenario.post.parent / "photo.jpg", size=(1200, 800), fmt="JPEG")
    scenario.forge.push(1, scenario.commit("照片"))
    bare = git.Repo.init(tmp_path / "remote.git", bare=True)
    scenario.repo.create_remote("origin", bare.git_dir)
    for key, value in scenario.forge.environment().items():
        monkeypatch.setenv(key, value)
    yield scenario
    scenario.close()


@needs_chromium
def test_the_comment_carries_the_article_as_phone_pictures_from_the_preview_branch(pr: PullScenario) -> None:
    assert gate_command(pr.root, 1, pictures=True) == 0
    head = pr.forge.pulls[1].head_sha
    remote = git.Repo(pr.root).remote("origin").url
    branch = git.Repo(remote).commit("gzh-preview-pr-1")
    files = {item.path: item.data_stream.read() for item in branch.tree.traverse() if item.type == "blob"}
    folder = f"{head[:12]}/office--2026-11-28-news"
    assert {f"{folder}/01.png", f"{folder}/cover.jpg"} <= set(files)
    first = Image.open(io.BytesIO(files[f"{folder}/01.png"]))
    assert first.format == "PNG" and first.width == 750  # 375 CSS px at twice the pixels
    comment = pr.comment()
    raw = pr.forge.environment().get("GITHUB_SERVER_URL", "")
    assert f'/raw/{"branch/" if pr.forge.flavour == "gitea" else ""}gzh-preview-pr-1/{folder}/01.png" width="375"' in comment
    assert f"{folder}/cover.jpg" in comment and "<details open><summary>手机上的样子" in comment
    assert raw == "" or raw in comment

    assert gate_command(pr.root, 1, pictures=True) == 0  # a review or comment: same head, nothing taken again
    assert git.Repo(remote).commit("gzh-preview-pr-1") == branch
    assert gate_command(pr.root, 1) == 0  # a gate without a browser keeps the pictures it finds
    assert f"{folder}/01.png" in pr.comment()


@needs_chromium
def test_a_new_head_replaces_the_pictures(pr: PullScenario) -> None:
    gate_command(pr.root, 1, pictures=True)
    pr.post.write_text(pr.post.read_text("utf-8") + "\n补充一段。\n", "utf-8")
    pr.forge.push(1, pr.commit("补充"))
    gate_command(pr.root, 1, pictures=True)
    remote = git.Repo(git.Repo(pr.root).remote("origin").url)
    folders = {item.path for item in remote.commit("gzh-preview-pr-1").tree.trees}
    assert folders == {pr.forge.pulls[1].head_sha[:12]}  # one head's pictures: the branch never grows
    assert len(list(remote.iter_commits("gzh-preview-pr-1"))) == 1


def test_without_a_browser_the_comment_says_why_and_the_gate_still_reports(pr: PullScenario, monkeypatch) -> None:
    monkeypatch.setattr("pipeline.snapshots.browser.chromium_path", lambda: None)
    assert gate_command(pr.root, 1, pictures=True) == 0
    assert "手机截图暂不可用：运行审批的机器上没有 Chromium" in pr.comment()


@needs_chromium
def test_the_camera_runs_no_script_and_loads_nothing_from_the_network(tmp_path: Path) -> None:
    """The gate photographs a pull request's text with a write token at hand: the page stays inert."""
    import http.server
    import threading

    asked: list[str] = []

    class Listener(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            asked.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Listener)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    where = f"http://127.0.0.1:{server.server_address[1]}"
    page = tmp_path / "page.html"
    page.write_text(f'<article class="phone" style="display:block;width:375px"><p>正文</p><img src="{where}/img.png" width="10">'
                    f'<link rel="stylesheet" href="{where}/style.css">'
                    f'<script>fetch("{where}/script"); document.body.innerHTML = "changed";</script></article>', "utf-8")
    try:
        with browser.Browser(offline=True) as chromium:
            chromium.shoot(page.as_uri(), "article.phone", tmp_path / "shot.png")
    finally:
        server.shutdown()
    assert asked == [] and Image.open(tmp_path / "shot.png").width == 750
