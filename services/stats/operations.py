"""The database gauges an on-call person watches (services.core.metrics reads them at a scrape).

One statement, every figure in it, each answered by an index or a small table:

- the outbox's waiting events per source and destination, the oldest one's age, and the parked ones
  (``ix_outbox_event_pending``, ``ix_outbox_event_status``): what waits grows with the backlog only;
- notifications queued (``ix_notification_due``) and failed (``ix_notification_failed``) per channel, the
  oldest queued one's age; webhook deliveries pending and failed (``ix_webhook_delivery_due``,
  ``ix_webhook_delivery_failed``), state changes owed to the national portal pending and parked
  (``ix_portal_sync_due``, ``ix_portal_sync_parked``): sent and delivered rows, which only grow, are never
  counted here (the senders count them as they go: ``motcua_notification_sends``,
  ``motcua_webhook_deliveries``);
- open dossiers, those overdue now, and those falling due today or within three days, from the open
  counters (``services.stats.open``: the cells with something open and one day of live due times; 5.6 ms at
  10 M dossiers). "Due within N days" is by Vietnam calendar day, past-due ones excluded.

Measured (a throwaway database: 1 M outbox events and 1 M notifications, 900 events and 400 notifications
waiting, 300 failed or parked): 4.3 ms of execution, every count off its partial index; 7–86 ms a call from
Python on this shared 2-core machine. At most one call per ``MOTCUA_METRICS_CACHE_SECONDS`` per API process.

No label names a person, a dossier or an agency: the province's figure is what an alert needs, and the
leader's dashboard breaks it down.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.metrics import GaugeFamily, GaugeSample
from services.stats.open import _today, pending_source
from services.stats.scope import StatsQuery
from services.stats.sql import _Sql

FAMILIES = (
    GaugeFamily("motcua_outbox_pending", "Outbox events waiting to be delivered.", ("source", "destination")),
    GaugeFamily(
        "motcua_outbox_oldest_pending_seconds",
        "Age of the oldest outbox event waiting to be delivered.",
        ("source", "destination"),
    ),
    GaugeFamily(
        "motcua_outbox_parked", "Outbox events parked after failing (re-queue them).", ("source", "destination")
    ),
    GaugeFamily("motcua_notifications", "Notifications queued or failed, by channel and state.", ("channel", "state")),
    GaugeFamily(
        "motcua_notification_oldest_queued_seconds", "Age of the oldest queued notification, by channel.", ("channel",)
    ),
    GaugeFamily("motcua_webhook_backlog", "Outbound webhook deliveries pending or failed.", ("state",)),
    GaugeFamily("motcua_portal_sync", "State changes owed to the national portal, pending or parked.", ("state",)),
    GaugeFamily("motcua_dossiers_open", "Open dossiers (received, not resolved).", ()),
    GaugeFamily("motcua_dossiers_overdue", "Open dossiers past their legal due time now.", ()),
    GaugeFamily(
        "motcua_dossiers_due_within_days",
        "Open dossiers not yet overdue whose due day (Vietnam time) is within this many days, today included.",
        ("days",),
    ),
)
SOON_DAYS = (1, 3)

_QUEUES = """
SELECT 'motcua_outbox_pending', source, destination, count(*)::float8 FROM outbox_event
 WHERE status = 'pending' GROUP BY source, destination
UNION ALL
SELECT 'motcua_outbox_oldest_pending_seconds', source, destination,
       extract(epoch FROM statement_timestamp() - min(created_at))::float8 FROM outbox_event
 WHERE status = 'pending' GROUP BY source, destination
UNION ALL
SELECT 'motcua_outbox_parked', source, destination, count(*)::float8 FROM outbox_event
 WHERE status = 'parked' GROUP BY source, destination
UNION ALL
SELECT 'motcua_notifications', channel, status, count(*)::float8 FROM notification
 WHERE status = 'queued' GROUP BY channel, status
UNION ALL
SELECT 'motcua_notifications', channel, status, count(*)::float8 FROM notification
 WHERE status = 'failed' GROUP BY channel, status
UNION ALL
SELECT 'motcua_notification_oldest_queued_seconds', channel, '',
       extract(epoch FROM statement_timestamp() - min(created_at))::float8 FROM notification
 WHERE status = 'queued' GROUP BY channel
UNION ALL
SELECT 'motcua_webhook_backlog', status, '', count(*)::float8 FROM webhook_delivery
 WHERE status = 'pending' GROUP BY status
UNION ALL
SELECT 'motcua_webhook_backlog', status, '', count(*)::float8 FROM webhook_delivery
 WHERE status = 'failed' GROUP BY status
UNION ALL
SELECT 'motcua_portal_sync', status, '', count(*)::float8 FROM portal_sync
 WHERE status = 'pending' GROUP BY status
UNION ALL
SELECT 'motcua_portal_sync', status, '', count(*)::float8 FROM portal_sync
 WHERE status = 'parked' GROUP BY status
"""
_LABELS = {family.name: family.labels for family in FAMILIES}


def _statement(now: datetime) -> tuple[str, dict[str, object]]:
    sql = _Sql(StatsQuery(now=now))
    pending = pending_source(sql, None, [], every_month=True)
    today, _ = _today(sql, now)
    first: date = sql.params["today"]
    soon = ", ".join(
        f"sum(stats_due_before(c.due_from, c.due_cumulative, {sql.bind(f'soon_{days}', first + timedelta(days=days))})"
        f" - stats_due_before(c.due_from, c.due_cumulative, {today}))::float8"
        for days in SOON_DAYS
    )
    dossiers = (
        f"SELECT coalesce(sum(p.open), 0)::float8, coalesce(sum(p.overdue), 0)::float8,"
        f" (SELECT coalesce(sum(c.overdue + stats_due_before(c.due_from, c.due_cumulative, {today})), 0)::float8"
        f" FROM stats_open_cell AS c), (SELECT ARRAY[{soon}] FROM stats_open_cell AS c)"
        f" FROM ({pending}) AS p (month, procedure_version_id, agency_id, open, overdue)"
    )
    statement = (
        f"SELECT q.*, NULL::float8, NULL::float8, NULL::float8, NULL::float8[] FROM ({_QUEUES}) AS q"
        f" UNION ALL SELECT 'dossiers', '', '', NULL, d.* FROM ({dossiers}) AS d"
    )
    return statement, sql.params


async def read_gauges(session: AsyncSession, now: datetime) -> list[GaugeSample]:
    """Every database gauge, in one statement (under a 2 s statement timeout: a scrape never hangs)."""
    await session.execute(text("SET LOCAL statement_timeout = 2000"))
    statement, params = _statement(now)
    rows = (await session.execute(text(statement), params)).all()
    samples: list[GaugeSample] = []
    for name, first, second, value, open_, overdue, known, soon in rows:
        if name != "dossiers":
            labels = _LABELS[name]
            samples.append(GaugeSample(name, tuple(zip(labels, (first, second), strict=False)), float(value)))
            continue
        samples.append(GaugeSample("motcua_dossiers_open", (), open_))
        samples.append(GaugeSample("motcua_dossiers_overdue", (), overdue))
        passed_today = max(0.0, overdue - known)  # due earlier today, counted live: overdue, not "soon"
        for days, count in zip(SOON_DAYS, soon or [0.0] * len(SOON_DAYS), strict=True):
            value = max(0.0, (count or 0.0) - passed_today)
            samples.append(GaugeSample("motcua_dossiers_due_within_days", (("days", str(days)),), value))
    return samples


GAUGES = (FAMILIES, read_gauges)
