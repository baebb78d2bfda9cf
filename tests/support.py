"""Shared test builders: a policy, temporary repositories, posts, images, git history, forge
scenarios, the whole-path rehearsal, and running a workflow step as the runner would."""
from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import sys
import textwrap
import zlib
from pathlib import Path
from typing import Any

import git
import yaml
from PIL import Image

from pipeline import posts
from pipeline.checks import PostReport, check_post
from pipeline.policy import Policy, load_policy

PROJECT = Path(__file__).resolve().parent.parent
RESOURCES = Path(__file__).resolve().parent / "resources"
POLICY_TEXT = (PROJECT / "gzh.yml").read_text("utf-8")

FRONT_MATTER: dict[str, Any] = {
    "title": "市总工会召开全委会议",
    "author": "办公室",
    "category": "news",
    "secrecy": {"conclusion": "可以公开", "reviewer": "li-na", "basis": "公开的会议报道，不含涉密信息"},
}


def make_root(tmp_path: Path, policy_text: str = POLICY_TEXT) -> Path:
    """A repository folder with the shipped policy and templates and an empty content/ folder."""
    root = tmp_path / "repo"
    (root / posts.CONTENT_DIR).mkdir(parents=True)
    (root / "gzh.yml").write_text(policy_text, "utf-8")
    shutil.copytree(PROJECT / "templates", root / "templates")
    return root


def front_matter(**changes: Any) -> dict[str, Any]:
    """The default front matter with fields replaced; a value of None removes the field."""
    data = {**FRONT_MATTER, **changes}
    return {key: value for key, value in data.items() if value is not None}


def post_text(body: str = "市总工会召开全委会议。\n", meta: dict[str, Any] | None = None) -> str:
    header = yaml.safe_dump(meta if meta is not None else FRONT_MATTER, allow_unicode=True, sort_keys=False)
    return f"---\n{header}---\n\n{textwrap.dedent(body)}"


def write_post(root: Path, body: str = "市总工会召开全委会议。\n", *, department: str = "office",
               slug: str = "2026-11-28-meeting", meta: dict[str, Any] | None = None, text: str | None = None) -> Path:
    folder = root / posts.CONTENT_DIR / department / slug
    folder.mkdir(parents=True, exist_ok=True)
    file = folder / posts.POST_FILE
    file.write_text(text if text is not None else post_text(body, meta), "utf-8")
    return file


def write_image(path: Path, size: tuple[int, int] = (64, 48), fmt: str = "PNG", noise_bytes: int = 0) -> Path:
    """An image file; `noise_bytes` pads it with an incompressible tail to make it large."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, (200, 40, 40)).save(path, fmt)
    if noise_bytes:
        with path.open("ab") as handle:
            handle.write(bytes(range(256)) * (noise_bytes // 256 + 1))
    return path


def png_header_only(path: Path, width: int, height: int) -> Path:
    """A PNG that declares `width`×`height` pixels but holds almost no data: a decompression bomb's header."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
                     + chunk(b"IEND", b""))
    return path


def policy(root: Path) -> Policy:
    return load_policy(root / "gzh.yml")


def check_file(root: Path, file: Path) -> PostReport:
    return check_post(posts.load_post(file, root), policy(root), root)


def rule_hits(root: Path, file: Path, rule_id: str) -> list[Any]:
    return [finding for finding in check_file(root, file).findings if finding.rule_id == rule_id]


def init_git(root: Path) -> git.Repo:
    """A real repository on branch main with everything under root committed."""
    repo = git.Repo.init(root, initial_branch="main")
    with repo.config_writer() as config:
        config.set_value("user", "name", "测试员")
        config.set_value("user", "email", "tester@example.invalid")
        config.set_value("commit", "gpgsign", "false")
    repo.git.add(A=True)
    repo.index.commit("初始内容")
    return repo


