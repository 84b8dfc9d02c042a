"""Workspace files stay inside the workspace: `..`, absolute paths, git internals and symlink escapes
are refused when reading as when writing (through the workspace package's public functions)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from masterplan.workspace import UnsafePathError, create_workspace, read_files, read_text, write_atomic

ESCAPES = [
    "../outside.txt",
    "src/../../outside.txt",
    "/etc/passwd",
    "C:/Windows/win.ini",
    "src\\..\\..\\outside.txt",
    ".git/config",
    "src/.git/hooks/pre-commit",
    "name\x00.txt",
    "",
    ".",
    "a/" * 200 + "x",
]


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    return create_workspace(tmp_path / "workspaces", "Confined").path


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    outside = tmp_path / "secret.txt"
    outside.write_text("the server's secret")
    return outside


@pytest.mark.parametrize("path", ESCAPES)
def test_escaping_paths_are_refused_on_read_and_write(workspace: Path, secret: Path, path: str) -> None:
    with pytest.raises(UnsafePathError):
        read_text(workspace, path)
    with pytest.raises(UnsafePathError):
        write_atomic(workspace, path, "overwritten")
    assert secret.read_text() == "the server's secret"
    assert not (workspace.parent / "outside.txt").exists()


def test_symlinked_file_pointing_outside_is_refused(workspace: Path, secret: Path) -> None:
    os.symlink(secret, workspace / "link.txt")
    with pytest.raises(UnsafePathError, match="symlink"):
        read_text(workspace, "link.txt")
    with pytest.raises(UnsafePathError):
        write_atomic(workspace, "link.txt", "overwritten")
    assert secret.read_text() == "the server's secret"
    assert read_files(workspace, ["link.txt"]) == []


def test_symlinked_directory_pointing_outside_is_refused(workspace: Path, secret: Path) -> None:
    os.symlink(secret.parent, workspace / "escape")
    with pytest.raises(UnsafePathError):
        read_text(workspace, "escape/secret.txt")
    with pytest.raises(UnsafePathError):
        write_atomic(workspace, "escape/new.txt", "planted")
    assert not (secret.parent / "new.txt").exists()


def test_paths_inside_the_workspace_work(workspace: Path) -> None:
    assert write_atomic(workspace, "src/app.py", "print('hi')\n") is True
    assert write_atomic(workspace, "./src/app.py", "print('hi')\n") is False
    os.symlink(workspace / "src" / "app.py", workspace / "alias.py")
    assert read_text(workspace, "alias.py") == "print('hi')\n"
    assert read_files(workspace, ["src/app.py", "../x", "missing.py"]) == [("src/app.py", "print('hi')\n")]
