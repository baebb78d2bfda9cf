from __future__ import annotations

from pathlib import Path

from tests.support import findings_for, front_matter, post_text


def test_front_matter_problems_are_findings_with_key_and_line(tmp_path: Path) -> None:
    found = findings_for(tmp_path, "front-matter", meta=front_matter(author=None))
    assert [(finding.location.line, finding.message) for finding in found] == [
        (2, "缺少必填字段“author”。作者，最多 16 个字，例如 办公室"),
    ]


def test_a_full_width_colon_in_the_new_template_is_reported_on_its_line(tmp_path: Path) -> None:
    from pipeline.main import main
    from tests.support import check_file, make_root

    root = make_root(tmp_path)
    assert main(["--root", str(root), "new", "office", "--date", "2026-11-28"]) == 0
    file = root / "content/office/2026-11-28-post/index.md"
    file.write_text(file.read_text("utf-8").replace("title: 请填写标题", "title：关于开展活动的通知"), "utf-8")
    found = [(f.location.line, f.location.col, f.message) for f in check_file(root, file).findings if f.rule_id == "front-matter"]
    assert found == [(3, 6, "字段名“title”后面是中文冒号“：”，YAML 只认英文冒号。请改成英文冒号加一个空格：title: 关于开展活动的通知")]


def test_department_comes_from_the_folder(tmp_path: Path) -> None:
    found = findings_for(tmp_path, "department-unknown", department="sports")
    assert len(found) == 1 and "“sports”不是 gzh.yml 中登记的部门文件夹" in found[0].message
    assert findings_for(tmp_path / "ok", "department-unknown", department="rights", meta=front_matter(
        secrecy={"conclusion": "可以公开", "reviewer": "liu-yang", "basis": "公开的服务指南"})) == []


def test_category_by_slug_or_chinese_name(tmp_path: Path) -> None:
    assert findings_for(tmp_path / "a", "category-unknown", meta=front_matter(category="办事指南")) == []
    found = findings_for(tmp_path / "b", "category-unknown", meta=front_matter(category="通知"))
    assert len(found) == 1 and found[0].location.line == 4 and "affairs（政务信息）" in found[0].message


def test_repost_needs_a_source_with_a_web_link(tmp_path: Path) -> None:
    assert "转载的文章必须注明来源" in findings_for(tmp_path / "a", "repost-source", meta=front_matter(repost=True))[0].message
    bad_url = front_matter(repost=True, source={"name": "工人日报", "url": "www.workercn.cn"})
    assert "来源链接必须以 https://" in findings_for(tmp_path / "b", "repost-source", meta=bad_url)[0].message
    good = front_matter(repost=True, source={"name": "工人日报", "url": "https://www.workercn.cn/a"})
    assert findings_for(tmp_path / "c", "repost-source", meta=good) == []
    stray_source = front_matter(source={"name": "工人日报", "url": "https://www.workercn.cn/a"})
    assert "没有写 repost: true" in findings_for(tmp_path / "d", "repost-source", meta=stray_source)[0].message


def test_pre_reviewer_must_head_the_department(tmp_path: Path) -> None:
    meta = front_matter(secrecy={"conclusion": "可以公开", "reviewer": "chen-gang", "basis": "公开的会议报道"})
    found = findings_for(tmp_path, "secrecy-reviewer", meta=meta)
    assert len(found) == 1 and "请填写：李娜（@li-na）" in found[0].message


def test_head_asking_for_secrecy_office_review_marks_the_post(tmp_path: Path) -> None:
    from tests.support import check_file, make_root, write_post

    root = make_root(tmp_path)
    meta = front_matter(secrecy={"conclusion": "需保密办复审", "reviewer": "li-na", "basis": "含有会议细节，不能确定"})
    report = check_file(root, write_post(root, meta=meta))
    assert report.needs_secrecy_review and report.secrecy_reasons == ("secrecy-review-requested",)
    assert not report.findings[0].severity.value == "error"


def test_a_broken_front_matter_still_gets_its_body_scanned(tmp_path: Path) -> None:
    text = "---\ntitle: [\n---\n身份证号11010519491231002X。\n"
    assert len(findings_for(tmp_path, "id-number", text=text)) == 1
    assert len(findings_for(tmp_path / "x", "front-matter", text=text)) == 1


def test_post_text_helper_round_trips() -> None:
    assert post_text("a\n").startswith("---\ntitle: 市总工会召开全委会议\n")


def test_links_in_a_post_folder_are_errors_naming_the_path(tmp_path: Path) -> None:
    from tests.support import make_root, rule_hits, write_post

    root = make_root(tmp_path)
    file = write_post(root, "正文。\n")
    (root / "outside.png").write_bytes(b"x")
    (file.parent / "photo.png").symlink_to(root / "outside.png")
    found = rule_hits(root, file, "non-regular-file")
    assert [(finding.location.path, finding.message.split("，")[0]) for finding in found] == [
        ("content/office/2026-11-28-meeting/photo.png", "“content/office/2026-11-28-meeting/photo.png”是符号链接（或其他特殊文件）")]


def test_a_linked_post_folder_is_reported_once(tmp_path: Path) -> None:
    from tests.support import make_root, rule_hits, write_post

    root = make_root(tmp_path)
    file = write_post(root, "正文。\n", slug="real")
    (root / "content" / "office" / "linked").symlink_to("real")
    linked = root / "content" / "office" / "linked" / "index.md"
    found = rule_hits(root, linked, "non-regular-file")
    assert [finding.location.path for finding in found] == ["content/office/linked"]
    assert rule_hits(root, file, "non-regular-file") == []
