"""Git: repository setup and diffs through the CLI; one commit per task (only when files changed).

Task commits are written in-process: a `git` process per commit cost 10 ms idle and 40-70 ms while a
wave's tasks finished together (benchmarks/execution_bench.py). A commit touches only its task's files
and never reads the working tree; the index is refreshed with `sync_index` (after a wave) so
`git status` in the workspace stays clean.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import re
import struct
import subprocess
import threading
import time
import zlib
from pathlib import Path

import pygit2
import structlog

from masterplan.workspace.paths import check_relative_path

BRANCH = "main"
AUTHOR_NAME = "masterplan"
AUTHOR_EMAIL = "masterplan@localhost"
MOVED_TIP_RETRIES = 5
REF_LOCK_WAIT_SECONDS = 1.0
# A ref lock older than this, or made before this process started, was left by a process that died
# between taking and moving it (kill -9): it is removed instead of blocking every later commit.
STALE_REF_LOCK_SECONDS = 30.0
_PROCESS_STARTED = time.time()
log = structlog.get_logger(__name__)
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
    """`git init` with an empty initial commit on `main`; returns that commit.

    Through libgit2, in-process: the three git processes it took cost 25 ms of the execute request.
    """
    repository = pygit2.init_repository(str(root), initial_head=BRANCH)
    signature = pygit2.Signature(AUTHOR_NAME, AUTHOR_EMAIL)
    empty_tree = repository.TreeBuilder().write()
    return str(
        repository.create_commit(
            f"refs/heads/{BRANCH}", signature, signature, "initial commit", empty_tree, []
        )
    )


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


# A tree's entries as written in the tree object (`mode name\0raw id`) by git's sort key: the name,
# with a "/" appended for a subtree. Kept in key order, which is git's order.
_TreeEntries = dict[bytes, bytes]
_CACHED_TREES = 1024
_temp_numbers = itertools.count()


class Committer:
    """Commits of one workspace; each holds exactly the given files on top of the branch tip.

    Up to 16 tasks run in threads of one process, and libgit2 (pygit2) holds the GIL for its whole C
    call: one commit (2 blobs, 2-3 trees, the commit, the ref update with its lock file and reflogs)
    held it ~5 ms in one piece. So objects, ref and reflogs are written here as git writes them, with
    file calls that release the GIL (~0.4 ms of it per commit). The objects of the commits asked for
    together go into one pack (objects stored uncompressed: zlib's setup alone held the GIL ~80 us per
    object; `git gc` compresses them), because each file created costs 0.6-1.4 ms on this disk and a
    wave's commits queued behind one another. libgit2 only reads what is not cached here: the trees and
    commits of other writers, and packed refs.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self._lock = threading.Lock()
        try:
            self._repository = pygit2.Repository(str(root))
        except pygit2.GitError as exc:
            raise GitError(f"cannot open the repository in {root}: {exc}") from exc
        git_dir = self._repository.path.rstrip("/")
        self._objects = f"{git_dir}/objects"
        self._ref = f"{git_dir}/refs/heads/{BRANCH}"
        self._head = f"{git_dir}/HEAD"
        self._logs = (f"{git_dir}/logs/refs/heads/{BRANCH}", f"{git_dir}/logs/HEAD")
        self._logs_all_refs = _logs_all_refs(self._repository)
        self._trees: dict[bytes, _TreeEntries] = {}
        self._tip: tuple[str, bytes] | None = None  # the last branch tip seen and its tree
        self._pending: list[_Request] = []
        self._pending_lock = threading.Lock()

    def commit(self, files: dict[str, str], message: str) -> str | None:
        """Commit exactly these files with this message; None when none of them differs from the tip.

        The commits asked for while another is being written are written together after it: one pack
        with all their objects and one move of the branch (each is still its own commit, in the order
        asked). A wave's tasks finish together, and writing each commit alone (its objects, the ref's
        lock file) queued them behind one another for ~5 ms each.
        """
        contents = {check_relative_path(p): c.encode() for p, c in files.items()}
        request = _Request(
            {tuple(p.encode().split(b"/")): (_object_id(b"blob", d), d) for p, d in contents.items()}, message
        )
        with self._pending_lock:
            self._pending.append(request)
        with self._lock:
            if not request.done:
                with self._pending_lock:
                    group, self._pending = self._pending, []
                self._commit_group(group)
        if request.error is not None:
            raise request.error
        return request.sha

    def _commit_group(self, group: list[_Request]) -> None:
        """Write the group's commits one after another on the tip; each request gets its sha or the error."""
        error: GitError | None = None
        # The trees a group builds exist only in this cache until its pack is written (a later commit of
        # the group is built on them), so the cache is trimmed between groups, never while one is built.
        if len(self._trees) >= _CACHED_TREES:
            self._trees.clear()
        try:
            for _ in range(MOVED_TIP_RETRIES):
                parent, tree = self._read_tip()
                objects: dict[bytes, tuple[bytes, bytes]] = {}
                shas: list[str | None] = []
                log_lines: list[str] = []
                tip, tip_tree = parent, tree
                for request in group:
                    changed = {p: b for p, b in request.blobs.items() if self._blob_at(tip_tree, p) != b[0]}
                    if not changed:
                        shas.append(None)
                        continue
                    objects.update({oid: (b"blob", data) for oid, data in changed.values()})
                    tip_tree = self._build_tree(
                        tip_tree, {p: oid for p, (oid, _) in changed.items()}, objects
                    )
                    signature = _signature()
                    commit = _commit_text(tip_tree, tip, signature, request.message)
                    sha = _object_id(b"commit", commit)
                    objects[sha] = (b"commit", commit)
                    line = f"{tip} {sha.hex()} {signature}\tcommit: {_summary(request.message)}"
                    log_lines.append(line.rstrip() + "\n")
                    tip = sha.hex()
                    shas.append(tip)
                if objects:
                    self._write_pack(objects)
                    # Another writer may have moved the branch since we read it: then build on its tip.
                    if not self._move_branch(parent, tip, log_lines):
                        continue
                self._tip = (tip, tip_tree)
                for request, sha_ in zip(group, shas, strict=True):
                    request.sha = sha_
                return
            error = GitError(f"commit failed in {self.root}: the branch kept moving")
        except GitError as exc:
            error = exc
        except BaseException as exc:  # OSError, pygit2.GitError, or anything else: no request is left waiting
            error = GitError(f"commit failed in {self.root}: {exc}")
            error.__cause__ = exc
            if not isinstance(exc, OSError | pygit2.GitError):
                raise
        finally:
            for request in group:
                request.error = error
                request.done = True

    def _read_tip(self) -> tuple[str, bytes]:
        """The branch's commit and its tree."""
        sha = self._branch_target()
        if self._tip is None or self._tip[0] != sha:
            commit = self._repository[sha].peel(pygit2.Commit)
            self._tip = (sha, commit.tree_id.raw)
        return self._tip

    def _branch_target(self) -> str:
        data = _read_small_file(self._ref)
        if data is not None and re.fullmatch(rb"[0-9a-f]{40}\n?", data):
            return data.strip().decode()
        reference = self._repository.references.get(f"refs/heads/{BRANCH}")  # packed, or symbolic
        if reference is None:
            raise GitError(f"commit failed in {self.root}: the branch {BRANCH!r} does not exist")
        return str(reference.resolve().target)

    def _tree(self, oid: bytes) -> _TreeEntries:
        entries = self._trees.get(oid)
        if entries is None:
            entries = self._trees[oid] = _parse_tree(self._repository.read(oid.hex())[1])
        return entries

    def _blob_at(self, tree: bytes, path: tuple[bytes, ...]) -> bytes | None:
        entries = self._tree(tree)
        for name in path[:-1]:
            entry = entries.get(name + b"/")
            if entry is None:
                return None
            entries = self._tree(entry[-20:])
        entry = entries.get(path[-1])
        return entry[-20:] if entry is not None and _is_blob(entry) else None

    def _build_tree(
        self,
        tree: bytes | None,
        blobs: dict[tuple[bytes, ...], bytes],
        objects: dict[bytes, tuple[bytes, bytes]],
    ) -> bytes:
        """`tree` with these blobs put in place; only the trees on their paths are rewritten (into
        `objects`, to be written with the commit)."""
        before = self._tree(tree) if tree is not None else {}
        entries = dict(before)
        new_name = False  # a name added, so the entries must be put in order again
        below: dict[bytes, dict[tuple[bytes, ...], bytes]] = {}
        for path, blob in blobs.items():
            if len(path) == 1:
                entries.pop(path[0] + b"/", None)  # a file may replace a directory
                new_name |= path[0] not in entries
                entries[path[0]] = b"100644 %s\0%s" % (path[0], blob)
            else:
                below.setdefault(path[0], {})[path[1:]] = blob
        for name, inner in below.items():
            existing = before.get(name + b"/")
            subtree = self._build_tree(existing[-20:] if existing is not None else None, inner, objects)
            entries.pop(name, None)  # and a directory a file
            new_name |= name + b"/" not in entries
            entries[name + b"/"] = b"40000 %s\0%s" % (name, subtree)
        if new_name:
            entries = dict(sorted(entries.items()))
        data = b"".join(entries.values())
        oid = _object_id(b"tree", data)
        objects[oid] = (b"tree", data)
        self._trees[oid] = entries
        return oid

    def _write_pack(self, objects: dict[bytes, tuple[bytes, bytes]]) -> None:
        """Store the objects as one pack with its index (as git writes them: the pack first, each through a
        temporary file)."""
        pack, index, checksum = _pack(objects)
        directory = f"{self._objects}/pack"
        os.makedirs(directory, exist_ok=True)
        for data, suffix in ((pack, "pack"), (index, "idx")):
            temp = f"{directory}/tmp_{suffix}_{os.getpid()}_{next(_temp_numbers)}"
            _create_file(temp, data, 0o444)
            try:
                os.replace(temp, f"{directory}/pack-{checksum.hex()}.{suffix}")
            except OSError:
                os.unlink(temp)
                raise

    def _move_branch(self, parent: str, sha: str, log_lines: list[str]) -> bool:
        """Point the branch at `sha` if it still points at `parent`, through its lock file as git does."""
        lock = f"{self._ref}.lock"
        self._take_ref_lock(lock, f"{sha}\n".encode())
        moved = False
        try:
            if self._branch_target() != parent:
                return False
            self._log_update("".join(log_lines))
            os.replace(lock, self._ref)
            moved = True
            return True
        finally:
            if not moved:
                os.unlink(lock)

    def _take_ref_lock(self, lock: str, content: bytes) -> None:
        deadline = time.monotonic() + REF_LOCK_WAIT_SECONDS
        while True:
            try:
                _create_file(lock, content, 0o666)
                return
            except FileExistsError:
                if time.monotonic() > deadline:
                    if _stale(lock):
                        log.warning("stale_ref_lock_removed", lock=lock)
                        os.unlink(lock)
                        deadline = time.monotonic() + REF_LOCK_WAIT_SECONDS
                        continue
                    raise GitError(
                        f"commit failed in {self.root}: {lock} exists, so another git process is "
                        f"updating {BRANCH!r}; if none is running, delete that file"
                    ) from None
                time.sleep(0.005)

    def _log_update(self, line: str) -> None:
        """Append to the branch's reflog, and HEAD's when HEAD is the branch, as git and libgit2 do."""
        branch_log, head_log = self._logs
        head = _read_small_file(self._head)
        on_branch = head is not None and head.strip() == f"ref: refs/heads/{BRANCH}".encode()
        for log in (branch_log, head_log) if on_branch else (branch_log,):
            if self._logs_all_refs or os.path.exists(log):
                _append(log, line.encode())


