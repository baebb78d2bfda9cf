from __future__ import annotations

import time
import urllib.request
from pathlib import Path

from pipeline.commands.serve import PreviewServer
from tests.support import make_root, write_post


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:  # loopback only
        return response.read().decode("utf-8")


def test_serves_the_site_and_rebuilds_when_a_post_changes(tmp_path: Path) -> None:
    root = make_root(tmp_path)
    file = write_post(root, "第一版正文。\n")
    server = PreviewServer(root, [], tmp_path / "site", port=0, interval=0.1)
    server.start()
    try:
        page = server.url + "posts/office/2026-11-28-meeting/index.html"
        assert "第一版正文" in fetch(page)
        file.write_text(file.read_text("utf-8").replace("第一版", "第二版"), "utf-8")
        deadline = time.monotonic() + 10
        while "第二版正文" not in fetch(page) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert "第二版正文" in fetch(page) and server.builds >= 2
    finally:
        server.stop()
