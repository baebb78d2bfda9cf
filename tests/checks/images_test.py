from __future__ import annotations

import os
from pathlib import Path

import pytest

from pipeline.checks.model import ShrinkImage
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


def test_oversize_body_image_is_a_warning_with_both_figures_and_what_to_do(root: Path) -> None:
    write_image(post_folder(root) / "big.jpg", fmt="JPEG", noise_bytes=7 * 1024 * 1024)
    found = hits(root, "![图](big.jpg)\n", "image-oversize")
    assert [(finding.severity.value, finding.message) for finding in found] == [("warning", (
        "图片“big.jpg”有 7.01 MB，超过微信正文图片的上限 1 MB。发布时会自动压缩到上限以内，清晰度可能下降。"
        "运行 gzh check --fix 可以现在就缩小这张图片（格式和文件名不变），缩小后请打开看一看是否清楚"))]
    assert isinstance(found[0].fix, ShrinkImage) and found[0].fix.path == post_folder(root) / "big.jpg"
    assert hits(root, "正文。\n", "image-oversize", cover="big.jpg") == []  # covers may be up to 10 MB


def test_oversize_cover_and_gif_have_the_ten_megabyte_limit(root: Path) -> None:
    write_image(post_folder(root) / "cover.png", noise_bytes=41 * 1024 * 1024)
    write_image(post_folder(root) / "anim.gif", fmt="GIF", noise_bytes=11 * 1024 * 1024)
    write_image(post_folder(root) / "small.gif", fmt="GIF", noise_bytes=3 * 1024 * 1024)  # via material: fine
    found = hits(root, "![动图](anim.gif)\n\n![动图](small.gif)\n", "image-oversize", cover="cover.png")
    assert [finding.message for finding in found] == [
        "图片“cover.png”有 41.1 MB，超过微信封面的上限 10 MB。发布时会自动压缩到上限以内，清晰度可能下降。"
        "运行 gzh check --fix 可以现在就缩小这张图片（格式和文件名不变），缩小后请打开看一看是否清楚",
        "图片“anim.gif”有 11.1 MB，超过微信动图的上限 10 MB。发布时会压缩成一张静止的图片，动画会丢失。"
        "请用看图或修图软件另存为 10 MB 以内的文件",
    ]
    assert found[1].fix is None  # shrinking a GIF in place would drop its animation


def test_a_file_just_over_the_limit_does_not_read_as_the_limit(root: Path) -> None:
    write_image(post_folder(root) / "edge.png", noise_bytes=1024 * 1024)
    assert "有 1.01 MB，超过微信正文图片的上限 1 MB。" in hits(root, "![图](edge.png)\n", "image-oversize")[0].message


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
