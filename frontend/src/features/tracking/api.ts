/**
 * What a citizen reads about their own dossier (intake, with the dossier's secret): its status and
 * history, its payment requests, and a complaint by its code.
 *
 * `trackingKeys.dossier(code)` is the prefix of both the status and the payments of one dossier,
 * so a citizen's action (supplement, feedback, a payment) refreshes everything shown about it.
 */
import { useQuery } from "@tanstack/react-query";

import { intake, unwrap } from "../../api/client";

export const trackingKeys = {
  all: ["tracking"] as const,
  dossier: (code: string) => [...trackingKeys.all, code] as const,
  status: (code: string, secret: string) => [...trackingKeys.dossier(code), "status", secret] as const,
  payments: (code: string, secret: string) => [...trackingKeys.dossier(code), "payments", secret] as const,
  complaint: (code: string) => [...trackingKeys.all, "complaint", code] as const,
};

/** A dossier's status and history, polled every 30 s; nothing is asked before the secret is known. */
export function useTracking(code: string, secret: string) {
  return useQuery({
    queryKey: trackingKeys.status(code, secret),
    queryFn: async () => unwrap(await intake.GET("/api/v1/track/{code}", { params: { path: { code }, query: { secret } } })),
    enabled: Boolean(secret),
    refetchInterval: 30_000,
  });
}

/** A dossier's payment requests (a POST, so the secret stays out of the address). */
export function usePayments(code: string, secret: string) {
  return useQuery({
    queryKey: trackingKeys.payments(code, secret),
    queryFn: async () =>
      unwrap(await intake.POST("/api/v1/dossiers/{code}/payments/lookup", { params: { path: { code } }, body: { secret } })),
  });
}

/** A complaint by its code; nothing is asked while the code is empty. */
export function useComplaint(code: string) {
  return useQuery({
    queryKey: trackingKeys.complaint(code),
    queryFn: async () => unwrap(await intake.GET("/api/v1/complaints/{code}", { params: { path: { code } } })),
    enabled: Boolean(code),
  });
}
