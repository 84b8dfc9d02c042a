"""Execution workspaces: unique directories, confined atomic writes, git commits per task."""

from masterplan.workspace.files import read_text, write_atomic
from masterplan.workspace.paths import UnsafePathError, check_relative_path, resolve_inside
from masterplan.workspace.service import Workspace, create_workspace, read_files, workspace_root

__all__ = [
    "UnsafePathError",
    "Workspace",
    "check_relative_path",
    "create_workspace",
    "read_files",
    "read_text",
    "resolve_inside",
    "workspace_root",
    "write_atomic",
]
