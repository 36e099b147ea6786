/**
 * An officer's work on dossiers: the task lists, one dossier as workflow sees it, the same dossier
 * at the desk (intake), its timeline and the messages sent about it, the desk's waiting list.
 *
 * Everything sits under `dossierKeys.all` (`["dossiers"]`): after any action on a dossier a page
 * invalidates that root, and every list and view of the officer's work is fresh again — without
 * touching the admin's staff directory (`staffKeys`), which used to share the `["staff"]` key.
 */
import { keepPreviousData, useQuery } from "@tanstack/react-query";

import { intake, notify, unwrap, workflow } from "../../api/client";
import type { paths } from "../../api/schema/workflow";

export type TaskQuery = NonNullable<paths["/api/v1/tasks"]["get"]["parameters"]["query"]>;

export const dossierKeys = {
  all: ["dossiers"] as const,
  tasks: () => [...dossierKeys.all, "tasks"] as const,
  taskList: (query: TaskQuery) => [...dossierKeys.tasks(), query] as const,
  detail: (code: string) => [...dossierKeys.all, "detail", code] as const,
  desk: (code: string) => [...dossierKeys.all, "desk", code] as const,
  waiting: () => [...dossierKeys.all, "desk", "waiting"] as const,
  timeline: (code: string) => [...dossierKeys.all, "timeline", code] as const,
  notifications: (code: string) => [...dossierKeys.all, "notifications", code] as const,
};

/** The tasks matching the query (an inbox, the results to hand back); the old list stays while a filter loads. */
export function useTasks(query: TaskQuery) {
  return useQuery({
    queryKey: dossierKeys.taskList(query),
    queryFn: async () => unwrap(await workflow.GET("/api/v1/tasks", { params: { query } })),
    placeholderData: keepPreviousData,
  });
}

/** One dossier as workflow sees it; `holdStill` stops refetching on focus while a form is open over it. */
export function useDossier(code: string, { holdStill = false }: { holdStill?: boolean } = {}) {
  return useQuery({
    queryKey: dossierKeys.detail(code),
    refetchOnWindowFocus: !holdStill,
    queryFn: async () => unwrap(await workflow.GET("/api/v1/dossiers/{code}", { params: { path: { code } } })),
  });
}

/** The same dossier at the desk (intake): applicant, documents, shipments. `retry` off where a 403 is expected. */
export function useDeskDossier(code: string, { retry }: { retry?: boolean } = {}) {
  return useQuery({
    queryKey: dossierKeys.desk(code),
    retry,
    queryFn: async () => unwrap(await intake.GET("/api/v1/desk/dossiers/{code}", { params: { path: { code } } })),
  });
}

/** The dossiers waiting at the desk (received online, not yet checked). */
export function useWaitingDossiers() {
  return useQuery({
    queryKey: dossierKeys.waiting(),
    queryFn: async () => unwrap(await intake.GET("/api/v1/desk/dossiers", { params: { query: { limit: 200 } } })),
  });
}

/** What happened to a dossier, oldest first. */
export function useDossierTimeline(code: string) {
  return useQuery({
    queryKey: dossierKeys.timeline(code),
    queryFn: async () => unwrap(await workflow.GET("/api/v1/dossiers/{code}/timeline", { params: { path: { code } } })),
  });
}

/** The messages sent to the applicant about a dossier (notify); not every role may read them, so no retry. */
export function useDossierNotifications(code: string) {
  return useQuery({
    queryKey: dossierKeys.notifications(code),
    retry: false,
    queryFn: async () => unwrap(await notify.GET("/api/v1/notifications", { params: { query: { dossier: code, limit: 100 } } })),
  });
}
