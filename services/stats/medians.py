"""The median share of the legal limit used: exact (sorted from the dossiers) or from the histograms.

Which one a request gets is decided by ``compute_stats`` (``StatsQuery.exact_median_max``); the
reasons and the measured error are in the package's docstring.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.models import ProcedureVersion
from services.models.stats import SHARE_BUCKET_BOUNDS
from services.stats.scope import StatsQuery
from services.stats.sql import _procedures_of, _Sql


def median_from_histogram(counts: Sequence[int]) -> float | None:
    """The median share of the limit used (in %) from the histogram buckets (``SHARE_BUCKET_BOUNDS``),
    interpolated linearly in the bucket that holds it: off by less than that bucket's width (2 points
    below 100 %, 10 up to 200 %), less where the dossiers spread evenly inside it. A median in the
    last, open bucket is given as its lower bound (200 %)."""
    total = sum(counts)
    if not total:
        return None
    half, below = total / 2, 0
    for index, count in enumerate(counts):
        if count and below + count >= half:
            low = SHARE_BUCKET_BOUNDS[index]
            if index + 1 == len(SHARE_BUCKET_BOUNDS):
                return float(low)
            return low + (SHARE_BUCKET_BOUNDS[index + 1] - low) * (half - below) / count
        below += count
    return None


# the predicate of ix_dossier_timed_received, as a literal so the planner uses the index
_TIMED_SQL = (
    "d.status IN ('resolved', 'returned') AND d.used_working_seconds IS NOT NULL AND d.limit_working_seconds > 0"
)


@dataclass
class Medians:
    """Median percentage of the legal limit used, per breakdown (None where nothing was measured)."""

    total: float | None = None
    procedures: dict[str, float] = field(default_factory=dict)
    fields: dict[str, float] = field(default_factory=dict)
    levels: dict[str, float] = field(default_factory=dict)
    agencies: dict[uuid.UUID, float] = field(default_factory=dict)


async def time_used_medians(
    session: AsyncSession, query: StatsQuery, versions: dict[uuid.UUID, tuple[str, str, str, str]] | None = None
) -> Medians:
    """Exact medians of 100 · used / limit over the measured dossiers received in the period, for the
    total, each level, field, procedure and receiving agency in one pass (grouping sets), through the
    partial covering index. Not by month (the months take the histogram's): each grouping set is one
    more sort of every measured dossier of the scope.

    ``versions`` (code, name, field, level of each procedure version; every version when None) become
    small integers in the query: the rows sorted for each grouping set stay narrow (a float and four
    keys), which is what the cost is made of, with the scan."""
    if versions is None:
        versions = await _procedures_of(session, (await session.scalars(select(ProcedureVersion.id))).all())
    if not versions:
        return Medians()
    codes = sorted({v[0] for v in versions.values()})
    fields = sorted({v[2] for v in versions.values()})
    levels = sorted({v[3] for v in versions.values()})
    number = {part: {name: n for n, name in enumerate(names)} for part, names in ((0, codes), (2, fields), (3, levels))}
    version_ids = list(versions)
    sql = _Sql(query)
    keyed = (
        f"unnest(CAST({sql.bind('kv', version_ids)} AS uuid[]),"
        f" CAST({sql.bind('kc', [number[0][versions[v][0]] for v in version_ids])} AS integer[]),"
        f" CAST({sql.bind('kf', [number[2][versions[v][2]] for v in version_ids])} AS integer[]),"
        f" CAST({sql.bind('kl', [number[3][versions[v][3]] for v in version_ids])} AS integer[]))"
        " AS k (version, code, field, level)"
    )
    keys = ("code", "field", "level", "agency")
    rows = await session.execute(
        text(
            f"SELECT {', '.join(keys)}, GROUPING({', '.join(keys)}) AS unused,"
            " percentile_cont(0.5) WITHIN GROUP (ORDER BY x.percent) AS median"
            " FROM (SELECT k.code, k.field, k.level, d.receiving_agency_id AS agency,"
            " CAST(100 AS float8) * d.used_working_seconds / d.limit_working_seconds AS percent"
            f" FROM dossier AS d JOIN {keyed} ON k.version = d.procedure_version_id"
            f" WHERE {_TIMED_SQL} AND {sql.received_in_period()}"
            f" AND {sql.scope('d.receiving_agency_id', 'd.procedure_version_id')}) AS x"
            f" GROUP BY GROUPING SETS ((), {', '.join(f'({key})' for key in keys)})"
        ),
        sql.params,
    )
    medians = Medians()
    everything = (1 << len(keys)) - 1
    for row in rows.all():
        code, field_index, level, agency_id, unused, median = row
        if median is None:
            continue  # the empty total of a scope with nothing measured
        value = float(median)
        # GROUPING(...) has a bit set, most significant first, for each key left out of the row's set
        if unused == everything:
            medians.total = value
        elif unused == everything ^ 1 << 3:
            medians.procedures[codes[code]] = value
        elif unused == everything ^ 1 << 2:
            medians.fields[fields[field_index]] = value
        elif unused == everything ^ 1 << 1:
            medians.levels[levels[level]] = value
        else:
            medians.agencies[agency_id] = value
    return medians
