import { useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { Link, useSearchParams } from "react-router";

import { Loading, PageTitle, ProblemAlert } from "../../components/Status";
import { vnd, type ProcedureSummary } from "./format";
import { usePublicAgencies } from "../../features/agencies/api";
import { useCatalogueFacets, useProcedureList } from "../../features/procedures/api";

const PAGE_SIZE = 10;
type OnlineMode = "full" | "partial" | "none";
const LEVELS = ["province", "commune", "ministry"] as const;
const TIME_UNITS: Record<string, string> = {
  working_days: "procedure.workingDays",
  working_hours: "procedure.workingHours",
  days: "procedure.days",
  hours: "procedure.hours",
  months: "procedure.months",
};

export function TimeLimit({ procedure }: { procedure: Pick<ProcedureSummary, "time_limit"> }) {
  const { t } = useTranslation("citizen");
  const { value, unit } = procedure.time_limit;
  const key = TIME_UNITS[unit];
  if (!key) return <>{t("procedure.timeLimitUnknown")}</>;
  if (value === 0 && unit.startsWith("working")) return <>{t("procedure.sameDay")}</>;
  return <>{t(key, { count: value })}</>;
}

export function Fee({ procedure }: {
  procedure: Pick<ProcedureSummary, "fee_vnd" | "fee_complete" | "information_only" | "online_mode">;
}) {
  const { t } = useTranslation("citizen");
  // a national record without details says nothing about fees: "free" would be a guess
  if (procedure.information_only && procedure.online_mode === "unknown") return <>{t("procedure.feesUnknown")}</>;
  if (procedure.fee_vnd === 0 && procedure.fee_complete) return <>{t("procedure.free")}</>;
  if (procedure.fee_vnd === 0) return <>{t("procedure.feeByProvince")}</>;
  return (
    <>
      {t("procedure.feeAmount", { amount: vnd(procedure.fee_vnd) })}
      {!procedure.fee_complete && ` ${t("procedure.feeAtLeast")}`}
    </>
  );
}

export function OnlineBadge({ mode }: { mode: string }) {
  const { t } = useTranslation("citizen");
  const css = mode === "full" ? "badge-ok" : mode === "partial" ? "badge-paused" : "badge-neutral";
  return <span className={`badge ${css}`}>{t(`onlineMode.${mode}`, { defaultValue: mode })}</span>;
}

export function Catalogue() {
  const { t } = useTranslation("citizen");
  const [params, setParams] = useSearchParams();
  const q = params.get("q") ?? "";
  const field = params.get("linh-vuc") ?? "";
  const online = (params.get("truc-tuyen") ?? "") as OnlineMode | "";
  const level = params.get("cap") ?? "";
  // one select for both kinds of agency: "ma:<code>" a local agency, "ten:<name>" a national department
  const agency = params.get("co-quan") ?? "";
  const receivable = params.get("nop") ?? "";
  const page = Math.max(1, Number(params.get("trang")) || 1);
  const [draft, setDraft] = useState(q);
  const [lastQ, setLastQ] = useState(q);
  if (q !== lastQ) {
    // the URL changed under us (back button, home search): show its words in the box
    setLastQ(q);
    setDraft(q);
  }

  const facets = useCatalogueFacets();
  const agencies = usePublicAgencies();
  const fields = facets.data?.fields ?? [];
  const departments = facets.data?.departments ?? [];
  const agencyCode = agency.startsWith("ma:") ? agency.slice(3) : "";
  const department = agency.startsWith("ten:") ? agency.slice(4) : "";

  const results = useProcedureList(
    {
      q: q || undefined,
      field: field || undefined,
      online_mode: online || undefined,
      level: level || undefined,
      agency: agencyCode || undefined,
      department: department || undefined,
      information_only: receivable ? receivable === "tra-cuu" : undefined,
      limit: PAGE_SIZE,
      offset: (page - 1) * PAGE_SIZE,
    },
    { keepPrevious: true },
  );

  function update(changes: Record<string, string>) {
    const next = new URLSearchParams(params);
    for (const [key, value] of Object.entries(changes)) {
      if (value) next.set(key, value);
      else next.delete(key);
    }
    if (!("trang" in changes)) next.delete("trang");
    setParams(next);
  }

  function search(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    update({ q: draft.trim() });
  }

  const total = results.data?.total ?? 0;
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));

  return (
    <section className="citizen">
      <PageTitle>{t("catalogue.title")}</PageTitle>
      <form role="search" className="card citizen-filters" onSubmit={search} aria-label={t("catalogue.searchLabel")}>
        <div className="search-bar">
          <label htmlFor="catalogue-q" className="visually-hidden">{t("catalogue.searchLabel")}</label>
          <input
            id="catalogue-q"
            type="search"
            value={draft}
            maxLength={200}
            onChange={(event) => setDraft(event.target.value)}
            placeholder={t("catalogue.searchPlaceholder")}
          />
          <button type="submit" className="primary">{t("catalogue.searchButton")}</button>
        </div>
        <div className="filter-row">
          <label className="field">
            {t("catalogue.field")}
            <select value={field} onChange={(event) => update({ "linh-vuc": event.target.value })}>
              <option value="">{t("catalogue.allFields")}</option>
              {fields.map((entry) => (
                <option key={entry.name} value={entry.name}>{entry.name} ({entry.count})</option>
              ))}
            </select>
          </label>
          <label className="field">
            {t("catalogue.level")}
            <select value={level} onChange={(event) => update({ cap: event.target.value })}>
              <option value="">{t("catalogue.allLevels")}</option>
              {LEVELS.map((code) => (
                <option key={code} value={code}>{t(`level.${code}`)}</option>
              ))}
            </select>
          </label>
          <label className="field">
            {t("catalogue.agency")}
            <select value={agency} onChange={(event) => update({ "co-quan": event.target.value })}>
              <option value="">{t("catalogue.allAgencies")}</option>
              <optgroup label={t("catalogue.localAgencies")}>
                {(agencies.data ?? []).map((entry) => (
                  <option key={entry.code} value={`ma:${entry.code}`}>{entry.name}</option>
                ))}
              </optgroup>
              <optgroup label={t("catalogue.nationalDepartments")}>
                {departments.map((entry) => (
                  <option key={entry.name} value={`ten:${entry.name}`}>{entry.name} ({entry.count})</option>
                ))}
              </optgroup>
            </select>
          </label>
          <label className="field">
            {t("catalogue.online")}
            <select value={online} onChange={(event) => update({ "truc-tuyen": event.target.value })}>
              <option value="">{t("catalogue.allModes")}</option>
              <option value="full">{t("onlineMode.full")}</option>
              <option value="partial">{t("onlineMode.partial")}</option>
              <option value="none">{t("onlineMode.none")}</option>
            </select>
          </label>
          <label className="field">
            {t("catalogue.receivable")}
            <select value={receivable} onChange={(event) => update({ nop: event.target.value })}>
              <option value="">{t("catalogue.allProcedures")}</option>
              <option value="tai-day">{t("catalogue.receivableHere")}</option>
              <option value="tra-cuu">{t("catalogue.informationOnlyOnes")}</option>
            </select>
          </label>
        </div>
      </form>

      <ProblemAlert error={results.error} />
      {results.isPending && <Loading />}
      {results.data && (
        <>
          <p role="status" className="muted" data-testid="result-count">
            {t("catalogue.count", { count: total })}
          </p>
          <ul className="procedure-list">
            {results.data.items.map((item) => (
              <li key={item.code} className="card">
                <h2 className="procedure-name">
                  <Link to={`/thu-tuc/${encodeURIComponent(item.code)}`}>{item.name}</Link>
                </h2>
                <dl className="citizen-facts">
                  <div><dt>{t("procedure.code")}</dt><dd>{item.code}</dd></div>
                  <div><dt>{t("procedure.field")}</dt><dd>{item.field}</dd></div>
                  <div><dt>{t("procedure.level")}</dt><dd>{t(`level.${item.level}`, { defaultValue: item.level })}</dd></div>
                  <div><dt>{t("procedure.timeLimit")}</dt><dd><TimeLimit procedure={item} /></dd></div>
                  <div><dt>{t("procedure.fee")}</dt><dd><Fee procedure={item} /></dd></div>
                </dl>
                <p>
                  {item.information_only && (
                    <span className="badge badge-neutral" data-testid="information-only">{t("procedure.informationOnly")}</span>
                  )}
                  <OnlineBadge mode={item.online_mode} />
                  {item.interagency && <span className="badge badge-neutral">{t("procedure.interagency")}</span>}
                </p>
              </li>
            ))}
          </ul>
          {total === 0 && <p className="alert alert-info">{t("catalogue.none")}</p>}
          {pages > 1 && (
            <nav className="pager actions" aria-label={t("catalogue.pages")}>
              <button type="button" disabled={page <= 1} onClick={() => update({ trang: "" })}>
                {t("catalogue.first")}
              </button>
              <button type="button" disabled={page <= 1} onClick={() => update({ trang: String(page - 1) })}>
                {t("catalogue.previous")}
              </button>
              <span aria-live="polite">{t("catalogue.pageOf", { page, pages })}</span>
              <button type="button" disabled={page >= pages} onClick={() => update({ trang: String(page + 1) })}>
                {t("catalogue.next")}
              </button>
              <button type="button" disabled={page >= pages} onClick={() => update({ trang: String(pages) })}>
                {t("catalogue.last")}
              </button>
            </nav>
          )}
        </>
      )}
    </section>
  );
}
