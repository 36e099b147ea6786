// The fields of a procedure version (time limit, online mode, agencies, documents, fees …), shared by
// "new version" on a procedure's page and "new procedure" on the list: drafted as text, checked like the
// API checks them, and turned into the API's VersionIn.
import type { TFunction } from "i18next";
import { useTranslation } from "react-i18next";

import type { components as IntakeSchemas } from "../../api/schema/intake";
import { todayInVietnam } from "../../components/format";
import { Checkbox, describe, Field, type Errors } from "../../components/Field";
import { useAgencies } from "../../features/agencies/api";

type Detail = IntakeSchemas["schemas"]["ProcedureDetail"];
export type VersionIn = IntakeSchemas["schemas"]["VersionIn"];

const DOC_FORMS = ["original", "copy", "original_or_copy", "present_original", "electronic"] as const;
const FEE_KINDS = ["lệ phí", "phí", "other", "none"] as const;
const AGENCY_ROLES = ["receiving", "resolving", "coordinating"] as const;

export interface VersionDraft {
  valid_from: string;
  value: string;
  unit: "working_days" | "working_hours";
  online_mode: "full" | "partial" | "none";
  result_description: string;
  legal_basis: string;
  interagency: boolean;
  postal_submission: boolean;
  postal_return: boolean;
  cutoff_rule: boolean;
  clock_restarts_on_supplement: boolean;
  agencies: { agency_code: string; role: (typeof AGENCY_ROLES)[number] }[];
  documents: { name: string; form: (typeof DOC_FORMS)[number]; mandatory: boolean }[];
  fees: { kind: (typeof FEE_KINDS)[number]; name: string; amount: string; note: string }[];
}

export function draftFrom(detail: Detail): VersionDraft {
  const pick = <T extends string>(value: string, allowed: readonly T[], fallback: T): T =>
    (allowed as readonly string[]).includes(value) ? (value as T) : fallback;
  return {
    valid_from: todayInVietnam(),
    value: String(detail.time_limit.value),
    unit: detail.time_limit.unit === "working_hours" ? "working_hours" : "working_days",
    online_mode: pick(detail.online_mode, ["full", "partial", "none"] as const, "partial"),
    result_description: detail.result_description ?? "",
    legal_basis: detail.legal_basis.join("\n"),
    interagency: detail.interagency,
    postal_submission: detail.postal_submission,
    postal_return: detail.postal_return,
    cutoff_rule: detail.cutoff_rule,
    clock_restarts_on_supplement: detail.clock_restarts_on_supplement,
    agencies: detail.agencies.map((a) => ({ agency_code: a.code, role: pick(a.role, AGENCY_ROLES, "receiving") })),
    documents: detail.required_documents.map((d) => ({ name: d.name, form: pick(d.form, DOC_FORMS, "original"), mandatory: d.mandatory })),
    fees: detail.fees.map((f) => ({ kind: pick(f.kind, FEE_KINDS, "other"), name: f.name, amount: f.amount_vnd === null ? "" : String(f.amount_vnd), note: f.note ?? "" })),
  };
}

export function emptyDraft(): VersionDraft {
  return {
    valid_from: todayInVietnam(),
    value: "",
    unit: "working_days",
    online_mode: "partial",
    result_description: "",
    legal_basis: "",
    interagency: false,
    postal_submission: true,
    postal_return: true,
    cutoff_rule: true,
    clock_restarts_on_supplement: false,
    agencies: [{ agency_code: "", role: "receiving" }],
    documents: [],
    fees: [],
  };
}

/** Field errors keyed like the API's error locations (``time_limit.value``, ``agencies.0.agency_code`` …). */
export function validateVersion(draft: VersionDraft, t: TFunction<"admin">): Errors {
  const found: Errors = {};
  if (!/^\d{4}-\d{2}-\d{2}$/.test(draft.valid_from)) found.valid_from = t("validation.date");
  const value = Number(draft.value);
  if (draft.value.trim() === "" || !Number.isInteger(value) || value < 0 || value > 10000) found["time_limit.value"] = t("procedures.limitInvalid");
  if (draft.agencies.length === 0) found.agencies = t("procedures.agenciesRequired");
  draft.agencies.forEach((a, i) => {
    if (!a.agency_code) found[`agencies.${i}.agency_code`] = t("validation.required");
  });
  draft.documents.forEach((d, i) => {
    if (!d.name.trim()) found[`documents.${i}.name`] = t("validation.required");
  });
  draft.fees.forEach((f, i) => {
    if (!f.name.trim()) found[`fees.${i}.name`] = t("validation.required");
    if (f.amount.trim() && !/^\d+$/.test(f.amount.trim())) found[`fees.${i}.amount_vnd`] = t("procedures.amountInvalid");
  });
  return found;
}

