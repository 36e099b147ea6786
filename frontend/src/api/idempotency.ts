/**
 * A fresh Idempotency-Key for a submission (the counter's and the citizen's): a retried request
 * with the same key files the dossier once. crypto.randomUUID needs a secure context (plain http
 * on a LAN is not one), so random bytes stand in for it there.
 */
export function newIdempotencyKey(): string {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}
