"""The SQL of the statistics aggregates outside the triggers: adding a bulk-loaded batch to the cells,
recounting every cell from the tables, and the ``rebuild`` and ``verify`` of ``python -m
services.stats.bulk``.

Every statement sums the rows the same SQL functions give the triggers (``stats_dossier_facts``,
``stats_step_facts``, ``stats_open_facts``, ``stats_open_step_facts``, ``stats_day``) into month cells,
grouped and inserted in key order, so a recount equals what the triggers maintain and concurrent writers
never deadlock on a cell. The rollups (``stats_dossier_year`` …) follow the cells by their own trigger,
whoever writes the cells (a batch, a rebuild); ``verify`` recounts them from the recounted cells. The
open counters' arrays of due days are built per cell from the dossiers' due days (a running sum over
the days from the first to the last) and merged into an existing row by ``stats_due_merge``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import asyncpg

from services.domain.vocabulary import open_states_sql
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


OPEN_KEYS = ("month", "agency_id", "procedure_version_id")
OPEN_STEP_KEYS = (*OPEN_KEYS, "unit_id")
OPEN_COLUMNS = ("open", "overdue", "due_from", "due_cumulative")
# services.domain.rules.is_overdue's "paused since": the dossier clock's pause
PAUSED_SINCE = (
    "(SELECT clock.paused_at FROM sla_timer AS clock WHERE clock.dossier_id = d.id AND clock.kind = 'dossier'"
    " AND clock.ended_at IS NULL LIMIT 1)"
)
OPEN_FACTS = f"CROSS JOIN LATERAL stats_open_facts(d, {PAUSED_SINCE}) AS f WHERE d.{open_states_sql()}"
OPEN_STEP_FACTS = (
    "JOIN dossier AS d ON d.id = t.dossier_id CROSS JOIN LATERAL stats_open_step_facts(d, t) AS f"
    " WHERE t.kind = 'step' AND t.ended_at IS NULL"
)


def _open_insert(table: str, keys: Sequence[str], source: str, *, add: bool) -> str:
    """The open counters of ``source`` (rows of ``stats_open_facts`` or ``stats_open_step_facts``) into
    ``table``, each cell's due days as a cumulative array from its first due day to its last."""
    key_list = ", ".join(keys)
    grid_keys = ", ".join(f"g.{k}" for k in keys)
    joined = " AND ".join(f"x.{k} = g.{k}" for k in keys)
    statement = (
        f"WITH f AS (SELECT {', '.join(f'{MONTH} AS month' if k == 'month' else f's.{k}' for k in keys)}, s.open,"
        f" s.overdue, s.due_day FROM ({source}) AS s),"
        f" days AS (SELECT {key_list}, due_day, count(*)::integer AS n FROM f WHERE due_day IS NOT NULL"
        f" GROUP BY {key_list}, due_day),"
        f" spans AS (SELECT {key_list}, min(due_day) AS lo, max(due_day) AS hi FROM days GROUP BY {key_list}),"
        f" grid AS (SELECT {', '.join(f's.{k}' for k in keys)}, s.lo, g.day::date AS day FROM spans AS s"
        " CROSS JOIN LATERAL generate_series(s.lo, s.hi, interval '1 day') AS g(day)),"
        f" running AS (SELECT {grid_keys}, g.lo, g.day,"
        f" sum(coalesce(x.n, 0)) OVER (PARTITION BY {grid_keys} ORDER BY g.day) AS total"
        f" FROM grid AS g LEFT JOIN days AS x ON {joined} AND x.due_day = g.day),"
        f" cumulative AS (SELECT {key_list}, lo, array_agg(total::integer ORDER BY day) AS cum FROM running"
        f" GROUP BY {key_list}, lo),"
        f" totals AS (SELECT {key_list}, sum(open)::integer AS open, sum(overdue)::integer AS overdue FROM f"
        f" GROUP BY {key_list})"
        f" INSERT INTO {table} AS c ({key_list}, {', '.join(OPEN_COLUMNS)})"
        f" SELECT {', '.join(f't.{k}' for k in keys)}, t.open, t.overdue, u.lo, u.cum FROM totals AS t"
        f" LEFT JOIN cumulative AS u USING ({key_list}) WHERE t.open <> 0 ORDER BY {key_list}"
    )
    if add:
        statement += (
            f" ON CONFLICT ({key_list}) DO UPDATE SET open = c.open + excluded.open,"
            " overdue = c.overdue + excluded.overdue, (due_from, due_cumulative) = (SELECT m.due_from,"
            " m.due_cumulative FROM stats_due_merge(c.due_from, c.due_cumulative, excluded.due_from,"
            " excluded.due_cumulative) AS m)"
        )
    return statement


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