export function versionBody(draft: VersionDraft): VersionIn {
  const value = Number(draft.value);
  return {
    valid_from: draft.valid_from,
    time_limit: { value, unit: draft.unit },
    online_mode: draft.online_mode,
    result_description: draft.result_description.trim() || null,
    legal_basis: draft.legal_basis.split("\n").map((line) => line.trim()).filter(Boolean),
    interagency: draft.interagency,
    postal_submission: draft.postal_submission,
    postal_return: draft.postal_return,
    cutoff_rule: draft.cutoff_rule,
    clock_restarts_on_supplement: draft.clock_restarts_on_supplement,
    agencies: draft.agencies,
    documents: draft.documents.map((d) => ({ ...d, name: d.name.trim() })),
    fees: draft.fees.map((f) => ({
      kind: f.kind,
      name: f.name.trim(),
      amount_vnd: f.amount.trim() ? Number(f.amount.trim()) : null,
      note: f.note.trim() || null,
    })),
  };
}

export function VersionFields({
  draft,
  setDraft,
  errors: all,
}: {
  draft: VersionDraft;
  setDraft: (update: (current: VersionDraft) => VersionDraft) => void;
  errors: Errors;
}) {
  const { t } = useTranslation("admin");
  const agencies = useAgencies();
  const set = <K extends keyof VersionDraft>(key: K, value: VersionDraft[K]) => setDraft((c) => ({ ...c, [key]: value }));
  const flags = ["interagency", "postal_submission", "postal_return", "cutoff_rule", "clock_restarts_on_supplement"] as const;
  return (
    <>
    <div className="admin-form">
      <Field id="v-from" label={t("procedures.validFrom")} error={all.valid_from}>
        <input type="date" required value={draft.valid_from} onChange={(e) => set("valid_from", e.target.value)} {...describe("v-from", all, "valid_from")} />
      </Field>
      <Field id="v-limit" label={t("procedures.timeLimit")} error={all["time_limit.value"]}>
        <input type="number" min={0} step={1} required value={draft.value} onChange={(e) => set("value", e.target.value)} {...describe("v-limit", all, "time_limit.value")} />
      </Field>
      <Field id="v-unit" label={t("templates.unit")}>
        <select id="v-unit" value={draft.unit} onChange={(e) => set("unit", e.target.value as VersionDraft["unit"])}>
          <option value="working_days">{t("templates.workingDays")}</option>
          <option value="working_hours">{t("templates.workingHours")}</option>
        </select>
      </Field>
      <Field id="v-online" label={t("procedures.onlineMode")}>
        <select id="v-online" value={draft.online_mode} onChange={(e) => set("online_mode", e.target.value as VersionDraft["online_mode"])}>
          {(["full", "partial", "none"] as const).map((mode) => (
            <option key={mode} value={mode}>{t(`procedures.onlineModes.${mode}`)}</option>
          ))}
        </select>
      </Field>
      <Field id="v-result" label={t("procedures.result")} className="wide">
        <input id="v-result" maxLength={5000} value={draft.result_description} onChange={(e) => set("result_description", e.target.value)} />
      </Field>
      <Field id="v-legal" label={t("procedures.legalBasis")} hint={t("procedures.legalBasisHint")} className="wide">
        <textarea value={draft.legal_basis} onChange={(e) => set("legal_basis", e.target.value)} {...describe("v-legal", {}, "legal_basis", true)} />
      </Field>
      {flags.map((flag) => (
        <Checkbox key={flag} label={t(`procedures.flags.${flag}`)} checked={draft[flag]} onChange={(checked) => set(flag, checked)} />
      ))}
    </div>

    <fieldset>
      <legend>{t("procedures.agencies")}</legend>
      {all.agencies && <p className="field-error">{all.agencies}</p>}
      {draft.agencies.map((a, i) => (
        <div className="admin-form" key={i}>
          <Field id={`va-${i}-code`} label={t("procedures.agency")} error={all[`agencies.${i}.agency_code`]}>
            <select
              required
              value={a.agency_code}
              onChange={(e) => set("agencies", draft.agencies.map((x, j) => (j === i ? { ...x, agency_code: e.target.value } : x)))}
              {...describe(`va-${i}-code`, all, `agencies.${i}.agency_code`)}
            >
              <option value="">{t("common.choose")}</option>
              {(agencies.data ?? []).map((ag) => (
                <option key={ag.code} value={ag.code}>{ag.name}</option>
              ))}
              {a.agency_code && !(agencies.data ?? []).some((ag) => ag.code === a.agency_code) && <option value={a.agency_code}>{a.agency_code}</option>}
            </select>
          </Field>
          <Field id={`va-${i}-role`} label={t("procedures.agencyRole")}>
            <select
              id={`va-${i}-role`}
              value={a.role}
              onChange={(e) => set("agencies", draft.agencies.map((x, j) => (j === i ? { ...x, role: e.target.value as (typeof AGENCY_ROLES)[number] } : x)))}
            >
              {AGENCY_ROLES.map((role) => (
                <option key={role} value={role}>{t(`procedures.agencyRoles.${role}`)}</option>
              ))}
            </select>
          </Field>
          <div className="actions" style={{ alignSelf: "end" }}>
            <button type="button" className="danger" onClick={() => set("agencies", draft.agencies.filter((_, j) => j !== i))}>
              {t("common.remove")}<span className="visually-hidden"> {t("procedures.agency")} {i + 1}</span>
            </button>
          </div>
        </div>
      ))}
      <button type="button" onClick={() => set("agencies", [...draft.agencies, { agency_code: "", role: "receiving" }])}>{t("procedures.addAgency")}</button>
    </fieldset>

    <fieldset>
      <legend>{t("procedures.documents")}</legend>
      {draft.documents.map((d, i) => (
        <div className="admin-form" key={i}>
          <Field id={`vd-${i}-name`} label={t("procedures.documentName", { n: i + 1 })} error={all[`documents.${i}.name`]} className="wide">
            <input required value={d.name} onChange={(e) => set("documents", draft.documents.map((x, j) => (j === i ? { ...x, name: e.target.value } : x)))} {...describe(`vd-${i}-name`, all, `documents.${i}.name`)} />
          </Field>
          <Field id={`vd-${i}-form`} label={t("procedures.documentForm")}>
            <select id={`vd-${i}-form`} value={d.form} onChange={(e) => set("documents", draft.documents.map((x, j) => (j === i ? { ...x, form: e.target.value as (typeof DOC_FORMS)[number] } : x)))}>
              {DOC_FORMS.map((form) => (
                <option key={form} value={form}>{t(`procedures.documentForms.${form}`)}</option>
              ))}
            </select>
          </Field>
          <Checkbox label={t("procedures.mandatory")} checked={d.mandatory} onChange={(checked) => set("documents", draft.documents.map((x, j) => (j === i ? { ...x, mandatory: checked } : x)))} />
          <div className="actions">
            <button type="button" className="danger" onClick={() => set("documents", draft.documents.filter((_, j) => j !== i))}>
              {t("common.remove")}<span className="visually-hidden"> {t("procedures.documentName", { n: i + 1 })}</span>
            </button>
          </div>
        </div>
      ))}
      <button type="button" onClick={() => set("documents", [...draft.documents, { name: "", form: "original", mandatory: true }])}>{t("procedures.addDocument")}</button>
    </fieldset>

    <fieldset>
      <legend>{t("procedures.fees")}</legend>
      {draft.fees.map((f, i) => (
        <div className="admin-form" key={i}>
          <Field id={`vf-${i}-kind`} label={t("procedures.feeKind")}>
            <select id={`vf-${i}-kind`} value={f.kind} onChange={(e) => set("fees", draft.fees.map((x, j) => (j === i ? { ...x, kind: e.target.value as (typeof FEE_KINDS)[number] } : x)))}>
              {FEE_KINDS.map((kind) => (
                <option key={kind} value={kind}>{t(`procedures.feeKinds.${kind === "lệ phí" ? "le_phi" : kind === "phí" ? "phi" : kind}`)}</option>
              ))}
            </select>
          </Field>
          <Field id={`vf-${i}-name`} label={t("procedures.feeName")} error={all[`fees.${i}.name`]}>
            <input required value={f.name} onChange={(e) => set("fees", draft.fees.map((x, j) => (j === i ? { ...x, name: e.target.value } : x)))} {...describe(`vf-${i}-name`, all, `fees.${i}.name`)} />
          </Field>
          <Field id={`vf-${i}-amount`} label={t("procedures.feeAmount")} error={all[`fees.${i}.amount_vnd`]}>
            <input inputMode="numeric" value={f.amount} onChange={(e) => set("fees", draft.fees.map((x, j) => (j === i ? { ...x, amount: e.target.value } : x)))} {...describe(`vf-${i}-amount`, all, `fees.${i}.amount_vnd`)} />
          </Field>
          <div className="actions">
            <button type="button" className="danger" onClick={() => set("fees", draft.fees.filter((_, j) => j !== i))}>
              {t("common.remove")}<span className="visually-hidden"> {t("procedures.feeName")} {i + 1}</span>
            </button>
          </div>
        </div>
      ))}
      <button type="button" onClick={() => set("fees", [...draft.fees, { kind: "lệ phí", name: "", amount: "", note: "" }])}>{t("procedures.addFee")}</button>
    </fieldset>
    </>
  );
}