class _Request:
    """A commit waiting to be written: its files' blobs by path parts (id and content), its message."""

    def __init__(self, blobs: dict[tuple[bytes, ...], tuple[bytes, bytes]], message: str) -> None:
        self.blobs = blobs
        self.message = message
        self.done = False
        self.sha: str | None = None
        self.error: GitError | None = None


def _object_id(kind: bytes, data: bytes) -> bytes:
    return hashlib.sha1(b"%s %d\0" % (kind, len(data)) + data, usedforsecurity=False).digest()


_PACK_TYPES = {b"commit": 1, b"tree": 2, b"blob": 3}


def _pack(objects: dict[bytes, tuple[bytes, bytes]]) -> tuple[bytes, bytes, bytes]:
    """A version 2 pack of these objects (by id: kind and content), its version 2 index, its checksum."""
    parts = [b"PACK" + struct.pack(">II", 2, len(objects))]
    offset = 12
    located: list[tuple[bytes, int, int]] = []  # id, CRC-32 of the packed entry, offset
    for oid, (kind, data) in objects.items():
        size = len(data)
        header = bytearray([(_PACK_TYPES[kind] << 4) | (size & 0x0F)])
        size >>= 4
        while size:
            header[-1] |= 0x80
            header.append(size & 0x7F)
            size >>= 7
        entry = bytes(header) + _zlib_stored(data)
        located.append((oid, zlib.crc32(entry), offset))
        parts.append(entry)
        offset += len(entry)
    if offset >= 2**31:
        raise GitError("the files of these commits are too large for one pack (2 GiB)")
    pack = b"".join(parts)
    checksum = hashlib.sha1(pack, usedforsecurity=False).digest()
    located.sort()
    counts = [0] * 256
    for oid, _, _ in located:
        counts[oid[0]] += 1
    index = b"".join(
        [
            b"\377tOc" + struct.pack(">I", 2) + struct.pack(">256I", *itertools.accumulate(counts)),
            *(oid for oid, _, _ in located),
            *(struct.pack(">I", crc) for _, crc, _ in located),
            *(struct.pack(">I", at) for _, _, at in located),
            checksum,
        ]
    )
    return pack + checksum, index + hashlib.sha1(index, usedforsecurity=False).digest(), checksum