def copy_resource(name: str, root: Path) -> Path:
    target = root / posts.CONTENT_DIR
    shutil.copytree(RESOURCES / name, target, dirs_exist_ok=True)
    return target


def line_of(text: str, needle: str) -> int:
    """1-based line of the first occurrence of `needle`, so tests survive edits elsewhere in a file."""
    return text[: text.index(needle)].count("\n") + 1


def findings_for(tmp_path: Path, rule_id: str, body: str = "正文。\n", *, meta: dict[str, Any] | None = None,
                 department: str = "office", text: str | None = None) -> list[Any]:
    """Write one post into a fresh repository and return what `rule_id` found in it."""
    root = make_root(tmp_path)
    file = write_post(root, body, meta=meta, department=department, text=text)
    return rule_hits(root, file, rule_id)


class Account:
    """A git repository with posts, the local WeChat sandbox, and a publisher wired to both."""

    def __init__(self, tmp_path: Path) -> None:
        from pipeline.sandbox import Sandbox

        self.tmp_path = tmp_path
        self.root = make_root(tmp_path)
        self.sandbox = Sandbox(tmp_path / "sandbox").start()
        self.sandbox.state.data["publish_seconds"] = 0.0
        self.repo = init_git(self.root)

    def close(self) -> None:
        self.sandbox.stop()

    def commit(self, message: str = "文章") -> None:
        self.repo.git.add(A=True)
        self.repo.index.commit(message)

    def publisher(self, *, workdir: Path | None = None, run: str | None = None, **options: Any) -> Any:
        from pipeline.ledger import SANDBOX_BRANCH, Ledger
        from pipeline.publish import Publisher
        from pipeline.wechat import WeChat

        wechat = WeChat(self.sandbox.credentials, backoff=0.001, sleep=lambda seconds: None)
        ledger = Ledger(self.root, branch=SANDBOX_BRANCH, workdir=workdir, run=run)
        options.setdefault("poll_delays", (0.0, 0.0, 0.0))
        options.setdefault("sleep", lambda seconds: None)
        return Publisher(self.root, policy(self.root), wechat, ledger, **options)

    def publish(self, *files: Path, **options: Any) -> list[Any]:
        publisher = self.publisher(**options)
        targets = list(files) or posts.discover([self.root / "content"])[0]
        return publisher.run([posts.load_post(file, self.root) for file in targets])

    def writes(self) -> list[str]:
        """Endpoints of successful calls that change the account."""
        reads = ("stable_token", "token", "draft/get", "draft/batchget", "freepublish/get", "freepublish/batchget",
                 "freepublish/getarticle", "draft/count", "comment/list", "material/get_materialcount")
        return [call["endpoint"] for call in self.sandbox.calls() if call["errcode"] == 0 and call["endpoint"] not in reads]

    def articles(self) -> list[dict[str, Any]]:
        state = self.sandbox.state
        with state.lock:
            state._finish_due_jobs()
            return [article for article in state.data["articles"].values() if article["status"] == 0]

    def drafts(self) -> dict[str, Any]:
        return dict(self.sandbox.state.data["drafts"])

    def fault(self, **fault: Any) -> None:
        self.sandbox.control("faults", {"faults": [fault]})


