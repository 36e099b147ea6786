/**
 * Checking a signed document (intake, public): the register's line for a document id (the receipt's
 * verification QR code) and the verdict on an uploaded PDF. No secret, no personal data either way.
 */
import { useMutation, useQuery } from "@tanstack/react-query";

import { intake, unwrap } from "../../api/client";
import type { components } from "../../api/schema/intake";

export type Verification = components["schemas"]["VerificationOut"];
export type IssuedDocument = components["schemas"]["IssuedDocumentOut"];
export type CheckedSignature = components["schemas"]["SignatureOut"];

export const signatureKeys = {
  all: ["signatures"] as const,
  issued: (id: string) => [...signatureKeys.all, "issued", id] as const,
};

/** What Một Cửa signed under `id`; nothing is asked without an id. */
export function useIssuedDocument(id: string | undefined) {
  return useQuery({
    queryKey: signatureKeys.issued(id ?? ""),
    queryFn: async () =>
      unwrap(await intake.GET("/api/v1/signatures/{document_id}", { params: { path: { document_id: id ?? "" } } })),
    enabled: Boolean(id),
    retry: false,
  });
}

/** Upload a PDF and get pyHanko's verdict on its signatures. */
export function useVerifyPdf() {
  return useMutation({
    mutationFn: async (file: File) => {
      const form = new FormData();
      form.append("file", file, file.name);
      return unwrap(
        await intake.POST("/api/v1/signatures/verify", { body: { file: "" }, bodySerializer: () => form }),
      );
    },
  });
}
