"""Regenerate golden files after an intended change: `python -m tests.regen [broken] [render] [workflows] [images]`.

Run it only when the new output is what you meant, then review the diff before committing.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml

from tests.broken_corpus import EXPECTED, findings_by_post
from tests.render_golden import CASES, case_names, render_case
from tests.support import PROJECT


def regen_broken(tmp: Path) -> None:
    header = EXPECTED.read_text("utf-8").split("\n\n", 1)[0].split("posts:")[0].rstrip() + "\n"
    data = {"posts": findings_by_post(tmp)}
    EXPECTED.write_text(header + yaml.safe_dump(data, allow_unicode=True, sort_keys=True), "utf-8")
    print(f"wrote {EXPECTED}")


def regen_render(tmp: Path) -> None:
    for name in case_names():
        (CASES / f"{name}.html").write_text(render_case(tmp / name, name), "utf-8")
    print(f"wrote {len(case_names())} files in {CASES}")


def regen_workflows() -> None:
    """Write the Gitea copies, then record the shipped workflows' digests for gzh doctor."""
    from pipeline.commands.doctor import WORKFLOWS_DIR, workflow_digests
    from pipeline.workflows import GITEA_DIR, GITEA_WORKFLOWS, GITHUB_DIR, gitea_copy

    for name in GITEA_WORKFLOWS:
        target = PROJECT / GITEA_DIR / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(gitea_copy(name, (PROJECT / GITHUB_DIR / name).read_text("utf-8")), "utf-8")
    digests = workflow_digests(PROJECT / WORKFLOWS_DIR)
    target = PROJECT / "pipeline" / "data" / "workflows.json"
    target.write_text(json.dumps(digests, indent=2, sort_keys=True) + "\n", "utf-8")
    print(f"wrote {target}")


def regen_images(tmp: Path) -> None:
    """The pictures in docs/guide.md, taken from the real preview and a real gate comment."""
    from markdown_it import MarkdownIt
    from PIL import Image

    from pipeline import browser, posts, preview
    from tests.support import policy

    images = PROJECT / "docs" / "images"
    images.mkdir(exist_ok=True)
    files = posts.discover([PROJECT / "content"])[0]
    preview.build_site(PROJECT, policy(PROJECT), files, tmp / "site")
    page = tmp / "site" / "posts" / "grassroots" / "2026-11-12-grassroots-exchange" / "index.html"
    comment = tmp / "comment.html"
    comment.write_text(_gate_comment_page(MarkdownIt("commonmark").enable("table")), "utf-8")
    with browser.Browser() as chromium:
        for source, name in ((page, "preview-post.png"), (tmp / "site" / "index.html", "preview-index.png"),
                             (comment, "gate-comment.png")):
            chromium.inspect(source.as_uri(), tmp / name)
            with Image.open(tmp / name) as shot:
                shot.crop((0, 0, shot.width, min(shot.height, 1800))).save(images / name, optimize=True)
    print(f"wrote {images}")


def _gate_comment_page(markdown) -> str:
    import tempfile

    from tests.support import PullScenario

    with tempfile.TemporaryDirectory() as folder:
        scenario = PullScenario(Path(folder), "github")
        try:
            import os

            os.environ.update(scenario.forge.environment())
            scenario.approve("li-na", "sun-hao")
            scenario.forge.review(1, "chen-gang", "APPROVED")
            scenario.gate()
            body = scenario.comment()
        finally:
            scenario.close()
    style = ("body{font-family:sans-serif;font-size:14px;padding:12px;margin:0}table{border-collapse:collapse;"
             "font-size:12px}td,th{border:1px solid #ddd;padding:4px}")
    return (f"<!doctype html><meta charset=utf-8><meta name=viewport content='width=device-width'>"
            f"<style>{style}</style>{markdown.render(body)}")


def main(argv: list[str]) -> int:
    import tempfile

    targets = argv or ["broken", "render", "workflows"]
    if "workflows" in targets:
        regen_workflows()
    with tempfile.TemporaryDirectory() as folder:
        if "broken" in targets:
            regen_broken(Path(folder) / "broken")
        if "render" in targets:
            regen_render(Path(folder) / "render")
        if "images" in targets:  # not by default: it needs Chromium
            regen_images(Path(folder))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
