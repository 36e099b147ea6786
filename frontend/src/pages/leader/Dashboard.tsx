import { useMutation } from "@tanstack/react-query";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { useSearchParams } from "react-router";

import { downloadFile } from "../../api/client";
import type { components } from "../../api/schema/workflow";
import { useAuth } from "../../auth/AuthContext";
import { Loading, PageTitle, ProblemAlert } from "../../components/Status";
import { MonthlyOutcomesChart, MonthlyRatesChart, OnlineShareChart, UnitRatesChart } from "./Charts";
import { FilterForm } from "./FilterForm";
import { apiQuery, readFilters, writeFilters, type StatsFilters } from "./filters";
import { formatDateTimeOrDash, formatDay, formatNumber, formatPercent } from "../../components/format";
import { TimeSavedTable } from "./TimeSaved";
import "../../components/office.css";
import { TableHead, TableWrap } from "../../components/TableWrap";
import { useAgencies } from "../../features/agencies/api";
import { useReceivableProcedures } from "../../features/procedures/api";
import { useOverdue, useStats } from "../../features/stats/api";
import { SEE_ALL_ROLES } from "../../api/vocabulary";

type Stats = components["schemas"]["Stats"];
const OVERDUE_PAGE = 20;


function Indicator({ label, value, detail, tone }: { label: string; value: string; detail?: string; tone?: string }) {
  return (
    <div className={`indicator ${tone ?? ""}`}>
      <dt>{label}</dt>
      <dd>
        <span className="indicator-value">{value}</span>
        {detail && <span className="indicator-detail">{detail}</span>}
      </dd>
    </div>
  );
}

function Indicators({ stats }: { stats: Stats }) {
  const { t } = useTranslation("leader");
  const resolved = stats.resolved_early + stats.resolved_on_time + stats.resolved_late;
  const pending = stats.pending_on_time + stats.pending_overdue;
  const rateTone = (rate: number | null | undefined) =>
    rate === null || rate === undefined ? "" : rate >= 95 ? "tone-ok" : rate >= 80 ? "tone-soon" : "tone-late";
  return (
    <section aria-labelledby="indicators-title">
      <h2 id="indicators-title">{t("indicators.title")}</h2>
      <dl className="indicators" data-testid="indicators">
        <Indicator label={t("indicators.received")} value={formatNumber(stats.received)} />
        <Indicator
          label={t("indicators.resolved")}
          value={formatNumber(resolved)}
          detail={t("indicators.resolvedDetail", {
            early: formatNumber(stats.resolved_early),
            onTime: formatNumber(stats.resolved_on_time),
            late: formatNumber(stats.resolved_late),
          })}
        />
        <Indicator
          label={t("indicators.pending")}
          value={formatNumber(pending)}
          detail={t("indicators.pendingDetail", {
            onTime: formatNumber(stats.pending_on_time),
            overdue: formatNumber(stats.pending_overdue),
          })}
          tone={stats.pending_overdue > 0 ? "tone-late" : ""}
        />
        <Indicator label={t("indicators.onTimeRate")} value={formatPercent(stats.on_time_rate)} tone={rateTone(stats.on_time_rate)} />
        <Indicator label={t("indicators.onlineRate")} value={formatPercent(stats.online_rate)} />
        <Indicator label={t("indicators.satisfactionRate")} value={formatPercent(stats.satisfaction_rate)} tone={rateTone(stats.satisfaction_rate)} />
        <Indicator label={t("indicators.onlinePaymentRate")} value={formatPercent(stats.online_payment_rate)} />
        <Indicator label={t("indicators.digitisedRate")} value={formatPercent(stats.digitised_rate)} />
        <Indicator label={t("indicators.complaintRate")} value={formatPercent(stats.complaint_rate)} />
        <Indicator
          label={t("indicators.averageDays")}
          value={stats.average_resolution_days === null || stats.average_resolution_days === undefined ? "—" : t("indicators.days", { value: formatNumber(stats.average_resolution_days, 1) })}
        />
        <Indicator
          label={t("indicators.averageWorkingDays")}
          value={stats.average_working_days === null || stats.average_working_days === undefined ? "—" : t("indicators.days", { value: formatNumber(stats.average_working_days, 1) })}
          detail={stats.average_limit_days === null || stats.average_limit_days === undefined ? undefined : t("indicators.averageWorkingDaysDetail", { limit: formatNumber(stats.average_limit_days, 1) })}
        />
        <Indicator
          label={t("indicators.timeSaved")}
          value={formatPercent(stats.time_saved_percent)}
          detail={stats.measured > 0 ? t("indicators.timeSavedDetail", { mean: formatPercent(stats.time_used_percent), median: formatPercent(stats.time_used_median_percent) }) : undefined}
        />
        <Indicator
          label={t("indicators.other")}
          value={formatNumber(stats.refused + stats.withdrawn + stats.stopped)}
          detail={t("indicators.otherDetail", {
            refused: formatNumber(stats.refused),
            withdrawn: formatNumber(stats.withdrawn),
            stopped: formatNumber(stats.stopped),
          })}
        />
      </dl>
      <p className="muted small">{t("indicators.asOf", { when: formatDateTimeOrDash(stats.as_of), from: formatDay(stats.date_from), to: formatDay(stats.date_to) })}</p>
    </section>
  );
}

