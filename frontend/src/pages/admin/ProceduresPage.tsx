import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { Link, useSearchParams } from "react-router";

import { intake, unwrap } from "../../api/client";
import type { components } from "../../api/schema/intake";
import { Loading, PageTitle, ProblemAlert } from "../../components/Status";
import { formatDay } from "../../components/format";
import { describe, Field, type Errors } from "../../components/Field";
import { problemFieldErrors } from "../../components/problems";
import { emptyDraft, validateVersion, VersionFields, versionBody, type VersionDraft } from "./versionForm";
import { TableHead, TableWrap } from "../../components/TableWrap";
import { useAgencyLevels } from "../../features/agencies/api";
import { procedureKeys, useProcedureList } from "../../features/procedures/api";
import { FormFooter } from "./FormFooter";

const CODE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

function NewProcedureForm({ onDone }: { onDone: () => void }) {
  const { t, i18n } = useTranslation("admin");
  const queryClient = useQueryClient();
  const [head, setHead] = useState({ code: "", name: "", field: "", level: "" });
  const [draft, setDraft] = useState<VersionDraft>(emptyDraft);
  const [errors, setErrors] = useState<Errors>({});
  const levels = useAgencyLevels();
  const create = useMutation({
    mutationFn: async (body: components["schemas"]["ProcedureCreate"]) => unwrap(await intake.POST("/api/v1/procedures", { body })),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: procedureKeys.lists() }),
  });
  const all = { ...problemFieldErrors(create.error), ...errors };

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const found: Errors = {};
    const code = head.code.trim();
    if (!code || code.length > 64 || !CODE.test(code)) found.code = t("procedures.codeInvalid");
    if (!head.name.trim() || head.name.trim().length > 1000) found.name = t("validation.length", { min: 1, max: 1000 });
    if (!head.field.trim() || head.field.trim().length > 200) found.field = t("validation.length", { min: 1, max: 200 });
    if (!head.level) found.level = t("validation.required");
    for (const [key, message] of Object.entries(validateVersion(draft, t))) found[`version.${key}`] = message;
    setErrors(found);
    if (Object.keys(found).length === 0) {
      create.mutate({ code, name: head.name.trim(), field: head.field.trim(), level: head.level, version: versionBody(draft) });
    }
  }
  const versionErrors = Object.fromEntries(
    Object.entries(all).filter(([key]) => key.startsWith("version.")).map(([key, value]) => [key.slice("version.".length), value]),
  );

  return (
    <form className="card" onSubmit={submit} noValidate aria-labelledby="new-procedure-title" data-testid="new-procedure">
      <h2 id="new-procedure-title" className="card-title">{t("procedures.newTitle")}</h2>
      <div className="admin-form">
        <Field id="np-code" label={t("procedures.code")} error={all.code} hint={t("procedures.codeHint")}>
          <input required maxLength={64} value={head.code} onChange={(e) => setHead({ ...head, code: e.target.value })} {...describe("np-code", all, "code", true)} />
        </Field>
        <Field id="np-name" label={t("procedures.name")} error={all.name} className="wide">
          <input required maxLength={1000} value={head.name} onChange={(e) => setHead({ ...head, name: e.target.value })} {...describe("np-name", all, "name")} />
        </Field>
        <Field id="np-field" label={t("procedures.field")} error={all.field}>
          <input required maxLength={200} value={head.field} onChange={(e) => setHead({ ...head, field: e.target.value })} {...describe("np-field", all, "field")} />
        </Field>
        <Field id="np-level" label={t("procedures.level")} error={all.level}>
          <select required value={head.level} onChange={(e) => setHead({ ...head, level: e.target.value })} {...describe("np-level", all, "level")}>
            <option value="">{t("common.choose")}</option>
            {(levels.data ?? []).map((level) => (
              <option key={level.code} value={level.code}>{i18n.language === "en" ? level.name_en : level.name_vi}</option>
            ))}
          </select>
        </Field>
      </div>
      <VersionFields draft={draft} setDraft={setDraft} errors={versionErrors} />
      <FormFooter
        error={create.error}
        saved={
          create.isSuccess && (
            <>
              {t("procedures.created")}{" "}
              <Link to={`/quan-tri/thu-tuc/${encodeURIComponent(create.data.code)}`}>{create.data.name}</Link>
            </>
          )
        }
        submit={t("procedures.create")}
        pending={create.isPending}
        onClose={onDone}
      />
    </form>
  );
}

const PAGE = 20;

export function ProceduresPage() {
  const { t } = useTranslation("admin");
  const [params, setParams] = useSearchParams();
  const q = params.get("q") ?? "";
  const offset = Math.max(0, Number(params.get("offset") ?? 0) || 0);
  const [text, setText] = useState(q);
  const [creating, setCreating] = useState(false);
  const procedures = useProcedureList({ ...(q ? { q } : {}), limit: PAGE, offset }, { keepPrevious: true });

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
          <button type="button" onClick={() => setCreating(true)}>{t("procedures.new")}</button>
        </div>
      </form>
      {creating && <NewProcedureForm onDone={() => setCreating(false)} />}
      <ProblemAlert error={procedures.error} />
      {procedures.isPending && <Loading />}
      {procedures.data && (
        <div className="card">
          <p className="muted" role="status">{t("procedures.count", { total })}</p>
          <TableWrap label={t("procedures.title")}>
            <table data-testid="procedures-table">
              <caption className="visually-hidden">{t("procedures.title")}</caption>
              <TableHead
                columns={[
                  t("procedures.code"), t("procedures.name"), t("procedures.field"), t("procedures.timeLimit"),
                  t("procedures.version"),
                ]}
              />
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
          </TableWrap>
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
