"""Real git: the objects, ref and reflog the committer writes itself are the ones git and libgit2 write."""

from __future__ import annotations

import os
import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pygit2
import pytest

from masterplan.workspace import git as git_module
from masterplan.workspace.git import (
    AUTHOR_EMAIL,
    AUTHOR_NAME,
    Committer,
    GitError,
    commit_count,
    git,
    init_repository,
    sync_index,
)

# Each step: the files of one commit. Depths 1-4, new directories, a file replaced, a file next to an
# untouched directory, a file that becomes a directory and back, and names that sort differently as trees.
STEPS: list[dict[str, str]] = [
    {"README.md": "# p\n", "src/app.py": "app = 1\n", "src/pkg/core/deep.py": "deep = 1\n"},
    {"names/a": "file a\n", "names/a.b": "a.b\n", "names/a-b": "a-b\n", "names/a0": "a0\n"},
    {"dirs/a/b": "dir a\n", "dirs/a.b": "a.b\n", "dirs/a-b": "a-b\n", "dirs/a0/x": "x\n"},
    {"src/app.py": "app = 2\n", "src/pkg/new.py": "new\n"},
    {"src/pkg/core/more/four.py": "4\n", "docs/guide.md": "guide\n"},
    {"names/a/b": "a became a directory\n", "names/a.b": "a.b changed\n"},
    {"dirs/a0": "a0 became a file\n", "dirs/a/c": "c\n"},
    {"top.txt": "next to untouched directories\n"},
]


def _tree_built_by_libgit2(repository: pygit2.Repository, files: dict[str, str]) -> pygit2.Oid:
    """The tree libgit2 builds from scratch for these files (all 100644)."""
    nested: dict[str, object] = {}
    for path, content in files.items():
        *dirs, name = path.split("/")
        node = nested
        for part in dirs:
            child = node.setdefault(part, {})
            assert isinstance(child, dict)
            node = child
        node[name] = content

    def build(node: dict[str, object]) -> pygit2.Oid:
        builder = repository.TreeBuilder()
        for name, value in node.items():
            if isinstance(value, dict):
                builder.insert(name, build(value), pygit2.enums.FileMode.TREE)
            else:
                assert isinstance(value, str)
                builder.insert(name, repository.create_blob(value.encode()), pygit2.enums.FileMode.BLOB)
        return builder.write()

    return build(nested)


def _after(files: dict[str, str], committed: dict[str, str]) -> dict[str, str]:
    """The files after a commit: a committed path replaces the files above it or below it."""
    replaced = {p for p in files for q in committed if p.startswith(q + "/") or q.startswith(p + "/")}
    return {**{p: c for p, c in files.items() if p not in replaced}, **committed}


def _commit_files(root: Path, sha: str) -> list[str]:
    return sorted(git(root, "diff-tree", "--no-commit-id", "--name-only", "-r", sha).split())


def _packs(root: Path) -> list[Path]:
    return sorted((root / ".git/objects/pack").glob("pack-*.pack"))


def test_nested_commits_are_the_objects_git_and_libgit2_write(tmp_path: Path) -> None:
    initial = init_repository(tmp_path)
    committer = Committer(tmp_path)
    repository = pygit2.Repository(str(tmp_path))
    everything: dict[str, str] = {}
    shas: list[str] = []
    for number, files in enumerate(STEPS, start=1):
        for path, content in files.items():  # the working tree, as the task wrote it
            target = tmp_path / path
            if target.parent.is_file():
                target.parent.unlink()
            if target.is_dir():
                shutil.rmtree(target)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content)
        sha = committer.commit(files, f"task {number}: step {number}")
        assert sha is not None
        shas.append(sha)
        before, everything = everything, _after(everything, files)
        replaced = [p for p in before if p not in everything]  # by a directory, or a directory's by a file
        assert _commit_files(tmp_path, sha) == sorted([*files, *replaced]), "exactly the commit's files"
        commit = repository[sha].peel(pygit2.Commit)
        assert commit.tree_id == _tree_built_by_libgit2(repository, everything)
        assert [str(p) for p in commit.parent_ids] == [shas[-2] if len(shas) > 1 else initial]

    assert git(tmp_path, "fsck", "--strict", "--no-dangling").strip() == ""
    messages = git(tmp_path, "log", "--format=%s").splitlines()
    assert messages == [f"task {n}: step {n}" for n in range(len(STEPS), 0, -1)] + ["initial commit"]
    for path, content in everything.items():
        assert git(tmp_path, "show", f"HEAD:{path}") == content
    sync_index(tmp_path)
    assert git(tmp_path, "status", "--porcelain").strip() == ""
    assert sorted(git(tmp_path, "ls-files").split()) == sorted(everything)