def _stale(lock: str) -> bool:
    try:
        made = os.stat(lock).st_mtime
    except FileNotFoundError:
        return False
    return made < _PROCESS_STARTED or time.time() - made > STALE_REF_LOCK_SECONDS


def _logs_all_refs(repository: pygit2.Repository) -> bool:
    """Whether git starts a reflog for a branch: core.logAllRefUpdates, by default when not bare."""
    config = repository.config
    if "core.logAllRefUpdates" not in config:
        return not repository.is_bare
    always = str(config["core.logAllRefUpdates"]).lower() == "always"
    return always or config.get_bool("core.logAllRefUpdates")


def _signature() -> str:
    """`name <email> time zone` for now, in the local time zone as libgit2's `git_signature_now`."""
    now = int(time.time())
    minutes = time.localtime(now).tm_gmtoff // 60
    sign = "-" if minutes < 0 else "+"
    return f"{AUTHOR_NAME} <{AUTHOR_EMAIL}> {now} {sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"


def _commit_text(tree: bytes, parent: str, signature: str, message: str) -> bytes:
    """A commit object's content as libgit2 writes it: the message is kept as given."""
    header = f"tree {tree.hex()}\nparent {parent}\nauthor {signature}\ncommitter {signature}\n\n"
    return (header + message).encode()


