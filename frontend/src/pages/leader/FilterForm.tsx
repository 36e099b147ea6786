import { useMemo, useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";

import { presetPeriod, type Preset, type StatsFilters } from "./filters";

export interface Option {
  value: string;
  label: string;
}

interface Props {
  initial: StatsFilters;
  /** null: the caller sees one agency only (their own), shown as text */
  agencies: Option[] | null;
  ownAgency: string;
  procedures: { code: string; name: string; field: string }[];
  onApply: (filters: StatsFilters) => void;
}

const PRESETS: Preset[] = ["month", "quarter", "year", "lastYear"];
const BOUNDS = ["from", "to"] as const;
type Bound = (typeof BOUNDS)[number];

/** One end of the period: a required date, its error (id `<name>-error`) under it. */
function PeriodBound({
  name,
  label,
  value,
  error,
  onChange,
}: {
  name: Bound;
  label: string;
  value: string;
  error?: string;
  onChange: (value: string) => void;
}) {
  return (
    <label>
      {label}
      <input
        type="date"
        name={name}
        required
        value={value}
        onChange={(event) => onChange(event.target.value)}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? `${name}-error` : undefined}
      />
      {error && <span id={`${name}-error`} className="field-error">{error}</span>}
    </label>
  );
}

/** The period, agency, field, procedure and officer of the figures; checked like the API checks them. */
export function FilterForm({ initial, agencies, ownAgency, procedures, onApply }: Props) {
  const { t } = useTranslation("leader");
  const [draft, setDraft] = useState<StatsFilters>(initial);
  const [errors, setErrors] = useState<Partial<Record<Bound, string>>>({});

  const fields = useMemo(() => [...new Set(procedures.map((p) => p.field))].sort((a, b) => a.localeCompare(b, "vi")), [procedures]);
  const shownProcedures = useMemo(
    () => procedures.filter((p) => !draft.field || p.field === draft.field),
    [procedures, draft.field],
  );

  function set<K extends keyof StatsFilters>(key: K, value: StatsFilters[K]) {
    setDraft((current) => ({ ...current, [key]: value }));
  }

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const found: typeof errors = {};
    if (!draft.from) found.from = t("filters.required");
    if (!draft.to) found.to = t("filters.required");
    if (draft.from && draft.to && draft.to < draft.from) found.to = t("filters.toBeforeFrom");
    setErrors(found);
    if (Object.keys(found).length === 0) onApply({ ...draft, officer: draft.officer.trim() });
  }

  return (
    <form className="card stats-filters" onSubmit={submit} noValidate aria-labelledby="filters-title">
      <h2 id="filters-title" className="card-title">{t("filters.title")}</h2>
      <div className="filter-grid">
        <label>
          {t("filters.preset")}
          <select
            defaultValue=""
            onChange={(event) => {
              const value = event.target.value as Preset | "";
              if (value) setDraft((current) => ({ ...current, ...presetPeriod(value) }));
            }}
          >
            <option value="">{t("filters.presetCustom")}</option>
            {PRESETS.map((preset) => (
              <option key={preset} value={preset}>{t(`filters.presets.${preset}`)}</option>
            ))}
          </select>
        </label>
        {BOUNDS.map((bound) => (
          <PeriodBound
            key={bound}
            name={bound}
            label={t(`filters.${bound}`)}
            value={draft[bound]}
            error={errors[bound]}
            onChange={(value) => set(bound, value)}
          />
        ))}
        {agencies ? (
          <label>
            {t("filters.agency")}
            <select name="agency" value={draft.agency} onChange={(event) => set("agency", event.target.value)}>
              <option value="">{t("filters.allAgencies")}</option>
              {agencies.map((agency) => (
                <option key={agency.value} value={agency.value}>{agency.label}</option>
              ))}
            </select>
          </label>
        ) : (
          <div className="field">
            <span>{t("filters.agency")}</span>
            <span className="readonly-value">{ownAgency}</span>
          </div>
        )}
        <label>
          {t("filters.field")}
          <select
            name="field"
            value={draft.field}
            onChange={(event) => setDraft((current) => ({ ...current, field: event.target.value, procedure: "" }))}
          >
            <option value="">{t("filters.allFields")}</option>
            {fields.map((field) => (
              <option key={field} value={field}>{field}</option>
            ))}
          </select>
        </label>
        <label>
          {t("filters.procedure")}
          <select name="procedure" value={draft.procedure} onChange={(event) => set("procedure", event.target.value)}>
            <option value="">{t("filters.allProcedures")}</option>
            {shownProcedures.map((procedure) => (
              <option key={procedure.code} value={procedure.code}>
                {procedure.code} — {procedure.name.length > 80 ? `${procedure.name.slice(0, 80)}…` : procedure.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t("filters.officer")}
          <input
            name="officer"
            value={draft.officer}
            autoComplete="off"
            maxLength={64}
            onChange={(event) => set("officer", event.target.value)}
            aria-describedby="officer-hint"
          />
          <span id="officer-hint" className="hint">{t("filters.officerHint")}</span>
        </label>
        <label className="inline checkbox">
          <input
            type="checkbox"
            name="include_children"
            checked={draft.includeChildren}
            onChange={(event) => set("includeChildren", event.target.checked)}
          />
          {t("filters.includeChildren")}
        </label>
      </div>
      <div className="actions">
        <button type="submit" className="primary">{t("filters.apply")}</button>
      </div>
    </form>
  );
}
