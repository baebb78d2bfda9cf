from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.main import main
from tests.support import make_root, write_post


def test_render_prints_the_article_html(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_root(tmp_path)
    write_post(root, "## 小标题\n\n正文。\n")
    assert main(["--root", str(root), "render", "content/office/2026-11-28-meeting"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("<section style=") and "小标题</h2>" in out


def test_render_to_a_file_with_a_theme(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_root(tmp_path)
    file = write_post(root)
    target = tmp_path / "out.html"
    assert main(["--root", str(root), "render", str(file), "-o", str(target), "--theme", "warm"]) == 0
    assert "#3a3a3a" in target.read_text("utf-8") and "已写入" in capsys.readouterr().err


@pytest.mark.parametrize(("args", "code", "message"), [
    (["render", "content/nope"], 2, "不是文章"),
    (["render", "content/office/2026-11-28-meeting", "--theme", "fancy"], 2, "找不到主题“fancy”"),
])
def test_render_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], code: int, message: str) -> None:
    root = make_root(tmp_path)
    write_post(root)
    assert main(["--root", str(root), *args]) == code
    assert message in capsys.readouterr().err


def test_a_template_cannot_reach_python_itself(tmp_path: Path, capsys) -> None:
    """Templates arrive by pull request and are rendered where the WeChat secret lives."""
    root = make_root(tmp_path)
    write_post(root)
    footer = root / "templates" / "footer.html.j2"
    footer.write_text("{{ ''.__class__.__mro__[1].__subclasses__() }}{{ cycler.__init__.__globals__.os.environ }}", "utf-8")
    assert main(["--root", str(root), "render", "content/office/2026-11-28-meeting"]) == 2
    captured = capsys.readouterr()
    assert "templates/" in captured.err and "subclasses" not in captured.out and "PATH" not in captured.out


def test_a_post_over_two_megabytes_is_refused_with_the_reason(tmp_path: Path, capsys) -> None:
    root = make_root(tmp_path)
    write_post(root, "超长的正文。\n" * 200_000)
    assert main(["--root", str(root), "render", "content/office/2026-11-28-meeting"]) == 2
    assert "超过 2 MB，微信无法发布这么大的文章" in capsys.readouterr().err
