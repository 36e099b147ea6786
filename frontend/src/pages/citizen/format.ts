// Formatting shared by the citizen pages: dates in Vietnam's time zone, money in đồng, working days.
import type { components } from "../../api/schema/intake";

export type ProcedureSummary = components["schemas"]["ProcedureSummary"];
export type ProcedureDetail = components["schemas"]["ProcedureDetail"];
export type Tracking = components["schemas"]["TrackingOut"];
export type DossierOut = components["schemas"]["DossierOut"];

const TIME_ZONE = "Asia/Ho_Chi_Minh";

function parts(value: string | Date): Record<string, string> {
  const date = typeof value === "string" ? new Date(value) : value;
  const found: Record<string, string> = {};
  for (const part of new Intl.DateTimeFormat("en-GB", {
    timeZone: TIME_ZONE,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  }).formatToParts(date)) {
    found[part.type] = part.value;
  }
  return found;
}

/** dd/mm/yyyy HH:mm in Asia/Ho_Chi_Minh, whatever the browser's zone. */
export function dateTime(value: string | Date | null | undefined): string {
  if (!value) return "";
  const p = parts(value);
  return `${p.day}/${p.month}/${p.year} ${p.hour}:${p.minute}`;
}

/** yyyy-mm-dd of the instant in Vietnam (for counting working days). */
export function vnDay(value: string | Date): string {
  const p = parts(value);
  return `${p.year}-${p.month}-${p.day}`;
}

/** 50000 → "50.000" (Vietnamese thousands separator). */
export function vnd(amount: number): string {
  return String(Math.round(amount)).replace(/\B(?=(\d{3})+(?!\d))/g, ".");
}

/** The days listed by GET /api/v1/calendar/days: those that differ from the Monday–Friday rule. */
export interface CalendarDay {
  day: string;
  working: boolean;
}

function nextDay(day: string): string {
  const date = new Date(`${day}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + 1);
  return date.toISOString().slice(0, 10);
}

function isWorking(day: string, exceptions: Map<string, boolean>): boolean {
  const listed = exceptions.get(day);
  if (listed !== undefined) return listed;
  const weekday = new Date(`${day}T00:00:00Z`).getUTCDay();
  return weekday !== 0 && weekday !== 6;
}

/** Working days in (from, to]: days after `from` up to and including `to` (0 when to <= from). */
export function workingDaysBetween(from: string, to: string, calendar: CalendarDay[]): number {
  const exceptions = new Map(calendar.map((entry) => [entry.day, entry.working]));
  let count = 0;
  for (let day = nextDay(from); day <= to; day = nextDay(day)) {
    if (isWorking(day, exceptions)) count += 1;
    if (count > 5000) break;
  }
  return count;
}