function BreakdownTables({ stats }: { stats: Stats }) {
  const { t } = useTranslation("leader");
  return (
    <>
      {stats.by_agency.length > 1 && (
        <section className="card" aria-labelledby="by-agency-title">
          <h3 id="by-agency-title" className="card-title">{t("breakdown.byAgency")}</h3>
          <TableWrap label={t("breakdown.byAgency")}>
            <table>
              <TableHead
                columns={[
                  t("breakdown.agency"), t("indicators.received"), t("indicators.pending_overdue"), t("indicators.onTimeRate"),
                  t("indicators.onlineRate"), t("indicators.satisfactionRate"),
                ]}
              />
              <tbody>
                {stats.by_agency.map((a) => (
                  <tr key={a.agency_code}>
                    <th scope="row">{a.agency_name}</th>
                    <td>{formatNumber(a.received)}</td>
                    <td>{formatNumber(a.pending_overdue)}</td>
                    <td>{formatPercent(a.on_time_rate)}</td>
                    <td>{formatPercent(a.online_rate)}</td>
                    <td>{formatPercent(a.satisfaction_rate)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableWrap>
        </section>
      )}
      {stats.by_officer.length > 0 && (
        <section className="card" aria-labelledby="by-officer-title">
          <h3 id="by-officer-title" className="card-title">{t("breakdown.byOfficer")}</h3>
          <TableWrap label={t("breakdown.byOfficer")}>
            <table data-testid="by-officer">
              <TableHead
                columns={[
                  t("breakdown.officer"), t("charts.steps"), t("charts.stepsLate"), t("charts.stepsOpenOverdue"),
                  t("indicators.onTimeRate"),
                ]}
              />
              <tbody>
                {stats.by_officer.map((o) => (
                  <tr key={o.staff_id ?? "none"}>
                    <th scope="row">{o.full_name ?? t("breakdown.noOfficer")} {o.username && <span className="muted">({o.username})</span>}</th>
                    <td>{formatNumber(o.steps)}</td>
                    <td>{formatNumber(o.steps_late)}</td>
                    <td>{formatNumber(o.steps_open_overdue)}</td>
                    <td>{formatPercent(o.on_time_rate)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableWrap>
        </section>
      )}
      <section className="card" aria-labelledby="by-procedure-title">
        <h3 id="by-procedure-title" className="card-title">{t("breakdown.byProcedure")}</h3>
        {stats.by_procedure.length === 0 ? (
          <p className="muted">{t("charts.noData")}</p>
        ) : (
          <TableWrap label={t("breakdown.byProcedure")}>
            <table data-testid="by-procedure">
              <TableHead
                columns={[
                  t("breakdown.procedure"), t("breakdown.field"), t("indicators.received"), t("indicators.resolved"),
                  t("indicators.pending_overdue"), t("indicators.onTimeRate"), t("indicators.satisfactionRate"),
                ]}
              />
              <tbody>
                {stats.by_procedure.map((p) => (
                  <tr key={p.procedure_code}>
                    <th scope="row">
                      <span className="muted">{p.procedure_code}</span> {p.procedure_name}
                    </th>
                    <td>{p.field}</td>
                    <td>{formatNumber(p.received)}</td>
                    <td>{formatNumber(p.resolved_early + p.resolved_on_time + p.resolved_late)}</td>
                    <td>{formatNumber(p.pending_overdue)}</td>
                    <td>{formatPercent(p.on_time_rate)}</td>
                    <td>{formatPercent(p.satisfaction_rate)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableWrap>
        )}
      </section>
    </>
  );
}

function OverdueList({ filters }: { filters: StatsFilters }) {
  const { t } = useTranslation("leader");
  const [page, setPage] = useState(0);
  const overdue = useOverdue({ ...apiQuery(filters), limit: OVERDUE_PAGE, offset: page * OVERDUE_PAGE });
  const total = overdue.data?.total ?? 0;
  const pages = Math.max(1, Math.ceil(total / OVERDUE_PAGE));
  return (
    <section className="card" aria-labelledby="overdue-title">
      <h2 id="overdue-title" className="card-title">
        {t("overdue.title")} {overdue.data && <span className="badge badge-late" data-testid="overdue-total">{formatNumber(total)}</span>}
      </h2>
      <p className="muted small">{t("overdue.help")}</p>
      {overdue.isPending && <Loading />}
      <ProblemAlert error={overdue.error} />
      {overdue.data && overdue.data.items.length === 0 && <p className="alert alert-ok">{t("overdue.none")}</p>}
      {overdue.data && overdue.data.items.length > 0 && (
        <>
          <TableWrap label={t("overdue.title")}>
            <table data-testid="overdue-table">
              <caption className="visually-hidden">{t("overdue.title")}</caption>
              <TableHead
                columns={[
                  t("overdue.code"), t("overdue.procedure"), t("overdue.received"), t("overdue.due"), t("overdue.lateBy"),
                  t("overdue.unit"), t("overdue.assignee"),
                ]}
              />
              <tbody>
                {overdue.data.items.map((item) => (
                  <tr key={item.code}>
                    <th scope="row">
                      {item.code}
                      <br />
                      <span className="badge badge-neutral">{t(`status.${item.status}`, { defaultValue: item.status })}</span>
                    </th>
                    <td>
                      <span className="muted">{item.procedure_code}</span> {item.procedure_name}
                    </td>
                    <td>{formatDateTimeOrDash(item.received_at)}</td>
                    <td>{formatDateTimeOrDash(item.due_at)}</td>
                    <td>
                      <span className="badge badge-late">{t("overdue.days", { value: formatNumber(item.late_by_days, 1) })}</span>
                      {item.late_by_rule && <span className="block small">{t("overdue.byRule")}</span>}
                    </td>
                    <td>{item.responsible_unit_name ?? t("overdue.noUnit")}</td>
                    <td>{item.assignee ?? "—"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableWrap>
          {pages > 1 && (
            <nav className="pager actions" aria-label={t("overdue.pages")}>
              <button type="button" disabled={page === 0} onClick={() => setPage((p) => p - 1)}>{t("overdue.previous")}</button>
              <span aria-live="polite">{t("overdue.page", { page: page + 1, pages })}</span>
              <button type="button" disabled={page + 1 >= pages} onClick={() => setPage((p) => p + 1)}>{t("overdue.next")}</button>
            </nav>
          )}
        </>
      )}
    </section>
  );
}

export function Dashboard() {
  const { t } = useTranslation("leader");
  const { session, hasRole } = useAuth();
  const wide = hasRole(...SEE_ALL_ROLES);
  const [params, setParams] = useSearchParams();
  const filters = readFilters(params);
  // the procedures dossiers are filed under: information-only ones of the national catalogue have none
  const catalogue = useReceivableProcedures();
  const agencies = useAgencies({ enabled: wide, staleTime: 10 * 60_000 });
  const stats = useStats(apiQuery(filters));

  const exportXlsx = useMutation({
    mutationFn: () =>
      downloadFile(
        "workflow",
        `/api/v1/stats/export.xlsx?${new URLSearchParams(
          Object.entries(apiQuery(filters)).map(([key, value]) => [key, String(value)]),
        ).toString()}`,
        `thong-ke-${filters.from}_${filters.to}.xlsx`,
      ),
  });

  const agencyOptions = wide
    ? (agencies.data ?? []).map((agency) => ({ value: agency.code, label: `${agency.name} (${agency.code})` }))
    : null;

  return (
    <div className="dashboard">
      <PageTitle>{t("title")}</PageTitle>
      <p className="muted">{wide ? t("scopeAll") : t("scopeOwn", { agency: session?.agencyName ?? "" })}</p>
      <FilterForm
        key={`filters-${params.toString()}`}
        initial={filters}
        agencies={agencyOptions}
        ownAgency={session?.agencyName ?? ""}
        procedures={catalogue.data?.items ?? []}
        onApply={(next) => setParams(writeFilters(next))}
      />
      <div className="actions export-bar">
        <button type="button" onClick={() => exportXlsx.mutate()} disabled={exportXlsx.isPending} data-testid="export-xlsx">
          {exportXlsx.isPending ? t("export.busy") : t("export.xlsx")}
        </button>
        {exportXlsx.isSuccess && <span role="status" className="muted">{t("export.done")}</span>}
      </div>
      <ProblemAlert error={exportXlsx.error} />
      <ProblemAlert error={stats.error} />
      {stats.isPending && <Loading />}
      {stats.data && (
        <div aria-busy={stats.isFetching} className={stats.isPlaceholderData ? "stale" : undefined}>
          <Indicators stats={stats.data} />
          <section aria-labelledby="charts-title">
            <h2 id="charts-title">{t("charts.title")}</h2>
            <div className="chart-grid">
              <MonthlyRatesChart stats={stats.data} />
              <MonthlyOutcomesChart stats={stats.data} />
              <UnitRatesChart stats={stats.data} />
              <OnlineShareChart stats={stats.data} />
            </div>
          </section>
          <section aria-labelledby="breakdown-title">
            <h2 id="breakdown-title">{t("breakdown.title")}</h2>
            <TimeSavedTable stats={stats.data} />
            <BreakdownTables stats={stats.data} />
          </section>
        </div>
      )}
      {!stats.error && <OverdueList key={`overdue-${params.toString()}`} filters={filters} />}
    </div>
  );
}
