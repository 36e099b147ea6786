"""The README's "Settings" table, generated from ``services/core/config.py``.

``python -m services.dev.settings_table`` prints it; ``--write`` puts it into README.md between the
``settings-table`` markers. tests/test_settings.py fails when the README's table is not what this
prints, so a new setting cannot reach ``main`` without its environment name and meaning documented.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from services.core.config import Settings, environment
from services.core.embedded_pg import REPO_ROOT

README = REPO_ROOT / "README.md"
START = "<!-- settings-table:start (generated: python -m services.dev.settings_table --write) -->"
END = "<!-- settings-table:end -->"


def _default(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, SecretStr):
        return "demo secret"
    if isinstance(value, Path):
        return f"`{value.relative_to(REPO_ROOT) if value.is_relative_to(REPO_ROOT) else value}`"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, int):
        return str(value)
    return f"`{value}`"


def table() -> str:
    """One row per environment name, in the order of the model: name, place, default, meaning."""
    rows = ["| variable | setting | default | meaning |", "|---|---|---|---|"]
    for env, (group, name) in environment().items():
        model = Settings.model_fields[group].annotation if group else Settings
        info = model.model_fields[name]  # type: ignore[union-attr]
        place = f"{group}.{name}" if group else name
        rows.append(f"| `{env}` | `{place}` | {_default(info.default)} | {info.description} |")
    return "\n".join(rows)


def with_table(readme: str) -> str:
    """The README's text with the generated table between the markers."""
    before, _, rest = readme.partition(START)
    _, _, after = rest.partition(END)
    return f"{before}{START}\n{table()}\n{END}{after}"


def main() -> None:
    if "--write" in sys.argv[1:]:
        README.write_text(with_table(README.read_text(encoding="utf-8")), encoding="utf-8")
    else:
        print(table())


if __name__ == "__main__":
    main()
