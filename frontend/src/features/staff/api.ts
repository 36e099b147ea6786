/**
 * Staff accounts and the roles they may hold (the admin's directory).
 *
 * Its root key is `["staff-accounts"]`, not `["staff"]`: the officers' own work (tasks, dossiers)
 * lives under `dossierKeys`, so saving an account no longer refetches an officer's inbox, and an
 * officer's action no longer refetches the directory.
 */
import { useQuery } from "@tanstack/react-query";

import { unwrap, workflow } from "../../api/client";

export interface StaffFilters {
  q: string;
  agency: string;
  role: string;
  /** "" (all), "true" or "false" */
  active: string;
}

export const staffKeys = {
  all: ["staff-accounts"] as const,
  list: (filters: StaffFilters) => [...staffKeys.all, "list", filters] as const,
  roles: () => [...staffKeys.all, "roles"] as const,
};

/** The staff accounts matching the admin's filters. */
export function useStaffList(filters: StaffFilters) {
  return useQuery({
    queryKey: staffKeys.list(filters),
    queryFn: async () =>
      unwrap(
        await workflow.GET("/api/v1/staff", {
          params: {
            query: {
              ...(filters.q.trim() ? { q: filters.q.trim() } : {}),
              ...(filters.agency ? { agency: filters.agency } : {}),
              ...(filters.role ? { role: filters.role } : {}),
              ...(filters.active ? { active: filters.active === "true" } : {}),
            },
          },
        }),
      ),
  });
}

/** The roles an account may hold, with their Vietnamese and English names. */
export function useRoles() {
  return useQuery({
    queryKey: staffKeys.roles(),
    queryFn: async () => unwrap(await workflow.GET("/api/v1/roles")),
    staleTime: 10 * 60_000,
  });
}
