from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from pipeline import assets, posts
from pipeline.assets import Refusal
from tests.support import front_matter, make_root, write_image, write_post


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    post_folder = tmp_path / "repo" / "content" / "office" / "p"
    post_folder.mkdir(parents=True)
    write_image(post_folder / "a.png")
    write_image(post_folder / "sub" / "b.png")
    return post_folder


@pytest.mark.parametrize("src, refusal", [
    ("a.png", None),
    ("sub/b.png", None),
    ("./a.png", None),
    ("https://example.com/a.png", Refusal.REMOTE),
    ("//example.com/a.png", Refusal.REMOTE),
    ("a\x00.png", Refusal.INVALID),
    ("a\n.png", Refusal.INVALID),
    ("x" * 300 + ".png", Refusal.INVALID),
    ("../secret.png", Refusal.OUTSIDE),
    ("sub/../../secret.png", Refusal.OUTSIDE),
    ("/etc/passwd", Refusal.OUTSIDE),
    ("\\etc\\passwd", Refusal.OUTSIDE),
    ("", Refusal.OUTSIDE),
    ("nope.png", Refusal.MISSING),
    ("a.png/x.png", Refusal.MISSING),
    ("sub", Refusal.NOT_FILE),
])
def test_resolve_refuses_everything_but_a_regular_file_inside(folder: Path, src: str, refusal: Refusal | None) -> None:
    asset = assets.resolve(folder, src)
    assert asset.refusal is refusal
    assert (asset.path is None) == (refusal is not None)


def test_links_anywhere_on_the_way_are_refused(folder: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    write_image(outside / "secret.png")
    os.symlink(outside / "secret.png", folder / "link.png")
    os.symlink(outside, folder / "linked-folder")
    os.symlink(folder / "a.png", folder / "inner-link.png")  # even a link that stays inside
    for src in ("link.png", "linked-folder/secret.png", "inner-link.png"):
        assert assets.resolve(folder, src).refusal is Refusal.LINKED, src


def test_a_fifo_is_not_a_file(folder: Path) -> None:
    os.mkfifo(folder / "pipe.png")
    assert assets.resolve(folder, "pipe.png").refusal is Refusal.NOT_FILE


def _old_folder_digest(folder: Path) -> str:
    """How versions were computed before: every file in the folder."""
    digest = hashlib.sha256()
    for file in sorted(path for path in folder.rglob("*") if path.is_file()):
        digest.update(file.relative_to(folder).as_posix().encode("utf-8") + b"\0")
        digest.update(file.read_bytes() + b"\0")
    return digest.hexdigest()


def test_version_of_a_plain_post_equals_the_recorded_folder_digest(tmp_path: Path) -> None:
    root = make_root(tmp_path)
    file = write_post(root, "正文。\n\n![图](b.png)\n\n![图](sub/c.png)\n", meta=front_matter(cover="a.jpg"))
    for name in ("a.jpg", "b.png", "sub/c.png"):
        write_image(file.parent / name)
    assert assets.version(posts.load_post(file, root)) == _old_folder_digest(file.parent)


def test_version_reads_only_what_the_post_uses(tmp_path: Path) -> None:
    root = make_root(tmp_path)
    file = write_post(root, "正文。\n\n![图](a.png)\n")
    write_image(file.parent / "a.png")
    post = posts.load_post(file, root)
    before = assets.version(post)
    (file.parent / "unused.bin").write_bytes(b"x" * 1000)
    huge = tmp_path / "huge.bin"
    with huge.open("wb") as handle:
        handle.truncate(3 * 1024 ** 3)  # a sparse 3 GB file: reading it would take seconds and gigabytes
    os.symlink(huge, file.parent / "huge-link.bin")
    os.mkfifo(file.parent / "fifo")  # reading a FIFO would block forever
    assert assets.version(post) == before
    write_image(file.parent / "a.png", size=(65, 48))
    assert assets.version(post) != before


def test_version_sees_images_in_footnotes_and_the_cover(tmp_path: Path) -> None:
    root = make_root(tmp_path)
    file = write_post(root, "正文[^1]。\n\n[^1]: ![注图](note.png)\n", meta=front_matter(cover="cover.png"))
    for name in ("note.png", "cover.png"):
        write_image(file.parent / name)
    names = [name for name, _ in assets.used_files(posts.load_post(file, root))]
    assert names == ["cover.png", "index.md", "note.png"]


def test_a_linked_post_or_post_folder_is_not_read(tmp_path: Path) -> None:
    root = make_root(tmp_path)
    outside = tmp_path / "outside"
    secret = write_post(outside, "外部文件。\n")  # a whole post tree outside the repository
    folder = root / "content" / "office" / "linked-file"
    folder.mkdir(parents=True)
    os.symlink(secret, folder / "index.md")
    os.symlink(secret.parent, root / "content" / "office" / "linked-folder")
    for file in (folder / "index.md", root / "content" / "office" / "linked-folder" / "index.md"):
        post = posts.load_post(file, root)
        assert post.meta is None and post.text == "" and "符号链接" in post.problems[0].message
