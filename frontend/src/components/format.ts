// Dates and times as the public administration writes them: dd/mm/yyyy HH:mm, always in Việt Nam time
// (Asia/Ho_Chi_Minh), whatever the browser's own time zone or language.
import { locale } from "../i18n";

export const VN_TIME_ZONE = "Asia/Ho_Chi_Minh";

const dateTimeParts = new Intl.DateTimeFormat("en-GB", {
  timeZone: VN_TIME_ZONE,
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  hourCycle: "h23",
});

function toDate(value: string | number | Date | null | undefined): Date | null {
  if (value === null || value === undefined || value === "") return null;
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

function parts(date: Date): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of dateTimeParts.formatToParts(date)) out[part.type] = part.value;
  return out;
}

/** "dd/mm/yyyy HH:mm" in Việt Nam time; "" for a missing or invalid value. */
export function formatDateTime(value: string | number | Date | null | undefined): string {
  const date = toDate(value);
  if (!date) return "";
  const p = parts(date);
  return `${p.day}/${p.month}/${p.year} ${p.hour}:${p.minute}`;
}

/** "dd/mm/yyyy" in Việt Nam time. A bare "yyyy-mm-dd" (a calendar date from the API) is shown as it is. */
export function formatDate(value: string | number | Date | null | undefined): string {
  if (typeof value === "string") {
    const bare = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
    if (bare) return `${bare[3]}/${bare[2]}/${bare[1]}`;
  }
  const date = toDate(value);
  if (!date) return "";
  const p = parts(date);
  return `${p.day}/${p.month}/${p.year}`;
}

/** yyyy-mm-dd of the instant in Việt Nam (for counting working days, date inputs). */
export function vnDay(value: string | number | Date): string {
  const date = toDate(value);
  if (!date) return "";
  const p = parts(date);
  return `${p.year}-${p.month}-${p.day}`;
}

/** Today's date in Việt Nam as yyyy-mm-dd. */
export function todayInVietnam(): string {
  return vnDay(new Date());
}

/** Money in đồng: "1.500.000 đ" (Vietnamese grouping in both languages). */
export function formatVnd(amount: number | null | undefined): string {
  if (amount === null || amount === undefined) return "";
  return `${new Intl.NumberFormat("vi-VN").format(amount)} đ`;
}

/** The ISO instant of "dd/mm/yyyy HH:mm" typed as Việt Nam time (UTC+7, no daylight saving), or null. */
export function parseVnDateTime(text: string): string | null {
  const match = /^\s*(\d{1,2})\/(\d{1,2})\/(\d{4})(?:\s+(\d{1,2}):(\d{2}))?\s*$/.exec(text);
  if (!match) return null;
  const [day, month, year, hour = "0", minute = "0"] = match.slice(1).map((v) => v ?? "0");
  const utc = Date.UTC(Number(year), Number(month) - 1, Number(day), Number(hour) - 7, Number(minute));
  const check = new Date(utc + 7 * 3600_000);
  if (check.getUTCDate() !== Number(day) || check.getUTCMonth() !== Number(month) - 1) return null;
  return new Date(utc).toISOString();
}

/** An instant for a table cell or a detail line: dd/mm/yyyy HH:mm (Việt Nam time), "—" when missing. */
export function formatDateTimeOrDash(value: string | null | undefined): string {
  return formatDateTime(value) || "—";
}

/** A calendar date (YYYY-MM-DD, or the date part of an instant) as dd/mm/yyyy; "—" when missing. */
export function formatDay(value: string | null | undefined): string {
  return value ? formatDate(value.slice(0, 10)) || value : "—";
}

/** A month key YYYY-MM as mm/yyyy. */
export function formatMonth(value: string): string {
  const [year, month] = value.split("-");
  return month && year ? `${month}/${year}` : value;
}

/** A count or a mean in the interface language's grouping; "—" when there is no value. */
export function formatNumber(value: number | null | undefined, digits = 0): string {
  if (value === null || value === undefined) return "—";
  return new Intl.NumberFormat(locale(), { maximumFractionDigits: digits, minimumFractionDigits: digits }).format(value);
}

/** A percentage (already ×100) with one decimal, "—" when there is no denominator. */
export function formatPercent(value: number | null | undefined): string {
  if (value === null || value === undefined) return "—";
  return `${formatNumber(value, 1)}%`;
}

/** A time of day as HH:MM (the API may send HH:MM:SS). */
export function hhmm(value: string | null | undefined): string {
  return value ? value.slice(0, 5) : "";
}

/** A file's size for a list of documents: B, KB or MB. */
export function fileSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
