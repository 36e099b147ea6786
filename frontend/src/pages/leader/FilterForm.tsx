import { useMemo, useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";

import { Checkbox } from "../../components/Field";
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

/** A filter that may stay open: a labelled select whose first choice ("all …") is the empty value. */
function FilterSelect({
  name,
  label,
  all,
  value,
  options,
  onChange,
}: {
  name: string;
  label: string;
  all: string;
  value: string;
  options: Option[];
  onChange: (value: string) => void;
}) {
  return (
    <label>
      {label}
      <select name={name} value={value} onChange={(event) => onChange(event.target.value)}>
        <option value="">{all}</option>
        {options.map((option) => (
          <option key={option.value} value={option.value}>{option.label}</option>
        ))}
      </select>
    </label>
  );
}

/** The period, agency, field, procedure and officer of the figures; checked like the API checks them. */
export function FilterForm({ initial, agencies, ownAgency, procedures, onApply }: Props) {
  const { t } = useTranslation("leader");
  const [draft, setDraft] = useState<StatsFilters>(initial);
  const [errors, setErrors] = useState<Partial<Record<Bound, string>>>({});

  const fields = useMemo(
    () => [...new Set(procedures.map((p) => p.field))].sort((a, b) => a.localeCompare(b, "vi")).map((field) => ({ value: field, label: field })),
    [procedures],
  );
  const shownProcedures = useMemo(
    () =>
      procedures
        .filter((p) => !draft.field || p.field === draft.field)
        .map((p) => ({ value: p.code, label: `${p.code} — ${p.name.length > 80 ? `${p.name.slice(0, 80)}…` : p.name}` })),
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
          <FilterSelect
            name="agency"
            label={t("filters.agency")}
            all={t("filters.allAgencies")}
            value={draft.agency}
            options={agencies}
            onChange={(value) => set("agency", value)}
          />
        ) : (
          <div className="field">
            <span>{t("filters.agency")}</span>
            <span className="readonly-value">{ownAgency}</span>
          </div>
        )}
        <FilterSelect
          name="field"
          label={t("filters.field")}
          all={t("filters.allFields")}
          value={draft.field}
          options={fields}
          onChange={(value) => setDraft((current) => ({ ...current, field: value, procedure: "" }))}
        />
        <FilterSelect
          name="procedure"
          label={t("filters.procedure")}
          all={t("filters.allProcedures")}
          value={draft.procedure}
          options={shownProcedures}
          onChange={(value) => set("procedure", value)}
        />
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
        <Checkbox
          className="inline checkbox"
          label={t("filters.includeChildren")}
          name="include_children"
          checked={draft.includeChildren}
          onChange={(checked) => set("includeChildren", checked)}
        />
      </div>
      <div className="actions">
        <button type="submit" className="primary">{t("filters.apply")}</button>
      </div>
    </form>
  );
}
