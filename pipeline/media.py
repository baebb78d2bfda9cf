"""Images made acceptable to WeChat before upload, with Pillow.

Body images go to media/uploadimg, which takes jpg or png under 1 MB: larger ones are
re-encoded (JPEG quality steps, then downscaling) until they fit; GIFs keep their animation by
going to permanent material instead. Covers go to add_material (up to 10 MB, jpg/png/gif/bmp).

Images come from pull requests, so each is measured from its header before any pixel is decoded:
more than MAX_PIXELS (or a decompression bomb) is refused, never decoded.
"""
from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from pipeline.errors import GzhError
from pipeline.i18n import Text

UPLOADIMG_MAX = 1024 * 1024
MATERIAL_MAX = 10 * 1024 * 1024
_QUALITIES = (92, 88, 84, 80, 75, 70)
_MAX_EDGE = 2560  # wider than any phone shows at 3x; keeps re-encoding quick
# 50 megapixels: an 8000×6000 camera photo fits; shrinking one takes about 2 s and 150 MB.
MAX_PIXELS = 50_000_000

TOO_MANY_PIXELS = Text(
    "图片“{src}”有 {width}×{height} 像素，超过 gzh 能安全处理的 {limit} 万像素。请先把图片缩小到长边 4000 像素以内（手机相册的“编辑—调整大小”或画图软件均可）再放入文章文件夹",
    "Image '{src}' has {width}×{height} pixels, over the {limit} megapixels gzh handles safely. "
    "Resize it to at most 4000 pixels on its long side first")
UNREADABLE = Text("图片“{src}”无法识别，可能已损坏。请重新导出为 jpg 或 png",
                  "Image '{src}' cannot be read; it may be damaged. Export it again as jpg or png")


class ImageRefused(GzhError):
    """An image too large to decode safely, or not an image at all."""

    exit_code = 1


@dataclass(frozen=True)
class ImageInfo:
    format: str
    width: int
    height: int


def inspect(path: Path, src: str) -> ImageInfo:
    """Format and size from the file's header; refuses bombs and over-budget images before decoding."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # our own budget decides
            with Image.open(path) as image:
                info = ImageInfo(image.format or "?", image.width, image.height)
    except Image.DecompressionBombError:
        raise ImageRefused(TOO_MANY_PIXELS(src=src, width="?", height="?", limit=MAX_PIXELS // 10_000)) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise ImageRefused(UNREADABLE(src=src)) from None
    if info.width * info.height > MAX_PIXELS:
        raise ImageRefused(TOO_MANY_PIXELS(src=src, width=info.width, height=info.height, limit=MAX_PIXELS // 10_000))
    return info


@dataclass(frozen=True)
class Upload:
    filename: str
    data: bytes
    via_material: bool  # True: add_material (covers, GIFs); False: uploadimg

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def body_image(path: Path, src: str | None = None) -> Upload:
    inspect(path, src or path.name)
    data = path.read_bytes()
    with _opened(data) as image:
        kind = image.format
        if kind == "GIF" and len(data) <= MATERIAL_MAX:
            return Upload(path.name, data, via_material=True)
        if kind in ("JPEG", "PNG") and len(data) < UPLOADIMG_MAX:
            return Upload(path.name, data, via_material=False)
        return Upload(_renamed(path, image), _shrink(image, UPLOADIMG_MAX), via_material=False)


def cover_image(path: Path, src: str | None = None) -> Upload:
    inspect(path, src or path.name)
    data = path.read_bytes()
    with _opened(data) as image:
        if image.format in ("JPEG", "PNG", "GIF", "BMP") and len(data) <= MATERIAL_MAX:
            return Upload(path.name, data, via_material=True)
        return Upload(_renamed(path, image), _shrink(image, MATERIAL_MAX), via_material=True)


def _opened(data: bytes) -> Image.Image:
    """An image already measured by `inspect`: within the budget, so Pillow's own bomb warning is noise."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        return Image.open(io.BytesIO(data))


def _renamed(path: Path, image: Image.Image) -> str:
    return path.with_suffix(".png" if _has_alpha(image) else ".jpg").name


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info)


def _shrink(image: Image.Image, limit: int) -> bytes:
    """Re-encode under `limit` bytes, losing as little quality as possible."""
    mode = "RGBA" if _has_alpha(image) else "RGB"
    if max(image.size) > _MAX_EDGE:
        image.draft(mode, (_MAX_EDGE, _MAX_EDGE))  # JPEG decodes straight at a fraction of the size
        image.thumbnail((_MAX_EDGE, _MAX_EDGE))
    frame = image.convert(mode)
    while True:
        for quality in _QUALITIES if frame.mode == "RGB" else (None,):
            buffer = io.BytesIO()
            if quality is None:
                frame.save(buffer, "PNG", optimize=True)
            else:
                frame.save(buffer, "JPEG", quality=quality, optimize=True, progressive=True)
            if buffer.tell() < limit:
                return buffer.getvalue()
        frame = frame.resize((max(frame.width * 3 // 4, 1), max(frame.height * 3 // 4, 1)), Image.Resampling.LANCZOS)
