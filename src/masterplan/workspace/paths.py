"""Workspace-relative paths that cannot leave the workspace: no absolute paths, no `..`, no symlink escape."""

from __future__ import annotations

import os
import re
import stat
import uuid
from pathlib import Path, PurePosixPath

MAX_PATH_LENGTH = 255
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_DRIVE = re.compile(r"^[A-Za-z]:")


class UnsafePathError(ValueError):
    """A path the coder (or a request) gave would write outside the workspace or into git's own files."""


def check_relative_path(path: str) -> str:
    """The path in its normal form (forward slashes, no `.` parts); raise UnsafePathError saying why not."""
    if not path or not path.strip():
        raise UnsafePathError("the path is empty")
    if len(path) > MAX_PATH_LENGTH:
        raise UnsafePathError(f"{path[:40]!r}... is longer than {MAX_PATH_LENGTH} characters")
    if _CONTROL.search(path):
        raise UnsafePathError(f"{path!r} contains control characters")
    if "\\" in path:
        raise UnsafePathError(f"{path!r} uses backslashes; use forward slashes")
    if path.startswith("/") or _DRIVE.match(path):
        raise UnsafePathError(f"{path!r} is absolute; give a path relative to the workspace root")
    parts = [p for p in PurePosixPath(path).parts if p != "."]
    if any(p == ".." for p in parts):
        raise UnsafePathError(f"{path!r} climbs out with '..'; give a path inside the workspace")
    if not parts:
        raise UnsafePathError(f"{path!r} names the workspace root, not a file")
    if parts[0] == ".git" or any(p == ".git" for p in parts):
        raise UnsafePathError(f"{path!r} points into git's own directory")
    return "/".join(parts)


def resolve_inside(root: Path, path: str) -> Path:
    """The absolute location of a workspace-relative path, after following symlinks, inside the root.

    Only the path's own parts are looked at (the root is resolved once per process): Path.resolve
    stats every part from `/`, twice per file read or write, and each of those calls waits for the
    interpreter lock again while a wave's tasks run.
    """
    relative = check_relative_path(path)
    base = _resolved_root(str(root))
    target = base
    for part in relative.split("/"):
        target = target / part
        try:
            is_link = stat.S_ISLNK(os.lstat(target).st_mode)
        except (FileNotFoundError, NotADirectoryError):
            break  # nothing below exists: no symlink left to follow
        if is_link:
            target = (base / relative).resolve()
            if not target.is_relative_to(base):
                raise UnsafePathError(f"{path!r} resolves outside the workspace (through a symlink)")
            if target == base:
                raise UnsafePathError(f"{path!r} names the workspace root, not a file")
            return target
    return base / relative


_roots: dict[str, Path] = {}


def _resolved_root(root: str) -> Path:
    """The root with its symlinks resolved; remembered once it exists (a workspace root stays put)."""
    resolved = _roots.get(root)
    if resolved is None:
        resolved = Path(root).resolve()
        if resolved.is_dir():
            if len(_roots) >= 1024:
                _roots.clear()
            _roots[root] = resolved
    return resolved


def slugify(text: str, limit: int = 40) -> str:
    """A readable, filesystem-safe name: lowercase words joined by dashes."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:limit].rstrip("-") or "project"


def new_workspace_id(project_name: str) -> str:
    """A unique directory name: the project's readable name plus a short random id."""
    return f"{slugify(project_name)}-{uuid.uuid4().hex[:8]}"
