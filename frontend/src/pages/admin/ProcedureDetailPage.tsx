import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { Link, useParams } from "react-router";

import { intake, unwrap, workflow } from "../../api/client";
import type { components as IntakeSchemas } from "../../api/schema/intake";
import type { components as WorkflowSchemas } from "../../api/schema/workflow";
import { Loading, PageTitle, ProblemAlert } from "../../components/Status";
import { formatDateTime, formatDay, todayInVietnam } from "../leader/format";
import { useDirectory } from "./StaffPage";
import { describe, Field, problemFieldErrors, type Errors } from "./ui";

type Detail = IntakeSchemas["schemas"]["ProcedureDetail"];
type VersionIn = IntakeSchemas["schemas"]["VersionIn"];
type Template = WorkflowSchemas["schemas"]["TemplateOut"];

const ACTIONS = [
  "forward",
  "send_back",
  "request_supplement",
  "request_payment",
  "transfer",
  "resolve",
  "stop",
  "return_result",
  "apologize",
  "withdraw",
] as const;
const STEP_CODE = /^[a-z][a-z0-9_]*$/;
const DOC_FORMS = ["original", "copy", "original_or_copy", "present_original", "electronic"] as const;
const FEE_KINDS = ["lệ phí", "phí", "other", "none"] as const;
const AGENCY_ROLES = ["receiving", "resolving", "coordinating"] as const;

