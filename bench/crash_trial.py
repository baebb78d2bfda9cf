"""The full crash trial: `gzh publish` killed at every API call of a complete run and at 20+ random
moments (inside the ledger's git work, and anywhere in the run), each followed by plain re-runs
until one exits 0; and at the kill points where earlier versions failed (D-crash-1 …).

    .venv/bin/python bench/crash_trial.py [--posts 3] [--git 16] [--delays 8] [--steps all|N] [--pushes all|N]
                                          [--seed N] [--workers 6] [--keep]

Each trial is a fresh copy of the same repository and sandbox: a post with a body image, one with a
cover, one plain that an earlier `--mode draft` run saved as a draft before it was edited (so the
run calls draft/update); the cover post and the plain one share a title. With --posts N the posts
come in such triples. --steps kills right after every (or N random) of the ledger's git processes,
--pushes while every (or N random) of its pushes holds the repository's branch lock. The machinery
is tests/crash_trial_test.py (CI runs a part of it); this prints the table docs/publishing.md shows
(“崩溃演练”) and, for every trial that failed, its ledger events and outputs. Exit status 1 when a
trial failed.
"""
from __future__ import annotations

import argparse
import collections
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from tests.crash_trial_test import (  # noqa: E402
    CI_WORKERS, DEFECT_POINTS, LANDINGS, POSTS, RERUNS, KillPoint, Outcome, Reference, build, delay_points, describe,
    git_points, reference_run, run_trials,
)

KIND_ORDER = {"call": 0, "step": 1, "push": 2, "git": 3, "delay": 4}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=POSTS, help="posts in the repository (default 3)")
    parser.add_argument("--git", type=int, default=16, help="random kills inside ledger git processes (default 16)")
    parser.add_argument("--delays", type=int, default=8, help="kills after a random delay (default 8)")
    parser.add_argument("--steps", default="0", help="kills right after ledger git processes: all, or N random ones")
    parser.add_argument("--pushes", default="0", help="kills inside the pushes' branch lock: all, or N random ones")
    parser.add_argument("--seed", type=int, default=None, help="seed for the random kills (default: a new one)")
    parser.add_argument("--workers", type=int, default=CI_WORKERS, help=f"trials at a time (default {CI_WORKERS})")
    parser.add_argument("--keep", action="store_true", help="keep the trials' folders")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(10**6)
    rng = random.Random(seed)
    started = time.monotonic()
    folder = Path(tempfile.mkdtemp(prefix="gzh-crash-trial-"))
    origin = build(folder / "origin", args.posts)
    reference = reference_run(origin, folder / "reference", args.posts)
    pushes = reference.git.count("push")
    points = [KillPoint(call=k) for k in range(1, len(reference.calls) + 1)]
    known_steps = {point.git_index(reference): point for point in DEFECT_POINTS if point.kind == "step"}
    points += [known_steps.get(g, KillPoint(step=g)) for g in _chosen(args.steps, len(reference.git), rng)]
    points += [KillPoint(push=p) for p in _chosen(args.pushes, pushes, rng)]
    points += git_points(args.git, seed) + delay_points(args.delays, seed)
    points += [point for point in DEFECT_POINTS if point not in points]
    points.sort(key=lambda point: point.kind != "push" and point not in DEFECT_POINTS)  # the slow ones first
    outcomes = run_trials(origin, folder / "trials", points, reference, args.posts, workers=args.workers)
    elapsed = time.monotonic() - started

    options = "".join(f" --{name} {value}" for name, value in (("steps", args.steps), ("pushes", args.pushes))
                      if value != "0")
    command = (f".venv/bin/python bench/crash_trial.py --posts {args.posts} --git {args.git} --delays {args.delays}"
               f"{options} --seed {seed} --workers {args.workers}")
    print(f"命令：`{command}`\n")
    print(f"完整运行（{reference.seconds:.1f} s）的 {len(reference.calls)} 次微信调用："
          + " → ".join(reference.calls) + "\n")
    print(f"账本的 {len(reference.git)} 个 git 进程：" + " ".join(reference.git) + "\n")
    ordered = sorted(outcomes, key=lambda o: (KIND_ORDER[o.point.kind], o.point.call, o.point.step, o.point.push,
                                              o.moment))
    print(table(ordered, reference))
    failed = [outcome for outcome in outcomes if not outcome.ok]
    print(f"\n共 {len(outcomes)} 次演练（{len(reference.calls)} 个调用点，{len(points) - len(reference.calls)} 个账本写入中、"
          f"随机或以前出过问题的中断点）：{len(outcomes) - len(failed)} 次一致，{len(failed)} 次不一致；"
          f"每次最多重跑 {RERUNS} 次；{args.workers} 个演练同时进行，总用时 {elapsed:.0f} s。")
    print("随机中断留下的：" + landing_summary(outcomes))
    for outcome in failed:
        print("\n" + "=" * 100 + "\n不一致：\n" + outcome.report())
    if args.keep:
        print(f"\n演练的文件夹：{folder}")
    else:
        shutil.rmtree(folder, ignore_errors=True)
    return 1 if failed else 0


