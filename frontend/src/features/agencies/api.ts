/**
 * Agencies (the units of the administration) and their levels, as the admin and leader pages read
 * them from workflow, and the public list the citizen pages read from intake.
 *
 * One key factory: the admin list, the leader's agency filter and the calendar page all read
 * `agencyKeys.list()`, so saving an agency (invalidating `agencyKeys.all`) refreshes each of them.
 */
import { useQuery } from "@tanstack/react-query";

import { intake, unwrap, workflow } from "../../api/client";

export const agencyKeys = {
  all: ["agencies"] as const,
  list: () => [...agencyKeys.all, "list"] as const,
  levels: () => [...agencyKeys.all, "levels"] as const,
  /** the public catalogue's list (intake), readable without signing in */
  public: () => [...agencyKeys.all, "public"] as const,
};

/** Every agency, open or closed (staff only). `enabled` lets a page skip it for a role that has no use for it. */
export function useAgencies({ enabled = true, staleTime = 60_000 }: { enabled?: boolean; staleTime?: number } = {}) {
  return useQuery({
    queryKey: agencyKeys.list(),
    queryFn: async () => unwrap(await workflow.GET("/api/v1/agencies")),
    enabled,
    staleTime,
  });
}

/** The agency levels (national, province, commune…) with Vietnamese and English names. */
export function useAgencyLevels() {
  return useQuery({
    queryKey: agencyKeys.levels(),
    queryFn: async () => unwrap(await workflow.GET("/api/v1/agency-levels")),
    staleTime: 10 * 60_000,
  });
}

/** Every agency (code, name, level): public, for the complaint form and the catalogue's agency filter. */
export function usePublicAgencies() {
  return useQuery({
    queryKey: agencyKeys.public(),
    queryFn: async () => unwrap(await intake.GET("/api/v1/catalogue/agencies")),
    staleTime: 5 * 60_000,
  });
}
