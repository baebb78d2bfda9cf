from __future__ import annotations

from pathlib import Path

from pipeline import assets, posts
from pipeline.ledger import Event, Ledger
from pipeline.main import main
from tests.support import init_git, make_root, write_post


def test_editing_a_published_post_is_an_error(tmp_path: Path, capsys) -> None:
    root = make_root(tmp_path)
    file = write_post(root)
    init_git(root)
    post = posts.load_post(file, root)
    Ledger(root).append(Event("publish", post.bundle, "result",
                              {"version": assets.version(post), "url": "https://mp.weixin.qq.com/s/x"}))
    assert main(["--root", str(root), "check"]) == 0
    file.write_text(file.read_text("utf-8") + "补充。\n", "utf-8")
    assert main(["--root", str(root), "check"]) == 1
    out = capsys.readouterr().out
    assert "[发布后修改（published-changed）]" in out and "https://mp.weixin.qq.com/s/x" in out
