// Small form helpers for the admin pages: a labelled field with its error, and API problems per field.
import type { ReactNode } from "react";

import { ApiProblem } from "../../api/client";

export type Errors = Record<string, string>;

/** A label around one control, its hint and its error; the control gets the ids through `describedBy`. */
export function Field({
  id,
  label,
  error,
  hint,
  className,
  children,
}: {
  id: string;
  label: string;
  error?: string;
  hint?: string;
  className?: string;
  children: ReactNode;
}) {
  return (
    <label htmlFor={id} className={className}>
      {label}
      {children}
      {hint && <span id={`${id}-hint`} className="hint">{hint}</span>}
      {error && <span id={`${id}-error`} className="field-error">{error}</span>}
    </label>
  );
}

/** aria attributes of a control whose Field has an error and/or a hint. */
export function describe(id: string, errors: Errors, key: string, hint = false) {
  const ids = [hint ? `${id}-hint` : "", errors[key] ? `${id}-error` : ""].filter(Boolean).join(" ");
  return { id, "aria-invalid": errors[key] ? true : undefined, "aria-describedby": ids || undefined } as const;
}

/** The API's per-field messages (422) keyed by the last part of their location. */
export function problemFieldErrors(error: unknown): Errors {
  if (!(error instanceof ApiProblem)) return {};
  const out: Errors = {};
  for (const item of error.errors) {
    const loc = (item.loc ?? []).filter((part) => part !== "body");
    const key = item.field ?? loc.join(".");
    if (key && item.msg) out[key] = item.msg;
  }
  return out;
}

/** A time of day as HH:MM (the API may send HH:MM:SS). */
export function hhmm(value: string | null | undefined): string {
  return value ? value.slice(0, 5) : "";
}
