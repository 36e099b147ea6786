// Dates and numbers as the leader and admin pages show them: dd/mm/yyyy HH:mm in Vietnam time.
import { formatDate, formatDateTime as vnDateTime, todayInVietnam } from "../../components/format";
import { locale } from "../../i18n";

/** An instant from the API as dd/mm/yyyy HH:mm (Vietnam time); "—" when missing. */
export function formatDateTime(value: string | null | undefined): string {
  return vnDateTime(value) || (value ?? "—");
}

/** A calendar date (YYYY-MM-DD) as dd/mm/yyyy. */
export function formatDay(value: string | null | undefined): string {
  return value ? formatDate(value.slice(0, 10)) || value : "—";
}

export { todayInVietnam };

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
