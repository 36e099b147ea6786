import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { Link, useSearchParams } from "react-router";

import { intake, unwrap } from "../../api/client";
import { Loading, PageTitle, ProblemAlert } from "../../components/Status";
import { formatDay } from "../leader/format";
import { Field } from "./ui";

const PAGE = 20;

export function ProceduresPage() {
  const { t } = useTranslation("admin");
  const [params, setParams] = useSearchParams();
  const q = params.get("q") ?? "";
  const offset = Math.max(0, Number(params.get("offset") ?? 0) || 0);
  const [text, setText] = useState(q);
  const procedures = useQuery({
    queryKey: ["procedures", "admin", q, offset],
    queryFn: async () =>
      unwrap(await intake.GET("/api/v1/procedures", { params: { query: { ...(q ? { q } : {}), limit: PAGE, offset } } })),
    placeholderData: keepPreviousData,
  });

  function search(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const next = new URLSearchParams();
    if (text.trim()) next.set("q", text.trim());
    setParams(next);
  }
  const total = procedures.data?.total ?? 0;

  return (
    <section>
      <PageTitle>{t("procedures.title")}</PageTitle>
      <p className="muted">{t("procedures.intro")}</p>
      <form className="card" role="search" onSubmit={search}>
        <div className="admin-form">
          <Field id="proc-q" label={t("procedures.search")}>
            <input id="proc-q" type="search" value={text} onChange={(e) => setText(e.target.value)} />
          </Field>
        </div>
        <div className="actions">
          <button type="submit" className="primary">{t("common.search")}</button>
        </div>
      </form>
      <ProblemAlert error={procedures.error} />
      {procedures.isPending && <Loading />}
      {procedures.data && (
        <div className="card">
          <p className="muted" role="status">{t("procedures.count", { total })}</p>
          <div className="table-wrap" role="region" aria-label={t("procedures.title")} tabIndex={0}>
            <table data-testid="procedures-table">
              <caption className="visually-hidden">{t("procedures.title")}</caption>
              <thead>
                <tr>
                  <th scope="col">{t("procedures.code")}</th>
                  <th scope="col">{t("procedures.name")}</th>
                  <th scope="col">{t("procedures.field")}</th>
                  <th scope="col">{t("procedures.timeLimit")}</th>
                  <th scope="col">{t("procedures.version")}</th>
                </tr>
              </thead>
              <tbody>
                {procedures.data.items.map((p) => (
                  <tr key={p.code}>
                    <th scope="row"><code>{p.code}</code></th>
                    <td>
                      <Link to={`/quan-tri/thu-tuc/${encodeURIComponent(p.code)}`}>{p.name}</Link>
                      {p.interagency && <span className="badge badge-paused">{t("procedures.interagency")}</span>}
                    </td>
                    <td>{p.field}</td>
                    <td>{t(`units.${p.time_limit.unit}`, { value: p.time_limit.value, defaultValue: `${p.time_limit.value} ${p.time_limit.unit}` })}</td>
                    <td>{t("procedures.versionFrom", { version: p.version, from: formatDay(p.valid_from) })}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {total > PAGE && (
            <nav className="pager actions" aria-label={t("common.pages")}>
              <button type="button" disabled={offset === 0} onClick={() => setParams({ ...(q ? { q } : {}), offset: String(Math.max(0, offset - PAGE)) })}>
                {t("common.previous")}
              </button>
              <span>{t("common.page", { page: Math.floor(offset / PAGE) + 1, pages: Math.ceil(total / PAGE) })}</span>
              <button type="button" disabled={offset + PAGE >= total} onClick={() => setParams({ ...(q ? { q } : {}), offset: String(offset + PAGE) })}>
                {t("common.next")}
              </button>
            </nav>
          )}
        </div>
      )}
    </section>
  );
}