class PullScenario:
    """A repository with main and a department branch adding a post, and a pull request on a forge fake."""

    AUTHOR = "zhang-wei"
    APPROVERS = {"department:office": "li-na", "administrator": "sun-hao", "publicity_head": "zhou-yan",
                 "leader_in_charge:zhao-min": "zhao-min", "principal_leader": "wang-jun"}

    def __init__(self, tmp_path: Path, flavour: str, body: str = "市总工会召开全委会议。\n") -> None:
        from tests.forge_fake import ForgeFake

        self.root = make_root(tmp_path)
        write_post(self.root, "上月的工作动态。\n", slug="old")
        self.repo = init_git(self.root)
        self.base = self.repo.head.commit.hexsha
        self.repo.git.checkout("-b", "dept/office-news")
        self.post = write_post(self.root, body, slug="2026-11-28-news")
        self.head = self.commit("新文章")
        self.forge = ForgeFake(flavour).start()
        self.forge.open_pull(1, self.AUTHOR, self.head, self.base, ["content/office/2026-11-28-news/index.md"])

    def commit(self, message: str) -> str:
        self.repo.git.add(A=True)
        self.repo.index.commit(message)
        return self.repo.head.commit.hexsha

    def approve(self, *users: str, commit: str | None = None) -> None:
        for user in users or tuple(self.APPROVERS.values()):
            self.forge.review(1, user, "APPROVED", commit)

    def hide_post_behind_files(self, count: int = 3001) -> None:
        """Push `count` unrelated files listed before the post: past the forges' file-list caps."""
        filler = self.root / "docs" / "filler"
        filler.mkdir(parents=True)
        for index in range(count):
            (filler / f"{index:04}.txt").write_text(f"{index}\n", "utf-8")
        self.forge.push(1, self.commit(f"{count} 个无关文件"),
                        [f"docs/filler/{index:04}.txt" for index in range(count)] + ["content/office/2026-11-28-news/index.md"])

    def gate(self) -> dict[str, Any]:
        from pipeline.main import main

        assert main(["--root", str(self.root), "gate", "--pr", "1"]) == 0
        status = self.forge.status(self.forge.pulls[1].head_sha)
        assert status is not None
        return status

    def comment(self) -> str:
        stickies = self.forge.sticky(1)
        assert len(stickies) == 1  # one sticky comment, edited in place
        return stickies[0]

    def close(self) -> None:
        self.forge.stop()


class Rehearsal:
    """A bare git remote seeded with the project's policy, templates and workflows; a department's
    clone of it; a forge fake and the WeChat sandbox: the whole path, as on a real deployment."""

    def __init__(self, tmp_path: Path, flavour: str) -> None:
        from pipeline.sandbox import Sandbox
        from tests.forge_fake import ForgeFake

        self.tmp, self.flavour = tmp_path, flavour
        self.remote = tmp_path / "remote.git"
        git.Repo.init(self.remote, bare=True, initial_branch="main")
        seed = tmp_path / "seed"
        seed.mkdir()
        for name in ("gzh.yml", "templates", "CODEOWNERS", ".github", "pyproject.toml"):
            source = PROJECT / name
            (shutil.copytree if source.is_dir() else shutil.copy)(source, seed / name)
        (seed / "content").mkdir()
        (seed / "content" / "README.md").write_text("写文章的说明\n", "utf-8")
        self.dept = self._repo(seed)
        self.dept.index.commit("开始使用 gzh")
        self.dept.create_remote("origin", str(self.remote))
        self.dept.git.push("origin", "main")
        self.forge = ForgeFake(flavour).start()
        self.sandbox = Sandbox(tmp_path / "sandbox").start()
        self.sandbox.state.data["publish_seconds"] = 0.0
        self.environment = {**self.forge.environment(), "GITHUB_RUN_ID": "4242",
                            "GITHUB_ACTIONS" if flavour == "github" else "GITEA_ACTIONS": "true"}

    def _repo(self, folder: Path) -> git.Repo:
        repo = git.Repo.init(folder, initial_branch="main")
        with repo.config_writer() as config:
            config.set_value("user", "name", "办公室 张伟")
            config.set_value("user", "email", "zhang-wei@example.invalid")
        repo.git.add(A=True)
        return repo

    def clone(self, name: str, ref: str = "main") -> Path:
        """What actions/checkout leaves: a clone of the remote at `ref`, full history."""
        target = self.tmp / name
        shutil.rmtree(target, ignore_errors=True)
        repo = git.Repo.clone_from(str(self.remote), target)
        with repo.config_writer() as config:
            config.set_value("user", "name", "runner")
            config.set_value("user", "email", "runner@example.invalid")
        if ref != "main":
            repo.git.fetch("origin", ref)
            repo.git.checkout("FETCH_HEAD")
        return target

    def open_pull_request(self) -> str:
        """A department branch adds a post; its pull request #1 is opened. Returns the head commit."""
        self.dept.git.checkout("-b", "dept/news")
        post = self.tmp / "seed" / "content" / "office" / "2026-11-28-news" / "index.md"
        post.parent.mkdir(parents=True)
        post.write_text(post_text("市总工会召开十届五次全委会议，审议通过年度工作要点。\n"), "utf-8")
        self.dept.git.add(A=True)
        self.dept.index.commit("办公室：全委会议报道")
        head = self.push_pull_head()
        self.forge.open_pull(1, PullScenario.AUTHOR, head, self.dept.commit("main").hexsha,
                             ["content/office/2026-11-28-news/index.md"])
        return head

    def merge(self) -> str:
        """Pull request #1 merged into main and pushed, as the forge's merge button does."""
        self.dept.git.checkout("main")
        self.dept.git.merge("--no-ff", "-m", "合并 #1：全委会议报道", "dept/news")
        self.dept.git.push("origin", "main")
        self.forge.merge(1, self.dept.head.commit.hexsha)
        return self.dept.head.commit.hexsha

    def push_pull_head(self) -> str:
        head = self.dept.head.commit.hexsha
        self.dept.git.push("origin", "dept/news")
        self.dept.git.push("origin", f"{head}:refs/pull/1/head", "--force")  # as the forge keeps it
        return head

    def close(self) -> None:
        self.sandbox.stop()
        self.forge.stop()


