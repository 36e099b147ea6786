/** The national portal sync (notify): the journal with its counts, and the replay of a parked state change. */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { notify, unwrap } from "../../api/client";
import type { paths } from "../../api/schema/notify";

export type PortalSyncQuery = NonNullable<paths["/api/v1/portal-sync"]["get"]["parameters"]["query"]>;

export const portalKeys = {
  all: ["portal-sync"] as const,
  journal: (query: PortalSyncQuery) => [...portalKeys.all, query] as const,
};

/** The counts and the journal matching the filter, refreshed every 10 s (the worker keeps sending). */
export function usePortalSync(query: PortalSyncQuery) {
  return useQuery({
    queryKey: portalKeys.journal(query),
    queryFn: async () => unwrap(await notify.GET("/api/v1/portal-sync", { params: { query } })),
    refetchInterval: 10_000,
  });
}

/** Send a parked state change again (its dossier's later ones follow it). */
export function useReplayPortalSync() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async (id: string) =>
      unwrap(await notify.POST("/api/v1/portal-sync/{sync_id}/replay", { params: { path: { sync_id: id } } })),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: portalKeys.all }),
  });
}
