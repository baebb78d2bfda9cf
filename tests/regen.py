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
    """The pictures in docs/guide.md, taken from the real preview and from the real gate comment on
    each forge fake, as a signed-in leader's phone (375 px) shows the pull request."""
    from PIL import Image

    from pipeline import browser, posts, preview
    from tests.support import policy

    images = PROJECT / "docs" / "images"
    images.mkdir(exist_ok=True)
    files = posts.discover([PROJECT / "content"])[0]
    preview.build_site(PROJECT, policy(PROJECT), files, tmp / "site")
    page = tmp / "site" / "posts" / "grassroots" / "2026-11-12-grassroots-exchange" / "index.html"
    with browser.Browser() as chromium:
        for source, name in ((page, "preview-post.png"), (tmp / "site" / "index.html", "preview-index.png")):
            chromium.inspect(source.as_uri(), tmp / name)
            _save_top(tmp / name, images / name, 1800)
    for flavour in ("github", "gitea"):
        shot = tmp / f"gate-comment-{flavour}.png"
        _gate_comment_screenshot(tmp / flavour, flavour, shot)
        _save_top(shot, images / f"gate-comment-{flavour}.png", 9000)
        for name in _submission_screenshots(tmp / f"submit-{flavour}", flavour):
            _save_top(name, images / name.name, 9000)
    print(f"wrote {images}")


def _save_top(source: Path, target: Path, height: int) -> None:
    from PIL import Image

    with Image.open(source) as shot:
        shot.crop((0, 0, shot.width, min(shot.height, height))).save(target, optimize=True)


def _gate_comment_screenshot(folder: Path, flavour: str, out: Path) -> None:
    """A pull request adding a sample post with photos, two tiers approved, a non-member's approval,
    `gzh gate --pictures` (pictures pushed to the fake's repository), then its page at 375 px."""
    import os
    import shutil

    import git

    from pipeline.commands.gate import gate_command
    from tests.forge_pages import screenshot_pull
    from tests.support import PullScenario

    scenario = PullScenario(folder, flavour)
    try:
        sample = PROJECT / "content" / "office" / "2026-09-18-tenth-plenary-session"
        target = scenario.post.parent
        shutil.rmtree(target)
        shutil.copytree(sample, target)
        changed = [path.relative_to(scenario.root).as_posix() for path in sorted(target.iterdir())]
        scenario.forge.push(1, scenario.commit("全委会议报道"), changed)
        remote = git.Repo.init(folder / "remote.git", bare=True)
        scenario.repo.create_remote("origin", remote.git_dir)
        scenario.forge.git_dir = Path(remote.git_dir)
        saved = dict(os.environ)
        os.environ.update(scenario.forge.environment())
        try:
            scenario.approve("li-na", "sun-hao")
            scenario.forge.review(1, "chen-gang", "APPROVED")
            assert gate_command(scenario.root, 1, pictures=True) == 0
        finally:
            os.environ.clear()
            os.environ.update(saved)
        report = screenshot_pull(scenario.forge, 1, out, login="wang-jun")
        assert report.broken_images == (), report
    finally:
        scenario.close()


def _submission_screenshots(folder: Path, flavour: str) -> list[Path]:
    """The form 提交稿件 as a clerk's phone shows it, and the issue after gzh answered (a photo dragged in)."""
    import os

    from pipeline.commands.submit import submit_command
    from tests.forge_pages import screenshot_page
    from tests.support import Rehearsal, submission_body

    folder.mkdir(parents=True)
    rehearsal = Rehearsal(folder, flavour)
    saved = dict(os.environ)
    try:
        forge = rehearsal.forge
        forge.git_dir = rehearsal.remote
        forge.collaborators.add("zhang-wei")  # the clerk: a member of the repository
        os.environ.update(forge.environment())
        form, reply = folder / f"submit-form-{flavour}.png", folder / f"submit-reply-{flavour}.png"
        assert screenshot_page(forge, forge.new_issue_url("submit-post.yml"), form, login="zhang-wei").broken_images == ()
        photo = PROJECT / "content" / "office" / "2026-09-18-tenth-plenary-session" / "photo-1.jpg"
        dragged = forge.attachment_markdown(forge.attach(photo.read_bytes(), photo.name), photo.name)
        body = "9月17日，扬州市总工会召开十届五次全委会议。\n\n" + dragged
        issue = forge.open_issue("zhang-wei", "稿件：全委会议", submission_body(body=body), ["稿件"])
        assert submit_command(rehearsal.clone("ci-submit"), issue["number"]) == 0
        assert screenshot_page(forge, forge.issue_url(issue["number"]), reply, login="zhang-wei").broken_images == ()
        return [form, reply]
    finally:
        os.environ.clear()
        os.environ.update(saved)
        rehearsal.close()


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
