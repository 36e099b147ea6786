import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useMemo, useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";

import { unwrap, workflow } from "../../api/client";
import type { components } from "../../api/schema/workflow";
import { Loading, PageTitle, ProblemAlert } from "../../components/Status";
import { formatDay } from "../../components/format";
import { Checkbox, describe, Field, type Errors } from "../../components/Field";
import { hhmm } from "../../components/format";
import { TableHead, TableWrap } from "../../components/TableWrap";
import { agencyKeys, useAgencies, useAgencyLevels } from "../../features/agencies/api";
import { FormFooter } from "./FormFooter";

type Agency = components["schemas"]["AgencyOut"];
type Level = components["schemas"]["AgencyLevelOut"];

const CODE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const TIME = /^([01]\d|2[0-3]):[0-5]\d$/;

interface Draft {
  code: string;
  name: string;
  level_code: string;
  parent_code: string;
  is_one_stop_desk: boolean;
  counter_cutoff: string;
  valid_from: string;
  valid_to: string;
  street_address: string;
  postal_hours: string;
}

/** Agencies in tree order (each after its parent), with their depth. */
function treeOrder(agencies: Agency[]): { agency: Agency; depth: number }[] {
  const children = new Map<string | null, Agency[]>();
  const codes = new Set(agencies.map((a) => a.code));
  for (const agency of agencies) {
    const parent = agency.parent_code && codes.has(agency.parent_code) ? agency.parent_code : null;
    children.set(parent, [...(children.get(parent) ?? []), agency]);
  }
  const out: { agency: Agency; depth: number }[] = [];
  const walk = (parent: string | null, depth: number) => {
    for (const agency of (children.get(parent) ?? []).sort((a, b) => a.code.localeCompare(b.code))) {
      out.push({ agency, depth });
      walk(agency.code, depth + 1);
    }
  };
  walk(null, 0);
  return out;
}

