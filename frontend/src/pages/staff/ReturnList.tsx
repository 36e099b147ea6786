import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";

import { unwrap, workflow } from "../../api/client";
import { Loading, ProblemAlert } from "../../components/Status";
import { formatDateTimeOrDash } from "../../components/format";
import { PostalReturned } from "../../features/dossiers/components/Postal";
import { dossierKeys, useDeskDossier, useDossier, useTasks } from "../../features/dossiers/api";

/** Hand a result over: at the counter (the officer records it) or by post (the postal operator reports it). */
function ReturnForm({ code, onDone }: { code: string; onDone: (code: string) => void }) {
  const { t } = useTranslation("staff");
  const queryClient = useQueryClient();
  const [comment, setComment] = useState("");
  const dossier = useDossier(code);
  const desk = useDeskDossier(code, { retry: false });
  const give = useMutation({
    mutationFn: async () =>
      unwrap(
        await workflow.POST("/api/v1/dossiers/{code}/transitions", {
          params: { path: { code } },
          body: { action: "return_result", comment: comment.trim() || null, version: dossier.data?.version ?? null },
        }),
      ),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: dossierKeys.all });
      onDone(code);
    },
  });
  if (dossier.isLoading) return <Loading />;
  if (!dossier.data) return <ProblemAlert error={dossier.error} />;
  const data = dossier.data;
  if (!data.allowed_actions.includes("return_result")) {
    return (
      <p className="alert alert-info" role="status">
        {data.return_method === "postal" ? t("toReturn.postal") : t("toReturn.notAllowed")}
      </p>
    );
  }
  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    give.mutate();
  }
  return (
    <>
      <PostalReturned code={code} waiting={desk.data?.postal_returned ?? false} />
      {data.return_method === "online" && (
        <p className="alert alert-info" data-testid="online-return">{t("toReturn.online")}</p>
      )}
      <form className="form action-form" onSubmit={onSubmit}>
        <p>{t("toReturn.to", { name: data.applicant.full_name, method: t(`returnMethods.${data.return_method}`) })}</p>
        <label>
          {t("toReturn.note")}
          <textarea value={comment} maxLength={2000} onChange={(event) => setComment(event.target.value)} />
        </label>
        <ProblemAlert error={give.error} />
        <div className="actions">
          <button type="submit" className="primary" disabled={give.isPending}>{t("toReturn.confirm")}</button>
        </div>
      </form>
    </>
  );
}

export function ReturnList() {
  const { t } = useTranslation("staff");
  const [open, setOpen] = useState<string | null>(null);
  const [returned, setReturned] = useState<string | null>(null);
  const results = useTasks({ scope: "unit", status: "resolved", limit: 200 });
  return (
    <section className="card" aria-labelledby="return-title">
      <h2 id="return-title">{t("toReturn.title")}</h2>
      <p className="muted">{t("toReturn.intro")}</p>
      {returned && <p className="alert alert-ok" role="status" data-testid="returned">{t("toReturn.done", { code: returned })}</p>}
      {results.isLoading && <Loading />}
      <ProblemAlert error={results.error} />
      {results.data && results.data.items.length === 0 && <p>{t("toReturn.empty")}</p>}
      {results.data && results.data.items.length > 0 && (
        <ul className="return-list" data-testid="return-list">
          {results.data.items.map((item) => (
            <li key={item.code} className="card">
              <div className="row-head">
                <Link to={`/can-bo/ho-so/${encodeURIComponent(item.code)}`}>{item.code}</Link>
                <span>{item.procedure_name}</span>
                {item.postal_returned && (
                  <span className="badge badge-soon" data-testid="returned-by-post">{t("toReturn.returnedByPost")}</span>
                )}
                {item.return_method === "online" && (
                  <span className="badge badge-neutral" data-testid="returned-online">{t("toReturn.onlineBadge")}</span>
                )}
                <span className="muted">{t("dossier.appointment")}: {formatDateTimeOrDash(item.due_at)}</span>
                <button
                  type="button"
                  aria-expanded={open === item.code}
                  onClick={() => setOpen(open === item.code ? null : item.code)}
                >
                  {t("toReturn.open", { code: item.code })}
                </button>
              </div>
              {open === item.code && (
                <ReturnForm
                  code={item.code}
                  onDone={(code) => {
                    setReturned(code);
                    setOpen(null);
                  }}
                />
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
