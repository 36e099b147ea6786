"""Writes the three services' OpenAPI documents to a folder (``make api-client``).

The SPA's typed client is generated from these files; CI checks that they match the code,
so a change to an API that is not carried into the SPA fails the build.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from intake_api.main import create_app as create_intake
from notify_api.main import create_app as create_notify
from workflow_api.main import create_app as create_workflow

FACTORIES = {"intake": create_intake, "workflow": create_workflow, "notify": create_notify}


def documents() -> dict[str, dict[str, Any]]:
    built: dict[str, FastAPI] = {name: factory() for name, factory in FACTORIES.items()}
    return {name: app.openapi() for name, app in built.items()}


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def main(argv: list[str]) -> None:
    target = Path(argv[1] if len(argv) > 1 else "frontend/openapi")
    target.mkdir(parents=True, exist_ok=True)
    for name, document in documents().items():
        (target / f"{name}.json").write_text(render(document), encoding="utf-8")
        print(f"wrote {target / f'{name}.json'}")


if __name__ == "__main__":
    main(sys.argv)
