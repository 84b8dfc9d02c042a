"""Git through the CLI: repository setup, one commit per task (only when files changed), diffs.

Tasks of a wave finish at nearly the same moment, so commits are grouped: whoever holds the workspace's
commit lock writes every waiting task's commit in one `git fast-import` run, one commit per task, each
touching only that task's files. The working tree is never read by a commit; the index is refreshed
with `sync_index` (after a wave) so `git status` in the workspace stays clean.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from masterplan.workspace.paths import check_relative_path

BRANCH = "main"
AUTHOR = "masterplan <masterplan@localhost>"
_ENV = {
    "GIT_AUTHOR_NAME": "masterplan",
    "GIT_AUTHOR_EMAIL": "masterplan@localhost",
    "GIT_COMMITTER_NAME": "masterplan",
    "GIT_COMMITTER_EMAIL": "masterplan@localhost",
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


def tree_blobs(root: Path, revision: str, paths: list[str]) -> dict[str, str]:
    """Blob ids of the given paths at a revision (paths absent there are left out)."""
    if not paths:
        return {}
    out = git(root, "ls-tree", "-z", revision, "--", *paths)
    blobs: dict[str, str] = {}
    for entry in filter(None, out.split("\0")):
        meta, _, path = entry.partition("\t")
        _mode, kind, sha = meta.split(" ")
        if kind == "blob":
            blobs[path] = sha
    return blobs


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
    """Point the index at HEAD so the workspace shows no pending changes after grouped commits."""
    git(root, "reset", "-q")


@dataclass
class _CommitRequest:
    files: dict[str, bytes]
    message: str
    done: bool = False
    sha: str | None = None
    error: BaseException | None = None


class GroupCommitter:
    """Commits of one workspace, grouped: each request becomes its own commit, written in batches."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._commit_lock = threading.Lock()
        self._pending_lock = threading.Lock()
        self._pending: list[_CommitRequest] = []
        # What this process last committed: HEAD and the blobs of the paths it knows. Valid while HEAD
        # has not moved under us, so a commit usually costs one git process.
        self._head: str | None = None
        self._blobs: dict[str, str] = {}

    def commit(self, files: dict[str, str], message: str) -> str | None:
        """Commit exactly these files with this message; None when none of them differs from HEAD."""
        request = _CommitRequest({check_relative_path(p): c.encode() for p, c in files.items()}, message)
        with self._pending_lock:
            self._pending.append(request)
        with self._commit_lock:
            if not request.done:
                with self._pending_lock:
                    batch, self._pending = self._pending, []
                self._write(batch)
        if request.error is not None:
            raise request.error
        return request.sha

    def _write(self, batch: list[_CommitRequest]) -> None:
        try:
            parent = self._current_head()
            paths = sorted({p for r in batch for p in r.files})
            if parent != self._head:
                self._head, self._blobs = parent, {}
            unknown = [p for p in paths if p not in self._blobs]
            if unknown:
                found = tree_blobs(self.root, parent, unknown)
                self._blobs.update({p: found.get(p, "") for p in unknown})
            current = dict(self._blobs)
            stream: list[bytes] = []
            marked: list[tuple[_CommitRequest, str]] = []
            for request in batch:
                changed = {p: d for p, d in request.files.items() if current.get(p) != blob_id(d)}
                if not changed:
                    continue
                mark = f":{len(marked) + 1}"
                stream.append(_commit_command(mark, request.message, changed, parent if not marked else None))
                marked.append((request, mark))
                current.update({p: blob_id(d) for p, d in changed.items()})
            if marked:
                shas = self._fast_import(b"".join(stream))
                for request, mark in marked:
                    request.sha = shas[mark]
                self._head, self._blobs = shas[marked[-1][1]], current
        except BaseException as exc:
            self._head = None
            for request in batch:
                request.error = exc
        finally:
            for request in batch:
                request.done = True

    def _current_head(self) -> str:
        """HEAD of the branch, read from its ref file when it is there (no process), else from git."""
        ref = self.root / ".git" / "refs" / "heads" / BRANCH
        try:
            value = ref.read_text().strip()
        except OSError:
            value = ""
        return value if len(value) == 40 else head_commit(self.root)

    def _fast_import(self, stream: bytes) -> dict[str, str]:
        with tempfile.TemporaryDirectory(prefix="masterplan-git-") as tmp:
            marks = Path(tmp) / "marks"
            git(self.root, "fast-import", "--quiet", f"--export-marks={marks}", stdin=stream + b"done\n")
            pairs = (line.split(" ", 1) for line in marks.read_text().splitlines() if line)
            return {mark: sha for mark, sha in pairs}


def _quote(path: str) -> bytes:
    escaped = path.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'.encode()


def _commit_command(mark: str, message: str, files: dict[str, bytes], parent: str | None) -> bytes:
    stamp = f"{int(time.time())} +0000"
    text = message.encode()
    parts = [
        f"commit refs/heads/{BRANCH}\nmark {mark}\n".encode(),
        f"author {AUTHOR} {stamp}\ncommitter {AUTHOR} {stamp}\n".encode(),
        b"data %d\n%s\n" % (len(text), text),
    ]
    if parent:
        parts.append(f"from {parent}\n".encode())
    for path, data in sorted(files.items()):
        parts.append(b"M 100644 inline " + _quote(path) + b"\n")
        parts.append(b"data %d\n%s\n" % (len(data), data))
    parts.append(b"\n")
    return b"".join(parts)


_committers: dict[Path, GroupCommitter] = {}
_committers_lock = threading.Lock()


def committer_for(root: Path) -> GroupCommitter:
    """The process-wide committer of a workspace."""
    key = root.resolve()
    with _committers_lock:
        if key not in _committers:
            _committers[key] = GroupCommitter(key)
        return _committers[key]
