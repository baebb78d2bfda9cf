"""Rules on images: each must be a file inside the post's own folder that WeChat can take.

WeChat shows only images it hosts, so every image is uploaded at publish time: body images
through media/uploadimg (jpg/png under 1 MB), GIFs and the cover as permanent material (up to 10 MB).
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterator
from urllib.parse import urlsplit

from pipeline import assets, media
from pipeline.assets import Refusal, shown
from pipeline.checks.model import Hit, ImageRef, PostView, Severity, ShrinkImage, rule
from pipeline.i18n import Text

ACCEPTED_FORMATS = {"JPEG": "jpg", "PNG": "png", "GIF": "gif"}
WECHAT_HOSTED = ("mmbiz.qpic.cn", "mmbiz.qlogo.cn")

_REMOTE = Text(
    "微信会过滤外部网站的图片，读者将看不到“{src}”。请下载这张图片，放进文章文件夹，再用文件名引用，例如 ![说明](photo.jpg)",
    "WeChat filters images from other sites; readers would not see '{src}'. Download it into the post folder "
    "and reference it by file name")
_OUTSIDE = Text(
    "图片“{src}”不在本文的文件夹里。请把图片复制到 index.md 所在的文件夹，并用相对路径引用（不要用 ..、/ 开头的路径或链接）",
    "Image '{src}' is outside the post folder. Copy it next to index.md and use a relative path "
    "(no '..', no leading '/', no symbolic links)")
_MISSING = Text("找不到图片文件“{src}”。请检查文件名（区分大小写）是否与文件夹中的一致",
                "Image file '{src}' not found. Check the file name (case-sensitive)")
_NOT_FILE = Text("“{src}”不是图片文件（可能是文件夹）。请引用文件夹里的图片文件本身",
                 "'{src}' is not an image file (perhaps a folder); reference the image file itself")
_INVALID_NAME = Text("图片路径“{src}”含有控制字符或系统无法使用的名称。请把图片改成普通文件名（字母、数字或中文）再引用",
                     "Image path '{src}' holds control characters or an unusable name; rename the file plainly")
_FORMAT = Text("图片“{src}”是 {found} 格式，微信只接受 jpg、png 或 gif。请另存为 jpg 或 png",
               "Image '{src}' is {found}; WeChat takes jpg, png or gif. Save it as jpg or png")
_OVERSIZE = Text(
    "图片“{src}”有 {size}，超过微信{kind}的上限 {limit}。发布时会自动压缩到上限以内，清晰度可能下降。"
    "运行 gzh check --fix 可以现在就缩小这张图片（格式和文件名不变），缩小后请打开看一看是否清楚",
    "Image '{src}' is {size}, over WeChat's {kind} limit of {limit}. Publishing compresses it under the limit, "
    "perhaps less sharp. gzh check --fix shrinks it now (same format and name); then look at it")
_OVERSIZE_GIF = Text(
    "图片“{src}”有 {size}，超过微信{kind}的上限 {limit}。发布时会压缩成一张静止的图片，动画会丢失。"
    "请用看图或修图软件另存为 {limit} 以内的文件",
    "Image '{src}' is {size}, over WeChat's {kind} limit of {limit}. Publishing turns it into a still picture; "
    "the animation is lost. Save a copy under {limit} with an image editor")
_BODY_KIND = Text("正文图片", "body image")
_GIF_KIND = Text("动图", "GIF")
_COVER_KIND = Text("封面", "cover")


def _local_images(view: PostView) -> Iterator[tuple[ImageRef, Path]]:
    """Images that resolve to a regular file inside the post folder (see pipeline.assets)."""
    for ref in view.images:
        asset = assets.resolve(view.post.folder, ref.src)
        if asset.path is not None:
            yield ref, asset.path


def _refused(view: PostView, reasons: frozenset[Refusal]) -> Iterator[tuple[ImageRef, Refusal]]:
    for ref in view.images:
        refusal = assets.resolve(view.post.folder, ref.src).refusal
        if refusal in reasons:
            yield ref, refusal


@rule("image-remote", Severity.ERROR, Text("图片不引用外部网站", "No images from other sites"),
      name=Text("外部图片", "remote image"))
def image_remote(view: PostView) -> Iterator[Hit]:
    for ref, _ in _refused(view, frozenset({Refusal.REMOTE})):
        if urlsplit(ref.src).hostname not in WECHAT_HOSTED:
            yield Hit(ref.location, _REMOTE(src=shown(ref.src)))


@rule("image-outside-post", Severity.ERROR, Text("图片在文章自己的文件夹内", "Images stay inside the post folder"),
      name=Text("文件夹外的图片", "image outside the post"))
def image_outside_post(view: PostView) -> Iterator[Hit]:
    for ref, _ in _refused(view, frozenset({Refusal.OUTSIDE, Refusal.LINKED})):
        yield Hit(ref.location, _OUTSIDE(src=shown(ref.src)))


@rule("image-missing", Severity.ERROR, Text("引用的图片文件存在", "Referenced image files exist"),
      name=Text("缺少图片", "missing image"))
def image_missing(view: PostView) -> Iterator[Hit]:
    messages = {Refusal.MISSING: _MISSING, Refusal.NOT_FILE: _NOT_FILE, Refusal.INVALID: _INVALID_NAME}
    for ref, refusal in _refused(view, frozenset(messages)):
        yield Hit(ref.location, messages[refusal](src=shown(ref.src)))


@rule("image-format", Severity.ERROR, Text("图片是 jpg、png 或 gif，像素在处理上限内",
                                             "Images are jpg, png or gif within the pixel budget"),
      name=Text("图片格式", "image format"))
def image_format(view: PostView) -> Iterator[Hit]:
    for ref, path in _local_images(view):
        try:
            found = media.inspect(path, shown(ref.src)).format
        except media.ImageRefused as refused:
            yield Hit(ref.location, str(refused))
            continue
        if found not in ACCEPTED_FORMATS:
            yield Hit(ref.location, _FORMAT(src=shown(ref.src), found=found.lower()))


# A warning, not an error: publishing re-encodes any image within the pixel budget under WeChat's
# limit (pipeline.media), so a large file never stops an article. What it may cost is sharpness (or
# a GIF's animation), which people should see before readers do: the message gives both figures and
# what to do, --fix shrinks a jpg or png now, and the summary does not say 全部通过 over a warning.
@rule("image-oversize", Severity.WARNING, Text("图片不超过微信的大小上限", "Images within WeChat's size limits"),
      name=Text("图片大小", "image size"))
def image_oversize(view: PostView) -> Iterator[Hit]:
    for ref, path in _local_images(view):
        try:
            found = media.inspect(path, shown(ref.src)).format
        except media.ImageRefused:
            continue  # image-format reports it
        size = path.stat().st_size
        if found not in ACCEPTED_FORMATS or media.fits(size, found, cover=ref.is_cover):
            continue  # another format is image-format's error
        kind = _COVER_KIND() if ref.is_cover else _GIF_KIND() if found == "GIF" else _BODY_KIND()
        figures = dict(src=shown(ref.src), size=media.megabytes(size), kind=kind,
                       limit=media.megabytes(media.limit(found, cover=ref.is_cover)))
        if found == "GIF":
            yield Hit(ref.location, _OVERSIZE_GIF(**figures))
        else:
            yield Hit(ref.location, _OVERSIZE(**figures), fix=ShrinkImage(path, shown(ref.src), ref.is_cover))
