// Turning an API problem (RFC 9457 problem+json) into words for the user, in the user's language.
// Messages come from common.json: problems.<code>, else problemStatus.<status>, else problems.generic.
// The API's own English title/detail are shown only in English mode.
import { ApiProblem } from "../api/client";
import i18n from "../i18n";

export interface FieldProblem {
  /** the field's path in the request without "body"/"query", e.g. "applicant.phone" */
  path: string;
  /** the last name in the path that is not a list index, e.g. "phone" */
  field: string;
  /** the field's name in the user's language */
  label: string;
  /** what is wrong, in the user's language */
  message: string;
}

function isEnglish(): boolean {
  return i18n.language === "en";
}

// the common namespace whatever the caller's own: these helpers work from any area
function t(key: string, options: { defaultValue?: string; [name: string]: unknown } = {}): string {
  return i18n.t(key, { ns: "common", ...options });
}

/** The problem's `code` ("" when the answer had none). */
export function problemCode(error: unknown): string {
  if (!(error instanceof ApiProblem)) return "";
  if (error.code && error.code !== "error") return error.code;
  return "";
}

/** One sentence for the user about what went wrong. */
export function problemMessage(error: unknown): string {
  if (!error) return "";
  if (error instanceof ApiProblem) {
    const code = problemCode(error);
    if (code && t(`problems.${code}`, { defaultValue: "" })) {
      return t(`problems.${code}`);
    }
    const byStatus = t(`problemStatus.${error.status}`, { defaultValue: "" });
    if (isEnglish() && error.message && !error.message.startsWith("HTTP ")) return error.message;
    return byStatus || t("problems.generic");
  }
  if (error instanceof TypeError) return t("problems.network");
  return t("problems.generic");
}

/** The API's own detail (English), for English mode only; "" otherwise or when it adds nothing. */
export function problemDetail(error: unknown): string {
  if (!(error instanceof ApiProblem) || !isEnglish() || !error.detail) return "";
  return error.detail === error.message ? "" : error.detail;
}

/** The per-field messages of a 422 (pydantic `errors`), in the user's language. */
export function fieldProblems(error: unknown): FieldProblem[] {
  if (!(error instanceof ApiProblem)) return [];
  return error.errors.map((item) => {
    const raw = item as { loc?: (string | number)[]; msg?: string; type?: string; field?: string };
    const loc = (raw.loc ?? (raw.field ? [raw.field] : [])).filter(
      (part) => part !== "body" && part !== "query" && part !== "path",
    );
    const path = loc.join(".");
    const names = loc.filter((part): part is string => typeof part === "string" && !/^\d+$/.test(part));
    const field = names.at(-1) ?? "";
    const label = field ? t(`fields.${field}`, { defaultValue: field }) : "";
    const type = raw.type ?? "";
    let message = type ? t(`validation.${type}`, { defaultValue: "" }) : "";
    if (!message) message = isEnglish() && raw.msg ? raw.msg : t("validation.generic");
    return { path, field, label, message };
  });
}

/**
 * Field messages keyed by path ("applicant.phone") and by last name ("phone"), for showing
 * next to inputs: `const errors = fieldErrors(mutation.error); errors["phone"]`.
 */
export function fieldErrors(error: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const problem of fieldProblems(error)) {
    if (problem.path && !(problem.path in out)) out[problem.path] = problem.message;
    if (problem.field && !(problem.field in out)) out[problem.field] = problem.message;
  }
  return out;
}

/**
 * The admin forms' per-field messages: the API's own `msg`, keyed by `field` or the whole location
 * ("time_limit.value"). Unlike `fieldErrors` it does not translate: the admin pages show the
 * server's wording next to the field, as they always have.
 */
export function problemFieldErrors(error: unknown): Record<string, string> {
  if (!(error instanceof ApiProblem)) return {};
  const out: Record<string, string> = {};
  for (const item of error.errors) {
    const loc = (item.loc ?? []).filter((part) => part !== "body");
    const key = item.field ?? loc.join(".");
    if (key && item.msg) out[key] = item.msg;
  }
  return out;
}
