"""The SQL of the statistics aggregates outside the triggers: adding a bulk-loaded batch to the cells,
recounting every cell from the tables, and the ``rebuild`` and ``verify`` of ``python -m
services.stats.bulk``.

Every statement sums the rows the same SQL functions give the triggers (``stats_dossier_facts``,
``stats_step_facts``, ``stats_day``) into month cells, grouped and inserted in key order, so a recount
equals what the triggers maintain and concurrent writers never deadlock on a cell.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import asyncpg

from services.models.stats import DOSSIER_COUNTERS, STEP_COUNTERS

MONTH = "date_trunc('month', s.day::timestamp)::date"
DOSSIER_KEYS = ("month", "agency_id", "procedure_version_id")
STEP_KEYS = (*DOSSIER_KEYS, "unit_id")
OFFICER_KEYS = (*STEP_KEYS, "assignee_id")


def _grouped_insert(table: str, keys: Sequence[str], counters: Sequence[str], source: str, *, add: bool) -> str:
    """Sum ``source`` (rows with a ``day`` and the counters) into the month rows of ``table``, in key order."""
    exprs = ", ".join(MONTH if k == "month" else f"s.{k}" for k in keys)
    positions = ", ".join(str(n) for n in range(1, len(keys) + 1))
    sums = ", ".join(f"sum(s.{c})" for c in counters)
    statement = (
        f"INSERT INTO {table} AS c ({', '.join(keys)}, {', '.join(counters)}) "
        f"SELECT {exprs}, {sums} FROM ({source}) AS s GROUP BY {positions} ORDER BY {positions}"
    )
    if add:
        updates = ", ".join(f"{c} = c.{c} + excluded.{c}" for c in counters)
        statement += f" ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates}"
    return statement


def _step_source(timers: str) -> str:
    return (
        "SELECT stats_day(d) AS day, d.receiving_agency_id AS agency_id, d.procedure_version_id,"
        " coalesce(f.unit_id, d.receiving_agency_id) AS unit_id, f.assignee_id,"
        f" {', '.join(f'f.{c}' for c in STEP_COUNTERS)}"
        f" FROM {timers} JOIN dossier AS d ON d.id = t.dossier_id CROSS JOIN LATERAL stats_step_facts(t) AS f"
    )


# the loaded batch: its ids, and which of them were rated "dissatisfied" (a new dossier has no complaint
# or payment yet)
BATCH_DOSSIERS = _grouped_insert(
    "stats_dossier_cell",
    DOSSIER_KEYS,
    DOSSIER_COUNTERS,
    "SELECT f.* FROM unnest($1::uuid[], $2::boolean[]) AS b(id, complained) JOIN dossier AS d ON d.id = b.id "
    "CROSS JOIN LATERAL stats_dossier_facts(d, b.complained, false) AS f",
    add=True,
)
BATCH_STEPS = _grouped_insert(
    "stats_step_cell",
    STEP_KEYS,
    STEP_COUNTERS,
    _step_source("unnest($1::uuid[]) AS b(id) JOIN sla_timer AS t ON t.dossier_id = b.id"),
    add=True,
)
BATCH_OFFICERS = _grouped_insert(
    "stats_officer_cell",
    OFFICER_KEYS,
    STEP_COUNTERS,
    _step_source("unnest($1::uuid[]) AS b(id) JOIN sla_timer AS t ON t.dossier_id = b.id"),
    add=True,
)


def _recount_statements(prefix: str = "") -> list[str]:
    """Every aggregate from the tables, into ``prefix`` + table name (the real ones, or scratch copies)."""
    # flags by joins, not sub-plans in the arguments: PostgreSQL then inlines the SQL function
    flagged = (
        "dossier AS d LEFT JOIN (SELECT dossier_id FROM complaint WHERE dossier_id IS NOT NULL"
        " UNION SELECT dossier_id FROM feedback WHERE rating = 'dissatisfied') AS cf ON cf.dossier_id = d.id"
        " LEFT JOIN (SELECT DISTINCT dossier_id FROM payment WHERE status <> 'cancelled') AS pf"
        " ON pf.dossier_id = d.id"
    )
    return [
        _grouped_insert(
            f"{prefix}stats_dossier_cell",
            DOSSIER_KEYS,
            DOSSIER_COUNTERS,
            f"SELECT f.* FROM {flagged} CROSS JOIN LATERAL "
            "stats_dossier_facts(d, cf.dossier_id IS NOT NULL, pf.dossier_id IS NOT NULL) AS f",
            add=False,
        ),
        _grouped_insert(
            f"{prefix}stats_step_cell", STEP_KEYS, STEP_COUNTERS, _step_source("sla_timer AS t"), add=False
        ),
        _grouped_insert(
            f"{prefix}stats_officer_cell", OFFICER_KEYS, STEP_COUNTERS, _step_source("sla_timer AS t"), add=False
        ),
    ]


AGGREGATE_TABLES = {
    "stats_dossier_cell": DOSSIER_COUNTERS,
    "stats_step_cell": STEP_COUNTERS,
    "stats_officer_cell": STEP_COUNTERS,
}
SOURCE_TABLES = "dossier, sla_timer, complaint, feedback, payment"


@asynccontextmanager
async def _connect(dsn: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(dsn, server_settings={"application_name": "motcua-bulk"})
    try:
        yield connection
    finally:
        await connection.close()


async def rebuild(dsn: str) -> None:
    """Recount every aggregate; writers wait meanwhile (SHARE lock on the counted tables), readers do not."""
    async with _connect(dsn) as connection, connection.transaction():
        await connection.execute(f"LOCK TABLE {SOURCE_TABLES} IN SHARE MODE")
        await connection.execute(f"TRUNCATE {', '.join(AGGREGATE_TABLES)}")
        for statement in _recount_statements():
            await connection.execute(statement)


async def verify(dsn: str) -> dict[str, int]:
    """How many aggregate rows differ from a recount, per table (empty cells are ignored)."""
    differences: dict[str, int] = {}
    async with _connect(dsn) as connection, connection.transaction():
        await connection.execute(f"LOCK TABLE {SOURCE_TABLES} IN SHARE MODE")
        for table in AGGREGATE_TABLES:
            await connection.execute(f"CREATE TEMP TABLE recount_{table} (LIKE {table}) ON COMMIT DROP")
        for statement in _recount_statements(prefix="recount_"):
            await connection.execute(statement)
        for table, counters in AGGREGATE_TABLES.items():
            nonzero = " OR ".join(f"{c} <> 0" for c in counters)
            count = await connection.fetchval(
                f"SELECT count(*) FROM ("
                f"(SELECT * FROM {table} WHERE {nonzero} EXCEPT SELECT * FROM recount_{table} WHERE {nonzero}) "
                f"UNION ALL "
                f"(SELECT * FROM recount_{table} WHERE {nonzero} EXCEPT SELECT * FROM {table} WHERE {nonzero})) AS x"
            )
            differences[table] = int(count)
    return differences