function AgencyForm({
  existing,
  agencies,
  levels,
  onDone,
}: {
  existing: Agency | null;
  agencies: Agency[];
  levels: Level[];
  onDone: () => void;
}) {
  const { t, i18n } = useTranslation("admin");
  const queryClient = useQueryClient();
  const isNew = existing === null;
  const prefix = isNew ? "new-agency" : `agency-${existing.code.replace(/\W/g, "-")}`;
  const [draft, setDraft] = useState<Draft>({
    code: existing?.code ?? "",
    name: existing?.name ?? "",
    level_code: existing?.level_code ?? "",
    parent_code: existing?.parent_code ?? "",
    is_one_stop_desk: existing?.is_one_stop_desk ?? false,
    counter_cutoff: hhmm(existing?.counter_cutoff) || "15:00",
    valid_from: existing?.valid_from ?? "",
    valid_to: existing?.valid_to ?? "",
    street_address: existing?.street_address ?? "",
    postal_hours: existing?.postal_hours ?? "",
  });
  const [errors, setErrors] = useState<Errors>({});
  const save = useMutation({
    mutationFn: async () => {
      if (isNew) {
        return unwrap(
          await workflow.POST("/api/v1/agencies", {
            body: {
              code: draft.code.trim(),
              name: draft.name.trim(),
              level_code: draft.level_code,
              parent_code: draft.parent_code || null,
              is_one_stop_desk: draft.is_one_stop_desk,
              counter_cutoff: `${draft.counter_cutoff}:00`,
              valid_from: draft.valid_from || null,
              street_address: draft.street_address.trim() || null,
              postal_hours: draft.postal_hours.trim() || null,
            },
          }),
        );
      }
      return unwrap(
        await workflow.PATCH("/api/v1/agencies/{code}", {
          params: { path: { code: existing.code } },
          body: {
            name: draft.name.trim(),
            parent_code: draft.parent_code || null,
            is_one_stop_desk: draft.is_one_stop_desk,
            counter_cutoff: `${draft.counter_cutoff}:00`,
            street_address: draft.street_address.trim() || null,
            postal_hours: draft.postal_hours.trim() || null,
            ...(draft.valid_to ? { valid_to: draft.valid_to } : {}),
          },
        }),
      );
    },
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: agencyKeys.all }),
  });
  const set = <K extends keyof Draft>(key: K, value: Draft[K]) => setDraft((current) => ({ ...current, [key]: value }));

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const found: Errors = {};
    if (isNew && !CODE.test(draft.code.trim())) found.code = t("agencies.codeInvalid");
    const name = draft.name.trim();
    if (name.length < 2 || name.length > 300) found.name = t("validation.length", { min: 2, max: 300 });
    if (isNew && !draft.level_code) found.level_code = t("validation.required");
    if (!TIME.test(draft.counter_cutoff)) found.counter_cutoff = t("validation.time");
    const address = draft.street_address.trim();
    if (address && (address.length < 5 || address.length > 300)) found.street_address = t("validation.length", { min: 5, max: 300 });
    const hours = draft.postal_hours.trim();
    if (hours && (hours.length < 3 || hours.length > 200)) found.postal_hours = t("validation.length", { min: 3, max: 200 });
    setErrors(found);
    if (Object.keys(found).length === 0) save.mutate();
  }

  return (
    <form className="card" onSubmit={submit} noValidate aria-labelledby={`${prefix}-title`} data-testid={isNew ? "new-agency" : "edit-agency"}>
      <h2 id={`${prefix}-title`} className="card-title">
        {isNew ? t("agencies.newTitle") : t("agencies.editTitle", { name: existing.name })}
      </h2>
      <div className="admin-form">
        {isNew && (
          <Field id={`${prefix}-code`} label={t("agencies.code")} error={errors.code} hint={t("agencies.codeHint")}>
            <input required maxLength={64} value={draft.code} onChange={(e) => set("code", e.target.value)} {...describe(`${prefix}-code`, errors, "code", true)} />
          </Field>
        )}
        <Field id={`${prefix}-name`} label={t("agencies.name")} error={errors.name} className="wide">
          <input required maxLength={300} value={draft.name} onChange={(e) => set("name", e.target.value)} {...describe(`${prefix}-name`, errors, "name")} />
        </Field>
        {isNew && (
          <Field id={`${prefix}-level`} label={t("agencies.level")} error={errors.level_code}>
            <select required value={draft.level_code} onChange={(e) => set("level_code", e.target.value)} {...describe(`${prefix}-level`, errors, "level_code")}>
              <option value="">{t("common.choose")}</option>
              {levels.map((level) => (
                <option key={level.code} value={level.code}>{i18n.language === "en" ? level.name_en : level.name_vi}</option>
              ))}
            </select>
          </Field>
        )}
        <Field id={`${prefix}-parent`} label={t("agencies.parent")}>
          <select id={`${prefix}-parent`} value={draft.parent_code} onChange={(e) => set("parent_code", e.target.value)}>
            <option value="">{t("agencies.noParent")}</option>
            {agencies
              .filter((a) => a.code !== existing?.code)
              .map((a) => (
                <option key={a.code} value={a.code}>{a.name} ({a.code})</option>
              ))}
          </select>
        </Field>
        <Field id={`${prefix}-cutoff`} label={t("agencies.cutoff")} error={errors.counter_cutoff} hint={t("agencies.cutoffHint")}>
          <input type="time" required value={draft.counter_cutoff} onChange={(e) => set("counter_cutoff", e.target.value)} {...describe(`${prefix}-cutoff`, errors, "counter_cutoff", true)} />
        </Field>
        {isNew ? (
          <Field id={`${prefix}-from`} label={t("agencies.validFrom")}>
            <input id={`${prefix}-from`} type="date" value={draft.valid_from} onChange={(e) => set("valid_from", e.target.value)} />
          </Field>
        ) : (
          <Field id={`${prefix}-to`} label={t("agencies.validTo")} hint={t("agencies.validToHint")}>
            <input type="date" value={draft.valid_to} onChange={(e) => set("valid_to", e.target.value)} {...describe(`${prefix}-to`, {}, "valid_to", true)} />
          </Field>
        )}
        <Field id={`${prefix}-address`} label={t("agencies.streetAddress")} error={errors.street_address} hint={t("agencies.streetAddressHint")} className="wide">
          <input maxLength={300} value={draft.street_address} onChange={(e) => set("street_address", e.target.value)} {...describe(`${prefix}-address`, errors, "street_address", true)} />
        </Field>
        <Field id={`${prefix}-postal-hours`} label={t("agencies.postalHours")} error={errors.postal_hours} hint={t("agencies.postalHoursHint")} className="wide">
          <input maxLength={200} value={draft.postal_hours} onChange={(e) => set("postal_hours", e.target.value)} {...describe(`${prefix}-postal-hours`, errors, "postal_hours", true)} />
        </Field>
        <Checkbox label={t("agencies.desk")} checked={draft.is_one_stop_desk} onChange={(checked) => set("is_one_stop_desk", checked)} />
      </div>
      <FormFooter
        error={save.error}
        saved={save.isSuccess && t("agencies.saved", { code: save.data.code })}
        submit={isNew ? t("agencies.create") : t("common.save")}
        pending={save.isPending}
        onClose={onDone}
      />
    </form>
  );
}

