/** The leader's indicators and overdue list (workflow /stats), keyed by the filters that produced them. */
import { keepPreviousData, useQuery } from "@tanstack/react-query";

import { unwrap, workflow } from "../../api/client";
import type { paths } from "../../api/schema/workflow";

export type StatsQuery = NonNullable<paths["/api/v1/stats"]["get"]["parameters"]["query"]>;
export type OverdueQuery = NonNullable<paths["/api/v1/stats/overdue"]["get"]["parameters"]["query"]>;

export const statsKeys = {
  all: ["stats"] as const,
  summary: (query: StatsQuery) => [...statsKeys.all, "summary", query] as const,
  overdue: (query: OverdueQuery) => [...statsKeys.all, "overdue", query] as const,
};

/** The indicators for the filters; the previous figures stay on screen while new ones load. */
export function useStats(query: StatsQuery) {
  return useQuery({
    queryKey: statsKeys.summary(query),
    queryFn: async () => unwrap(await workflow.GET("/api/v1/stats", { params: { query } })),
    placeholderData: keepPreviousData,
  });
}

/** One page of the overdue dossiers for the filters. */
export function useOverdue(query: OverdueQuery) {
  return useQuery({
    queryKey: statsKeys.overdue(query),
    queryFn: async () => unwrap(await workflow.GET("/api/v1/stats/overdue", { params: { query } })),
    placeholderData: keepPreviousData,
  });
}
