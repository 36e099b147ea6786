// The dashboard's charts. Each chart is one image for assistive technology (role="img" with a spoken
// summary) and has its figures as a table right under it, so nothing is only in the picture.
import { useSyncExternalStore, type ReactNode } from "react";
import { useTranslation } from "react-i18next";
import {
  Bar,
  BarChart,
  CartesianGrid,
  Legend,
  Line,
  LineChart,
  Pie,
  PieChart,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from "recharts";

import type { components } from "../../api/schema/workflow";
import { formatMonth, formatNumber, formatPercent } from "../../components/format";
import { TableHead, TableWrap } from "../../components/TableWrap";

type Stats = components["schemas"]["Stats"];

// colours readable on white and distinct for the common colour-vision deficiencies
const COLOURS = {
  onTime: "#1d6b36",
  online: "#1a56db",
  satisfaction: "#7a4b00",
  early: "#2e8b57",
  resolvedOnTime: "#1d6b36",
  late: "#9b1c1c",
  pendingOnTime: "#5b7fc7",
  overdue: "#d9480f",
  direct: "#6b7380",
};

const NARROW = "(max-width: 640px)";

/** True on a phone-sized screen (the unit names then get less room beside the bars). */
function useNarrow(): boolean {
  return useSyncExternalStore(
    (notify) => {
      const query = window.matchMedia(NARROW);
      query.addEventListener("change", notify);
      return () => query.removeEventListener("change", notify);
    },
    () => window.matchMedia(NARROW).matches,
  );
}

/** A table row: its header cell (the month, unit, channel), then its figures. */
interface Row {
  key: string;
  head: ReactNode;
  cells: ReactNode[];
}

function ChartFigure({
  id,
  title,
  summary,
  columns,
  rows,
  empty,
  children,
}: {
  id: string;
  title: string;
  summary: string;
  columns: string[];
  rows: Row[];
  empty: boolean;
  children: ReactNode;
}) {
  const { t } = useTranslation("leader");
  return (
    <figure className="card chart" aria-labelledby={`${id}-title`} data-testid={`chart-${id}`}>
      <figcaption>
        <h3 id={`${id}-title`} className="card-title">{title}</h3>
      </figcaption>
      <div className="chart-box" role="img" aria-label={summary}>
        {empty ? <p className="muted">{t("charts.noData")}</p> : children}
      </div>
      <details className="chart-table">
        <summary>{t("charts.showTable")}</summary>
        <TableWrap label={title}>
          <table>
            <caption className="visually-hidden">{title}</caption>
            <TableHead columns={columns} />
            <tbody>
              {rows.map((row) => (
                <tr key={row.key}>
                  <th scope="row">{row.head}</th>
                  {row.cells.map((cell, index) => (
                    <td key={index}>{cell}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      </details>
    </figure>
  );
}

// legend text in the body colour: the series colours are for the marks, not for reading
const legendText = (value: unknown) => <span className="chart-legend-text">{String(value)}</span>;

const pct = (value: unknown) => (typeof value === "number" ? formatPercent(value) : String(value ?? ""));

export function MonthlyRatesChart({ stats }: { stats: Stats }) {
  const { t } = useTranslation("leader");
  const data = stats.by_month.map((m) => ({
    month: formatMonth(m.month),
    onTime: m.on_time_rate,
    online: m.online_rate,
    satisfaction: m.satisfaction_rate,
  }));
  const last = data[data.length - 1];
  const summary = last
    ? t("charts.monthlyRatesSummary", {
        months: data.length,
        month: last.month,
        onTime: formatPercent(last.onTime),
        online: formatPercent(last.online),
        satisfaction: formatPercent(last.satisfaction),
      })
    : t("charts.noData");
  return (
    <ChartFigure
      id="monthly-rates"
      title={t("charts.monthlyRates")}
      summary={summary}
      columns={[t("charts.month"), t("indicators.onTimeRate"), t("indicators.onlineRate"), t("indicators.satisfactionRate")]}
      rows={data.map((row) => ({ key: row.month, head: row.month, cells: [row.onTime, row.online, row.satisfaction].map(formatPercent) }))}
      empty={data.length === 0}
    >
      <ResponsiveContainer width="100%" height={280}>
        <LineChart data={data} accessibilityLayer={false} margin={{ top: 8, right: 16, bottom: 8, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="month" />
          <YAxis domain={[0, 100]} unit="%" width={48} />
          <Tooltip formatter={pct} />
          <Legend formatter={legendText} />
          <Line type="monotone" dataKey="onTime" name={t("indicators.onTimeRate")} stroke={COLOURS.onTime} strokeWidth={2} isAnimationActive={false} />
          <Line type="monotone" dataKey="online" name={t("indicators.onlineRate")} stroke={COLOURS.online} strokeWidth={2} strokeDasharray="6 3" isAnimationActive={false} />
          <Line type="monotone" dataKey="satisfaction" name={t("indicators.satisfactionRate")} stroke={COLOURS.satisfaction} strokeWidth={2} strokeDasharray="2 2" isAnimationActive={false} />
        </LineChart>
      </ResponsiveContainer>
    </ChartFigure>
  );
}

export function MonthlyOutcomesChart({ stats }: { stats: Stats }) {
  const { t } = useTranslation("leader");
  const series = [
    { key: "resolved_early", colour: COLOURS.early },
    { key: "resolved_on_time", colour: COLOURS.resolvedOnTime },
    { key: "resolved_late", colour: COLOURS.late },
    { key: "pending_on_time", colour: COLOURS.pendingOnTime },
    { key: "pending_overdue", colour: COLOURS.overdue },
  ] as const;
  const data = stats.by_month.map((m) => ({ ...m, label: formatMonth(m.month) }));
  const summary = data.length
    ? t("charts.outcomesSummary", {
        received: formatNumber(stats.received),
        early: formatNumber(stats.resolved_early),
        onTime: formatNumber(stats.resolved_on_time),
        late: formatNumber(stats.resolved_late),
        pending: formatNumber(stats.pending_on_time),
        overdue: formatNumber(stats.pending_overdue),
      })
    : t("charts.noData");
  return (
    <ChartFigure
      id="monthly-outcomes"
      title={t("charts.monthlyOutcomes")}
      summary={summary}
      columns={[t("charts.month"), t("indicators.received"), ...series.map((item) => t(`indicators.${item.key}`))]}
      rows={data.map((row) => ({
        key: row.month,
        head: row.label,
        cells: [row.received, ...series.map((item) => row[item.key])].map((value) => formatNumber(value)),
      }))}
      empty={data.length === 0}
    >
      <ResponsiveContainer width="100%" height={280}>
        <BarChart data={data} accessibilityLayer={false} margin={{ top: 8, right: 16, bottom: 8, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="label" />
          <YAxis allowDecimals={false} width={48} />
          <Tooltip />
          <Legend formatter={legendText} />
          {series.map((s) => (
            <Bar key={s.key} dataKey={s.key} stackId="all" name={t(`indicators.${s.key}`)} fill={s.colour} isAnimationActive={false} />
          ))}
        </BarChart>
      </ResponsiveContainer>
    </ChartFigure>
  );
}

export function UnitRatesChart({ stats }: { stats: Stats }) {
  const { t } = useTranslation("leader");
  const narrow = useNarrow();
  const room = narrow ? 18 : 32;
  const units = stats.by_unit.slice(0, 15);
  const data = units.map((u) => ({
    label: u.agency_name.length > room ? `${u.agency_name.slice(0, room)}…` : u.agency_name,
    onTime: u.on_time_rate,
  }));
  const worst = [...units].filter((u) => u.on_time_rate !== null).sort((a, b) => (a.on_time_rate ?? 0) - (b.on_time_rate ?? 0))[0];
  const summary = units.length
    ? t("charts.unitsSummary", {
        units: units.length,
        unit: worst?.agency_name ?? "—",
        rate: formatPercent(worst?.on_time_rate),
      })
    : t("charts.noData");
  return (
    <ChartFigure
      id="unit-rates"
      title={t("charts.unitRates")}
      summary={summary}
      columns={[t("charts.unit"), t("charts.steps"), t("charts.stepsLate"), t("charts.stepsOpenOverdue"), t("indicators.onTimeRate")]}
      rows={stats.by_unit.map((u) => ({
        key: u.agency_id,
        head: (
          <>
            {u.agency_name} <span className="muted">({u.agency_code})</span>
          </>
        ),
        cells: [formatNumber(u.steps), formatNumber(u.steps_late), formatNumber(u.steps_open_overdue), formatPercent(u.on_time_rate)],
      }))}
      empty={data.length === 0}
    >
      <ResponsiveContainer width="100%" height={Math.max(160, 44 * data.length + 40)}>
        <BarChart data={data} layout="vertical" accessibilityLayer={false} margin={{ top: 8, right: 24, bottom: 8, left: 8 }}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis type="number" domain={[0, 100]} unit="%" />
          <YAxis type="category" dataKey="label" width={narrow ? 120 : 200} />
          <Tooltip formatter={pct} />
          <Bar dataKey="onTime" name={t("indicators.onTimeRate")} fill={COLOURS.onTime} isAnimationActive={false} />
        </BarChart>
      </ResponsiveContainer>
    </ChartFigure>
  );
}

export function OnlineShareChart({ stats }: { stats: Stats }) {
  const { t } = useTranslation("leader");
  const online = Math.round(((stats.online_rate ?? 0) * stats.received) / 100);
  const direct = Math.max(0, stats.received - online);
  const data = [
    { name: t("charts.online"), value: online, fill: COLOURS.online },
    { name: t("charts.direct"), value: direct, fill: COLOURS.direct },
  ];
  const summary = stats.received
    ? t("charts.onlineSummary", {
        online: formatNumber(online),
        received: formatNumber(stats.received),
        rate: formatPercent(stats.online_rate),
      })
    : t("charts.noData");
  return (
    <ChartFigure
      id="online-share"
      title={t("charts.onlineShare")}
      summary={summary}
      columns={[t("charts.channel"), t("charts.dossiers")]}
      rows={data.map((row) => ({ key: row.name, head: row.name, cells: [formatNumber(row.value)] }))}
      empty={stats.received === 0}
    >
      <ResponsiveContainer width="100%" height={260}>
        <PieChart accessibilityLayer={false}>
          <Pie data={data} dataKey="value" nameKey="name" innerRadius={50} outerRadius={90} isAnimationActive={false} />
          <Tooltip />
          <Legend formatter={legendText} />
        </PieChart>
      </ResponsiveContainer>
    </ChartFigure>
  );
}
