"""Images made acceptable to WeChat before upload, with Pillow.

Body images go to media/uploadimg, which takes jpg or png under 1 MB: larger ones are
re-encoded (JPEG quality steps, then downscaling) until they fit; GIFs keep their animation by
going to permanent material instead. Covers go to add_material (up to 10 MB, jpg/png/gif/bmp).
"""
from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

UPLOADIMG_MAX = 1024 * 1024
MATERIAL_MAX = 10 * 1024 * 1024
_QUALITIES = (92, 88, 84, 80, 75, 70)
_MAX_EDGE = 2560  # wider than any phone shows at 3x; keeps re-encoding quick


@dataclass(frozen=True)
class Upload:
    filename: str
    data: bytes
    via_material: bool  # True: add_material (covers, GIFs); False: uploadimg

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def body_image(path: Path) -> Upload:
    data = path.read_bytes()
    with Image.open(io.BytesIO(data)) as image:
        kind = image.format
        if kind == "GIF" and len(data) <= MATERIAL_MAX:
            return Upload(path.name, data, via_material=True)
        if kind in ("JPEG", "PNG") and len(data) < UPLOADIMG_MAX:
            return Upload(path.name, data, via_material=False)
        return Upload(_renamed(path, image), _shrink(image, UPLOADIMG_MAX), via_material=False)


def cover_image(path: Path) -> Upload:
    data = path.read_bytes()
    with Image.open(io.BytesIO(data)) as image:
        if image.format in ("JPEG", "PNG", "GIF", "BMP") and len(data) <= MATERIAL_MAX:
            return Upload(path.name, data, via_material=True)
        return Upload(_renamed(path, image), _shrink(image, MATERIAL_MAX), via_material=True)


def _renamed(path: Path, image: Image.Image) -> str:
    return path.with_suffix(".png" if _has_alpha(image) else ".jpg").name


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info)


def _shrink(image: Image.Image, limit: int) -> bytes:
    """Re-encode under `limit` bytes, losing as little quality as possible."""
    frame = image.convert("RGBA" if _has_alpha(image) else "RGB")
    if max(frame.size) > _MAX_EDGE:
        frame.thumbnail((_MAX_EDGE, _MAX_EDGE))
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
