"""Git: repository setup and diffs through the CLI; one commit per task (only when files changed).

Task commits are written in-process with libgit2 (pygit2): a `git` process per commit cost 10 ms idle and
40-70 ms while a wave's tasks finished together (benchmarks/execution_bench.py). A commit touches only its
task's files and never reads the working tree; the index is refreshed with `sync_index` (after a wave)
so `git status` in the workspace stays clean.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import threading
from pathlib import Path

import pygit2

from masterplan.workspace.paths import check_relative_path

BRANCH = "main"
AUTHOR_NAME = "masterplan"
AUTHOR_EMAIL = "masterplan@localhost"
MOVED_TIP_RETRIES = 5
_ENV = {
    "GIT_AUTHOR_NAME": AUTHOR_NAME,
    "GIT_AUTHOR_EMAIL": AUTHOR_EMAIL,
    "GIT_COMMITTER_NAME": AUTHOR_NAME,
    "GIT_COMMITTER_EMAIL": AUTHOR_EMAIL,
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_CONFIG_NOSYSTEM": "1",
}


class GitError(RuntimeError):
    """A git command failed; the message carries its stderr."""


def git(root: Path, *args: str, stdin: bytes | None = None) -> str:
    """Run one git command in the workspace and return its stdout."""
    result = subprocess.run(
        ["git", "-c", "commit.gpgsign=false", "-c", "core.hooksPath=/dev/null", *args],
        cwd=root,
        input=stdin,
        capture_output=True,
        env={**os.environ, **_ENV},
        check=False,
    )
    if result.returncode != 0:
        message = result.stderr.decode(errors="replace").strip()
        raise GitError(f"git {' '.join(args[:2])} failed in {root}: {message}")
    return result.stdout.decode(errors="replace")


def init_repository(root: Path) -> str:
    """`git init` with an empty initial commit on `main`; returns that commit."""
    git(root, "init", "-q", "-b", BRANCH)
    git(root, "commit", "-q", "--allow-empty", "-m", "initial commit")
    return head_commit(root)


def head_commit(root: Path) -> str:
    return git(root, "rev-parse", "HEAD").strip()


def blob_id(data: bytes) -> str:
    """The id git gives a file with this content."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def task_commit_message(task_number: int, name: str) -> str:
    return f"task {task_number}: {' '.join(name.split())}"


def find_task_commit(root: Path, task_number: int) -> str | None:
    """The newest commit of a task, found by its message; None when it never committed."""
    out = git(root, "log", "-1", "--format=%H", f"--grep=^task {task_number}: ", BRANCH)
    return out.strip() or None


def commit_diff(root: Path, sha: str) -> str:
    """The patch a commit introduced."""
    return git(root, "show", "--format=", "--patch", "--no-color", "--no-ext-diff", sha)


def commit_files(root: Path, sha: str) -> list[str]:
    """The paths a commit changed."""
    out = git(root, "show", "--format=", "--name-only", "-z", sha)
    return [p for p in out.split("\0") if p]


def commit_count(root: Path) -> int:
    return int(git(root, "rev-list", "--count", BRANCH).strip())


def sync_index(root: Path) -> None:
    """Point the index at HEAD so the workspace shows no pending changes (task commits bypass it)."""
    git(root, "reset", "-q")


class Committer:
    """Commits of one workspace, written in-process through libgit2, one at a time.

    Each commit holds exactly the given files on top of the branch tip; the working tree is never read.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self._lock = threading.Lock()
        self._repository: pygit2.Repository | None = None

    def commit(self, files: dict[str, str], message: str) -> str | None:
        """Commit exactly these files with this message; None when none of them differs from the tip."""
        contents = {check_relative_path(p): c.encode() for p, c in files.items()}
        with self._lock:
            for _ in range(MOVED_TIP_RETRIES):
                try:
                    return self._commit(contents, message)
                except pygit2.GitError as exc:
                    # Another writer moved the branch between our read and our update: build on its tip.
                    if "current tip is not the first parent" not in str(exc):
                        raise GitError(f"commit failed in {self.root}: {exc}") from exc
            raise GitError(f"commit failed in {self.root}: the branch kept moving")

    def _commit(self, contents: dict[str, bytes], message: str) -> str | None:
        repository = self._open()
        parent = repository.references[f"refs/heads/{BRANCH}"].peel(pygit2.Commit)
        changed = {p: d for p, d in contents.items() if _blob_at(parent.tree, p) != blob_id(d)}
        if not changed:
            return None
        blobs = {tuple(p.split("/")): repository.create_blob(d) for p, d in changed.items()}
        tree = _tree_with(repository, parent.tree, blobs)
        signature = pygit2.Signature(AUTHOR_NAME, AUTHOR_EMAIL)
        sha = repository.create_commit(
            f"refs/heads/{BRANCH}", signature, signature, message, tree, [parent.id]
        )
        return str(sha)

    def _open(self) -> pygit2.Repository:
        if self._repository is None:
            self._repository = pygit2.Repository(str(self.root))
        return self._repository


def _tree_with(
    repository: pygit2.Repository, tree: pygit2.Tree | None, blobs: dict[tuple[str, ...], pygit2.Oid]
) -> pygit2.Oid:
    """`tree` with these blobs put in place; only the trees on their paths are rewritten."""
    builder = repository.TreeBuilder(tree) if tree is not None else repository.TreeBuilder()
    below: dict[str, dict[tuple[str, ...], pygit2.Oid]] = {}
    for parts, blob in blobs.items():
        if len(parts) == 1:
            builder.insert(parts[0], blob, pygit2.enums.FileMode.BLOB)
        else:
            below.setdefault(parts[0], {})[parts[1:]] = blob
    for name, inner in below.items():
        existing = tree[name] if tree is not None and name in tree else None
        subtree = existing if isinstance(existing, pygit2.Tree) else None
        builder.insert(name, _tree_with(repository, subtree, inner), pygit2.enums.FileMode.TREE)
    return builder.write()


def _blob_at(tree: pygit2.Tree, path: str) -> str | None:
    try:
        entry = tree[path]
    except KeyError:
        return None
    return str(entry.id) if entry.type_str == "blob" else None


_committers: dict[Path, Committer] = {}
_committers_lock = threading.Lock()


def committer_for(root: Path) -> Committer:
    """The process-wide committer of a workspace."""
    key = root.resolve()
    with _committers_lock:
        if key not in _committers:
            _committers[key] = Committer(key)
        return _committers[key]
