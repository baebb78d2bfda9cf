from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support import front_matter, line_of, make_root, png_header_only, rule_hits, write_image, write_post


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return make_root(tmp_path)


def hits(root: Path, body: str, rule_id: str, **meta: object) -> list:
    file = write_post(root, body, meta=front_matter(**meta) if meta else None)
    return rule_hits(root, file, rule_id)


def post_folder(root: Path) -> Path:
    return root / "content" / "office" / "2026-11-28-meeting"


def test_local_images_pass_every_image_rule(root: Path) -> None:
    write_image(post_folder(root) / "a.png")
    write_image(post_folder(root) / "照片 1.jpg", fmt="JPEG")
    body = "![图](a.png)\n\n![图](<照片 1.jpg>)\n"
    for rule_id in ("image-remote", "image-outside-post", "image-missing", "image-format", "image-oversize"):
        assert hits(root, body, rule_id) == [], rule_id


def test_remote_image_is_an_error_but_wechat_hosted_is_fine(root: Path) -> None:
    found = hits(root, "![a](https://example.com/a.png)\n![b](https://mmbiz.qpic.cn/x.png)\n", "image-remote")
    assert len(found) == 1 and "example.com" in found[0].message


def test_missing_image_points_at_its_line(root: Path) -> None:
    found = hits(root, "第一段。\n\n![图](nope.png)\n", "image-missing")
    text = (post_folder(root) / "index.md").read_text("utf-8")
    assert [(finding.location.line, finding.location.col) for finding in found] == [(line_of(text, "![图]"), 6)]


@pytest.mark.parametrize("src", ["../other/a.png", "/etc/passwd", "sub/../../a.png"])
def test_paths_leaving_the_post_folder(root: Path, src: str) -> None:
    assert len(hits(root, f"![图]({src})\n", "image-outside-post")) == 1


def test_symlink_escaping_the_folder(root: Path, tmp_path: Path) -> None:
    outside = write_image(tmp_path / "secret.png")
    post_folder(root).mkdir(parents=True)
    os.symlink(outside, post_folder(root) / "link.png")
    assert len(hits(root, "![图](link.png)\n", "image-outside-post")) == 1


def test_wrong_format_is_detected_by_content_not_name(root: Path) -> None:
    write_image(post_folder(root) / "a.png", fmt="BMP")
    (post_folder(root) / "b.jpg").write_text("not an image", "utf-8")
    found = hits(root, "![a](a.png)\n![b](b.jpg)\n", "image-format")
    assert ["bmp 格式" in found[0].message, "无法识别" in found[1].message] == [True, True]


def test_cover_is_checked_like_body_images(root: Path) -> None:
    assert len(hits(root, "正文。\n", "image-missing", cover="cover.jpg")) == 1


def test_oversize_body_image_is_a_warning_with_the_figure(root: Path) -> None:
    write_image(post_folder(root) / "big.png", noise_bytes=1100 * 1024)
    found = hits(root, "![图](big.png)\n", "image-oversize")
    assert len(found) == 1 and found[0].severity.value == "warning" and "上限 1024 KB" in found[0].message
    assert hits(root, "正文。\n", "image-oversize", cover="big.png") == []  # covers may be up to 10 MB


@pytest.mark.parametrize("width, height", [(20_000, 20_000), (13_000, 13_000), (8_000, 7_000)])
def test_images_over_the_pixel_budget_are_errors_not_crashes(root: Path, width: int, height: int) -> None:
    png_header_only(post_folder(root) / "bomb.png", width, height)
    found = hits(root, "![图](bomb.png)\n", "image-format")
    assert len(found) == 1 and "超过 gzh 能安全处理的 5000 万像素" in found[0].message and "4000 像素" in found[0].message


def test_control_characters_in_image_paths_are_errors(root: Path) -> None:
    found = hits(root, "![图](a%00b.png)\n", "image-missing", cover="c\x00.png")
    assert len(found) == 2 and all("控制字符" in finding.message for finding in found)
    assert "c\\x00.png" in found[0].message  # shown escaped, never as a raw control character


def test_a_folder_or_fifo_named_as_an_image(root: Path) -> None:
    (post_folder(root) / "folder.png").mkdir(parents=True)
    os.mkfifo(post_folder(root) / "pipe.png")
    found = hits(root, "![a](folder.png)\n\n![b](pipe.png)\n", "image-missing")
    assert len(found) == 2 and all("不是图片文件" in finding.message for finding in found)
