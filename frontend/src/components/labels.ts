// What the API sends as codes or in two languages, in the user's language.
//
// System notes (a hand-over line's note_code + note_params, services/intake/notes.py) are sentences
// in common.json notes.<code>; their params are formatted here: instants as dd/mm/yyyy HH:mm in
// Việt Nam time, amounts grouped as in Việt Nam, and what an officer typed (reasons, documents
// asked for) as typed — free text is never translated. The post's reason code for a failed delivery
// is said through common.json postalReasons (an unknown one as "other"). A note without a code (written before the
// codes, or by a writer that does not send one) is shown as it was written.
// Step names come from the workflow template: its English name in English mode when it has one,
// else the Vietnamese name as entered.
import i18n from "../i18n";
import { formatDate, formatDateTime } from "./format";

export interface NoteSource {
  note?: string | null;
  note_code?: string | null;
  note_params?: Record<string, unknown>;
}

function text(value: unknown): string {
  return typeof value === "string" ? value : "";
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** The note in the user's language ("" when the line has none). */
export function noteText(item: NoteSource): string {
  const code = item.note_code;
  if (!code) return item.note ?? "";
  const params = item.note_params ?? {};
  const values = {
    due_at: formatDateTime(text(params.due_at)),
    appointment_at: formatDateTime(text(params.appointment_at)),
    // grouped the Vietnamese way in both languages ("50.000"); the sentence names the currency
    amount: typeof params.amount_vnd === "number" ? new Intl.NumberFormat("vi-VN").format(params.amount_vnd) : "",
    files: typeof params.files === "number" ? String(params.files) : "",
    attempt: typeof params.attempt === "number" ? String(params.attempt) : "",
    scheduled_for: formatDate(text(params.scheduled_for)),
    reason: i18n.t(`postalReasons.${text(params.reason_code) || "other"}`, {
      ns: "common",
      defaultValue: i18n.t("postalReasons.other", { ns: "common" }),
    }),
    reasons: list(params.reasons).map(text).join("; "),
    items: list(params.items)
      .map((entry) => {
        const { document, reason } = (entry ?? {}) as { document?: unknown; reason?: unknown };
        return text(reason) ? `${text(document)} (${text(reason)})` : text(document);
      })
      .join("; "),
  };
  return i18n.t(`notes.${code}`, { ns: "common", defaultValue: "", ...values }) || (item.note ?? "");
}

/** A workflow step's name: the English one in English mode when the template gives it. */
export function stepName(step: { name: string; name_en?: string | null }): string {
  return i18n.language === "en" && step.name_en ? step.name_en : step.name;
}
