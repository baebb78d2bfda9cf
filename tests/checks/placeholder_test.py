"""What the `gzh new` template leaves for the clerk to write (pipeline/checks/placeholder.py)."""
from __future__ import annotations

from pathlib import Path

from pipeline.main import main
from tests.support import check_file, findings_for, front_matter, line_of, make_root

NEW_POST = "content/office/2026-11-28-post/index.md"


def new_post(tmp_path: Path, *args: str) -> tuple[Path, Path]:
    root = make_root(tmp_path)
    assert main(["--root", str(root), "new", "office", "--date", "2026-11-28", *args]) == 0
    return root, root / NEW_POST


def test_the_unedited_template_fails_naming_each_line_to_write(tmp_path: Path) -> None:
    root, file = new_post(tmp_path)
    text = file.read_text("utf-8")
    findings = [(f.rule_id, f.severity.value, f.location.line, f.location.col, f.message)
                for f in check_file(root, file).findings]
    assert findings == [
        ("placeholder", "error", line_of(text, "title: "), 8,
         "标题还是模板里的“请填写标题”。请写上这篇文章的标题（最多 32 个字）"),
        ("category-unknown", "error", line_of(text, "category: "), 11,
         "“请从上面的类别中选一个”不是第四条规定的信息类别。请改为以下之一：affairs（政务信息）、image（形象宣传）、"
         "activities（网上服务活动）、guides（办事指南）、news（工会动态）、other（其他信息）"),
        ("placeholder", "error", line_of(text, "  basis: "), 10,
         "保密审查依据（basis）还是模板里的文字，不能说明做过保密初审。请部门负责人用自己的话写明本文为什么可以公开："
         "写的是什么信息、是否已经公开过、是否涉及内部文件或个人信息"),
        ("placeholder", "error", line_of(text, "在这里写正文"), 1,
         "这一行是模板里的提示“在这里写正文……”，不是正文，发布后读者会看到它。请删除这一行，写上正文"),
    ]


def test_the_template_once_filled_in_passes_with_its_defaults(tmp_path: Path) -> None:
    root, file = new_post(tmp_path, "--title", "市总工会召开全委会议")
    text = file.read_text("utf-8")
    text = text.replace("category: 请从上面的类别中选一个", "category: news")
    text = text.replace("basis: 请部门负责人写明本文为什么可以公开", "basis: 已公开的会议报道，不含内部文件和个人信息")
    file.write_text(text.replace("在这里写正文。图片放在本文件夹中，用 `![图片说明](photo.jpg)` 的写法插入。",
                                 "市总工会召开全委会议。"), "utf-8")
    # author, reviewer, comments: open and the conclusion 可以公开 are defaults a post may keep
    assert check_file(root, file).findings == ()


def test_the_basis_older_templates_wrote_is_a_placeholder_too(tmp_path: Path) -> None:
    meta = front_matter(secrecy={"conclusion": "可以公开", "reviewer": "li-na",
                                 "basis": "本文为公开的工作信息，不涉及国家秘密、工作秘密和个人敏感信息"})
    found = findings_for(tmp_path, "placeholder", meta=meta)
    assert [(finding.location.line, finding.location.col) for finding in found] == [(8, 10)]


def test_text_merely_like_a_placeholder_is_not_one(tmp_path: Path) -> None:
    body = "在这里写正文。图片放在本文件夹中，用 `![图片说明](photo.jpg)` 的写法插入。后面还有话。\n\n请填写标题\n"
    meta = front_matter(secrecy={"conclusion": "可以公开", "reviewer": "li-na", "basis": "本文为公开的工作信息"})
    assert findings_for(tmp_path, "placeholder", body, meta=meta) == []
