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


def test_shrink_file_keeps_format_and_name_and_never_enlarges(tmp_path: Path) -> None:
    photo = tmp_path / "photo.png"
    Image.frombytes("RGB", (1500, 1000), os.urandom(1500 * 1000 * 3)).save(photo)
    before = photo.stat().st_size
    done = media.shrink_file(photo, "photo.png")
    with Image.open(photo) as result:
        assert (result.format, result.size) == ("PNG", done.size) and max(result.size) <= 1500
    assert (done.before, done.after, done.limit) == (before, photo.stat().st_size, media.UPLOADIMG_MAX)
    assert done.after < media.UPLOADIMG_MAX and [path.name for path in tmp_path.iterdir()] == ["photo.png"]
    cover = write_image(tmp_path / "cover.jpg", (3000, 2000), fmt="JPEG", noise_bytes=12 * 1024 * 1024)
    done = media.shrink_file(cover, "cover.jpg", cover=True)
    with Image.open(cover) as result:  # 2560 px on the long side, as publishing does, and under 10 MB
        assert (result.format, result.size, done.limit) == ("JPEG", (2560, 1707), media.MATERIAL_MAX)


def test_shrink_file_turns_a_sideways_phone_photo_upright(tmp_path: Path) -> None:
    path = tmp_path / "phone.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways: rotate 90° clockwise to view
    Image.effect_noise((1800, 1200), 90).convert("RGB").save(path, quality=100, exif=exif.tobytes())
    path.write_bytes(path.read_bytes() + os.urandom(1024 * 1024))
    width, height = media.shrink_file(path, "phone.jpg").size
    assert width * 3 == height * 2  # upright: taller than wide, as the phone showed it


def test_shrink_file_refuses_bombs_and_gifs_untouched(tmp_path: Path) -> None:
    bomb = png_header_only(tmp_path / "bomb.png", 20_000, 20_000)
    gif = write_image(tmp_path / "a.gif", fmt="GIF")
    kept = bomb.read_bytes(), gif.read_bytes()
    with pytest.raises(media.ImageRefused, match="万像素"):
        media.shrink_file(bomb, "bomb.png")
    with pytest.raises(media.ImageRefused) as refused:
        media.shrink_file(gif, "a.gif")
    assert str(refused.value) == ("图片“a.gif”是 gif 格式，gzh 只能在保持格式的前提下缩小 jpg 和 png（动图缩小会失去动画）。"
                                  "请用看图或修图软件把它另存为较小的文件")
    assert (bomb.read_bytes(), gif.read_bytes()) == kept


@pytest.mark.parametrize(("size", "shown"), [
    (1024 * 1024, "1 MB"), (1024 * 1024 + 1, "1.01 MB"), (995_000, "0.95 MB"), (7 * 1024 * 1024, "7 MB"),
    (41 * 1024 * 1024 + 300_000, "41.3 MB"), (10 * 1024 * 1024, "10 MB"),
])
def test_megabytes_read_as_people_say_them_never_below_the_size(size: int, shown: str) -> None:
    assert media.megabytes(size) == shown
