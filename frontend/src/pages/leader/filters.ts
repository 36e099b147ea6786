// The dashboard's filters: what GET /api/v1/stats accepts, read from and written to the URL's query
// (period, agency, field, procedure, officer: no personal data).
import { todayInVietnam } from "../../components/format";

export interface StatsFilters {
  from: string;
  to: string;
  agency: string;
  includeChildren: boolean;
  field: string;
  procedure: string;
  officer: string;
}

export function defaultFilters(): StatsFilters {
  const today = todayInVietnam();
  return {
    from: `${today.slice(0, 4)}-01-01`,
    to: today,
    agency: "",
    includeChildren: false,
    field: "",
    procedure: "",
    officer: "",
  };
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;

export function readFilters(params: URLSearchParams): StatsFilters {
  const defaults = defaultFilters();
  const from = params.get("from") ?? "";
  const to = params.get("to") ?? "";
  return {
    from: DAY.test(from) ? from : defaults.from,
    to: DAY.test(to) ? to : defaults.to,
    agency: params.get("agency") ?? "",
    includeChildren: params.get("include_children") === "true",
    field: params.get("field") ?? "",
    procedure: params.get("procedure") ?? "",
    officer: params.get("officer") ?? "",
  };
}

export function writeFilters(filters: StatsFilters): URLSearchParams {
  const params = new URLSearchParams({ from: filters.from, to: filters.to });
  if (filters.agency) params.set("agency", filters.agency);
  if (filters.includeChildren) params.set("include_children", "true");
  if (filters.field) params.set("field", filters.field);
  if (filters.procedure) params.set("procedure", filters.procedure);
  if (filters.officer) params.set("officer", filters.officer);
  return params;
}

/** The query the stats endpoints take (from, to and only the filters that are set). */
export function apiQuery(filters: StatsFilters) {
  return {
    from: filters.from,
    to: filters.to,
    ...(filters.agency ? { agency: filters.agency } : {}),
    ...(filters.includeChildren ? { include_children: true } : {}),
    ...(filters.field ? { field: filters.field } : {}),
    ...(filters.procedure ? { procedure: filters.procedure } : {}),
    ...(filters.officer ? { officer: filters.officer } : {}),
  };
}

export type Preset = "month" | "quarter" | "year" | "lastYear";

/** The first and last day of a preset period around today (Vietnam time). */
export function presetPeriod(preset: Preset): { from: string; to: string } {
  const today = todayInVietnam();
  const year = Number(today.slice(0, 4));
  const month = Number(today.slice(5, 7));
  const pad = (n: number) => String(n).padStart(2, "0");
  switch (preset) {
    case "month":
      return { from: `${year}-${pad(month)}-01`, to: today };
    case "quarter": {
      const first = Math.floor((month - 1) / 3) * 3 + 1;
      return { from: `${year}-${pad(first)}-01`, to: today };
    }
    case "year":
      return { from: `${year}-01-01`, to: today };
    case "lastYear":
      return { from: `${year - 1}-01-01`, to: `${year - 1}-12-31` };
  }
}