def _summary(message: str) -> str:
    """The first paragraph on one line, as libgit2 puts it into the reflog."""
    paragraph = message.lstrip("\n").split("\n\n", 1)[0]
    return re.sub(r"[ \t\n\v\f\r]+", lambda m: " " if "\n" in m[0] else m[0], paragraph).rstrip()


def _is_blob(entry: bytes) -> bool:
    """Whether a tree entry is a file or a symlink (not a directory or a submodule)."""
    return int(entry[: entry.index(b" ")], 8) & 0o170000 in (0o100000, 0o120000)


def _parse_tree(data: bytes) -> _TreeEntries:
    entries: _TreeEntries = {}
    start = 0
    while start < len(data):
        space = data.index(b" ", start)
        end = data.index(b"\0", space) + 21
        name = data[space + 1 : end - 21]
        is_tree = int(data[start:space], 8) & 0o170000 == 0o040000
        entries[name + b"/" if is_tree else name] = data[start:end]
        start = end
    return entries


def _zlib_stored(data: bytes) -> bytes:
    """`data` as a zlib stream of stored (uncompressed) deflate blocks, which git inflates like any other.

    `zlib.compress` holds the GIL ~80 us per call to set up and free its ~260 KB of state, most of a
    commit's GIL time; these objects are small and `git gc` repacks them compressed.
    """
    parts = [b"\x78\x01"]
    for start in range(0, max(len(data), 1), 0xFFFF):
        block = data[start : start + 0xFFFF]
        parts += (struct.pack("<BHH", start + 0xFFFF >= len(data), len(block), len(block) ^ 0xFFFF), block)
    parts.append(struct.pack(">I", zlib.adler32(data)))
    return b"".join(parts)


def _create_file(path: str, data: bytes, mode: int) -> None:
    """Create `path` holding `data`; FileExistsError when it exists, and nothing left behind on failure."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        try:
            _write_all(fd, data)
        finally:
            os.close(fd)
    except BaseException:
        os.unlink(path)
        raise


def _append(path: str, data: bytes) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
    except FileNotFoundError:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
    try:
        _write_all(fd, data)
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _read_small_file(path: str) -> bytes | None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        return os.read(fd, 4096)
    finally:
        os.close(fd)


_committers: dict[Path, Committer] = {}
_committers_lock = threading.Lock()


def committer_for(root: Path) -> Committer:
    """The process-wide committer of a workspace."""
    key = root.resolve()
    with _committers_lock:
        if key not in _committers:
            _committers[key] = Committer(key)
        return _committers[key]
