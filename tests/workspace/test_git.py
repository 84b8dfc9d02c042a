"""Real git: repository setup, one commit per task only when files changed, concurrent commits."""

from __future__ import annotations

import threading
from pathlib import Path

from masterplan.workspace import create_workspace
from masterplan.workspace.git import (
    Committer,
    commit_count,
    commit_diff,
    commit_files,
    find_task_commit,
    git,
    sync_index,
    task_commit_message,
)


def test_workspace_is_a_git_repository_with_an_initial_commit(tmp_path: Path) -> None:
    workspace = create_workspace(tmp_path / "workspaces", "My Project")
    assert workspace.path.parent == (tmp_path / "workspaces").resolve()
    assert workspace.id.startswith("my-project-")
    assert commit_count(workspace.path) == 1
    assert git(workspace.path, "log", "-1", "--format=%s").strip() == "initial commit"


def test_a_task_commit_holds_only_its_files_and_repeating_it_commits_nothing(tmp_path: Path) -> None:
    root = create_workspace(tmp_path, "p").path
    (root / "untracked.txt").write_text("not part of any task\n")
    committer = Committer(root)
    message = task_commit_message(3, "Build\nthe  API")
    sha = committer.commit({"src/api.py": "x = 1\n", "docs/api.md": "# API\n"}, message)
    assert sha is not None
    assert sorted(commit_files(root, sha)) == ["docs/api.md", "src/api.py"]
    assert git(root, "log", "-1", "--format=%s").strip() == "task 3: Build the API"
    assert "+x = 1" in commit_diff(root, sha)
    assert committer.commit({"src/api.py": "x = 1\n", "docs/api.md": "# API\n"}, message) is None
    assert find_task_commit(root, 3) == sha
    assert find_task_commit(root, 30) is None
    assert commit_count(root) == 2


def test_concurrent_commits_each_get_their_own_commit(tmp_path: Path) -> None:
    root = create_workspace(tmp_path, "p").path
    committer = Committer(root)
    shas: dict[int, str | None] = {}
    barrier = threading.Barrier(12)

    def run(n: int) -> None:
        (root / "src").mkdir(exist_ok=True)
        (root / f"src/c{n}.py").write_text(f"n = {n}\n")
        barrier.wait()
        shas[n] = committer.commit({f"src/c{n}.py": f"n = {n}\n"}, task_commit_message(n, f"c{n}"))

    threads = [threading.Thread(target=run, args=(n,)) for n in range(1, 13)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert commit_count(root) == 13
    assert len({s for s in shas.values()}) == 12
    for n, sha in shas.items():
        assert sha is not None
        assert commit_files(root, sha) == [f"src/c{n}.py"]
    sync_index(root)
    assert git(root, "status", "--porcelain").strip() == ""
    assert sorted(git(root, "ls-files").split()) == sorted(f"src/c{n}.py" for n in range(1, 13))


def test_a_commit_made_outside_the_committer_is_noticed(tmp_path: Path) -> None:
    root = create_workspace(tmp_path, "p").path
    committer = Committer(root)
    assert committer.commit({"a.txt": "one\n"}, "task 1: a") is not None
    (root / "a.txt").write_text("changed by hand\n")
    git(root, "add", "a.txt")
    git(root, "commit", "-q", "-m", "by hand")
    again = committer.commit({"a.txt": "one\n"}, "task 1: a")
    assert again is not None, "HEAD moved: the file differs from HEAD again, so it is committed"
    assert git(root, "show", f"{again}:a.txt") == "one\n"
    assert commit_count(root) == 4
