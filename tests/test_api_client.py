"""The SPA's API contract never drifts from the services.

- frontend/openapi/*.json are what the three services' code renders now: a backend change that
  was not carried over with ``make api-client`` fails here.
- frontend/src/api/schema/*.ts are what scripts/gen-api.mjs generates from those documents: the
  typed client is never edited by hand nor left behind.
"""

from __future__ import annotations

import difflib
import shutil
import subprocess
from pathlib import Path

import pytest

from services.core.embedded_pg import REPO_ROOT
from services.dev.openapi_dump import documents, render

FRONTEND = REPO_ROOT / "frontend"
SERVICES = ("intake", "workflow", "notify")
FIX = "run `make api-client` and commit frontend/openapi/ and frontend/src/api/schema/"


def _diff(expected: str, actual: str, name: str, limit: int = 40) -> str:
    lines = list(
        difflib.unified_diff(
            expected.splitlines(), actual.splitlines(), f"{name} (checked in)", f"{name} (from the code)", lineterm=""
        )
    )
    shown = "\n".join(lines[:limit])
    return shown + (f"\n… {len(lines) - limit} more diff lines" if len(lines) > limit else "")


@pytest.fixture(scope="module")
def rendered() -> dict[str, str]:
    return {name: render(document) for name, document in documents().items()}


def test_every_service_has_its_checked_in_document(rendered: dict[str, str]) -> None:
    assert sorted(rendered) == sorted(SERVICES)
    for name in SERVICES:
        assert (FRONTEND / "openapi" / f"{name}.json").is_file(), f"frontend/openapi/{name}.json is missing: {FIX}"


@pytest.mark.parametrize("service", SERVICES)
def test_the_checked_in_openapi_document_matches_the_code(rendered: dict[str, str], service: str) -> None:
    checked_in = (FRONTEND / "openapi" / f"{service}.json").read_text(encoding="utf-8")
    if checked_in != rendered[service]:
        pytest.fail(
            f"frontend/openapi/{service}.json differs from what {service}_api renders now; {FIX}.\n"
            + _diff(checked_in, rendered[service], f"{service}.json"),
            pytrace=False,
        )


def test_the_typed_client_is_what_the_generator_makes_of_the_documents(tmp_path: Path) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is missing: the SPA's toolchain is needed (make spa installs frontend/node_modules).")
    if not (FRONTEND / "node_modules" / "openapi-typescript").is_dir():
        pytest.fail("frontend/node_modules is missing: run `make spa` (npm ci) first.")
    done = subprocess.run(
        [node, str(FRONTEND / "scripts" / "gen-api.mjs"), str(tmp_path)],
        cwd=FRONTEND,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, f"gen-api.mjs failed:\n{done.stdout}\n{done.stderr}"
    for service in SERVICES:
        generated = (tmp_path / f"{service}.ts").read_text(encoding="utf-8")
        checked_in = (FRONTEND / "src" / "api" / "schema" / f"{service}.ts").read_text(encoding="utf-8")
        if generated != checked_in:
            pytest.fail(
                f"frontend/src/api/schema/{service}.ts is not what gen-api.mjs makes of openapi/{service}.json; "
                f"{FIX} (never edit the generated types by hand).\n" + _diff(checked_in, generated, f"{service}.ts"),
                pytrace=False,
            )