BATCH_OPEN = _open_insert(
    "stats_open_cell",
    OPEN_KEYS,
    f"SELECT f.* FROM unnest($1::uuid[]) AS b(id) JOIN dossier AS d ON d.id = b.id {OPEN_FACTS}",
    add=True,
)
BATCH_OPEN_STEPS = _open_insert(
    "stats_open_step_cell",
    OPEN_STEP_KEYS,
    f"SELECT f.* FROM unnest($1::uuid[]) AS b(id) JOIN sla_timer AS t ON t.dossier_id = b.id {OPEN_STEP_FACTS}",
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
        _open_insert(f"{prefix}stats_open_cell", OPEN_KEYS, f"SELECT f.* FROM dossier AS d {OPEN_FACTS}", add=False),
        _open_insert(
            f"{prefix}stats_open_step_cell",
            OPEN_STEP_KEYS,
            f"SELECT f.* FROM sla_timer AS t {OPEN_STEP_FACTS}",
            add=False,
        ),
    ]


YEAR = "date_trunc('year', x.month)::date"
# rollup table: (the cell table it sums, its keys as expressions over a cell row, the counters)
ROLLUPS = {
    "stats_dossier_year": (
        "stats_dossier_cell",
        {"year": YEAR, "agency_id": "x.agency_id", "procedure_version_id": "x.procedure_version_id"},
        DOSSIER_COUNTERS,
    ),
    "stats_dossier_agency_month": (
        "stats_dossier_cell",
        {"month": "x.month", "agency_id": "x.agency_id"},
        DOSSIER_COUNTERS,
    ),
    "stats_step_year": (
        "stats_step_cell",
        {"year": YEAR, "agency_id": "x.agency_id", "procedure_version_id": "x.procedure_version_id",
         "unit_id": "x.unit_id"},
        STEP_COUNTERS,
    ),
}  # fmt: skip


def _rollup_statements(prefix: str) -> list[str]:
    """The rollups summed from the cells ``prefix`` + name (the triggers do it for the real ones)."""
    statements = []
    for rollup, (cell, keys, counters) in ROLLUPS.items():
        positions = ", ".join(str(n) for n in range(1, len(keys) + 1))
        statements.append(
            f"INSERT INTO {prefix}{rollup} ({', '.join(keys)}, {', '.join(counters)})"
            f" SELECT {', '.join(keys.values())}, {', '.join(f'sum(x.{c})' for c in counters)}"
            f" FROM {prefix}{cell} AS x GROUP BY {positions}"
        )
    return statements


AGGREGATE_TABLES = {
    "stats_dossier_cell": DOSSIER_COUNTERS,
    "stats_step_cell": STEP_COUNTERS,
    "stats_officer_cell": STEP_COUNTERS,
    "stats_open_cell": ("open", "overdue"),
    "stats_open_step_cell": ("open", "overdue"),
    **{rollup: counters for rollup, (_, _, counters) in ROLLUPS.items()},
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
        # the rollups follow the cells by their trigger
        for statement in _recount_statements():
            await connection.execute(statement)


async def verify(dsn: str) -> dict[str, int]:
    """How many aggregate rows differ from a recount, per table (empty cells are ignored)."""
    differences: dict[str, int] = {}
    async with _connect(dsn) as connection, connection.transaction():
        await connection.execute(f"LOCK TABLE {SOURCE_TABLES} IN SHARE MODE")
        for table in AGGREGATE_TABLES:
            await connection.execute(f"CREATE TEMP TABLE recount_{table} (LIKE {table}) ON COMMIT DROP")
        for statement in [*_recount_statements(prefix="recount_"), *_rollup_statements(prefix="recount_")]:
            await connection.execute(statement)
        for table, counters in AGGREGATE_TABLES.items():
            nonzero = " OR ".join(f"{c} <> 0" for c in counters)  # the open counters: due days only when open
            count = await connection.fetchval(
                f"SELECT count(*) FROM ("
                f"(SELECT * FROM {table} WHERE {nonzero} EXCEPT SELECT * FROM recount_{table} WHERE {nonzero}) "
                f"UNION ALL "
                f"(SELECT * FROM recount_{table} WHERE {nonzero} EXCEPT SELECT * FROM {table} WHERE {nonzero})) AS x"
            )
            differences[table] = int(count)
    return differences
