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


def test_a_busy_port_is_a_clear_message_not_a_crash(tmp_path: Path, capsys) -> None:
    import socket

    from pipeline.main import main

    root = make_root(tmp_path)
    write_post(root, "正文。\n")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        for command in (["serve", "-p", str(port)], ["sandbox", "serve", "-p", str(port)]):
            assert main(["--root", str(root), *command]) == 2
            assert f"端口 {port} 已被占用：请换一个端口" in capsys.readouterr().err
