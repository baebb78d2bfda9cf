"""Phone images of a pull request's posts, for the approval comment: reviewers decide on a phone.

Each post is rendered as the preview shows it (the base branch's templates, sanitised HTML), opened
in Chromium at 375 px with JavaScript off and nothing but local files loaded, and its article
photographed; the picture is cut into screens so a long article arrives piece by piece on a phone.
The cover is shrunk to a thumbnail. These run in the trusted gate on a pull request's text, which is
why the page is kept inert (pipeline.browser: offline). `gallery` puts them on the pull request's
own preview branch (`gzh-preview-pr-N`, one commit, replaced on each new head), where only members of
the repository can open them, and hands the comment their addresses.
"""
from __future__ import annotations

import io
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Callable, Sequence

from PIL import Image

from pipeline import assets, browser, media, preview, render
from pipeline.comment import MAX_POSTS_SHOWN, Gallery, Pictures, earlier_gallery
from pipeline.errors import GzhError
from pipeline.forge import Forge
from pipeline.gate import GateReport, own_sticky
from pipeline.gitrefs import open_repo, push_files
from pipeline.i18n import Text
from pipeline.policy import Policy
from pipeline.posts import CONTENT_DIR, POST_FILE, Post
from pipeline.referrals import Comment

SCREEN_HEIGHT = 1600       # pixels of one screen (800 CSS px at twice the pixels: about a phone's screen)
MAX_SCREENS = 12           # a longer article ends with a note; the whole is in the preview
COVER_WIDTH = 360          # the thumbnail's width in pixels (shown at 120 CSS px)
ARTICLE = "article.phone"  # what is photographed of the preview page


@dataclass(frozen=True)
class Snapshot:
    bundle: str
    screens: tuple[bytes, ...]   # PNG, 750 px wide, top to bottom
    cut: bool                    # more screens than MAX_SCREENS: the rest left out
    cover: bytes | None          # JPEG thumbnail, or None when the cover cannot be read


def take(root: Path, policy: Policy, posts: Sequence[Post]) -> list[Snapshot]:
    """Snapshots of `posts` (loaded from `root`, which holds templates/ too); Chromium must be installed."""
    with tempfile.TemporaryDirectory() as folder, browser.Browser(offline=True) as chromium:
        site = Path(folder) / "site"
        pages = preview.build_site(root, policy, [post.folder / POST_FILE for post in posts], site)
        shots = []
        for index, page in enumerate(pages):
            png = Path(folder) / f"{index}.png"
            chromium.shoot((site / page.page).as_uri(), ARTICLE, png)
            screens = screens_of(png.read_bytes())
            shots.append(Snapshot(page.post.bundle, screens[:MAX_SCREENS], len(screens) > MAX_SCREENS,
                                  _thumbnail(page.post, root, page.rendered)))
        return shots


def screens_of(png: bytes) -> tuple[bytes, ...]:
    """The picture cut into SCREEN_HEIGHT-pixel screens, each a PNG of its own."""
    with Image.open(io.BytesIO(png)) as image:
        image.load()
        screens = []
        for top in range(0, image.height, SCREEN_HEIGHT):
            piece = image.crop((0, top, image.width, min(image.height, top + SCREEN_HEIGHT)))
            screens.append(_encoded(piece, "PNG"))
        return tuple(screens)


def _thumbnail(post: Post, root: Path, rendered: render.Rendered | None) -> bytes | None:
    """The cover as the article list shows it, small; None when the checks already say it cannot be used."""
    try:
        path, shown = assets.cover_file(post, root, rendered.images if rendered else ())
        media.inspect(path, shown)  # its size is measured before any pixel is decoded
        with Image.open(path) as image:
            image.thumbnail((COVER_WIDTH, COVER_WIDTH * 4))
            return _encoded(image.convert("RGB"), "JPEG")
    except (assets.AssetRefused, media.ImageRefused, OSError):
        return None


def _encoded(image: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, optimize=True, **({"quality": 85} if fmt == "JPEG" else {}))
    return out.getvalue()


PREVIEW_BRANCH = "gzh-preview-pr-{number}"
_NO_CHROMIUM = Text("运行审批的机器上没有 Chromium", "no Chromium where the gate runs")


def gallery(root: Path, forge: Forge, report: GateReport, policy: Policy, comments: list[Comment],
            workdir: Path, remote: str, *, take_new: bool = True) -> Gallery | None:
    """The pictures of the pull request's posts at its head, on its preview branch of the repository.

    The same head's pictures from an earlier run are reused (the gate runs on every review and
    comment); otherwise the posts exported into `workdir` by the gate are photographed and pushed,
    replacing the branch. A picture that cannot be made leaves the comment without it, with the reason.
    Without `take_new` only an earlier run's pictures are kept (None if there are none).
    """
    head, branch = report.pr.head_sha, PREVIEW_BRANCH.format(number=report.pr.number)
    folder = head[:12]
    earlier = earlier_gallery(own_sticky(comments, forge.login), head, forge.raw_url(branch, f"{folder}/"))
    if earlier is not None:
        return earlier
    if not take_new:
        return None
    shown = [post for post in report.posts if post.meta is not None][:MAX_POSTS_SHOWN]
    if not shown:
        return Gallery(head, {})
    if browser.chromium_path() is None:
        return Gallery(head, {}, _NO_CHROMIUM())
    try:
        shots = take(workdir, policy, shown)
        files, pictures = _laid_out(shots, folder, lambda path: forge.raw_url(branch, path))
        push_files(open_repo(root), remote, branch, files, f"预览 #{report.pr.number} {folder}")
    except GzhError as error:
        return Gallery(head, {}, str(error))
    return Gallery(head, pictures)


def _laid_out(shots: list[Snapshot], folder: str, url: Callable[[str], str]) -> tuple[dict[str, bytes], dict[str, Pictures]]:
    """Files for the preview branch (`<head>/<post>/NN.png`, `cover.jpg`) and their addresses."""
    files: dict[str, bytes] = {}
    pictures: dict[str, Pictures] = {}
    for shot in shots:
        place = f"{folder}/{PurePosixPath(shot.bundle).relative_to(CONTENT_DIR).as_posix().replace('/', '--')}"
        screens = []
        for number, data in enumerate(shot.screens, 1):
            files[f"{place}/{number:02}.png"] = data
            screens.append(url(f"{place}/{number:02}.png"))
        cover = ""
        if shot.cover is not None:
            files[f"{place}/cover.jpg"] = shot.cover
            cover = url(f"{place}/cover.jpg")
        pictures[shot.bundle] = Pictures(tuple(screens), shot.cut, cover)
    return files, pictures