@pytest.mark.parametrize(
    "message",
    ["task 1: plain", "title\n\nbody  with  spaces\nand lines", "ends with a newline\n", "ünïcode ✓"],
)
def test_a_commit_object_is_byte_identical_to_the_one_libgit2_writes(tmp_path: Path, message: str) -> None:
    init_repository(tmp_path)
    sha = Committer(tmp_path).commit({"a/b.txt": "b\n"}, message)
    assert sha is not None
    repository = pygit2.Repository(str(tmp_path))
    ours = repository[sha].peel(pygit2.Commit)
    assert ours.message == message
    signature = pygit2.Signature(AUTHOR_NAME, AUTHOR_EMAIL, ours.author.time, ours.author.offset)
    assert (ours.author.name, ours.author.email) == (AUTHOR_NAME, AUTHOR_EMAIL)
    theirs = repository.create_commit(None, signature, signature, message, ours.tree_id, ours.parent_ids)
    assert str(theirs) == sha, "the same bytes: pygit2's create_commit would have written this very object"


def test_sixteen_threads_committing_make_a_linear_history_with_every_commit(tmp_path: Path) -> None:
    init_repository(tmp_path)
    committer = Committer(tmp_path)
    barrier = threading.Barrier(16)
    made: dict[str, list[str]] = {}
    errors: list[BaseException] = []

    def run(n: int) -> None:
        try:
            barrier.wait()
            for i in range(3):
                files = {f"t{n}/f{i}.txt": f"{n} {i}\n", f"shared/deep/n{n}_{i}.txt": f"{i}\n"}
                sha = committer.commit(files, f"task {n}: commit {i}")
                assert sha is not None
                made[sha] = sorted(files)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(made) == 48
    assert commit_count(tmp_path) == 49
    assert git(tmp_path, "rev-list", "--min-parents=2", "main").strip() == "", "no merges"
    first_parents = git(tmp_path, "rev-list", "--first-parent", "main").split()
    assert set(made) <= set(first_parents)
    for sha, files in made.items():
        assert _commit_files(tmp_path, sha) == files
    assert git(tmp_path, "fsck", "--strict", "--no-dangling").strip() == ""
    assert len(git(tmp_path, "ls-tree", "-r", "--name-only", "HEAD").split()) == 96


