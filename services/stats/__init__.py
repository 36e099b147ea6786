"""Statistics by the national indicator rules (Quyết định 766/QĐ-TTg), from maintained aggregates.

**Why aggregates, and how they stay right.** A request never scans the history. The finished
part of every count lives in ``stats_dossier_cell`` (dossiers) and ``stats_step_cell`` /
``stats_officer_cell`` (step clocks): one row per month of receipt (Vietnam time), receiving
agency and procedure version (and unit, and officer). They are kept by PostgreSQL triggers on
``dossier``, ``sla_timer``, ``complaint``, ``feedback`` and ``payment`` (migration "statistics
aggregates"): each insert, update or delete adds the difference between what the row contributed
before and after, computed by one SQL function (``stats_dossier_facts``) that holds the counting
rules. Triggers were chosen over a function the engine must call because they cannot be
forgotten: any writer — the routing engine's plain ORM updates, intake, webhooks, a manual fix in
psql — keeps the counters equal to a recount (tested after random changes). Updates that touch no
counted column (lock version, assignee, notes) do not fire them; rows are upserted in key order,
and a child row (complaint, rating, payment) locks its dossier first, so concurrent writers neither
double count nor deadlock on the counters. The bulk loader (``services.stats.bulk``) switches
them off for its own transaction and adds what it loaded in one statement; ``python -m
services.stats.bulk verify`` compares them with a recount (``services.stats.aggregates``).

A period [from, to] is read as its whole months from the cells — a whole calendar year from their
rollups, ``stats_dossier_year`` (year, agency, procedure) and ``stats_dossier_agency_month`` (month,
agency), kept by a trigger on the cells: a province-year is 4,040 + 1,452 rows, whatever the number of
dossiers — and the days at its edges, when it does not start or end on a month boundary, are counted
live with the same SQL function over the dossiers of those days only (index on agency and receipt
time). What depends on "now" comes from the open counters (``stats_open_cell``, ``stats_open_step_cell``,
kept by the same triggers): per cell, the open dossiers (running steps), those overdue whatever "now"
is, and the others by the day they fall due, so "overdue now" is a subscript per cell and today's due
times counted live on the shorter side of "now" (``services.stats.open``). Before, the open
dossiers and their running steps were counted by a pass over every open one: at 10 M dossiers, 191,670
in a province-year, ≈ 170 of the dashboard's 330–460 ms. The overdue list reads its pages off
``ix_dossier_running_due`` (running dossiers by due time) instead of ranking every overdue dossier,
and its total off the open counters (``services.stats.overdue``). Month cells rather than day cells:
day × agency × procedure cells are nearly as many as the dossiers themselves (measured: 2.6 M cells for
5 M dossiers), month cells are 30 times fewer. Figures: ``bench/profiles/2026-12-06-stats.md``.

**Counting rules.** The period is the day of receipt in Vietnam time (for a refused online
submission, never received, the day it was made). ``received`` = resolved (early + on time + late) + pending
(on time + overdue) + withdrawn + stopped; ``refused`` (never received) is outside it. A resolved
or returned dossier counts by its ``outcome``; a dossier asked twice for a supplement is late
(``late_by_rule``). An open dossier is overdue when it is late by rule or its legal due time has
passed — for a paused one, passed before the pause began. Rates are percentages over:

- ``on_time_rate``: (early + on time + pending on time) / (resolved + pending); ``overdue_rate`` is
  the rest of that denominator;
- ``online_rate``: channel 2 (online) / received; ``digitised_rate``: digitised / received;
- ``online_payment_rate``: paid online / received dossiers with a fee or tax to pay (a payment
  request that was not cancelled, or an online payment);
- ``complaint_rate``: received dossiers with a complaint or a "dissatisfied" rating / received;
- ``satisfaction_rate`` = 100 − (overdue_rate + complaint_rate), at least 0;
- ``average_resolution_days``: mean receipt-to-result time of the resolved dossiers, in *calendar*
  days (kept for comparison with older reports).

**Working time and the legal limit** (time saved, as the reform reports measure it). When a dossier is
resolved its clock records the working time it ran, pauses excluded (``services.sla.clocks``:
working time from the clock start to the result on the agency's calendar, less the paused working time
added back; since the restart for a procedure whose clock restarts on a supplement), and the dossier
keeps it with the clock's budget, the legal limit (``used_working_seconds``, ``limit_working_seconds``).
The trigger sums, per cell, the resolved dossiers so measured (``timed``), their working seconds used,
their limits, used/limit in millionths (``limit_used_ppm``, floored: exact to 10⁻⁴ of a percentage
point) and those resolved in less than half their limit (``under_half``). With n measured, U_i used
and L_i the limit of dossier i (working seconds, 1 working day = 8 h = 28,800 s):

- ``average_working_days`` = ΣU_i / n / 28,800; ``average_limit_days`` = ΣL_i / n / 28,800;
- ``time_used_percent`` = 100 · Σ(U_i / L_i) / n (mean share of its limit a dossier used);
- ``time_used_median_percent`` = the median of 100 · U_i / L_i. **Exact** when the scope holds at
  most ``EXACT_MEDIAN_MAX`` (20,000) measured dossiers — a leader's agency for a year, typically: a
  ``percentile_cont(0.5)`` over them (an index-only scan of the partial covering index
  ``ix_dossier_timed_received``) in one pass for the total, each level, field, procedure and agency
  (grouping sets). **Interpolated** beyond that, and for the months always: the cells also keep a
  histogram of 100 · U_i / L_i (buckets 2 points wide to 100 %, 10 points to 200 %, then one for
  200 % or more: ``used_pct_000`` … ``used_pct_200``), summed like every counter; the median is
  placed linearly inside the bucket that holds it (``median_from_histogram``): off by less than the
  bucket's width, 2 points where medians fall (measured by ``make bench`` against the exact one).
  Sorting costs in proportion to the dossiers (0.28–0.65 s for 285,000 on the bench's 2 busy
  cores), the histogram in proportion to the cells;
- ``under_half_limit_rate`` = 100 · #{U_i < L_i / 2} / n;
- ``time_saved_percent`` = 100 · (1 − ΣU_i / ΣL_i): how much of the legal time the agency did not
  need, which is the "cut by 38.2% against the legal limit" of the reform reports.

Dossiers resolved before the clocks kept the working time (and loaded ones without it) are not
measured; ``measured`` says how many were. ``by_level`` (the level that resolves the procedure, cấp
tỉnh / cấp xã …) and ``by_field`` (lĩnh vực) merge the procedures like ``by_procedure`` merges versions.

The ``officer`` filter counts the steps the officer handled (``steps``, ``by_unit``,
``by_officer``); the dossier figures stay those of the scope, since a dossier is no one officer's.

**Where each part lives.** A request flows scope → queries → schemas; each module imports only
those above it in this list, and nothing imports the package itself:

- ``scope``: what a request asks for (``StatsQuery``), the caller's scope (``resolve_query``) and the
  roles that may read statistics;
- ``schemas``: the response models (``Stats``, ``OverdueList`` …);
- ``sql``: the request's scope as hand-written SQL (``_Sql``), the period cut into whole months and
  edge days (``split_period``), the look-ups of names;
- ``medians``: the medians of time used, exact (sorted) and from the histograms;
- ``tallies``: the raw counters of one slice and the formulas that make indicators of them;
- ``open``: what is open as of "now", from the open counters and one day of due times;
- ``queries``: ``compute_stats``, every indicator and breakdown of a request;
- ``overdue``: the list of open dossiers past their due time;
- ``exports``: the indicators as CSV and the XLSX workbook;
- ``aggregates`` and ``bulk``: the SQL that adds to or recounts the cells, and the bulk loader with
  its command line (``python -m services.stats.bulk``); ``bulk_input``: what a loaded dossier is, its
  checks, and the JSON lines the command reads.

Names with a leading underscore are private to this package: shared between its modules, never
used outside it. The package was split out of the one module ``services.workflow.stats`` and
``services.workflow.bulk``; the statements were moved, not rewritten.
"""
