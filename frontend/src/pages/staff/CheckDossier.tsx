import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { Link, useParams } from "react-router";

import { downloadFile, intake, unwrap } from "../../api/client";
import { Loading, ProblemAlert } from "../../components/Status";
import { ApplicantFacts } from "../../features/dossiers/components/ApplicantFacts";
import { Documents } from "../../features/dossiers/components/Documents";
import { formatDateTimeOrDash } from "../../components/format";
import { itemErrors, splitReasons, SupplementItems, type SupplementItem } from "./SupplementItems";
import { dossierKeys, useDeskDossier } from "../../features/dossiers/api";

type Decision = "accept" | "supplement" | "refuse";

/** One online submission at the desk: its files against the checklist, then accept, ask for more or refuse. */
export function CheckDossier() {
  const { t } = useTranslation("staff");
  const { code = "" } = useParams();
  const queryClient = useQueryClient();
  const [decision, setDecision] = useState<Decision | null>(null);
  const [comment, setComment] = useState("");
  const [items, setItems] = useState<SupplementItem[]>([{ document: "", reason: "" }]);
  const [reasons, setReasons] = useState("");
  const [errors, setErrors] = useState<string[]>([]);
  const [done, setDone] = useState<Decision | null>(null);

  const dossier = useDeskDossier(code);

  const decide = useMutation({
    mutationFn: async (which: Decision) => {
      const path = { path: { code } };
      if (which === "accept") {
        return unwrap(await intake.POST("/api/v1/dossiers/{code}/accept", { params: path, body: { comment: comment.trim() || null } }));
      }
      if (which === "supplement") {
        const body = { items: items.map((item) => ({ document: item.document.trim(), reason: item.reason.trim() })) };
        return unwrap(await intake.POST("/api/v1/dossiers/{code}/supplement-requests", { params: path, body }));
      }
      return unwrap(await intake.POST("/api/v1/dossiers/{code}/refuse", { params: path, body: { reasons: splitReasons(reasons) } }));
    },
    onSuccess: (_, which) => {
      setDone(which);
      setDecision(null);
      void queryClient.invalidateQueries({ queryKey: dossierKeys.all });
    },
  });

  const form = useMutation({
    mutationFn: async (which: "supplement" | "refusal" | "receipt") =>
      which === "receipt"
        ? // the applicant got the secret when submitting online: the slip says so instead of printing it
          downloadFile("intake", `/api/v1/dossiers/${encodeURIComponent(code)}/forms/receipt.pdf`, `${code}-01.pdf`, {
            method: "POST",
            headers: { "Content-Type": "application/json" },
            body: "{}",
          })
        : downloadFile("intake", `/api/v1/dossiers/${encodeURIComponent(code)}/forms/${which}.pdf`, `${code}-${which === "supplement" ? "02" : "03"}.pdf`),
  });

  function open(which: Decision) {
    setDecision(which);
    setErrors([]);
    decide.reset();
    if (which === "supplement" && dossier.data) {
      const missing = dossier.data.checklist.filter((item) => item.mandatory && !item.received);
      if (missing.length > 0 && items.every((item) => !item.document && !item.reason)) {
        setItems(missing.map((item) => ({ document: item.name.slice(0, 300), reason: "" })));
      }
    }
  }

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (!decision) return;
    if (decision === "supplement") {
      const found = itemErrors(items, t);
      setErrors(found);
      if (found.some(Boolean)) return;
    }
    if (decision === "refuse") {
      const list = splitReasons(reasons);
      if (list.length === 0 || list.some((reason) => reason.length < 5)) {
        setErrors([t("validation.reasons")]);
        return;
      }
    }
    setErrors([]);
    decide.mutate(decision);
  }

  if (dossier.isLoading) return <Loading />;
  if (dossier.error || !dossier.data) return <ProblemAlert error={dossier.error} />;
  const data = dossier.data;
  const open_ = data.status === "submitted";

  return (
    <section aria-labelledby="check-title">
      <p><Link to="/can-bo/mot-cua/truc-tuyen">{t("waiting.back")}</Link></p>
      <div className="card">
        <h2 id="check-title">{t("check.title", { code: data.code })}</h2>
        <dl className="facts">
          <dt>{t("dossier.procedure")}</dt>
          <dd>{data.procedure_name}</dd>
          <dt>{t("dossier.status")}</dt>
          <dd><span className="badge badge-neutral" data-testid="status">{t(`status.${data.status}`)}</span></dd>
          <dt>{t("dossier.submittedAt")}</dt>
          <dd>{formatDateTimeOrDash(data.submitted_at)}</dd>
          <dt>{t("dossier.channel")}</dt>
          <dd>{t(`channels.${data.channel}`)}</dd>
          <ApplicantFacts applicant={data.applicant} />
          <dt>{t("dossier.returnMethod")}</dt>
          <dd>{t(`returnMethods.${data.return_method}`)}</dd>
        </dl>
      </div>
      <div className="card">
        <h2>{t("documents.title")}</h2>
        <Documents code={data.code} documents={data.documents} checklist={data.checklist} />
      </div>

      {done && (
        <div className="alert alert-ok" role="status" data-testid="decision-done">
          {t(`check.done.${done}`)}{" "}
          {done === "accept" && (
            <>
              <button type="button" className="link-button" onClick={() => form.mutate("receipt")}>{t("check.form01")}</button>{" "}
              <Link to={`/can-bo/ho-so/${encodeURIComponent(data.code)}`}>{t("receive.openDossier")}</Link>
            </>
          )}
          {done === "supplement" && (
            <button type="button" className="link-button" onClick={() => form.mutate("supplement")}>{t("check.form02")}</button>
          )}
          {done === "refuse" && (
            <button type="button" className="link-button" onClick={() => form.mutate("refusal")}>{t("check.form03")}</button>
          )}
        </div>
      )}
      <ProblemAlert error={form.error} />

      {open_ && (
        <div className="card">
          <h2>{t("check.decide")}</h2>
          <div className="actions">
            <button type="button" className="primary" onClick={() => open("accept")} aria-pressed={decision === "accept"}>{t("check.accept")}</button>
            <button type="button" onClick={() => open("supplement")} aria-pressed={decision === "supplement"}>{t("check.supplement")}</button>
            <button type="button" className="danger" onClick={() => open("refuse")} aria-pressed={decision === "refuse"}>{t("check.refuse")}</button>
          </div>
          {decision && (
            <form className="form action-form" onSubmit={onSubmit} noValidate>
              <h3>{t(`check.${decision}`)}</h3>
              {decision === "accept" && (
                <label>
                  {t("actionForm.comment")}
                  <textarea value={comment} maxLength={2000} onChange={(event) => setComment(event.target.value)} />
                </label>
              )}
              {decision === "supplement" && <SupplementItems items={items} onChange={setItems} errors={errors} />}
              {decision === "refuse" && (
                <label>
                  {t("actionForm.reasons")}
                  <textarea
                    value={reasons}
                    rows={4}
                    aria-invalid={errors.length > 0 ? true : undefined}
                    aria-describedby="refuse-error refuse-hint"
                    onChange={(event) => setReasons(event.target.value)}
                  />
                  <span id="refuse-hint" className="muted hint">{t("actionForm.reasonsHint")}</span>
                  {errors[0] && <span id="refuse-error" className="field-error">{errors[0]}</span>}
                </label>
              )}
              <ProblemAlert error={decide.error} />
              <div className="actions">
                <button type="submit" className={decision === "refuse" ? "danger" : "primary"} disabled={decide.isPending}>
                  {t("actionForm.confirm")}
                </button>
                <button type="button" onClick={() => setDecision(null)}>{t("actionForm.cancel")}</button>
              </div>
            </form>
          )}
        </div>
      )}
    </section>
  );
}