def test_a_tip_moved_by_git_while_a_commit_waits_for_the_ref_lock_is_built_upon(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(git_module, "REF_LOCK_WAIT_SECONDS", 30.0)  # however slow the machine
    init_repository(tmp_path)
    committer = Committer(tmp_path)
    assert committer.commit({"ours/one.txt": "1\n"}, "task 1: one") is not None
    sync_index(tmp_path)
    (tmp_path / "theirs.txt").write_text("by hand\n")
    git(tmp_path, "add", "theirs.txt")
    theirs = git(tmp_path, "commit-tree", git(tmp_path, "write-tree").strip(), "-p", "HEAD", "-m", "by hand")
    # Play the other writer as git does: hold the branch's lock file, then rename the new tip over the ref.
    lock = tmp_path / ".git/refs/heads/main.lock"
    lock.write_text("")
    packs_before = len(_packs(tmp_path))
    result: list[str | None] = []

    def commit_two() -> None:
        result.append(committer.commit({"ours/two.txt": "2\n"}, "task 2: two"))

    thread = threading.Thread(target=commit_two)
    thread.start()
    deadline = time.monotonic() + 5
    while len(_packs(tmp_path)) == packs_before and time.monotonic() < deadline:
        time.sleep(0.005)
    assert len(_packs(tmp_path)) == packs_before + 1, "its blob, 2 trees and commit on the old tip, packed"
    lock.write_text(theirs)
    lock.rename(tmp_path / ".git/refs/heads/main")
    thread.join()

    assert result and result[0] is not None
    assert git(tmp_path, "rev-parse", f"{result[0]}^").strip() == theirs.strip()
    assert git(tmp_path, "log", "--format=%s").splitlines()[:3] == ["task 2: two", "by hand", "task 1: one"]
    assert git(tmp_path, "show", "HEAD:theirs.txt") == "by hand\n"
    assert git(tmp_path, "show", "HEAD:ours/one.txt") == "1\n"
    assert git(tmp_path, "fsck", "--strict", "--no-dangling").strip() == ""


def test_commits_asked_for_together_are_written_as_one_pack_of_separate_commits(tmp_path: Path) -> None:
    init_repository(tmp_path)
    committer = Committer(tmp_path)
    started = threading.Barrier(8)

    def commit(n: int) -> str | None:
        started.wait()
        return committer.commit({f"pkg/m{n}.py": f"N = {n}\n", "shared.txt": f"{n}\n"}, f"task {n}: m{n}")

    with ThreadPoolExecutor(max_workers=8) as pool:
        shas = list(pool.map(commit, range(1, 9)))
    assert all(shas) and len(set(shas)) == 8
    assert len(_packs(tmp_path)) < 8, "some commits were written together"
    for sha in shas:
        n = int(git(tmp_path, "log", "-1", "--format=%s", str(sha)).split()[1].rstrip(":"))
        assert sorted(
            git(tmp_path, "diff-tree", "--no-commit-id", "--name-only", "-r", str(sha)).split()
        ) == sorted([f"pkg/m{n}.py", "shared.txt"])
    assert git(tmp_path, "rev-list", "--count", "--merges", "main").strip() == "0"
    assert len(git(tmp_path, "reflog", "--format=%gs", "main").splitlines()) == 9
    assert git(tmp_path, "fsck", "--strict", "--no-dangling").strip() == ""
    assert git(tmp_path, "verify-pack", *map(str, _packs(tmp_path))).strip() == ""


def test_commits_interleaved_with_git_update_ref_lose_nothing(tmp_path: Path) -> None:
    init_repository(tmp_path)
    committer = Committer(tmp_path)
    theirs: list[str] = []
    done = threading.Event()

    def other_writer() -> None:
        for _ in range(500):
            if done.is_set() and len(theirs) >= 3:
                return
            tip = git(tmp_path, "rev-parse", "main").strip()
            new = git(tmp_path, "commit-tree", f"{tip}^{{tree}}", "-p", tip, "-m", "by git").strip()
            try:  # git's own lock protocol: refs/heads/main.lock, then the old value is checked
                git(tmp_path, "update-ref", "-m", "by git", "refs/heads/main", new, tip)
                theirs.append(new)
            except GitError:
                pass  # the branch moved, or our commit held the lock: again on the new tip

    writer = threading.Thread(target=other_writer)
    writer.start()
    ours = []
    for i in range(20):
        sha = committer.commit({f"ours/f{i}.txt": f"{i}\n"}, f"task {i}: f{i}")
        assert sha is not None
        ours.append(sha)
        time.sleep(0.005)
    done.set()
    writer.join()

    history = set(git(tmp_path, "rev-list", "--first-parent", "main").split())
    assert set(ours) <= history and set(theirs) <= history
    assert commit_count(tmp_path) == 1 + len(ours) + len(theirs)
    assert len(git(tmp_path, "ls-tree", "-r", "--name-only", "HEAD").split()) == 20
    assert git(tmp_path, "fsck", "--strict", "--no-dangling").strip() == ""


def _held_ref_lock(root: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository whose branch lock file exists, with commits waiting 50 ms for it."""
    init_repository(root)
    monkeypatch.setattr(git_module, "REF_LOCK_WAIT_SECONDS", 0.05)
    lock = root / ".git/refs/heads/main.lock"
    lock.write_text("")
    return lock


def test_a_ref_lock_held_too_long_is_a_clear_error_and_left_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lock = _held_ref_lock(tmp_path, monkeypatch)
    with pytest.raises(GitError, match=r"main\.lock exists, so another git process is updating 'main'"):
        Committer(tmp_path).commit({"a.txt": "a\n"}, "task 1: a")
    assert lock.exists()
    assert commit_count(tmp_path) == 1


def test_a_ref_lock_left_by_a_dead_process_is_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lock = _held_ref_lock(tmp_path, monkeypatch)
    made = git_module._PROCESS_STARTED - 5  # before this process started: nobody alive holds it
    os.utime(lock, (made, made))
    assert Committer(tmp_path).commit({"a.txt": "a\n"}, "task 1: a") is not None
    assert not lock.exists()
    assert commit_count(tmp_path) == 2


def test_unchanged_files_make_no_commit_and_leave_ref_and_reflog_alone(tmp_path: Path) -> None:
    init_repository(tmp_path)
    committer = Committer(tmp_path)
    files = {"a/b/c/d.txt": "d\n", "top.txt": "t\n"}
    sha = committer.commit(files, "task 1: files")
    assert sha is not None
    reflog = (tmp_path / ".git/logs/refs/heads/main").read_text()
    assert committer.commit(files, "task 1: files") is None
    assert Committer(tmp_path).commit({"a/b/c/d.txt": "d\n"}, "task 2: same") is None
    assert git(tmp_path, "rev-parse", "main").strip() == sha
    assert (tmp_path / ".git/logs/refs/heads/main").read_text() == reflog
    assert commit_count(tmp_path) == 2


def test_the_reflogs_read_as_git_writes_them(tmp_path: Path) -> None:
    init_repository(tmp_path)
    committer = Committer(tmp_path)
    first = committer.commit({"a.txt": "a\n"}, "task 1: a")
    second = committer.commit({"b/c.txt": "c\n"}, "review edit of task 2: c\n\nwhy it changed")
    expected = ["commit: review edit of task 2: c", "commit: task 1: a", "commit (initial): initial commit"]
    assert git(tmp_path, "reflog", "--format=%gs", "main").splitlines() == expected
    assert git(tmp_path, "reflog", "--format=%gs").splitlines() == expected, "HEAD's reflog too"
    assert git(tmp_path, "reflog", "--format=%H %gn <%ge>", "main").splitlines()[:2] == [
        f"{second} {AUTHOR_NAME} <{AUTHOR_EMAIL}>",
        f"{first} {AUTHOR_NAME} <{AUTHOR_EMAIL}>",
    ]
    assert [oct(p.stat().st_mode & 0o777) for p in _packs(tmp_path)] == ["0o444", "0o444"]


def test_a_branch_without_reflogs_gets_them_created(tmp_path: Path) -> None:
    init_repository(tmp_path)
    for log in (tmp_path / ".git/logs/HEAD", tmp_path / ".git/logs/refs/heads/main"):
        log.unlink()
    (tmp_path / ".git/logs/refs/heads").rmdir()
    sha = Committer(tmp_path).commit({"a.txt": "a\n"}, "task 1: a")
    assert git(tmp_path, "reflog", "--format=%H %gs", "main").splitlines() == [f"{sha} commit: task 1: a"]


def test_an_open_pygit2_repository_sees_the_new_objects_and_ref(tmp_path: Path) -> None:
    init_repository(tmp_path)
    repository = pygit2.Repository(str(tmp_path))
    committer = Committer(tmp_path)
    for n in range(3):
        before = repository.references["refs/heads/main"].target
        sha = committer.commit({f"d{n}/f.txt": f"{n}\n"}, f"task {n}: f")
        assert sha is not None
        assert str(repository.references["refs/heads/main"].target) == sha
        assert str(repository.head.target) == sha
        commit = repository[sha].peel(pygit2.Commit)
        assert commit.parent_ids == [before]
        blob = commit.tree[f"d{n}/f.txt"]
        assert isinstance(blob, pygit2.Blob) and blob.data == f"{n}\n".encode()


def test_commits_go_on_after_git_packs_objects_and_refs(tmp_path: Path) -> None:
    init_repository(tmp_path)
    committer = Committer(tmp_path)
    assert committer.commit({"src/a/one.py": "1\n", "src/b.py": "b\n"}, "task 1: one") is not None
    git(tmp_path, "gc", "-q", "--prune=now")
    assert not (tmp_path / ".git/refs/heads/main").exists(), "the branch is in packed-refs only"
    fresh = Committer(tmp_path)  # nothing cached: trees come from the pack
    assert fresh.commit({"src/b.py": "b\n"}, "task 2: unchanged") is None
    sha = fresh.commit({"src/a/two.py": "2\n"}, "task 3: two")
    assert sha is not None
    again = committer.commit({"src/c.py": "c\n"}, "task 4: c")
    assert git(tmp_path, "rev-parse", f"{again}^").strip() == sha
    assert _commit_files(tmp_path, sha) == ["src/a/two.py"]
    assert git(tmp_path, "fsck", "--strict", "--no-dangling").strip() == ""
    assert sorted(git(tmp_path, "ls-tree", "-r", "--name-only", "HEAD").split()) == [
        "src/a/one.py",
        "src/a/two.py",
        "src/b.py",
        "src/c.py",
    ]


def test_a_directory_that_is_not_a_repository_is_a_git_error(tmp_path: Path) -> None:
    with pytest.raises(GitError, match="cannot open the repository"):
        Committer(tmp_path / "missing")


def test_a_file_larger_than_one_stored_block_reads_back_through_git(tmp_path: Path) -> None:
    init_repository(tmp_path)
    content = "".join(f"line {n}: {'x' * (n % 50)}\n" for n in range(8000))  # ~290 KB: 5 stored blocks
    sha = Committer(tmp_path).commit({"data/big.txt": content, "empty.txt": ""}, "task 1: big")
    assert sha is not None
    assert git(tmp_path, "show", "HEAD:data/big.txt") == content
    assert git(tmp_path, "show", "HEAD:empty.txt") == ""
    assert git(tmp_path, "fsck", "--strict", "--no-dangling").strip() == ""


def test_with_log_all_ref_updates_off_only_existing_reflogs_grow(tmp_path: Path) -> None:
    init_repository(tmp_path)
    git(tmp_path, "config", "core.logAllRefUpdates", "false")
    (tmp_path / ".git/logs/HEAD").unlink()
    sha = Committer(tmp_path).commit({"a.txt": "a\n"}, "task 1: a")
    assert not (tmp_path / ".git/logs/HEAD").exists()
    assert git(tmp_path, "reflog", "--format=%H", "main").split()[0] == sha


def test_a_group_builds_on_its_own_unwritten_trees_whatever_the_cache_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A group's later commits are built on the trees of its earlier ones, which are not written yet: a
    # cache trimmed in the middle of a group once lost them (a 500-task run failed on a missing tree).
    monkeypatch.setattr(git_module, "_CACHED_TREES", 1)
    init_repository(tmp_path)
    committer = Committer(tmp_path)
    shas: list[str | None] = []
    with committer._lock:  # the commits queue up behind the lock and are then written as one group
        threads = [
            threading.Thread(
                target=lambda n=n: shas.append(
                    committer.commit({f"src/pkg/m{n}.py": f"N = {n}\n"}, f"task {n}: m{n}")
                )
            )
            for n in range(1, 6)
        ]
        for thread in threads:
            thread.start()
        while len(committer._pending) < len(threads):
            time.sleep(0.001)
    for thread in threads:
        thread.join()
    assert len(shas) == 5 and all(shas)
    assert len(_packs(tmp_path)) == 1
    assert sorted(git(tmp_path, "ls-tree", "--name-only", "HEAD:src/pkg").split()) == [
        f"m{n}.py" for n in range(1, 6)
    ]
    assert git(tmp_path, "fsck", "--strict", "--no-dangling").strip() == ""
