"""`make lint`'s boundary check fails when one API imports another, the statistics import a feature,
a domain package imports the dev tooling (services.dev), or a layer of services/ imports a layer above
it or a sibling of its own layer (the layers contract in pyproject.toml, pictured in README "Layout")."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from services.core.embedded_pg import REPO_ROOT

LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _copy_tree(target: Path) -> None:
    for package in ("services", "intake_api", "workflow_api", "notify_api"):
        shutil.copytree(REPO_ROOT / package, target / package, ignore=shutil.ignore_patterns("__pycache__", "data"))
    shutil.copy(REPO_ROOT / "pyproject.toml", target / "pyproject.toml")


def _lint(cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=cwd,
        env={"PYTHONPATH": str(cwd), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_real_tree_keeps_its_boundaries(tmp_path: Path) -> None:
    _copy_tree(tmp_path)
    result = _lint(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("offender", "imported"),
    [
        ("intake_api", "workflow_api.main"),
        ("notify_api", "intake_api.main"),
        ("services", "notify_api.main"),
        ("services/stats", "services.workflow.engine"),
        ("services/workflow", "services.dev.processes"),
        ("services/core", "services.dev.gateway"),
    ],
)
def test_an_api_importing_another_breaks_the_lint(tmp_path: Path, offender: str, imported: str) -> None:
    _copy_tree(tmp_path)
    (tmp_path / offender / "sneaky.py").write_text(f"import {imported}  # noqa: F401\n")
    result = _lint(tmp_path)
    assert result.returncode != 0
    assert "BROKEN" in result.stdout


LAYERS_CONTRACT = "services/ is layered"


@pytest.mark.parametrize(
    ("offender", "imported"),
    [
        ("services/calendar", "services.sla.clocks"),  # the cycle issue 13 removed (calendar admin -> sla)
        ("services/core", "services.outbox.relay"),  # the worker runs tasks, it does not import them
        ("services/dossier", "services.workflow.engine"),
        ("services/intake", "services.workflow.engine"),  # siblings are independent
        ("services/workflow", "services.intake.postal"),
        ("services/notification", "services.workflow.dossiers"),
        ("services/models", "services.core.config"),
    ],
)
def test_a_layer_importing_a_higher_layer_or_a_sibling_breaks_the_lint(
    tmp_path: Path, offender: str, imported: str
) -> None:
    _copy_tree(tmp_path)
    # a lazy import, inside a function, is an import all the same
    (tmp_path / offender / "sneaky.py").write_text(f"def later() -> None:\n    import {imported}  # noqa: F401\n")
    result = _lint(tmp_path)
    assert result.returncode != 0
    assert "Broken contracts" in result.stdout
    broken = result.stdout.split("Broken contracts", 1)[1]
    assert LAYERS_CONTRACT in broken, result.stdout
    assert f"services.{offender.split('/')[1]}.sneaky -> {imported} (l.2)" in broken
