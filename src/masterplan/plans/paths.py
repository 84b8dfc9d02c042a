"""Safety of relative file paths that tasks declare and agents write."""

from __future__ import annotations

import re

MAX_PATH_LENGTH = 255
_DRIVE = re.compile(r"^[A-Za-z]:")


def path_problem(path: str) -> str | None:
    """Why a workspace-relative path is unsafe, or None when it is safe."""
    if not path:
        return "is empty"
    if len(path) > MAX_PATH_LENGTH:
        return f"is longer than {MAX_PATH_LENGTH} characters"
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in path):
        return "contains a NUL or control character"
    if "\\" in path:
        return "contains a backslash (use forward slashes)"
    if path.startswith("/"):
        return "is absolute (use a path relative to the workspace)"
    if _DRIVE.match(path):
        return "starts with a drive letter"
    segments = path.split("/")
    if any(seg == ".." for seg in segments):
        return "contains a '..' segment"
    if any(seg == "" for seg in segments):
        return "has an empty segment"
    if any(seg == "." for seg in segments):
        return "contains a '.' segment"
    if segments[0] == ".git":
        return "points inside .git"
    return None
