/**
 * The working calendar (workflow): weekly hours, the days that differ from Monday–Friday, and the
 * admin's overrides. Every key sits under `calendarKeys.all`, so an admin's change refreshes the
 * admin tables and a citizen's working-day count alike.
 */
import { useQuery } from "@tanstack/react-query";

import { unwrap, workflow } from "../../api/client";

/** A day listed by GET /api/v1/calendar/days: one that differs from the Monday–Friday rule. */
export interface CalendarDay {
  day: string;
  working: boolean;
}

export const calendarKeys = {
  all: ["calendar"] as const,
  weekly: (agency: string) => [...calendarKeys.all, "weekly", agency] as const,
  days: (year: number, agency: string) => [...calendarKeys.all, "days", year, agency] as const,
  overrides: (year: number) => [...calendarKeys.all, "overrides", year] as const,
  /** the national days of several years at once (a citizen's count of working days) */
  span: (years: number[]) => [...calendarKeys.all, "span", years] as const,
};

/** The weekly hours in force for an agency ("" = national). */
export function useWeeklyHours(agency: string) {
  return useQuery({
    queryKey: calendarKeys.weekly(agency),
    queryFn: async () =>
      unwrap(await workflow.GET("/api/v1/calendar/weekly", { params: { query: agency ? { agency } : {} } })),
  });
}

/** The special days of a year, for an agency ("" = national). */
export function useCalendarDays(year: number, agency: string) {
  return useQuery({
    queryKey: calendarKeys.days(year, agency),
    queryFn: async () =>
      unwrap(await workflow.GET("/api/v1/calendar/days", { params: { query: { year, ...(agency ? { agency } : {}) } } })),
  });
}

/** The overrides (days moved by decision) of a year. */
export function useCalendarOverrides(year: number) {
  return useQuery({
    queryKey: calendarKeys.overrides(year),
    queryFn: async () => unwrap(await workflow.GET("/api/v1/calendar/overrides", { params: { query: { year } } })),
  });
}

/** The national special days of the given years, merged (public; changes rarely, kept an hour). */
export function useCalendarSpan(years: number[]) {
  return useQuery({
    queryKey: calendarKeys.span(years),
    queryFn: async () => {
      const all: CalendarDay[] = [];
      for (const year of years) {
        const days = unwrap(await workflow.GET("/api/v1/calendar/days", { params: { query: { year } } }));
        all.push(...days.map((entry) => ({ day: entry.day, working: entry.working })));
      }
      return all;
    },
    enabled: years.length > 0,
    staleTime: 60 * 60_000,
  });
}