export function AgenciesPage() {
  const { t, i18n } = useTranslation("admin");
  const [panel, setPanel] = useState<{ agency: Agency | null } | null>(null);
  const agencies = useAgencies({ staleTime: 0 });
  const levels = useAgencyLevels();
  const rows = useMemo(() => treeOrder(agencies.data ?? []), [agencies.data]);
  const levelName = (code: string) => {
    const level = levels.data?.find((l) => l.code === code);
    return level ? (i18n.language === "en" ? level.name_en : level.name_vi) : code;
  };

  return (
    <section>
      <PageTitle>{t("agencies.title")}</PageTitle>
      <div className="actions">
        <button type="button" onClick={() => setPanel({ agency: null })}>{t("agencies.new")}</button>
      </div>
      {panel && agencies.data && levels.data && (
        <AgencyForm
          key={panel.agency?.code ?? "new"}
          existing={panel.agency}
          agencies={agencies.data}
          levels={levels.data}
          onDone={() => setPanel(null)}
        />
      )}
      <ProblemAlert error={agencies.error ?? levels.error} />
      {agencies.isPending && <Loading />}
      {agencies.data && (
        <TableWrap label={t("agencies.title")} className="card">
          <table data-testid="agencies-table">
            <caption className="visually-hidden">{t("agencies.title")}</caption>
            <TableHead
              columns={[
                t("agencies.name"), t("agencies.code"), t("agencies.level"), t("agencies.cutoff"), t("agencies.staffCount"),
                t("agencies.state"),
              ]}
              actions={t("common.actions")}
            />
            <tbody>
              {rows.map(({ agency, depth }) => (
                <tr key={agency.code} className={agency.valid_to ? "inactive" : undefined}>
                  <th scope="row" style={{ paddingLeft: `${0.5 + depth * 1.25}rem` }}>
                    {agency.name}
                    {agency.is_one_stop_desk && <span className="badge badge-paused">{t("agencies.deskBadge")}</span>}
                  </th>
                  <td><code>{agency.code}</code></td>
                  <td>{levelName(agency.level_code)}</td>
                  <td>{hhmm(agency.counter_cutoff)}</td>
                  <td>{agency.staff_count}</td>
                  <td>{agency.valid_to ? t("agencies.closedOn", { day: formatDay(agency.valid_to) }) : t("agencies.open")}</td>
                  <td>
                    <button type="button" onClick={() => setPanel({ agency })}>
                      {t("common.edit")}<span className="visually-hidden"> {agency.name}</span>
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      )}
    </section>
  );
}
