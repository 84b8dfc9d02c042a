"""Validation of generated files: each kind by its own parser, Python also by ruff (its server, else its CLI)."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path, PurePosixPath

import pytest

from masterplan.execution import validation
from masterplan.execution.ruff_server import RuffServer, RuffServerError, shared_server
from masterplan.execution.validation import RUFF_SYNTAX_RULES, ruff_binary, validate_files


def test_valid_files_of_every_kind_pass() -> None:
    report = validate_files(
        [
            ("src/app.py", "def main() -> int:\n    return 1\n"),
            ("config.json", '{"a": [1, 2]}'),
            ("ci.yaml", "jobs:\n  test: {runs-on: x}\n"),
            ("pyproject.toml", '[project]\nname = "x"\n'),
            ("README.md", "# Title\n"),
            ("pkg/__init__.py", ""),
        ]
    )
    assert report.passed, report.errors
    assert report.checks_passed == report.checks_total >= 6


@pytest.mark.parametrize(
    ("path", "content", "expected"),
    [
        ("a.py", "def broken(:\n    return\n", "a.py compiles: line 1"),
        ("a.json", "{not json", "a.json is valid JSON"),
        ("a.yaml", "key: [unclosed", "a.yaml is valid YAML"),
        ("a.toml", "= nope", "a.toml is valid TOML"),
        ("notes.md", "  \n", "notes.md is not empty"),
    ],
)
def test_each_broken_kind_is_reported_with_its_file(path: str, content: str, expected: str) -> None:
    report = validate_files([(path, content), ("ok.py", "x = 1\n")])
    assert not report.passed
    assert len(report.errors) == 1
    assert report.errors[0].startswith(expected)
    assert "FAIL" in report.log_text


@pytest.mark.skipif(ruff_binary() is None, reason="ruff is not installed")
def test_ruff_catches_what_compile_lets_through() -> None:
    report = validate_files([("m.py", "x = 1\nif x is 1:\n    pass\n")])
    assert not report.passed
    assert report.errors[0].startswith("ruff syntax checks: m.py:2:4: F632")


RULES = RUFF_SYNTAX_RULES.split(",")
needs_ruff = pytest.mark.skipif(ruff_binary() is None, reason="ruff is not installed")
BROKEN = {
    "loop.py": ("def f():\n    pass\nbreak\n", ["loop.py:3:1: F701 `break` outside loop"]),
    "ret.py": ("x = 1\nreturn x\n", ["ret.py:2:1: F706 `return` statement outside of a function/method"]),
    "cmp.py": (
        "x = 1\nif x is 1:\n    pass\n",
        ["cmp.py:2:4: F632 [*] Use `==` to compare constant literals"],
    ),
    # compile() accepts a string annotation; ruff parses it
    "ann.py": (
        'x: "1 +" = 1\n',
        ["ann.py:1:4: F722 Syntax error in forward annotation: Expected an expression"],
    ),
}


@pytest.fixture
def servers() -> Iterator[Callable[..., RuffServer]]:
    """Makes servers (of the real ruff unless told), stopped after the test."""
    made: list[RuffServer] = []

    def make(binary: str | None = None, **options: float) -> RuffServer:
        made.append(RuffServer(binary or ruff_binary() or "", RULES, **options))
        return made[-1]

    yield make
    for server in made:
        server.stop()


@pytest.fixture
def server(servers: Callable[..., RuffServer]) -> RuffServer:
    return servers()


def fake_ruff(tmp_path: Path, server_command: str) -> str:
    """A ruff whose `server` runs `server_command` (each start appends to `starts`); `check` is the real one."""
    script = tmp_path / "ruff"
    script.write_text(
        f'#!/bin/sh\nif [ "$1" = server ]; then echo x >> {tmp_path}/starts; {server_command}; fi\n'
        f'exec {ruff_binary()} "$@"\n'
    )
    script.chmod(0o755)
    return str(script)


def starts(tmp_path: Path) -> int:
    path = tmp_path / "starts"
    return len(path.read_text().splitlines()) if path.exists() else 0


@needs_ruff
def test_the_server_reports_what_the_selected_rules_find(server: RuffServer) -> None:
    for name, (content, expected) in BROKEN.items():
        assert server.check(f"pkg/{name}", content) == [f"pkg/{problem}" for problem in expected]
    assert server.check("a.py", "def f(:\n    pass\n")[0].startswith("a.py:1:7: invalid-syntax: Expected")
    assert server.check("ok.py", "def main() -> int:\n    return 1\n") == []
    assert server.check("unused.py", "import os\nx == 1\n") == []  # F401, F821 and E711 are not selected
    wide = server.check("wide.py", 'x = "😀😀"; y: "1 +" = 1\n')
    assert wide[0].startswith("wide.py:1:14: F722")  # columns count characters, as the CLI's do


@needs_ruff
def test_validation_reports_what_ruff_finds_beyond_compile() -> None:
    report = validate_files([("ok.py", "x = 1\n"), ("ann.py", BROKEN["ann.py"][0])])
    assert report.errors == [f"ruff syntax checks: {BROKEN['ann.py'][1][0]}"]


@needs_ruff
def test_threads_checking_at_once_each_get_their_own_files_problems(server: RuffServer) -> None:
    cases = [(f"t{n}/{name}", *BROKEN[name]) for n, name in enumerate(BROKEN)]
    cases += [(f"t{n}/good{n}.py", f"def f{n}() -> int:\n    return {n}\n", []) for n in range(4)]

    def run(thread: int) -> list[str]:
        wrong = []
        for i in range(20):
            path, content, expected = cases[(thread + i) % len(cases)]
            problems = server.check(path, content)
            if problems != [f"{PurePosixPath(path).parent}/{problem}" for problem in expected]:
                wrong.append(f"{path}: {problems}")
        return wrong

    with ThreadPoolExecutor(8) as pool:
        assert [wrong for result in pool.map(run, range(8)) for wrong in result] == []


@needs_ruff
def test_a_killed_server_costs_no_answer_and_is_started_again(monkeypatch: pytest.MonkeyPatch) -> None:
    binary = ruff_binary()
    assert binary is not None
    server = shared_server(binary, RULES)
    monkeypatch.setattr(server, "restart_interval", 0)
    bad = [("cmp.py", BROKEN["cmp.py"][0])]
    assert not validate_files(bad).passed
    killed = server.pid
    assert killed is not None
    os.kill(killed, signal.SIGKILL)
    for _ in range(3):  # the CLI answers while the server is found dead, then a new server
        report = validate_files(bad)
        assert report.errors == [f"ruff syntax checks: {BROKEN['cmp.py'][1][0]}"]
    assert server.pid not in (None, killed)


@needs_ruff
def test_a_broken_server_is_started_again_only_after_its_interval(
    tmp_path: Path, servers: Callable[..., RuffServer]
) -> None:
    crashing = servers(fake_ruff(tmp_path, "exit 1"), restart_interval=60)
    for _ in range(3):
        with pytest.raises(RuffServerError):
            crashing.check("a.py", "x = 1\n")
    assert starts(tmp_path) == 1
    crashing.restart_interval = 0
    with pytest.raises(RuffServerError):
        crashing.check("a.py", "x = 1\n")
    assert starts(tmp_path) == 2
    with pytest.raises(RuffServerError):
        servers(str(tmp_path / "missing")).check("a.py", "x = 1\n")


@needs_ruff
def test_a_server_that_does_not_answer_times_out(tmp_path: Path, servers: Callable[..., RuffServer]) -> None:
    hung = servers(fake_ruff(tmp_path, "exec sleep 30"), timeout=0.2)
    started = time.monotonic()
    with pytest.raises(RuffServerError):
        hung.check("a.py", "x = 1\n")
    assert time.monotonic() - started < 2


@needs_ruff
@pytest.mark.parametrize("server_command", ["exit 1", "exec sleep 30"])
def test_without_a_working_server_validation_uses_ruff_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, server_command: str
) -> None:
    files = [(name, content) for name, (content, _) in BROKEN.items() if name in ("cmp.py", "ann.py")]
    with_server = validate_files(files)
    fake = fake_ruff(tmp_path, server_command)
    monkeypatch.setattr(validation, "ruff_binary", lambda: fake)
    monkeypatch.setattr(shared_server(fake, RULES), "timeout", 0.2)
    without = validate_files(files)
    assert starts(tmp_path) == 1
    assert (
        without.errors
        == with_server.errors
        == ["ruff syntax checks: " + "; ".join([*BROKEN["cmp.py"][1], *BROKEN["ann.py"][1]])]
    )
    assert without.log == with_server.log


@needs_ruff
@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork")
def test_a_forked_child_starts_its_own_server(server: RuffServer) -> None:
    assert server.check("a.py", "break\n")
    parent = server.pid
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports through its exit status
        ok = server.check("a.py", "break\n") == ["a.py:1:1: F701 `break` outside loop"]
        ok = ok and server.pid not in (None, parent)
        server.stop()
        os._exit(0 if ok else 1)
    assert os.waitpid(child, 0)[1] == 0
    assert server.pid == parent
    assert server.check("a.py", "break\n")
