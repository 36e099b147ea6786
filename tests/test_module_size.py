"""No module in ``services/`` over 500 lines unless its docstring says why (issue 13, "big mixed modules").

A long module is usually two things at once (schemas and SQL, pure rules and storage, a loader and its
data); the fix is to split it. When it really is one thing — a table of message texts, the first
migration's DDL — its module docstring says so in a paragraph starting with ``Long because``, so the
reason is written where the next reader looks, and this test keeps the rule from eroding quietly.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SERVICES = REPO_ROOT / "services"
MAX_LINES = 500
MARKER = "Long because"


def _line_count(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def _explained(path: Path) -> bool:
    docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    return any(line.strip().startswith(MARKER) for line in docstring.splitlines())


def _long_unexplained() -> set[str]:
    return {
        path.relative_to(REPO_ROOT).as_posix()
        for path in SERVICES.rglob("*.py")
        if _line_count(path) > MAX_LINES and not _explained(path)
    }


def test_every_module_over_500_lines_says_why_it_is_long() -> None:
    offenders = sorted(_long_unexplained())
    assert not offenders, (
        f"over {MAX_LINES} lines without a module docstring paragraph starting with {MARKER!r}: "
        f"{', '.join(offenders)} — split the module by concern, or say why it is one thing"
    )


@pytest.mark.parametrize(
    ("lines", "docstring", "passes"),
    [
        (MAX_LINES, "Short.", True),
        (MAX_LINES + 1, "Short.", False),
        (MAX_LINES + 1, "A table of texts.\n\nLong because it is data: one row per message.", True),
        (MAX_LINES + 1, "It is not long because of anything.", False),  # the marker starts a line
    ],
)
def test_the_rule_bites(tmp_path: Path, lines: int, docstring: str, passes: bool) -> None:
    body = f'"""{docstring}"""\n' + "".join(f"X{n} = {n}\n" for n in range(lines))
    module = tmp_path / "module.py"
    module.write_text("\n".join(body.splitlines()[:lines]) + "\n", encoding="utf-8")
    assert _line_count(module) == lines
    assert (_line_count(module) <= MAX_LINES or _explained(module)) is passes
