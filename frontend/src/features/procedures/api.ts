/**
 * The procedure catalogue (intake) and the workflow templates attached to a procedure (workflow).
 *
 * One detail key per code: the citizen page, the staff reception form and the admin page read the
 * same `procedureKeys.detail(code)`, so an admin's edit (invalidating it) is what everyone sees next.
 * Lists are keyed by their whole query, so the admin's page 2 and the citizen's search never collide.
 */
import { keepPreviousData, useQuery } from "@tanstack/react-query";

import { intake, unwrap, workflow } from "../../api/client";
import type { paths } from "../../api/schema/intake";

export type ProcedureQuery = NonNullable<paths["/api/v1/procedures"]["get"]["parameters"]["query"]>;

export const procedureKeys = {
  all: ["procedures"] as const,
  lists: () => [...procedureKeys.all, "list"] as const,
  list: (query: ProcedureQuery) => [...procedureKeys.lists(), query] as const,
  detail: (code: string) => [...procedureKeys.all, "detail", code] as const,
  facets: () => [...procedureKeys.all, "facets"] as const,
  templates: (code: string) => [...procedureKeys.all, "templates", code] as const,
};

/** One page of procedures; `keepPrevious` keeps the old page on screen while the next one loads. */
export function useProcedureList(query: ProcedureQuery, { keepPrevious = false, staleTime }: { keepPrevious?: boolean; staleTime?: number } = {}) {
  return useQuery({
    queryKey: procedureKeys.list(query),
    queryFn: async () => unwrap(await intake.GET("/api/v1/procedures", { params: { query } })),
    placeholderData: keepPrevious ? keepPreviousData : undefined,
    staleTime,
  });
}

/** The procedures one can file (with a local workflow): the complaint form's choices, the leader's filter. */
export function useReceivableProcedures() {
  return useProcedureList({ limit: 100, information_only: false }, { staleTime: 5 * 60_000 });
}

/** One procedure in full; nothing is fetched while `code` is empty (a form before a choice is made). */
export function useProcedure(code: string, { staleTime }: { staleTime?: number } = {}) {
  return useQuery({
    queryKey: procedureKeys.detail(code),
    queryFn: async () => unwrap(await intake.GET("/api/v1/procedures/{code}", { params: { path: { code } } })),
    enabled: code !== "",
    staleTime,
  });
}

/** The search filters' choices over the whole catalogue: fields, departments, levels (with counts). */
export function useCatalogueFacets() {
  return useQuery({
    queryKey: procedureKeys.facets(),
    queryFn: async () => unwrap(await intake.GET("/api/v1/catalogue/facets")),
    staleTime: 5 * 60_000,
  });
}

/** Every version of a procedure's workflow template (the active one has `active`). */
export function useWorkflowTemplates(code: string) {
  return useQuery({
    queryKey: procedureKeys.templates(code),
    queryFn: async () => unwrap(await workflow.GET("/api/v1/templates", { params: { query: { procedure: code } } })),
  });
}