WORKFLOWS = PROJECT / ".github" / "workflows"
EXPRESSION = re.compile(r"^\$\{\{\s*(.+?)\s*\}\}$")


def workflow_step(workflow: str, job: str, step_id: str) -> dict[str, Any]:
    data = yaml.safe_load((WORKFLOWS / workflow).read_text("utf-8"))
    return next(step for step in data["jobs"][job]["steps"] if step.get("id") == step_id)


def run_step(workflow: str, job: str, step_id: str, cwd: Path, context: dict[str, str],
             environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run a step's script as the runner would; every `${{ }}` in its env must be known to `context`."""
    step = workflow_step(workflow, job, step_id)
    env = {**os.environ, **environment, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "NO_COLOR": "1", "GZH_LANG": "zh"}
    for name, value in (step.get("env") or {}).items():
        match = EXPRESSION.match(str(value))
        env[name] = context[match.group(1)] if match else str(value)  # KeyError: the workflow changed
    return subprocess.run(["bash", "-e", "-o", "pipefail", "-c", step["run"]], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


SUBMISSION = {
    "department": "办公室（office）", "category": "工会动态（news）", "title": "市总工会召开全委会议", "author": "办公室",
    "digest": "_No response_", "repost": "原创", "source_name": "_No response_", "source_url": "_No response_",
    "body": "市总工会召开十届五次全委会议，审议通过年度工作要点。", "conclusion": "可以公开",
    "basis": "会议报道，内容均已公开发布，不涉及秘密和个人信息",
}


def submission_body(checked: bool = True, uppercase_x: bool = False, **changes: str) -> str:
    """An issue's text as GitHub and Gitea write a submitted 提交稿件 form: `### label`, a blank line,
    the value (`_No response_` when empty), checkboxes as `- [x] label` (GitHub writes `[X]`)."""
    from pipeline import submission

    values = {**SUBMISSION, **changes}
    parts = []
    for field in submission.FIELDS:
        if field.kind == "checkboxes":
            mark = ("X" if uppercase_x else "x") if checked else " "
            value = "\n".join(f"- [{mark}] {item}" for item in submission.SELF_CHECKS)
        else:
            value = values[field.id]
        parts.append(f"### {field.label}\n\n{value}\n")
    return "\n".join(parts)
