"""One long-lived `ruff server` (ruff's LSP language server) per process, asked for pull diagnostics.

Starting `ruff check` costs ~8 ms of CPU per file; the server answers a check in well under a millisecond.
Several threads may check at once: a reader thread hands each response to its caller by request id. A
server that cannot start, dies or does not answer in time raises `RuffServerError` (callers fall back to the
CLI) and is started again at most once per `restart_interval`.
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import json
import os
import stat
import subprocess
import tempfile
import threading
import time
from concurrent.futures import Future, InvalidStateError
from pathlib import Path, PurePosixPath
from typing import IO, Any

import structlog

log = structlog.get_logger(__name__)


class RuffServerError(RuntimeError):
    """The server could not start, died or did not answer in time."""


class RuffServer:
    """A `ruff server` for `binary` linting with the rules in `select`, started on the first check."""

    def __init__(self, binary: str, select: list[str], timeout: float = 10.0, restart_interval: float = 30.0):
        self.binary, self.select = binary, select
        self.timeout, self.restart_interval = timeout, restart_interval
        self._process: subprocess.Popen[bytes] | None = None  # the newest one, ready or starting
        self._ready: subprocess.Popen[bytes] | None = None  # the one that answered `initialize`
        self._owner = 0  # the pid that started it: a forked child starts its own
        self._broken_at = -float("inf")
        self._pending: dict[int, tuple[subprocess.Popen[bytes], Future[dict[str, Any]]]] = {}
        self._ids, self._documents = itertools.count(1), itertools.count(1)
        self._start_lock, self._state_lock, self._write_lock = (threading.Lock() for _ in range(3))
        self._directory = ""

    @property
    def pid(self) -> int | None:
        """The server's process id while it is running."""
        return self._ready.pid if self._ready and self._owner == os.getpid() else None

    def check(self, path: str, content: str) -> list[str]:
        """Problems in `content` as ruff's concise output names them (`path:line:col: code message`)."""
        process = self._ensure_started()
        uri = Path(self._directory, str(next(self._documents)), PurePosixPath(path).name).as_uri()
        document = {"uri": uri, "languageId": "python", "version": 1, "text": content}
        self._send(process, {"method": "textDocument/didOpen", "params": {"textDocument": document}})
        identifier = {"textDocument": {"uri": uri}}
        try:
            result = self._request(process, "textDocument/diagnostic", identifier)
        finally:
            with contextlib.suppress(RuffServerError):
                self._send(process, {"method": "textDocument/didClose", "params": identifier})
        return [_problem(path, item) for item in result.get("items", [])]

    def stop(self) -> None:
        """Ask the server to shut down and exit; kill it when it does not within a second."""
        with self._start_lock:
            process, self._process, self._ready = self._process, None, None
            if process is not None and self._owner == os.getpid():
                with contextlib.suppress(RuffServerError):
                    self._request(process, "shutdown", None, timeout=1.0)
                    self._send(process, {"method": "exit"})
                _end(process, wait=1.0)

    def _ensure_started(self) -> subprocess.Popen[bytes]:
        ready = self._ready
        if ready is not None and ready.poll() is None and self._owner == os.getpid():
            return ready
        with self._start_lock:
            if self._owner != os.getpid():  # the first start, or forked: the parent's server is not ours
                self._process = self._ready = None
                self._owner, self._pending = os.getpid(), {}
            elif self._process is not None and self._process.poll() is not None:
                self._fail(self._process, "it exited")  # before the reader saw it
            if self._ready is not None:
                return self._ready
            if time.monotonic() - self._broken_at < self.restart_interval:
                raise RuffServerError("the ruff server failed recently")
            return self._start()

    def _start(self) -> subprocess.Popen[bytes]:
        # It runs in an empty directory, so that no project configuration is found; documents are named
        # under it (they never exist as files).
        try:
            self._directory = directory = _empty_directory()
            process = subprocess.Popen(
                [self.binary, "server"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                cwd=directory,
            )
        except OSError as exc:
            self._broken_at = time.monotonic()
            log.warning("ruff_server_failed", reason=str(exc), retry_after_seconds=self.restart_interval)
            raise RuffServerError(f"cannot start {self.binary} server: {exc}") from exc
        self._process = process
        threading.Thread(target=self._read, args=(process,), name="ruff-server", daemon=True).start()
        settings = {
            "configurationPreference": "editorOnly",
            "configuration": {"lint": {"select": self.select}},
            "showSyntaxErrors": True,
        }
        capabilities = {
            "general": {"positionEncodings": ["utf-32"]},  # columns in characters, as the CLI gives them
            "textDocument": {"diagnostic": {"dynamicRegistration": False}},
        }
        params = {"processId": os.getpid(), "rootUri": None, "capabilities": capabilities}
        try:
            self._request(process, "initialize", {**params, "initializationOptions": {"settings": settings}})
            self._send(process, {"method": "initialized", "params": {}})
        except RuffServerError as exc:
            self._fail(process, f"cannot initialize it: {exc}")
            raise
        self._ready = process
        return process

    def _request(
        self, process: subprocess.Popen[bytes], method: str, params: Any, timeout: float | None = None
    ) -> dict[str, Any]:
        request_id = next(self._ids)
        future: Future[dict[str, Any]] = Future()
        self._pending[request_id] = (process, future)
        try:
            self._send(process, {"id": request_id, "method": method, "params": params})
            response = future.result(timeout or self.timeout)
        except TimeoutError:
            self._fail(process, f"no answer to {method} within {timeout or self.timeout} s")
            raise RuffServerError(f"the ruff server did not answer {method}") from None
        finally:
            self._pending.pop(request_id, None)
        if "error" in response:
            raise RuffServerError(f"{method}: {response['error']}")
        result: dict[str, Any] = response.get("result") or {}
        return result

    def _send(self, process: subprocess.Popen[bytes], message: dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        try:
            with self._write_lock:
                assert process.stdin is not None
                process.stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
                process.stdin.flush()
        except (OSError, ValueError) as exc:  # a broken pipe, or stdin closed after a failure
            self._fail(process, f"cannot write to it: {exc}")
            raise RuffServerError("the ruff server is gone") from exc

    def _read(self, process: subprocess.Popen[bytes]) -> None:
        assert process.stdout is not None
        with contextlib.suppress(Exception):  # whatever ends the loop, the server is done
            while (message := _read_message(process.stdout)) is not None:
                if "method" in message:  # a notification to skip, or a request to answer
                    if "id" in message:
                        self._send(process, {"id": message["id"], "result": None})
                elif (pending := self._pending.get(message.get("id", -1))) is not None:
                    with contextlib.suppress(InvalidStateError):
                        pending[1].set_result(message)
        self._fail(process, "it exited")

    def _fail(self, process: subprocess.Popen[bytes], reason: str) -> None:
        """Kill `process`, fail the requests waiting on it, and mark the server broken if it is the current one."""
        with self._state_lock:
            if current := process is self._process:
                self._process = self._ready = None
                self._broken_at = time.monotonic()
        if current:
            log.warning("ruff_server_failed", reason=reason, retry_after_seconds=self.restart_interval)
        _end(process, wait=0)
        for owner, future in list(self._pending.values()):
            if owner is process:
                with contextlib.suppress(InvalidStateError):
                    future.set_exception(RuffServerError(f"the ruff server failed: {reason}"))


def _problem(path: str, diagnostic: dict[str, Any]) -> str:
    """As the concise CLI output gives it: `path:line:col: F701 message`, `F632 [*] message` when ruff can fix
    it (the rules used here have safe fixes only), `invalid-syntax: message`."""
    start, code = diagnostic["range"]["start"], diagnostic.get("code") or "invalid-syntax"
    if code == "invalid-syntax":
        code += ":"
    elif (diagnostic.get("data") or {}).get("edits"):
        code += " [*]"
    message = (str(diagnostic["message"]).splitlines() or [""])[0]
    return f"{path}:{start['line'] + 1}:{start['character'] + 1}: {code} {message}"


def _read_message(stream: IO[bytes]) -> Any:
    """One framed message (`Content-Length` header, blank line, JSON body); None at the end of the stream."""
    length = -1
    while line := stream.readline():
        if not line.strip():
            return json.loads(stream.read(length)) if length >= 0 else None
        name, _, value = line.decode("ascii").partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    return None


def _end(process: subprocess.Popen[bytes], wait: float) -> None:
    """Close its stdin and give it `wait` seconds to exit, then kill it (with 0, kill it first: closing stdin
    could block behind a write to a hung server)."""
    if wait:
        _close(process.stdin)
    try:
        process.wait(wait)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    _close(process.stdin)


def _empty_directory() -> str:
    """This user's directory for the servers, the same for every process (a process killed with
    SIGKILL leaves nothing behind); created private, and refused when someone else made it."""
    directory = Path(tempfile.gettempdir(), f"masterplan-ruff-{os.getuid()}")
    with contextlib.suppress(FileExistsError):
        directory.mkdir(mode=0o700)
    found = directory.lstat()
    if not stat.S_ISDIR(found.st_mode) or found.st_uid != os.getuid():
        raise OSError(f"{directory} is not a directory of this user")
    return str(directory)


def _close(stream: IO[bytes] | None) -> None:
    with contextlib.suppress(OSError, ValueError):
        if stream is not None:
            stream.close()


_shared: dict[tuple[str, tuple[str, ...]], RuffServer] = {}
_shared_lock = threading.Lock()


def shared_server(binary: str, select: list[str]) -> RuffServer:
    """This process's server for `binary` and `select`, created on first use and stopped at exit."""
    with _shared_lock:
        if not _shared:
            atexit.register(_stop_shared)
        key = (binary, tuple(select))
        if key not in _shared:
            _shared[key] = RuffServer(binary, select)
        return _shared[key]


def _stop_shared() -> None:
    for server in list(_shared.values()):
        server.stop()


def _forget_after_fork() -> None:
    """A forked child starts its own servers (the parent's threads and locks did not come along)."""
    global _shared_lock
    _shared.clear()
    _shared_lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_after_fork)
