"""Validation of generated files: each kind by its own parser, Python also by ruff."""

from __future__ import annotations

import pytest

from masterplan.execution.validation import ruff_binary, validate_files


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
