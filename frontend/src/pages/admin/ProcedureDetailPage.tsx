import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { Link, useParams } from "react-router";

import { intake, unwrap, workflow } from "../../api/client";
import type { components as IntakeSchemas } from "../../api/schema/intake";
import type { components as WorkflowSchemas } from "../../api/schema/workflow";
import { stepName } from "../../components/labels";
import { Loading, PageTitle, ProblemAlert } from "../../components/Status";
import { formatDateTimeOrDash, formatDay } from "../../components/format";
import { Checkbox, describe, Field, type Errors } from "../../components/Field";
import { problemFieldErrors } from "../../components/problems";
import { draftFrom, validateVersion, VersionFields, versionBody, type VersionDraft, type VersionIn } from "./versionForm";
import { TableHead, TableWrap } from "../../components/TableWrap";
import { useAgencies } from "../../features/agencies/api";
import { useRoles } from "../../features/staff/api";
import { procedureKeys, useProcedure, useWorkflowTemplates } from "../../features/procedures/api";
import { FormFooter } from "./FormFooter";

type Detail = IntakeSchemas["schemas"]["ProcedureDetail"];
type Template = WorkflowSchemas["schemas"]["TemplateOut"];

type Action = WorkflowSchemas["schemas"]["TransitionIn"]["action"];
// the engine's transitions, in its order; a Record over the API's own type, so a new or renamed action fails tsc
const ACTION_SET: Record<Action, true> = {
  forward: true,
  send_back: true,
  request_supplement: true,
  request_payment: true,
  transfer: true,
  resolve: true,
  stop: true,
  return_result: true,
  apologize: true,
  withdraw: true,
};
const ACTIONS = Object.keys(ACTION_SET) as Action[];
const STEP_CODE = /^[a-z][a-z0-9_]*$/;

function TemplateSteps({ template }: { template: Template }) {
  const { t } = useTranslation("admin");
  return (
    <TableWrap label={template.name}>
      <table data-testid="template-steps">
        <caption className="visually-hidden">{template.name}</caption>
        <TableHead
          columns={[
            "#", t("templates.stepName"), t("templates.agency"), t("templates.role"), t("templates.share"),
            t("templates.actions"),
          ]}
        />
        <tbody>
          {template.steps.map((step) => (
            <tr key={step.position}>
              <th scope="row">{step.position}</th>
              <td>
                {stepName(step)} <span className="muted">({step.code})</span>
              </td>
              <td>{step.agency_code ?? t("templates.receivingAgency")}</td>
              <td>{step.role}</td>
              <td>{t(`units.${step.share.unit}`, { value: step.share.value, defaultValue: `${step.share.value} ${step.share.unit}` })}</td>
              <td className="small">{step.actions.map((a) => t(`templates.actionNames.${a}`, { defaultValue: a })).join(", ")}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableWrap>
  );
}

interface StepDraft {
  code: string;
  name: string;
  name_en: string;
  role: string;
  agency_code: string;
  value: string;
  unit: "working_days" | "working_hours";
  actions: string[];
}

function TemplateForm({ detail, base, onDone }: { detail: Detail; base: Template | null; onDone: () => void }) {
  const { t, i18n } = useTranslation("admin");
  const queryClient = useQueryClient();
  const roles = useRoles();
  const agencies = useAgencies();
  const [name, setName] = useState(base?.name ?? detail.name.slice(0, 300));
  const [version, setVersion] = useState("");
  const [onTheSpot, setOnTheSpot] = useState(base?.on_the_spot ?? false);
  const [steps, setSteps] = useState<StepDraft[]>(
    (base?.steps ?? []).map((s) => ({
      code: s.code,
      name: s.name,
      name_en: s.name_en ?? "",
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
            on_the_spot: onTheSpot,
            steps: steps.map((s) => ({
              code: s.code.trim(),
              name: s.name.trim(),
              name_en: s.name_en.trim() || null,
              role: s.role,
              agency_code: s.agency_code || null,
              share: { value: Number(s.value), unit: s.unit },
              actions: s.actions,
            })),
          },
        }),
      ),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: procedureKeys.templates(detail.code) }),
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
        <Checkbox label={t("templates.onTheSpot")} checked={onTheSpot} onChange={setOnTheSpot} />
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
            <Field id={`st-${i}-name-en`} label={t("templates.stepNameEn")} error={stepError(i, "name_en")}>
              <input lang="en" value={step.name_en} onChange={(e) => update(i, { name_en: e.target.value })} {...describe(`st-${i}-name-en`, all, `steps.${i}.name_en`)} />
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
                  <Checkbox
                    key={action}
                    label={t(`templates.actionNames.${action}`)}
                    checked={step.actions.includes(action)}
                    onChange={(checked) => update(i, { actions: checked ? [...step.actions, action] : step.actions.filter((a) => a !== action) })}
                  />
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
          onClick={() => setSteps((c) => [...c, { code: "", name: "", name_en: "", role: "", agency_code: "", value: "0", unit: "working_days", actions: [] }])}
        >
          {t("templates.addStep")}
        </button>
      </div>
      <FormFooter
        error={create.error}
        saved={create.isSuccess && t("templates.created", { version: create.data.version })}
        submit={t("templates.create")}
        pending={create.isPending}
        onClose={onDone}
      />
    </form>
  );
}

