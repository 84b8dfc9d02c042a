"""Reading and atomically writing files confined to a workspace."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from masterplan.workspace.paths import resolve_inside


def read_text(root: Path, path: str) -> str | None:
    """The file's text, or None when it does not exist (or is not a regular file)."""
    target = resolve_inside(root, path)
    if not target.is_file():
        return None
    return target.read_text(encoding="utf-8", errors="replace")


def write_atomic(root: Path, path: str, content: str) -> bool:
    """Write through a temporary file and a rename; a reader sees the old or the new file, never half.

    Returns False (and touches nothing) when the file already has exactly this content, so repeating a
    write after a crash changes nothing.
    """
    target = resolve_inside(root, path)
    data = content.encode("utf-8")
    if target.is_file() and target.read_bytes() == data:
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    # The parent may have been created through a symlink after the check: check again.
    resolve_inside(root, path)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True
