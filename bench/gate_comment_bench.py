"""Time from a pull request event to the approval comment with the article's pictures, as the gate
workflow does it: check out the base branch, install gzh from the pip cache, run `gzh gate --pictures`.

    .venv/bin/python bench/gate_comment_bench.py [--runs 3] [--flavour github|gitea] [--post content/…]

The pull request adds one of the sample posts (with its images) on a forge fake with a bare git
remote, as tests/rehearsal_test.py does. Each phase is timed on its own, `--runs` times, and the
medians are printed: the install into a fresh virtual environment with pip's cache warm (what
actions/setup-python's pip cache gives a runner), the checkout, and the gate itself, with pictures
(Chromium photographing the post, the preview branch pushed) and without (reusing them).
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from tests.forge_fake import TOKEN  # noqa: E402
from tests.support import PullScenario, Rehearsal  # noqa: E402


def timed(command: list[str], **kwargs: object) -> float:
    started = time.monotonic()
    subprocess.run(command, check=True, capture_output=True, **kwargs)  # type: ignore[call-overload]
    return time.monotonic() - started


def open_pull(rehearsal: Rehearsal, sample: Path) -> None:
    rehearsal.dept.git.checkout("-b", "dept/news")
    target = rehearsal.tmp / "seed" / "content" / sample.parent.name / sample.name
    shutil.copytree(sample, target)
    rehearsal.dept.git.add(A=True)
    rehearsal.dept.index.commit("一篇带图片的文章")
    head = rehearsal.push_pull_head()
    files = [path.relative_to(rehearsal.tmp / "seed").as_posix() for path in target.rglob("*") if path.is_file()]
    rehearsal.forge.open_pull(1, PullScenario.AUTHOR, head, rehearsal.dept.commit("main").hexsha, files)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--flavour", default="github", choices=("github", "gitea"))
    parser.add_argument("--post", default="content/economy/2026-10-20-skills-competition-final")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="gzh-gate-bench-"))
    rehearsal = Rehearsal(folder, args.flavour)
    try:
        open_pull(rehearsal, PROJECT / args.post)
        venv = folder / "venv"
        pip = [str(venv / "bin" / "pip"), "install", "--quiet", f"{PROJECT}[browser]"]
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(pip, check=True, capture_output=True)  # warms pip's cache, as an earlier run of the workflow did
        installs, checkouts, pictures, reused = [], [], [], []
        env = {**os.environ, **rehearsal.environment, "GZH_FORGE_TOKEN": TOKEN}
        for run in range(args.runs):
            shutil.rmtree(venv)
            installs.append(timed([sys.executable, "-m", "venv", str(venv)]) + timed(pip))
            workdir = folder / f"checkout-{run}"
            checkouts.append(timed(["git", "clone", "--quiet", str(rehearsal.remote), str(workdir)]))
            subprocess.run(["git", "-C", str(rehearsal.remote), "update-ref", "-d", "refs/heads/gzh-preview-pr-1"], check=True)
            for comment in rehearsal.forge.pulls[1].comments:
                comment["body"] = "（旧评论）"
            gate = [str(venv / "bin" / "gzh"), "--root", str(workdir), "gate", "--pr", "1"]
            pictures.append(timed([*gate, "--pictures"], env=env))
            reused.append(timed([*gate, "--pictures"], env=env))
        assert "01.png" in rehearsal.forge.sticky(1)[0], "the comment has no pictures"
    finally:
        rehearsal.close()
        shutil.rmtree(folder, ignore_errors=True)
    median = statistics.median
    total = median(installs) + median(checkouts) + median(pictures)
    print(f"命令：`.venv/bin/python bench/gate_comment_bench.py --runs {args.runs} --flavour {args.flavour} --post {args.post}`")
    print(f"{os.cpu_count()} 核，每项取 {args.runs} 次的中位数（秒）：\n")
    print("| 阶段 | 中位数 | 各次 |\n| --- | --- | --- |")
    for name, values in (("安装 gzh[browser]（新的虚拟环境，pip 缓存已热）", installs), ("检出目标分支", checkouts),
                         ("gzh gate --pictures（拍照、推送预览分支、发评论）", pictures),
                         ("同一提交再次核对（沿用图片）", reused)):
        print(f"| {name} | {median(values):.1f} | {' / '.join(f'{value:.1f}' for value in values)} |")
    print(f"\n从事件到带图片的评论：含安装 {total:.1f} 秒，不含安装 {total - median(installs):.1f} 秒。")
    return 0


if __name__ == "__main__":
    sys.exit(main())
