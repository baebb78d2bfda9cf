from __future__ import annotations

from pathlib import Path

import pytest

from pipeline import posts
from pipeline.main import main
from tests.support import check_file, make_root


def test_new_post_is_valid_and_commented_in_chinese(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_root(tmp_path)
    assert main(["--root", str(root), "new", "法律和权益保障部", "--slug", "legal-aid", "--date", "2026-11-28",
                 "--title", "通知：法律援助进企业"]) == 0
    file = root / "content/rights/2026-11-28-legal-aid/index.md"
    assert f"已创建 content/rights/2026-11-28-legal-aid/{posts.POST_FILE}" in capsys.readouterr().out
    text = file.read_text("utf-8")
    assert "title: '通知：法律援助进企业'" in text or "title: 通知：法律援助进企业" in text
    assert "reviewer: liu-yang" in text and "# 信息类别（必填）" in text and "guides（办事指南）" in text
    post = posts.load_post(file, root)
    assert post.problems == () and post.meta.author == "法律和权益保障部"
    report = check_file(root, file)  # what is left to write: the category, the basis, the body
    assert [finding.rule_id for finding in report.findings] == ["category-unknown", "placeholder", "placeholder"]


def test_the_next_step_names_what_to_fill_in(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--root", str(make_root(tmp_path)), "new", "office", "--date", "2026-11-28"]) == 0
    assert capsys.readouterr().out == (
        "已创建 content/office/2026-11-28-post/index.md\n"
        "下一步：填写标题、类别和保密审查依据，写正文，把图片放进同一文件夹，然后运行 gzh check content/office/2026-11-28-post\n")


def test_title_needing_quotes_is_quoted(tmp_path: Path) -> None:
    root = make_root(tmp_path)
    main(["--root", str(root), "new", "office", "--date", "2026-11-28", "--title", "关于: 会议"])
    assert posts.load_post(root / "content/office/2026-11-28-post/index.md", root).meta.title == "关于: 会议"


def test_second_post_on_the_same_day_gets_a_new_folder(tmp_path: Path) -> None:
    root = make_root(tmp_path)
    for _ in range(2):
        assert main(["--root", str(root), "new", "office", "--date", "2026-11-28"]) == 0
    assert (root / "content/office/2026-11-28-post-2/index.md").is_file()


@pytest.mark.parametrize(("args", "message"), [
    (["new", "体育部"], "没有这个部门：“体育部”"),
    (["new", "office", "--slug", "年会"], "文件夹名“年会”只能用小写字母"),
    (["new", "office", "--date", "2026-13-01"], "日期“2026-13-01”格式不对"),
])
def test_bad_arguments_are_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str) -> None:
    assert main(["--root", str(make_root(tmp_path)), *args]) == 2
    assert message in capsys.readouterr().err
