"""Writes the three services' OpenAPI documents to a folder (``make api-client``).

The SPA's typed client is generated from these files; CI checks that they match the code,
so a change to an API that is not carried into the SPA fails the build.
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from services.dev.processes import SERVICES


def _app(target: str) -> FastAPI:
    """Build a service's app from its factory's name, the way uvicorn does (services never import the APIs)."""
    module, _, factory = target.partition(":")
    app: FastAPI = getattr(importlib.import_module(module), factory)()
    return app


def documents() -> dict[str, dict[str, Any]]:
    return {name: _app(target).openapi() for name, (target, _) in SERVICES.items()}


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
