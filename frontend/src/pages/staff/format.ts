// What the staff pages compute from a dossier: wall time to instant, working time, the due badge.
import { DONE, PAUSED } from "../../api/vocabulary";

/** A datetime-local value (wall time in Viet Nam) as an ISO instant with the +07:00 offset. */
export function vietnamInstant(localValue: string): string {
  const withSeconds = localValue.length === 16 ? `${localValue}:00` : localValue;
  return `${withSeconds}+07:00`;
}

/** The working time split into working days (8 h), hours and minutes. */
export function splitWorkingTime(seconds: number): { days: number; hours: number; minutes: number } {
  const total = Math.floor(Math.abs(seconds) / 60);
  const days = Math.floor(total / 480);
  const hours = Math.floor((total % 480) / 60);
  return { days, hours, minutes: total % 60 };
}

export type DueState = "overdue" | "soon" | "paused" | "ok" | "closed";

export const DUE_BADGE: Record<DueState, string> = {
  overdue: "badge badge-late",
  soon: "badge badge-soon",
  paused: "badge badge-paused",
  ok: "badge badge-ok",
  closed: "badge badge-neutral",
};

export function dueState(item: { status: string; overdue: boolean; due_soon?: boolean }): DueState {
  if (PAUSED.has(item.status)) return "paused";
  if (DONE.has(item.status)) return item.overdue ? "overdue" : "closed";
  if (item.overdue) return "overdue";
  if (item.due_soon) return "soon";
  return "ok";
}
