// Dates and numbers as the leader and admin pages show them: dd/mm/yyyy HH:mm in Vietnam time.
import { locale } from "../../i18n";

const TZ = "Asia/Ho_Chi_Minh";

function parts(value: Date, withTime: boolean): Record<string, string> {
  const format = new Intl.DateTimeFormat("en-GB", {
    timeZone: TZ,
    day: "2-digit",
    month: "2-digit",
    year: "numeric",
    ...(withTime ? { hour: "2-digit", minute: "2-digit", hourCycle: "h23" } : {}),
  });
  const out: Record<string, string> = {};
  for (const part of format.formatToParts(value)) out[part.type] = part.value;
  return out;
}

/** An instant from the API as dd/mm/yyyy HH:mm (Vietnam time); "—" when missing. */
export function formatDateTime(value: string | null | undefined): string {
  if (!value) return "—";
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return value;
  const p = parts(date, true);
  return `${p.day}/${p.month}/${p.year} ${p.hour}:${p.minute}`;
}

/** A calendar date (YYYY-MM-DD) as dd/mm/yyyy. */
export function formatDay(value: string | null | undefined): string {
  if (!value) return "—";
  const [year, month, day] = value.slice(0, 10).split("-");
  return day && month && year ? `${day}/${month}/${year}` : value;
}

/** Today's date in Vietnam as YYYY-MM-DD. */
export function todayInVietnam(): string {
  const p = parts(new Date(), false);
  return `${p.year}-${p.month}-${p.day}`;
}

/** A month key YYYY-MM as mm/yyyy. */
export function formatMonth(value: string): string {
  const [year, month] = value.split("-");
  return month && year ? `${month}/${year}` : value;
}

export function formatNumber(value: number | null | undefined, digits = 0): string {
  if (value === null || value === undefined) return "—";
  return new Intl.NumberFormat(locale(), { maximumFractionDigits: digits, minimumFractionDigits: digits }).format(value);
}

/** A percentage (already ×100) with one decimal, "—" when there is no denominator. */
export function formatPercent(value: number | null | undefined): string {
  if (value === null || value === undefined) return "—";
  return `${formatNumber(value, 1)}%`;
}