function VersionForm({ detail, onDone }: { detail: Detail; onDone: () => void }) {
  const { t } = useTranslation("admin");
  const queryClient = useQueryClient();
  const [draft, setDraft] = useState<VersionDraft>(() => draftFrom(detail));
  const [errors, setErrors] = useState<Errors>({});
  const create = useMutation({
    mutationFn: async (body: VersionIn) =>
      unwrap(await intake.POST("/api/v1/procedures/{code}/versions", { params: { path: { code: detail.code } }, body })),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: procedureKeys.detail(detail.code) }),
  });

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const found = validateVersion(draft, t);
    setErrors(found);
    if (Object.keys(found).length === 0) create.mutate(versionBody(draft));
  }

  return (
    <form className="card" onSubmit={submit} noValidate aria-labelledby="version-form-title" data-testid="version-form">
      <h3 id="version-form-title" className="card-title">{t("procedures.newVersionTitle")}</h3>
      <VersionFields draft={draft} setDraft={setDraft} errors={{ ...problemFieldErrors(create.error), ...errors }} />
      <FormFooter
        error={create.error}
        saved={create.isSuccess && t("procedures.versionCreated")}
        submit={t("procedures.createVersion")}
        pending={create.isPending}
        onClose={onDone}
      />
    </form>
  );
}

export function ProcedureDetailPage() {
  const { t } = useTranslation("admin");
  const { code = "" } = useParams();
  const [panel, setPanel] = useState<"version" | "template" | null>(null);
  const [formKey, setFormKey] = useState(0);
  const [shown, setShown] = useState<string | null>(null);
  const detail = useProcedure(code);
  const templates = useWorkflowTemplates(code);
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
            <TableWrap label={t("procedures.versions")}>
              <table data-testid="versions-table">
                <TableHead columns={[t("procedures.version"), t("procedures.validFrom"), t("procedures.validTo"), t("procedures.published")]} />
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
            </TableWrap>
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
              <TableWrap label={t("templates.title")}>
                <table data-testid="templates-table">
                  <TableHead
                    columns={[
                      t("templates.version"), t("templates.name"), t("templates.procedureVersion"), t("templates.steps"),
                      t("templates.createdAt"),
                    ]}
                    actions={t("common.actions")}
                  />
                  <tbody>
                    {templates.data.map((tpl) => (
                      <tr key={tpl.id} className={tpl.active ? undefined : "inactive"}>
                        <th scope="row">
                          {tpl.version} {tpl.active && <span className="badge badge-ok">{t("templates.active")}</span>}
                        </th>
                        <td>{tpl.name}</td>
                        <td>{tpl.procedure_version}</td>
                        <td>{tpl.steps.length}</td>
                        <td>{formatDateTimeOrDash(tpl.created_at)}</td>
                        <td>
                          <button type="button" onClick={() => setShown(tpl.id)} aria-pressed={selected?.id === tpl.id}>
                            {t("templates.view")}<span className="visually-hidden"> {tpl.version}</span>
                          </button>
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </TableWrap>
            )}
            {selected && (
              <>
                <h3 className="card-title">{t("templates.stepsOf", { version: selected.version })}</h3>
                <TemplateSteps template={selected} />
              </>
            )}
            <div className="actions">
              <button
                type="button"
                onClick={() => {
                  setPanel("template");
                  setFormKey((k) => k + 1);
                }}
              >
                {t("templates.new")}
              </button>
            </div>
          </section>
          {panel === "template" && templates.data && (
            <TemplateForm key={formKey} detail={detail.data} base={selected} onDone={() => setPanel(null)} />
          )}
        </>
      )}
    </section>
  );
}
