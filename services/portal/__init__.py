"""National portal sync (Cổng Dịch vụ công quốc gia, DVCQG): every state change of a dossier, in order.

- ``payload`` — the DVCQG body of one state change, field by field (docs/integrations/national-portal.md).
- ``dispatch`` — the notify worker's task: claims due rows of ``portal_sync`` on the shared queue
  (services/core/queue.py), one per dossier and only the oldest unacknowledged, sends, records the ack.
- ``journal`` — the administrators' view: counts, the journal, replay of a parked state change.
- ``reconcile`` — ``python -m services.portal.reconcile --from DATE --to DATE``: our states against the
  portal's acknowledgements over a period, the difference sent again, a summary table.

The rows are written by a trigger on ``dossier`` (migrations ``c8d1f4a6b2e7``, ``d3a5c7e9f1b4``), never by this package.
"""
