// "Time saved against the legal limit": working time used by the resolved dossiers (from the dossier
// clocks, pauses excluded, 1 working day = 8 h) against their legal limits, by level of government
// (the reform reports' table), field, receiving agency or procedure. The formulas are in the README.
import { useState } from "react";
import { useTranslation } from "react-i18next";

import type { components } from "../../api/schema/workflow";
import { formatNumber, formatPercent } from "../../components/format";
import { TableHead, TableWrap } from "../../components/TableWrap";

type Stats = components["schemas"]["Stats"];
// the figures every breakdown row and the total share
type Indicators = Omit<components["schemas"]["LevelIndicators"], "level" | "level_name_vi" | "level_name_en">;
type Grouping = "level" | "field" | "agency" | "procedure";
const GROUPINGS: Grouping[] = ["level", "field", "agency", "procedure"];

interface Row {
  key: string;
  label: string;
  values: Indicators;
}

function rowsOf(stats: Stats, grouping: Grouping, english: boolean): Row[] {
  switch (grouping) {
    case "level":
      return stats.by_level.map((l) => ({ key: l.level, label: english ? l.level_name_en : l.level_name_vi, values: l }));
    case "field":
      return stats.by_field.map((f) => ({ key: f.field, label: f.field, values: f }));
    case "agency":
      return stats.by_agency.map((a) => ({ key: a.agency_code, label: a.agency_name, values: a }));
    case "procedure":
      return stats.by_procedure.map((p) => ({ key: p.procedure_code, label: `${p.procedure_code} ${p.procedure_name}`, values: p }));
  }
}

function Cells({ values }: { values: Indicators }) {
  const { t } = useTranslation("leader");
  const days = (value: number | null | undefined) =>
    value === null || value === undefined ? "—" : t("timeSaved.workingDays", { value: formatNumber(value, 1) });
  return (
    <>
      <td>{formatNumber(values.measured)}</td>
      <td>{days(values.average_limit_days)}</td>
      <td>{days(values.average_working_days)}</td>
      <td data-testid="time-saved-percent">{formatPercent(values.time_saved_percent)}</td>
      <td>{formatPercent(values.time_used_percent)}</td>
      <td>{formatPercent(values.time_used_median_percent)}</td>
      <td>{formatPercent(values.under_half_limit_rate)}</td>
    </>
  );
}

export function TimeSavedTable({ stats }: { stats: Stats }) {
  const { t, i18n } = useTranslation("leader");
  const [grouping, setGrouping] = useState<Grouping>("level");
  const rows = rowsOf(stats, grouping, i18n.language === "en");
  return (
    <section className="card" aria-labelledby="time-saved-title">
      <h3 id="time-saved-title" className="card-title">{t("timeSaved.title")}</h3>
      <p className="muted small">{t("timeSaved.help")}</p>
      <div className="time-saved-grouping">
        {/* a label of its own, not around the select: its options would become part of its text */}
        <label htmlFor="time-saved-grouping">{t("timeSaved.groupBy")}</label>
        <select
          id="time-saved-grouping"
          value={grouping}
          onChange={(event) => setGrouping(event.target.value as Grouping)}
          data-testid="time-saved-grouping"
        >
          {GROUPINGS.map((g) => (
            <option key={g} value={g}>{t(`timeSaved.by.${g}`)}</option>
          ))}
        </select>
      </div>
      {stats.measured === 0 ? (
        <p className="muted">{t("timeSaved.none")}</p>
      ) : (
        <TableWrap label={t("timeSaved.title")}>
          <table data-testid="time-saved">
            <caption className="visually-hidden">{t("timeSaved.title")}</caption>
            <TableHead
              columns={[
                t(`timeSaved.by.${grouping}`), t("timeSaved.measured"), t("timeSaved.limit"), t("timeSaved.used"), t("timeSaved.saved"),
                t("timeSaved.meanShare"), t("timeSaved.medianShare"), t("timeSaved.underHalf"),
              ]}
            />
            <tbody>
              {rows.map((row) => (
                <tr key={row.key}>
                  <th scope="row">{row.label}</th>
                  <Cells values={row.values} />
                </tr>
              ))}
            </tbody>
            <tfoot>
              <tr>
                <th scope="row">{t("timeSaved.total")}</th>
                <Cells values={stats} />
              </tr>
            </tfoot>
          </table>
        </TableWrap>
      )}
    </section>
  );
}
