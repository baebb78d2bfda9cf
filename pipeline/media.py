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
import math
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

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
_KEEPS_FORMAT = Text(
    "图片“{src}”是 {kind} 格式，gzh 只能在保持格式的前提下缩小 jpg 和 png（动图缩小会失去动画）。请用看图或修图软件把它另存为较小的文件",
    "Image '{src}' is {kind}; gzh shrinks only jpg and png in their own format (a GIF would lose its animation). "
    "Save a smaller copy with an image editor")


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


def limit(kind: str, *, cover: bool = False) -> int:
    """The most bytes WeChat takes for this image as it is: a cover or a GIF goes to add_material,
    any other body image to uploadimg."""
    return MATERIAL_MAX if cover or kind == "GIF" else UPLOADIMG_MAX


def fits(size: int, kind: str, *, cover: bool = False) -> bool:
    """Whether WeChat takes a file of `size` bytes as it is."""
    if limit(kind, cover=cover) == MATERIAL_MAX:
        return size <= MATERIAL_MAX  # add_material: up to 10 MB
    return size < UPLOADIMG_MAX  # uploadimg: under 1 MB


def megabytes(size: int) -> str:
    """A file size as people say it: 0.95 MB, 7 MB, 41.3 MB. Rounded up (two decimals below 10 MB), so
    a file over a limit never reads as the limit itself."""
    scale = 100 if size < 10 * 1024 * 1024 else 10
    value = math.ceil(size * scale / 1024 / 1024) / scale
    return f"{value:.2f}".rstrip("0").rstrip(".") + " MB"


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
        if kind == "GIF" and fits(len(data), kind):
            return Upload(path.name, data, via_material=True)
        if kind in ("JPEG", "PNG") and fits(len(data), kind):
            return Upload(path.name, data, via_material=False)
        return Upload(_renamed(path, image), _shrink(image, UPLOADIMG_MAX, _upload_kind(image)), via_material=False)


def cover_image(path: Path, src: str | None = None) -> Upload:
    inspect(path, src or path.name)
    data = path.read_bytes()
    with _opened(data) as image:
        if image.format in ("JPEG", "PNG", "GIF", "BMP") and fits(len(data), image.format, cover=True):
            return Upload(path.name, data, via_material=True)
        return Upload(_renamed(path, image), _shrink(image, MATERIAL_MAX, _upload_kind(image)), via_material=True)


@dataclass(frozen=True)
class Shrunk:
    """What `shrink_file` did: the file's bytes before and after, its pixels after, the limit it now meets."""

    before: int
    after: int
    size: tuple[int, int]   # pixels after
    limit: int


def shrink_file(path: Path, src: str, *, cover: bool = False) -> Shrunk:
    """Rewrite an image WeChat would not take as it is, under the limit for its use (`gzh check --fix`).

    The file keeps its format, so its name and every reference to it stay right: a JPEG stays a
    JPEG, a PNG a PNG. It is never enlarged, is measured by `inspect` before any pixel is decoded,
    and is replaced only once the smaller copy is complete. A GIF is refused: shrinking would
    drop its animation. Raises ImageRefused.
    """
    kind = inspect(path, src).format
    if kind not in ("JPEG", "PNG"):
        raise ImageRefused(_KEEPS_FORMAT(src=src, kind=kind.lower()))
    data = path.read_bytes()
    most = limit(kind, cover=cover)
    with _opened(data) as image:
        smaller = _shrink(image, most, kind)
    partial = path.with_name(f".{path.name}.gzh-partial")
    partial.write_bytes(smaller)
    partial.replace(path)
    with _opened(smaller) as result:
        return Shrunk(len(data), len(smaller), result.size, most)


def _opened(data: bytes) -> Image.Image:
    """An image already measured by `inspect`: within the budget, so Pillow's own bomb warning is noise."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        return Image.open(io.BytesIO(data))


def _renamed(path: Path, image: Image.Image) -> str:
    return path.with_suffix(".png" if _upload_kind(image) == "PNG" else ".jpg").name


def _upload_kind(image: Image.Image) -> str:
    """What publishing re-encodes an image as: PNG keeps transparency, JPEG is smaller for the rest."""
    return "PNG" if _has_alpha(image) else "JPEG"


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info)


def _shrink(image: Image.Image, limit: int, kind: str) -> bytes:
    """Re-encode as `kind` (JPEG or PNG) under `limit` bytes, losing as little quality as possible."""
    mode = "RGBA" if kind == "PNG" and _has_alpha(image) else "RGB"
    # Colours as the camera meant them; a CMYK or grey profile would not describe the RGB written here.
    icc = image.info.get("icc_profile") if image.mode in ("RGB", "RGBA") else None
    if max(image.size) > _MAX_EDGE:
        image.draft("RGB", (_MAX_EDGE, _MAX_EDGE))  # JPEG decodes straight at a fraction of the size
        image.thumbnail((_MAX_EDGE, _MAX_EDGE))
    # A phone photo is stored sideways with an orientation tag; re-encoding drops the tag, so turn the pixels.
    frame = ImageOps.exif_transpose(image).convert(mode)
    while True:
        for quality in _QUALITIES if kind == "JPEG" else (None,):
            buffer = io.BytesIO()
            if quality is None:
                frame.save(buffer, "PNG", optimize=True, icc_profile=icc)
            else:
                frame.save(buffer, "JPEG", quality=quality, optimize=True, progressive=True, icc_profile=icc)
            if buffer.tell() < limit:
                return buffer.getvalue()
        frame = frame.resize((max(frame.width * 3 // 4, 1), max(frame.height * 3 // 4, 1)), Image.Resampling.LANCZOS)
