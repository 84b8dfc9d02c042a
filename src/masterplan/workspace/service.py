"""Creating execution workspaces and reading a task's files from one."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from masterplan.errors import Conflict
from masterplan.workspace.files import read_text
from masterplan.workspace.git import init_repository
from masterplan.workspace.paths import UnsafePathError, new_workspace_id


@dataclass(frozen=True)
class Workspace:
    id: str
    path: Path


def create_workspace(workspaces_dir: Path, project_name: str) -> Workspace:
    """A new directory (readable name plus short id) holding a git repository with an initial commit."""
    workspaces_dir.mkdir(parents=True, exist_ok=True)
    workspace_id = new_workspace_id(project_name)
    path = (workspaces_dir / workspace_id).resolve()
    path.mkdir()
    try:
        init_repository(path)
    except BaseException:
        shutil.rmtree(path, ignore_errors=True)
        raise
    return Workspace(workspace_id, path)


def remove_workspace(workspace: Workspace) -> None:
    """Delete a workspace that was created for a run that did not start."""
    shutil.rmtree(workspace.path, ignore_errors=True)


def workspace_root(workspace_path: str | None) -> Path:
    """The directory of a plan's workspace; 409 when the plan was never executed or it was removed."""
    if not workspace_path:
        raise Conflict("this plan has no workspace yet: execute it first", code="no_workspace")
    root = Path(workspace_path)
    if not root.is_dir():
        raise Conflict(f"the workspace {workspace_path} no longer exists", code="workspace_missing")
    return root


def read_files(root: Path, paths: list[str]) -> list[tuple[str, str]]:
    """(path, content) of each path that exists in the workspace; unsafe paths are skipped."""
    found: list[tuple[str, str]] = []
    for path in paths:
        try:
            content = read_text(root, path)
        except UnsafePathError:
            continue
        if content is not None:
            found.append((path, content))
    return found