def _chosen(spec: str, total: int, rng: random.Random) -> list[int]:
    """1 … total for "all", else that many of them at random."""
    if spec == "all":
        return list(range(1, total + 1))
    return sorted(rng.sample(range(1, total + 1), min(int(spec), total)))


def table(outcomes: list[Outcome], reference: Reference) -> str:
    rows = ["| 中断点 | 中断时 | 重跑次数（退出码） | 文章 | 草稿 | 账本 | gzh status | 重复的写调用 | 用时 |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for outcome in outcomes:
        verdict, point = outcome.verdict, outcome.point
        steps = outcome.git_steps
        before = (f"第 {len(outcome.calls_seen)} 次调用（`{outcome.calls_seen[-1]}`）后" if outcome.calls_seen
                  else "调用微信之前")
        landed = describe(outcome.landed, chinese=True)
        if point.kind == "call":
            name, when = f"第 {point.call} 次调用 `{outcome.endpoint}`", f"微信已执行、应答未到；{landed}"
        elif point.kind == "step":
            name = f"第 {len(steps)} 个账本 git 进程（`git {steps[-1] if steps else '?'}`）结束后"
            when = f"{before}；{landed}"
        elif point.kind == "push":
            name, when = f"第 {point.push} 次推送锁住仓库的账本分支时", f"{before}；{landed}"
        elif point.kind == "git":
            index = point.git_index(reference)
            command = f"`git {steps[index - 1]}`" if len(steps) >= index else "git"
            name = f"随机：第 {index} 个账本 git 进程（{command}）开始后 {point.jitter * 1000:.1f} ms"
            when = f"{before}；{landed}"
        else:
            name, when = f"随机：开始后 {outcome.moment:.2f} s", f"{before}；{landed}"
        if not outcome.killed:
            when = "未中断：运行已自行结束"
        if point in DEFECT_POINTS:
            name += f"（曾是 {DEFECT_POINTS[point]}）"
        codes = ", ".join(str(code) for code in outcome.codes[1:])
        status = "—" if verdict.status is None else mark(verdict.status)
        rows.append(f"| {name} | {when} | {outcome.reruns}（{codes}） | {mark(verdict.articles)} | {mark(verdict.drafts)} | "
                    f"{mark(verdict.ledger)} | {status} | {outcome.repeated} | {outcome.seconds:.1f} s |")
    return "\n".join(rows)


def mark(good: bool) -> str:
    return "✓" if good else "✗"


def landing_summary(outcomes: list[Outcome]) -> str:
    counts: collections.Counter[str] = collections.Counter()
    for outcome in outcomes:
        if outcome.point.kind not in ("git", "delay"):
            continue
        if not outcome.killed:
            counts["未中断"] += 1
            continue
        for tag, _ in outcome.landed:
            counts[LANDINGS[tag][1].split("（")[0].replace("{} 个", "")] += 1
    return "，".join(f"{name} {count} 次" for name, count in counts.most_common()) or "—"


if __name__ == "__main__":
    sys.exit(main())
