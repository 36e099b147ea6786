"""What every benchmark does around its measurement: a fresh, migrated database of its own."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Coroutine
from typing import Any

from services.core.embedded_pg import EmbeddedPostgres
from tests.db import migrate, recreate_database


def run_on_fresh_database(name: str, measure: Callable[[str], Coroutine[Any, Any, None]]) -> int:
    """Recreate and migrate database ``name`` (on the embedded server unless MOTCUA_DATABASE_URL),
    run ``measure(url)``, and stop the embedded server if this call started it."""
    server = EmbeddedPostgres.from_env()
    base_url = os.environ.get("MOTCUA_DATABASE_URL")
    started_db = False
    if not base_url:
        started_db = server.start()
        base_url = server.url()
    url = recreate_database(base_url, name)
    migrate(url)
    try:
        asyncio.run(measure(url))
    finally:
        if started_db:
            server.stop()
    return 0
