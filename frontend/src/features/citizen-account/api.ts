/**
 * A signed-in citizen (tài khoản định danh điện tử): who they are, "Hồ sơ của tôi", their stored documents.
 *
 * The session is an httpOnly cookie set by intake after the identity provider's sign-in: the SPA never
 * sees a token, it only asks `/citizen/me` (401: nobody is signed in, which is `null` here, not an error).
 * `accountKeys.all` is the root: signing out or filing invalidates everything shown about the account.
 */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { ApiProblem, intake, serviceUrl, unwrap } from "../../api/client";
import type { components } from "../../api/schema/intake";

export type CitizenProfile = components["schemas"]["CitizenProfileOut"];
export type MyDossier = components["schemas"]["MyDossierOut"];
export type StoredDocument = components["schemas"]["StoredDocumentOut"];

export const accountKeys = {
  all: ["citizen-account"] as const,
  me: () => [...accountKeys.all, "me"] as const,
  dossiers: () => [...accountKeys.all, "dossiers"] as const,
  dossier: (code: string) => [...accountKeys.all, "dossiers", code] as const,
  documents: () => [...accountKeys.all, "documents"] as const,
};

/** Where the browser goes to sign in (a full navigation: the provider's pages, then back to `next`). */
export function signInUrl(next = "/ho-so-cua-toi"): string {
  return serviceUrl("intake", `/api/v1/citizen/sign-in?next=${encodeURIComponent(next)}`);
}

/** The signed-in citizen, or null when nobody is. */
export function useCitizen() {
  return useQuery({
    queryKey: accountKeys.me(),
    queryFn: async (): Promise<CitizenProfile | null> => {
      try {
        return unwrap(await intake.GET("/api/v1/citizen/me"));
      } catch (error) {
        if (error instanceof ApiProblem && error.status === 401) return null;
        throw error;
      }
    },
    retry: false,
    staleTime: 60_000,
  });
}

export function useMyDossiers(enabled: boolean) {
  return useQuery({
    queryKey: accountKeys.dossiers(),
    queryFn: async () => unwrap(await intake.GET("/api/v1/citizen/dossiers")),
    enabled,
  });
}

export function useMyDossier(code: string) {
  return useQuery({
    queryKey: accountKeys.dossier(code),
    queryFn: async () => unwrap(await intake.GET("/api/v1/citizen/dossiers/{code}", { params: { path: { code } } })),
    retry: false,
  });
}

export function useStoredDocuments(enabled: boolean) {
  return useQuery({
    queryKey: accountKeys.documents(),
    queryFn: async () => unwrap(await intake.GET("/api/v1/citizen/documents")),
    enabled,
  });
}

/** Sign out everywhere: every session of the account ends. */
export function useSignOut() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async () => {
      const result = await intake.POST("/api/v1/citizen/sign-out");
      if (!result.response.ok && result.response.status !== 401) unwrap(result);
    },
    onSettled: () => client.resetQueries({ queryKey: accountKeys.all }),
  });
}
