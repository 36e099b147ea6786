"""`make lint`'s SPA boundary rule fails when a feature imports another one, or a page another role's pages.

The rule is `boundaries/no-cross-imports` (frontend/eslint/boundaries.js). Each case writes a tiny
SPA beside a copy of the real ESLint configuration (node_modules linked, not copied) and runs the
real ESLint on it, so what is proven is the configuration `npm run lint` uses.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from services.core.embedded_pg import REPO_ROOT

FRONTEND = REPO_ROOT / "frontend"
RULE = "boundaries/no-cross-imports"


def _eslint(cwd: Path, *targets: str) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    if node is None or not (FRONTEND / "node_modules" / "eslint").is_dir():
        pytest.fail("node or frontend/node_modules is missing: run `make spa` (npm ci) first.")
    return subprocess.run(
        [node, str(cwd / "node_modules" / "eslint" / "bin" / "eslint.js"), "--max-warnings", "0", *targets],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _spa(tmp_path: Path, files: dict[str, str]) -> Path:
    """A throwaway frontend/: the real eslint.config.js and rule, the given sources under src/."""
    shutil.copy(FRONTEND / "eslint.config.js", tmp_path / "eslint.config.js")
    shutil.copytree(FRONTEND / "eslint", tmp_path / "eslint")
    (tmp_path / "node_modules").symlink_to(FRONTEND / "node_modules", target_is_directory=True)
    for name, text in files.items():
        path = tmp_path / "src" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return tmp_path


EXPORT = "export const value = 1;\n"


def test_the_real_spa_keeps_its_boundaries() -> None:
    result = _eslint(FRONTEND, "src")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("offender", "source", "imported", "message"),
    [
        ("features/a/api.ts", "../b/api", "features/b/api.ts", "never imports another feature"),
        ("features/a/ui/Panel.tsx", "../../../features/b/api", "features/b/api.ts", "never imports another feature"),
        ("features/a/api.ts", "../../pages/staff/Inbox", "pages/staff/Inbox.tsx", "never imports a page"),
        ("components/Table.tsx", "../features/b/api", "features/b/api.ts", "never imports a feature"),
        ("pages/admin/Page.tsx", "../leader/format", "pages/leader/format.ts", "never import the leader pages"),
    ],
)
def test_a_forbidden_import_breaks_the_lint(
    tmp_path: Path, offender: str, source: str, imported: str, message: str
) -> None:
    importer = f'import {{ value }} from "{source}";\n\nexport const copy = value;\n'
    spa = _spa(tmp_path, {offender: importer, imported: EXPORT})
    result = _eslint(spa, "src")
    assert result.returncode == 1, result.stdout + result.stderr
    assert RULE in result.stdout
    assert message in result.stdout
    assert offender.split("/")[-1] in result.stdout


def test_pages_may_import_features_and_features_shared_code(tmp_path: Path) -> None:
    spa = _spa(
        tmp_path,
        {
            "components/format.ts": EXPORT,
            "features/b/api.ts": 'import { value } from "../../components/format";\n\nexport const twice = value;\n',
            "features/b/components/Panel.tsx": 'import { twice } from "../api";\n\nexport const shown = twice;\n',
            "pages/admin/Page.tsx": 'import { twice } from "../../features/b/api";\n\nexport const page = twice;\n',
            "pages/admin/Other.tsx": 'import { page } from "./Page";\n\nexport const other = page;\n',
        },
    )
    result = _eslint(spa, "src")
    assert result.returncode == 0, result.stdout + result.stderr
