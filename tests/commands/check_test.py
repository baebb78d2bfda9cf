from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from PIL import Image

from pipeline import media
from pipeline.checks import RULES
from pipeline.main import main
from tests.support import PROJECT, front_matter, init_git, make_root, post_text, write_image, write_post


def run(root: Path, *args: str) -> int:
    return main(["--root", str(root), *args])


def test_sample_content_passes(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(PROJECT, "check", "--strict") == 0
    assert "全部通过" in capsys.readouterr().out


def test_errors_exit_1_with_grouped_located_messages(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_root(tmp_path)
    write_post(root, "联系人13800138000。\n", meta=front_matter(title="字" * 40))
    assert run(root, "check") == 1
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "content/office/2026-11-28-meeting/index.md"
    assert "    2:8  错误  标题有 40 个字" in out
    assert "[手机号码（mobile-number）]" in out and "13800138000" not in out
    assert "  需要保密委员会办公室复审（第六条第三款），原因：手机号码（mobile-number）" in out
    assert out.rstrip().splitlines()[-1] == "检查了 1 篇文章：1 个错误，1 个警告，0 条提示。1 篇需保密办复审。"


def test_warnings_pass_unless_strict_and_the_summary_says_to_read_them(tmp_path: Path, capsys) -> None:
    root = make_root(tmp_path)
    write_post(root, "联系人13800138000。\n")
    assert run(root, "check") == 0
    assert capsys.readouterr().out.rstrip().splitlines()[-1] == (
        "检查了 1 篇文章：0 个错误，1 个警告，0 条提示。1 篇需保密办复审。没有错误，可以提交；警告不阻止发布，但请逐条看一看。")
    assert run(root, "check", "--strict") == 1


def test_policy_can_change_a_rule_severity(tmp_path: Path) -> None:
    policy = (PROJECT / "gzh.yml").read_text("utf-8").replace("    address: warning", "    mobile-number: error")
    root = make_root(tmp_path, policy)
    write_post(root, "联系人13800138000。\n")
    assert run(root, "check") == 1


def test_policy_can_turn_a_rule_off(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policy = (PROJECT / "gzh.yml").read_text("utf-8").replace("    address: warning", '    title-length: "off"')
    root = make_root(tmp_path, policy)
    write_post(root, meta=front_matter(title="字" * 40))
    assert run(root, "check") == 0


def test_unknown_rule_in_policy_is_a_configuration_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policy = (PROJECT / "gzh.yml").read_text("utf-8").replace("    address: warning", "    adress: warning")
    root = make_root(tmp_path, policy)
    assert run(root, "check") == 2
    assert "checks.severity.adress：checks.severity 里的规则“adress”不存在" in capsys.readouterr().err


def test_invalid_policy_exits_2_without_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_root(tmp_path, "version: 1\naccount: {}\n")
    assert run(root, "check") == 2
    err = capsys.readouterr().err
    assert "策略文件 gzh.yml 有" in err and "Traceback" not in err


def test_missing_path_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(make_root(tmp_path), "check", "content/nope") == 2
    assert "找不到要检查的路径：content/nope" in capsys.readouterr().err


def test_json_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_root(tmp_path)
    write_post(root, "身份证号11010519491231002X。\n")
    assert run(root, "check", "--format", "json") == 1
    document = json.loads(capsys.readouterr().out)
    assert document["summary"] == {"posts": 1, "errors": 1, "warnings": 0, "infos": 0, "failed": True}
    finding = document["posts"][0]["findings"][0]
    assert (finding["rule"], finding["line"], finding["col"]) == ("id-number", 11, 5)
    assert document["posts"][0]["needs_secrecy_review"] is True
    assert "11010519491231002X" not in json.dumps(document, ensure_ascii=False)


def test_github_annotations(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_root(tmp_path)
    write_post(root, "扬州市总公会召开会议。\n")
    run(root, "check", "--format", "github")
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith("::error file=content/office/2026-11-28-meeting/index.md,line=11,col=1,"
                            "title=严重表述错误（misstatement）::")


def test_fix_rewrites_safe_problems_and_reports_the_rest(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_root(tmp_path)
    file = write_post(root, "今天是 2026 年,依据扬工发[2026]第012号召开会议.\n", meta=front_matter(title="通知,请参加"))
    assert run(root, "check", "--fix", "--strict") == 0
    text = file.read_text("utf-8")
    assert "今天是2026年，依据扬工发〔2026〕12号召开会议。" in text
    assert "title: 通知，请参加" in text
    assert "已自动修改" in capsys.readouterr().err


def test_fix_shrinks_oversized_images_in_place_and_says_what_it_did(tmp_path: Path, capsys) -> None:
    root = make_root(tmp_path)
    folder = root / "content" / "office" / "2026-11-28-meeting"
    photo = write_image(folder / "photo.jpg", (4000, 3000), fmt="JPEG", noise_bytes=7 * 1024 * 1024)
    cover = write_image(folder / "cover.png", (3000, 2000), noise_bytes=41 * 1024 * 1024)
    write_post(root, "![会场](photo.jpg)\n", meta=front_matter(cover="cover.png"))
    before = {path.name: media.megabytes(path.stat().st_size) for path in (photo, cover)}  # 7.19 MB, 41.2 MB
    assert run(root, "check") == 0
    out = capsys.readouterr().out
    assert f"      9:8  警告  图片“cover.png”有 {before['cover.png']}，超过微信封面的上限 10 MB。" in out
    assert f"     12:7  警告  图片“photo.jpg”有 {before['photo.jpg']}，超过微信正文图片的上限 1 MB。" in out
    assert "全部通过" not in out
    assert run(root, "check", "--fix", "--strict") == 0
    after = {path.name: media.megabytes(path.stat().st_size) for path in (photo, cover)}
    assert capsys.readouterr().err.splitlines() == [
        f"已缩小图片 content/office/2026-11-28-meeting/cover.png：{before['cover.png']} → {after['cover.png']}，"
        "现为 2560×1707 像素，在微信的 10 MB 上限以内。请打开看一看是否仍然清楚。",
        f"已缩小图片 content/office/2026-11-28-meeting/photo.jpg：{before['photo.jpg']} → {after['photo.jpg']}，"
        "现为 2560×1920 像素，在微信的 1 MB 上限以内。请打开看一看是否仍然清楚。",
    ]
    assert (Image.open(photo).format, Image.open(cover).format) == ("JPEG", "PNG")  # same format, same name


def test_fix_leaves_an_image_it_cannot_shrink_and_says_why(tmp_path: Path, capsys) -> None:
    root = make_root(tmp_path)
    gif = write_image(root / "content" / "office" / "2026-11-28-meeting" / "anim.gif", fmt="GIF",
                      noise_bytes=11 * 1024 * 1024)
    write_post(root, "![动图](anim.gif)\n")
    before = gif.read_bytes()
    assert run(root, "check", "--fix") == 0 and gif.read_bytes() == before
    assert "图片“anim.gif”有 11.1 MB，超过微信动图的上限 10 MB。" in capsys.readouterr().out


def test_list_rules_shows_effective_severity(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(PROJECT, "check", "--list-rules") == 0
    lines = capsys.readouterr().out.splitlines()
    assert any(line.startswith("address") and "警告" in line for line in lines)
    assert len(lines) == 1 + len(RULES)


def test_changed_checks_only_what_the_branch_changed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_root(tmp_path)
    write_post(root, "扬州市总公会。\n", slug="old-broken")  # already on main: not this PR's business
    repo = init_git(root)
    repo.git.checkout("-b", "dept/new-post")
    write_post(root, "正文。\n", slug="new-post")
    write_image(root / "content" / "office" / "new-post" / "a.png")
    repo.git.add(A=True)
    repo.index.commit("新文章")
    assert run(root, "check", "--changed", "--base", "main") == 0
    assert "检查了 1 篇文章" in capsys.readouterr().out


def test_changed_image_rechecks_its_post_and_untracked_posts_count(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_root(tmp_path)
    write_post(root, "![图](a.png)\n", slug="with-image")
    write_image(root / "content" / "office" / "with-image" / "a.png")
    init_git(root)
    (root / "content" / "office" / "with-image" / "a.png").write_text("broken", "utf-8")
    write_post(root, "扬州市总公会。\n", slug="draft")  # not even committed yet
    assert run(root, "check", "--changed", "--base", "main") == 1
    out = capsys.readouterr().out
    assert "（image-format）]" in out and "（misstatement）]" in out and "检查了 2 篇文章" in out


def test_policy_change_rechecks_everything(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_root(tmp_path)
    write_post(root, slug="a")
    write_post(root, slug="b")
    init_git(root)
    (root / "gzh.yml").write_text((root / "gzh.yml").read_text("utf-8") + "\n", "utf-8")
    assert run(root, "check", "--changed", "--base", "main") == 0
    captured = capsys.readouterr()
    assert "gzh.yml 有改动，将检查全部文章" in captured.err and "检查了 2 篇文章" in captured.out


def test_changed_with_unknown_base_explains(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_root(tmp_path)
    init_git(root)
    assert run(root, "check", "--changed", "--base", "origin/nope") == 2
    assert "找不到比较基准“origin/nope”" in capsys.readouterr().err


def test_changed_outside_git_explains(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(make_root(tmp_path), "check", "--changed") == 2
    assert "不是 git 仓库" in capsys.readouterr().err


def test_stray_markdown_file_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_root(tmp_path)
    (root / "content" / "office").mkdir()
    (root / "content" / "office" / "通知.md").write_text(post_text(), "utf-8")
    assert run(root, "check") == 1
    assert "（post-layout）]" in capsys.readouterr().out


def test_policy_theme_must_exist(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policy = (PROJECT / "gzh.yml").read_text("utf-8").replace("  theme: official", "  theme: fancy")
    assert run(make_root(tmp_path, policy), "check") == 2
    assert "render.theme：templates/themes/ 下没有“fancy”主题。可用的主题：official、warm" in capsys.readouterr().err


def test_named_paths_through_links_or_outside_the_repository_are_refused_not_crashes(tmp_path: Path, capsys) -> None:
    root = make_root(tmp_path)
    secret = write_post(tmp_path / "outside", "仓库外的文件。\n")
    (root / "content" / "office" / "linked-file").mkdir(parents=True)
    os.symlink(secret.parent, root / "content" / "office" / "linked-folder")
    os.symlink(secret, root / "content" / "office" / "linked-file" / "index.md")
    for target in ("content/office/linked-folder", "content/office/linked-folder/index.md",
                   "content/office/linked-file/index.md"):
        assert main(["--root", str(root), "check", target]) == 1
        out = capsys.readouterr().out
        assert "符号链接" in out and "仓库外的文件" not in out
        assert main(["--root", str(root), "render", target]) == 2
        assert "仓库外的文件" not in capsys.readouterr().out
    assert main(["--root", str(root), "check", str(tmp_path / "outside")]) == 2
    assert "不在仓库里" in capsys.readouterr().err
