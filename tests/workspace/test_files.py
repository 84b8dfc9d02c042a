"""Paths confined to the workspace and atomic writes, on the real filesystem."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from masterplan.workspace import UnsafePathError, check_relative_path, read_text, resolve_inside, write_atomic
from masterplan.workspace.paths import new_workspace_id


@pytest.mark.parametrize(
    ("path", "why"),
    [
        ("", "empty"),
        ("/etc/passwd", "absolute"),
        ("C:/x.py", "absolute"),
        ("../outside.py", "'..'"),
        ("src/../../outside.py", "'..'"),
        ("src\\win.py", "backslashes"),
        (".git/config", "git's own"),
        ("a/.git/hooks/x", "git's own"),
        ("bad\nname.py", "control"),
        (".", "root"),
        ("x" * 300, "longer"),
    ],
)
def test_unsafe_paths_are_refused_with_the_reason(path: str, why: str) -> None:
    with pytest.raises(UnsafePathError, match=why):
        check_relative_path(path)


def test_safe_paths_are_normalised() -> None:
    assert check_relative_path("./src//app/main.py") == "src/app/main.py"
    assert check_relative_path("README.md") == "README.md"


def test_symlink_out_of_the_workspace_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    outside = tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (root / "link").symlink_to(outside)
    with pytest.raises(UnsafePathError, match="symlink"):
        write_atomic(root, "link/evil.py", "x = 1\n")
    assert not (outside / "evil.py").exists()


def test_symlink_inside_the_workspace_is_followed(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    (root / "real").mkdir(parents=True)
    (root / "alias").symlink_to(root / "real")
    assert resolve_inside(root, "alias/a.py") == (root / "real" / "a.py").resolve()


def test_a_workspace_reached_through_a_symlink_confines_like_its_target(tmp_path: Path) -> None:
    (tmp_path / "real" / "pkg").mkdir(parents=True)
    (tmp_path / "outside").mkdir()
    root = tmp_path / "ws"
    root.symlink_to(tmp_path / "real")
    assert resolve_inside(root, "pkg/a.py") == tmp_path.resolve() / "real" / "pkg" / "a.py"
    (tmp_path / "real" / "pkg" / "out").symlink_to(tmp_path / "outside")
    with pytest.raises(UnsafePathError, match="symlink"):
        resolve_inside(root, "pkg/out/a.py")
    (tmp_path / "real" / "file.txt").write_text("x")
    assert resolve_inside(root, "file.txt/below.py") == tmp_path.resolve() / "real" / "file.txt" / "below.py"


def test_atomic_write_creates_parents_and_reports_changes(tmp_path: Path) -> None:
    assert write_atomic(tmp_path, "src/pkg/mod.py", "a = 1\n") is True
    assert (tmp_path / "src/pkg/mod.py").read_text() == "a = 1\n"
    mtime = os.stat(tmp_path / "src/pkg/mod.py").st_mtime_ns
    assert write_atomic(tmp_path, "src/pkg/mod.py", "a = 1\n") is False
    assert os.stat(tmp_path / "src/pkg/mod.py").st_mtime_ns == mtime
    assert write_atomic(tmp_path, "src/pkg/mod.py", "a = 2\n") is True
    assert read_text(tmp_path, "src/pkg/mod.py") == "a = 2\n"
    leftovers = [p.name for p in (tmp_path / "src/pkg").iterdir()]
    assert leftovers == ["mod.py"]


def test_reading_a_missing_file_gives_none(tmp_path: Path) -> None:
    assert read_text(tmp_path, "nothing/here.txt") is None


def test_workspace_ids_are_readable_and_unique() -> None:
    first, second = new_workspace_id("Todo API: v2!"), new_workspace_id("Todo API: v2!")
    assert first.startswith("todo-api-v2-")
    assert first != second
