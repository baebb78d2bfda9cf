from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from PIL import Image

from pipeline import media
from tests.support import png_header_only, write_image


def test_small_jpg_and_png_go_as_they_are(tmp_path: Path) -> None:
    path = write_image(tmp_path / "a.png")
    upload = media.body_image(path)
    assert upload.data == path.read_bytes() and not upload.via_material and upload.filename == "a.png"


def test_large_photo_is_recompressed_under_the_limit_keeping_its_size(tmp_path: Path) -> None:
    path = tmp_path / "big.png"
    Image.frombytes("RGB", (1200, 900), os.urandom(1200 * 900 * 3)).save(path)
    upload = media.body_image(path)
    assert len(upload.data) < media.UPLOADIMG_MAX and upload.filename == "big.jpg"
    with Image.open(path) as original:
        assert original.size[0] >= 900


def test_transparent_image_stays_png(tmp_path: Path) -> None:
    path = tmp_path / "logo.webp"
    Image.new("RGBA", (40, 40), (0, 0, 0, 0)).save(path, "WEBP")
    upload = media.body_image(path)
    assert upload.filename == "logo.png" and upload.data.startswith(b"\x89PNG")


def test_gif_keeps_its_animation_through_material(tmp_path: Path) -> None:
    upload = media.body_image(write_image(tmp_path / "a.gif", fmt="GIF"))
    assert upload.via_material and upload.data.startswith(b"GIF8")


def test_cover_accepts_bmp_and_converts_webp(tmp_path: Path) -> None:
    assert media.cover_image(write_image(tmp_path / "c.bmp", fmt="BMP")).via_material
    webp = tmp_path / "c.webp"
    Image.new("RGB", (40, 40)).save(webp, "WEBP")
    assert media.cover_image(webp).data.startswith(b"\xff\xd8")


def test_bombs_are_refused_before_any_pixel_is_decoded(tmp_path: Path) -> None:
    for size in ((20_000, 20_000), (8_000, 7_000)):
        bomb = png_header_only(tmp_path / f"{size[0]}.png", *size)
        for prepare in (media.body_image, media.cover_image):
            with pytest.raises(media.ImageRefused, match="万像素"):
                prepare(bomb)


def test_a_large_photo_is_shrunk_from_a_reduced_decode(tmp_path: Path) -> None:
    path = tmp_path / "photo.jpg"
    Image.frombytes("RGB", (400, 300), os.urandom(400 * 300 * 3)).resize((6000, 4500)).save(path, quality=95)
    upload = media.body_image(path)
    with Image.open(io.BytesIO(upload.data)) as shrunk:
        assert len(upload.data) < media.UPLOADIMG_MAX and max(shrunk.size) <= 2560
