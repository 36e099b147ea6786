// Formatting shared by the citizen pages: money in đồng, working days (dates: components/format).
import type { components } from "../../api/schema/intake";
import type { CalendarDay } from "../../features/calendar/api";

export type ProcedureSummary = components["schemas"]["ProcedureSummary"];
export type ProcedureDetail = components["schemas"]["ProcedureDetail"];
export type Tracking = components["schemas"]["TrackingOut"];
export type DossierOut = components["schemas"]["DossierOut"];

/** 50000 → "50.000" (Vietnamese thousands separator). */
export function vnd(amount: number): string {
  return String(Math.round(amount)).replace(/\B(?=(\d{3})+(?!\d))/g, ".");
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
