import { useMutation } from "@tanstack/react-query";
import { useId } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";

import { downloadFile } from "../../api/client";
import type { components } from "../../api/schema/intake";
import { Field } from "../../components/Field";
import { ProblemAlert } from "../../components/Status";
import { formatDateTimeOrDash } from "../../components/format";

export type Resolved = components["schemas"]["OnTheSpotOut"];
export type Decision = "approve" | "refuse";

export interface SpotDraft {
  decision: Decision;
  resultNote: string;
  reason: string;
}

export const EMPTY_SPOT: SpotDraft = { decision: "approve", resultNote: "", reason: "" };

/** What the officer must fill in to decide on the spot; an empty object when it is complete. */
export function spotErrors(draft: SpotDraft, t: (key: string) => string): Partial<Record<"result_note" | "reason", string>> {
  if (draft.decision === "approve" && draft.resultNote.trim().length < 3) return { result_note: t("onTheSpot.resultRequired") };
  if (draft.decision === "refuse" && draft.reason.trim().length < 3) return { reason: t("onTheSpot.reasonRequired") };
  return {};
}

/**
 * "Giải quyết tại chỗ" (4 tại chỗ): for a procedure whose workflow is resolved at the desk, a counter
 * officer holding the delegation decides in the same visit — approve with the result handed over, or
 * refuse with the reason (Mẫu 03). The receive form sends it to POST /api/v1/counter/dossiers/on-the-spot.
 */
export function OnTheSpotFields({
  draft,
  onChange,
  errors,
}: {
  draft: SpotDraft;
  onChange: (draft: SpotDraft) => void;
  errors: Partial<Record<"result_note" | "reason", string>>;
}) {
  const { t } = useTranslation("staff");
  const id = useId();
  return (
    <fieldset data-testid="on-the-spot">
      <legend>{t("onTheSpot.legend")}</legend>
      <p className="muted">{t("onTheSpot.intro")}</p>
      <div className="form">
        {(["approve", "refuse"] as Decision[]).map((decision) => (
          <label key={decision} className="inline">
            <input
              type="radio"
              name="spot_decision"
              value={decision}
              checked={draft.decision === decision}
              onChange={() => onChange({ ...draft, decision })}
            />
            {t(`onTheSpot.decisions.${decision}`)}
          </label>
        ))}
        {draft.decision === "approve" ? (
          <Field
            id={`${id}-result`}
            label={t("onTheSpot.resultNote")}
            required
            error={errors.result_note}
            hint={errors.result_note ? undefined : t("onTheSpot.resultHint")}
          >
            {(control) => (
              <textarea
                {...control}
                name="result_note"
                rows={2}
                maxLength={2000}
                value={draft.resultNote}
                onChange={(event) => onChange({ ...draft, resultNote: event.target.value })}
              />
            )}
          </Field>
        ) : (
          <Field id={`${id}-reason`} label={t("onTheSpot.reason")} required error={errors.reason}>
            {(control) => (
              <textarea
                {...control}
                name="refusal_reason"
                rows={2}
                maxLength={1000}
                value={draft.reason}
                onChange={(event) => onChange({ ...draft, reason: event.target.value })}
              />
            )}
          </Field>
        )}
      </div>
    </fieldset>
  );
}

/** The desk after deciding on the spot: the code and secret for the citizen, and the forms to print. */
export function OnTheSpotDone({ resolved, onAnother }: { resolved: Resolved; onAnother: () => void }) {
  const { t } = useTranslation("staff");
  const id = useId();
  const approved = resolved.decision === "approve";
  const form = useMutation({
    mutationFn: async () =>
      approved
        ? downloadFile("intake", `/api/v1/dossiers/${encodeURIComponent(resolved.code)}/forms/receipt.pdf`, `${resolved.code}-01.pdf`, {
            method: "POST",
            headers: { "Content-Type": "application/json" },
            body: JSON.stringify({ secret: resolved.secret }),
          })
        : downloadFile("intake", `/api/v1/dossiers/${encodeURIComponent(resolved.code)}/forms/refusal.pdf`, `${resolved.code}-03.pdf`),
  });
  return (
    <section className="card" aria-labelledby={`${id}-done`} data-testid="on-the-spot-done">
      <h2 id={`${id}-done`}>{approved ? t("onTheSpot.doneApproved") : t("onTheSpot.doneRefused")}</h2>
      <div className="alert alert-ok" role="status">{approved ? t("onTheSpot.doneApprovedHint") : t("onTheSpot.doneRefusedHint")}</div>
      <dl className="facts">
        <dt>{t("dossier.code")}</dt>
        <dd data-testid="dossier-code">{resolved.code}</dd>
        <dt>{t("receive.secret")}</dt>
        <dd data-testid="dossier-secret"><strong>{resolved.secret}</strong></dd>
        <dt>{t("dossier.status")}</dt>
        <dd data-testid="spot-status">{t(`status.${resolved.status}`)}</dd>
        {approved && (
          <>
            <dt>{t("onTheSpot.returnedAt")}</dt>
            <dd>{formatDateTimeOrDash(resolved.returned_at)}</dd>
            <dt>{t("onTheSpot.outcome")}</dt>
            <dd data-testid="spot-outcome">{resolved.outcome ? t(`outcome.${resolved.outcome}`) : "—"}</dd>
          </>
        )}
      </dl>
      <ProblemAlert error={form.error} />
      <div className="actions">
        <button type="button" className="primary" onClick={() => form.mutate()} disabled={form.isPending}>
          {approved ? t("onTheSpot.printReceipt") : t("onTheSpot.printRefusal")}
        </button>
        <Link to={`/can-bo/ho-so/${encodeURIComponent(resolved.code)}`}>{t("receive.openDossier")}</Link>
        <button type="button" onClick={onAnother}>{t("receive.another")}</button>
      </div>
      {form.isSuccess && <p role="status" className="muted">{t("receive.receiptReady")}</p>}
    </section>
  );
}