function TemplateSteps({ template }: { template: Template }) {
  const { t } = useTranslation("admin");
  return (
    <div className="table-wrap" role="region" aria-label={template.name} tabIndex={0}>
      <table data-testid="template-steps">
        <caption className="visually-hidden">{template.name}</caption>
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">{t("templates.stepName")}</th>
            <th scope="col">{t("templates.agency")}</th>
            <th scope="col">{t("templates.role")}</th>
            <th scope="col">{t("templates.share")}</th>
            <th scope="col">{t("templates.actions")}</th>
          </tr>
        </thead>
        <tbody>
          {template.steps.map((step) => (
            <tr key={step.position}>
              <th scope="row">{step.position}</th>
              <td>
                {step.name} <span className="muted">({step.code})</span>
              </td>
              <td>{step.agency_code ?? t("templates.receivingAgency")}</td>
              <td>{step.role}</td>
              <td>{t(`units.${step.share.unit}`, { value: step.share.value, defaultValue: `${step.share.value} ${step.share.unit}` })}</td>
              <td className="small">{step.actions.map((a) => t(`templates.actionNames.${a}`, { defaultValue: a })).join(", ")}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

interface StepDraft {
  code: string;
  name: string;
  role: string;
  agency_code: string;
  value: string;
  unit: "working_days" | "working_hours";
  actions: string[];
}

function TemplateForm({ detail, base, onDone }: { detail: Detail; base: Template | null; onDone: () => void }) {
  const { t, i18n } = useTranslation("admin");
  const queryClient = useQueryClient();
  const { roles, agencies } = useDirectory();
  const [name, setName] = useState(base?.name ?? detail.name.slice(0, 300));
  const [version, setVersion] = useState("");
  const [steps, setSteps] = useState<StepDraft[]>(
    (base?.steps ?? []).map((s) => ({
      code: s.code,
      name: s.name,
      role: s.role,
      agency_code: s.agency_code ?? "",
      value: String(s.share.value),
      unit: s.share.unit === "working_hours" ? "working_hours" : "working_days",
      actions: s.actions,
    })),
  );
  const [errors, setErrors] = useState<Errors>({});
  const create = useMutation({
    mutationFn: async () =>
      unwrap(
        await workflow.POST("/api/v1/templates", {
          body: {
            procedure_code: detail.code,
            name: name.trim(),
            version: version ? Number(version) : null,
            steps: steps.map((s) => ({
              code: s.code.trim(),
              name: s.name.trim(),
              role: s.role,
              agency_code: s.agency_code || null,
              share: { value: Number(s.value), unit: s.unit },
              actions: s.actions,
            })),
          },
        }),
      ),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ["templates", detail.code] }),
  });
  const apiErrors = problemFieldErrors(create.error);
  const all = { ...apiErrors, ...errors };
  const total = steps.reduce((sum, s) => sum + (Number(s.value) || 0) * (s.unit === "working_hours" ? 1 : 8), 0);
  const limitHours = detail.time_limit.value * (detail.time_limit.unit === "working_hours" ? 1 : 8);

  const update = (index: number, change: Partial<StepDraft>) =>
    setSteps((current) => current.map((s, i) => (i === index ? { ...s, ...change } : s)));

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const found: Errors = {};
    if (!name.trim()) found.name = t("validation.required");
    if (steps.length === 0) found.steps = t("templates.noSteps");
    const codes = new Set<string>();
    steps.forEach((s, i) => {
      if (!STEP_CODE.test(s.code.trim())) found[`steps.${i}.code`] = t("templates.codeInvalid");
      else if (codes.has(s.code.trim())) found[`steps.${i}.code`] = t("templates.codeDuplicate");
      codes.add(s.code.trim());
      if (!s.name.trim()) found[`steps.${i}.name`] = t("validation.required");
      if (!s.role) found[`steps.${i}.role`] = t("validation.required");
      const value = Number(s.value);
      if (s.value.trim() === "" || Number.isNaN(value) || value < 0 || value > 10000) found[`steps.${i}.share.value`] = t("templates.shareInvalid");
    });
    setErrors(found);
    if (Object.keys(found).length === 0) create.mutate();
  }

  const stepError = (i: number, key: string) => all[`steps.${i}.${key}`];
  return (
    <form className="card" onSubmit={submit} noValidate aria-labelledby="template-form-title" data-testid="template-form">
      <h3 id="template-form-title" className="card-title">{t("templates.newTitle")}</h3>
      <div className="admin-form">
        <Field id="tpl-name" label={t("templates.name")} error={all.name} className="wide">
          <input required maxLength={300} value={name} onChange={(e) => setName(e.target.value)} {...describe("tpl-name", all, "name")} />
        </Field>
        <Field id="tpl-version" label={t("templates.procedureVersion")}>
          <select id="tpl-version" value={version} onChange={(e) => setVersion(e.target.value)}>
            <option value="">{t("templates.versionInForce")}</option>
            {detail.versions.map((v) => (
              <option key={v.version} value={v.version}>{t("procedures.versionFrom", { version: v.version, from: formatDay(v.valid_from) })}</option>
            ))}
          </select>
        </Field>
      </div>
      <p className={total === limitHours ? "alert alert-ok" : "alert alert-info"} role="status">
        {t("templates.shareTotal", { total: total / 8, limit: limitHours / 8 })}
      </p>
      {all.steps && <p className="field-error">{all.steps}</p>}
      {steps.map((step, i) => (
        <fieldset key={i} className="step-fieldset">
          <legend>{t("templates.stepLegend", { n: i + 1 })}</legend>
          <div className="admin-form">
            <Field id={`st-${i}-code`} label={t("templates.stepCode")} error={stepError(i, "code")}>
              <input required value={step.code} onChange={(e) => update(i, { code: e.target.value })} {...describe(`st-${i}-code`, all, `steps.${i}.code`)} />
            </Field>
            <Field id={`st-${i}-name`} label={t("templates.stepName")} error={stepError(i, "name")}>
              <input required value={step.name} onChange={(e) => update(i, { name: e.target.value })} {...describe(`st-${i}-name`, all, `steps.${i}.name`)} />
            </Field>
            <Field id={`st-${i}-role`} label={t("templates.role")} error={stepError(i, "role")}>
              <select required value={step.role} onChange={(e) => update(i, { role: e.target.value })} {...describe(`st-${i}-role`, all, `steps.${i}.role`)}>
                <option value="">{t("common.choose")}</option>
                {(roles.data ?? []).map((r) => (
                  <option key={r.code} value={r.code}>{i18n.language === "en" ? r.name_en : r.name_vi}</option>
                ))}
              </select>
            </Field>
            <Field id={`st-${i}-agency`} label={t("templates.agency")} error={stepError(i, "agency_code")}>
              <select value={step.agency_code} onChange={(e) => update(i, { agency_code: e.target.value })} {...describe(`st-${i}-agency`, all, `steps.${i}.agency_code`)}>
                <option value="">{t("templates.receivingAgency")}</option>
                {(agencies.data ?? []).map((a) => (
                  <option key={a.code} value={a.code}>{a.name}</option>
                ))}
              </select>
            </Field>
            <Field id={`st-${i}-value`} label={t("templates.share")} error={stepError(i, "share.value")}>
              <input type="number" min={0} step="0.5" required value={step.value} onChange={(e) => update(i, { value: e.target.value })} {...describe(`st-${i}-value`, all, `steps.${i}.share.value`)} />
            </Field>
            <Field id={`st-${i}-unit`} label={t("templates.unit")}>
              <select id={`st-${i}-unit`} value={step.unit} onChange={(e) => update(i, { unit: e.target.value as StepDraft["unit"] })}>
                <option value="working_days">{t("templates.workingDays")}</option>
                <option value="working_hours">{t("templates.workingHours")}</option>
              </select>
            </Field>
            <fieldset className="wide" aria-describedby={stepError(i, "actions") ? `st-${i}-actions-error` : undefined}>
              <legend>{t("templates.actions")}</legend>
              <div className="actions">
                {ACTIONS.map((action) => (
                  <label key={action} className="checkbox">
                    <input
                      type="checkbox"
                      checked={step.actions.includes(action)}
                      onChange={(e) =>
                        update(i, { actions: e.target.checked ? [...step.actions, action] : step.actions.filter((a) => a !== action) })
                      }
                    />
                    {t(`templates.actionNames.${action}`)}
                  </label>
                ))}
              </div>
              {stepError(i, "actions") && <span id={`st-${i}-actions-error`} className="field-error">{stepError(i, "actions")}</span>}
            </fieldset>
          </div>
          <div className="actions">
            <button type="button" disabled={i === 0} onClick={() => setSteps((c) => [...c.slice(0, i - 1), c[i], c[i - 1], ...c.slice(i + 1)])}>
              {t("templates.moveUp")}<span className="visually-hidden"> {i + 1}</span>
            </button>
            <button type="button" className="danger" onClick={() => setSteps((c) => c.filter((_, j) => j !== i))}>
              {t("templates.removeStep")}<span className="visually-hidden"> {i + 1}</span>
            </button>
          </div>
        </fieldset>
      ))}
      <div className="actions">
        <button
          type="button"
          onClick={() => setSteps((c) => [...c, { code: "", name: "", role: "", agency_code: "", value: "0", unit: "working_days", actions: [] }])}
        >
          {t("templates.addStep")}
        </button>
      </div>
      <ProblemAlert error={create.error} />
      {create.isSuccess && (
        <p role="status" className="alert alert-ok">{t("templates.created", { version: create.data.version })}</p>
      )}
      <div className="actions">
        <button type="submit" className="primary" disabled={create.isPending}>{t("templates.create")}</button>
        <button type="button" onClick={onDone}>{t("common.close")}</button>
      </div>
    </form>
  );
}

interface VersionDraft {
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

function draftFrom(detail: Detail): VersionDraft {
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

function VersionForm({ detail, onDone }: { detail: Detail; onDone: () => void }) {
  const { t } = useTranslation("admin");
  const queryClient = useQueryClient();
  const { agencies } = useDirectory();
  const [draft, setDraft] = useState<VersionDraft>(() => draftFrom(detail));
  const [errors, setErrors] = useState<Errors>({});
  const create = useMutation({
    mutationFn: async (body: VersionIn) =>
      unwrap(await intake.POST("/api/v1/procedures/{code}/versions", { params: { path: { code: detail.code } }, body })),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ["procedure", detail.code] }),
  });
  const apiErrors = problemFieldErrors(create.error);
  const all = { ...apiErrors, ...errors };
  const set = <K extends keyof VersionDraft>(key: K, value: VersionDraft[K]) => setDraft((c) => ({ ...c, [key]: value }));

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
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
    setErrors(found);
    if (Object.keys(found).length) return;
    create.mutate({
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
    });
  }

  const flags = ["interagency", "postal_submission", "postal_return", "cutoff_rule", "clock_restarts_on_supplement"] as const;
  return (
    <form className="card" onSubmit={submit} noValidate aria-labelledby="version-form-title" data-testid="version-form">
      <h3 id="version-form-title" className="card-title">{t("procedures.newVersionTitle")}</h3>
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
          <label key={flag} className="checkbox">
            <input type="checkbox" checked={draft[flag]} onChange={(e) => set(flag, e.target.checked)} />
            {t(`procedures.flags.${flag}`)}
          </label>
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
            <label className="checkbox">
              <input type="checkbox" checked={d.mandatory} onChange={(e) => set("documents", draft.documents.map((x, j) => (j === i ? { ...x, mandatory: e.target.checked } : x)))} />
              {t("procedures.mandatory")}
            </label>
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

      <ProblemAlert error={create.error} />
      {create.isSuccess && <p role="status" className="alert alert-ok">{t("procedures.versionCreated")}</p>}
      <div className="actions">
        <button type="submit" className="primary" disabled={create.isPending}>{t("procedures.createVersion")}</button>
        <button type="button" onClick={onDone}>{t("common.close")}</button>
      </div>
    </form>
  );
}

export function ProcedureDetailPage() {
  const { t } = useTranslation("admin");
  const { code = "" } = useParams();
  const [panel, setPanel] = useState<"version" | "template" | null>(null);
  const [shown, setShown] = useState<string | null>(null);
  const detail = useQuery({
    queryKey: ["procedure", code],
    queryFn: async () => unwrap(await intake.GET("/api/v1/procedures/{code}", { params: { path: { code } } })),
  });
  const templates = useQuery({
    queryKey: ["templates", code],
    queryFn: async () => unwrap(await workflow.GET("/api/v1/templates", { params: { query: { procedure: code } } })),
  });
  const active = templates.data?.find((tpl) => tpl.active) ?? null;
  const selected = templates.data?.find((tpl) => tpl.id === shown) ?? active;

  return (
    <section>
      <p>
        <Link to="/quan-tri/thu-tuc">← {t("procedures.back")}</Link>
      </p>
      <ProblemAlert error={detail.error} />
      {detail.isPending && <Loading />}
      {detail.data && (
        <>
          <PageTitle>{detail.data.name}</PageTitle>
          <div className="card">
            <dl className="proc-facts">
              <dt>{t("procedures.code")}</dt>
              <dd><code>{detail.data.code}</code></dd>
              <dt>{t("procedures.field")}</dt>
              <dd>{detail.data.field}</dd>
              <dt>{t("procedures.timeLimit")}</dt>
              <dd>{t(`units.${detail.data.time_limit.unit}`, { value: detail.data.time_limit.value, defaultValue: String(detail.data.time_limit.value) })}</dd>
              <dt>{t("procedures.onlineMode")}</dt>
              <dd>{t(`procedures.onlineModes.${detail.data.online_mode}`, { defaultValue: detail.data.online_mode })}</dd>
              <dt>{t("procedures.agencies")}</dt>
              <dd>{detail.data.agencies.map((a) => `${a.name} (${t(`procedures.agencyRoles.${a.role}`, { defaultValue: a.role })})`).join("; ")}</dd>
            </dl>
          </div>
          <section className="card" aria-labelledby="versions-title">
            <h2 id="versions-title" className="card-title">{t("procedures.versions")}</h2>
            <div className="table-wrap" role="region" aria-label={t("procedures.versions")} tabIndex={0}>
              <table data-testid="versions-table">
                <thead>
                  <tr>
                    <th scope="col">{t("procedures.version")}</th>
                    <th scope="col">{t("procedures.validFrom")}</th>
                    <th scope="col">{t("procedures.validTo")}</th>
                    <th scope="col">{t("procedures.published")}</th>
                  </tr>
                </thead>
                <tbody>
                  {detail.data.versions.map((v) => (
                    <tr key={v.version}>
                      <th scope="row">{v.version}{v.version === detail.data.version && <span className="badge badge-ok">{t("procedures.inForce")}</span>}</th>
                      <td>{formatDay(v.valid_from)}</td>
                      <td>{formatDay(v.valid_to)}</td>
                      <td>{v.published ? t("common.yes") : t("common.no")}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <div className="actions">
              <button type="button" onClick={() => setPanel("version")}>{t("procedures.newVersion")}</button>
            </div>
          </section>
          {panel === "version" && <VersionForm detail={detail.data} onDone={() => setPanel(null)} />}

          <section className="card" aria-labelledby="templates-title">
            <h2 id="templates-title" className="card-title">{t("templates.title")}</h2>
            <ProblemAlert error={templates.error} />
            {templates.isPending && <Loading />}
            {templates.data && templates.data.length === 0 && <p className="muted">{t("templates.none")}</p>}
            {templates.data && templates.data.length > 0 && (
              <div className="table-wrap" role="region" aria-label={t("templates.title")} tabIndex={0}>
                <table data-testid="templates-table">
                  <thead>
                    <tr>
                      <th scope="col">{t("templates.version")}</th>
                      <th scope="col">{t("templates.name")}</th>
                      <th scope="col">{t("templates.procedureVersion")}</th>
                      <th scope="col">{t("templates.steps")}</th>
                      <th scope="col">{t("templates.createdAt")}</th>
                      <th scope="col"><span className="visually-hidden">{t("common.actions")}</span></th>
                    </tr>
                  </thead>
                  <tbody>
                    {templates.data.map((tpl) => (
                      <tr key={tpl.id} className={tpl.active ? undefined : "inactive"}>
                        <th scope="row">
                          {tpl.version} {tpl.active && <span className="badge badge-ok">{t("templates.active")}</span>}
                        </th>
                        <td>{tpl.name}</td>
                        <td>{tpl.procedure_version}</td>
                        <td>{tpl.steps.length}</td>
                        <td>{formatDateTime(tpl.created_at)}</td>
                        <td>
                          <button type="button" onClick={() => setShown(tpl.id)} aria-pressed={selected?.id === tpl.id}>
                            {t("templates.view")}<span className="visually-hidden"> {tpl.version}</span>
                          </button>
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
            {selected && (
              <>
                <h3 className="card-title">{t("templates.stepsOf", { version: selected.version })}</h3>
                <TemplateSteps template={selected} />
              </>
            )}
            <div className="actions">
              <button type="button" onClick={() => setPanel("template")}>{t("templates.new")}</button>
            </div>
          </section>
          {panel === "template" && templates.data && (
            <TemplateForm key={selected?.id ?? "none"} detail={detail.data} base={selected} onDone={() => setPanel(null)} />
          )}
        </>
      )}
    </section>
  );
}
