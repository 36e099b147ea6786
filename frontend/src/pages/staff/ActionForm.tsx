import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useEffect, useId, useRef, useState, type FormEvent } from "react";
import { flushSync } from "react-dom";
import { useTranslation } from "react-i18next";

import { ApiProblem, serviceUrl, unwrap, workflow } from "../../api/client";
import type { components } from "../../api/schema/workflow";
import { currentToken } from "../../auth/token";
import { stepName } from "../../components/labels";
import { ProblemAlert } from "../../components/Status";
import { FileInput } from "../../components/FileInput";
import { vietnamInstant } from "./format";
import { formatDateTimeOrDash } from "../../components/format";
import { itemErrors, splitReasons, SupplementItems, type SupplementItem } from "./SupplementItems";
import { dossierKeys } from "../../features/dossiers/api";

type Dossier = components["schemas"]["DossierOut"];
type TransitionIn = components["schemas"]["TransitionIn"];
export type Action = TransitionIn["action"];

async function uploadResult(code: string, files: File[]): Promise<void> {
  const body = new FormData();
  body.append("data", JSON.stringify({ kind: "result" }));
  for (const file of files) body.append("files", file, file.name);
  const headers = new Headers();
  const token = currentToken();
  if (token) headers.set("Authorization", `Bearer ${token}`);
  const response = await fetch(serviceUrl("intake", `/api/v1/dossiers/${encodeURIComponent(code)}/documents`), {
    method: "POST",
    headers,
    body,
  });
  if (!response.ok) throw new ApiProblem(response.status, await response.json().catch(() => undefined));
}

/** The form of one action from `allowed_actions`: validated like the API, then POST …/transitions. */
export function ActionForm({
  dossier,
  action,
  onDone,
  onCancel,
  onConflict,
}: {
  dossier: Dossier;
  action: Action;
  onDone: (action: Action, result: Dossier) => void;
  onCancel: () => void;
  onConflict: (error: unknown) => void;
}) {
  const { t } = useTranslation("staff");
  const id = useId();
  const queryClient = useQueryClient();
  const heading = useRef<HTMLHeadingElement>(null);
  const [comment, setComment] = useState("");
  const [reason, setReason] = useState("");
  const [toStep, setToStep] = useState("");
  const [reasons, setReasons] = useState("");
  const [appointment, setAppointment] = useState("");
  const [items, setItems] = useState<SupplementItem[]>([{ document: "", reason: "" }]);
  const [amount, setAmount] = useState("");
  const [description, setDescription] = useState("");
  const [files, setFiles] = useState<File[]>([]);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [itemProblems, setItemProblems] = useState<string[]>([]);

  useEffect(() => heading.current?.focus(), [action]);

  const current = dossier.current_step;
  const earlier = dossier.steps.filter((step) => current && step.position < current.position && step.code !== "receive");
  const next = current ? dossier.steps.find((step) => step.position > current.position) : undefined;

  const send = useMutation({
    mutationFn: async () => {
      if (action === "resolve" && files.length > 0) await uploadResult(dossier.code, files);
      const body: TransitionIn = { action, version: dossier.version, comment: comment.trim() || null };
      if (action === "send_back") {
        body.reason = reason.trim();
        if (toStep) body.to_step = Number(toStep);
      }
      if (action === "apologize") {
        body.reason = reason.trim();
        body.new_appointment = vietnamInstant(appointment);
      }
      if (action === "stop") body.reasons = splitReasons(reasons);
      if (action === "request_supplement") body.items = items.map((item) => ({ document: item.document.trim(), reason: item.reason.trim() }));
      if (action === "request_payment") {
        body.description = description.trim() || null;
        if (amount) body.amount_vnd = Number(amount);
      }
      if (action === "resolve") body.result_note = comment.trim() || null;
      return unwrap(await workflow.POST("/api/v1/dossiers/{code}/transitions", { params: { path: { code: dossier.code } }, body }));
    },
    onSuccess: (result) => {
      void queryClient.invalidateQueries({ queryKey: dossierKeys.all });
      onDone(action, result);
    },
    // someone else moved the dossier: reload it (what was typed here stays) so a retry acts on the new version
    onError: (error) => {
      if (error instanceof ApiProblem && error.status === 409) {
        onConflict(error);
        void queryClient.invalidateQueries({ queryKey: dossierKeys.detail(dossier.code) });
        void queryClient.invalidateQueries({ queryKey: dossierKeys.timeline(dossier.code) });
      }
    },
  });

  function validate(): Record<string, string> {
    const found: Record<string, string> = {};
    if ((action === "send_back" || action === "apologize") && reason.trim().length < 5) {
      found.reason = t(action === "send_back" ? "validation.sendBackReason" : "validation.apologyReason");
    }
    if (action === "apologize") {
      if (!appointment) found.appointment = t("validation.appointmentRequired");
      else {
        const chosen = new Date(vietnamInstant(appointment));
        const due = dossier.appointment_at ?? dossier.due_at;
        if (due && chosen <= new Date(due)) found.appointment = t("validation.appointmentLater", { due: formatDateTimeOrDash(due) });
      }
    }
    if (action === "stop") {
      const list = splitReasons(reasons);
      if (list.length === 0 || list.some((line) => line.length < 5)) found.reasons = t("validation.reasons");
    }
    if (action === "request_payment") {
      if (description.trim().length > 0 && description.trim().length < 3) found.description = t("validation.description");
      if (amount && !(Number.isInteger(Number(amount)) && Number(amount) >= 1)) found.amount = t("validation.amount");
    }
    return found;
  }

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const found = validate();
    let problems: string[] = [];
    if (action === "request_supplement") problems = itemErrors(items, t);
    // rendered now, so the first invalid field below carries aria-invalid and can take the focus
    flushSync(() => {
      setErrors(found);
      setItemProblems(problems);
    });
    if (Object.keys(found).length > 0 || problems.some(Boolean)) {
      const first = event.currentTarget.querySelector<HTMLElement>("[aria-invalid='true']");
      first?.focus();
      return;
    }
    send.mutate();
  }

  const errorOf = (name: string) =>
    errors[name] ? { "aria-invalid": true as const, "aria-describedby": `${id}-${name}` } : {};
  const message = (name: string) =>
    errors[name] ? <span id={`${id}-${name}`} className="field-error" role="alert">{errors[name]}</span> : null;

  return (
    <form className="form card action-form" onSubmit={onSubmit} noValidate data-testid={`form-${action}`}>
      <h3 ref={heading} tabIndex={-1}>{t(`actions.${action}`)}</h3>
      <p className="muted">{t(`actionHelp.${action}`, { step: next?.name ?? "" })}</p>

      {action === "send_back" && earlier.length > 1 && (
        <label>
          {t("actionForm.toStep")}
          <select value={toStep} onChange={(event) => setToStep(event.target.value)}>
            <option value="">{t("actionForm.previousStep")}</option>
            {earlier.map((step) => (
              <option key={step.position} value={step.position}>{step.position}. {stepName(step)}</option>
            ))}
          </select>
        </label>
      )}

      {(action === "send_back" || action === "apologize") && (
        <label>
          <span>{t("actionForm.reason")}<span aria-hidden="true"> *</span></span>
          <textarea name="reason" value={reason} rows={3} maxLength={2000} required {...errorOf("reason")} onChange={(event) => setReason(event.target.value)} />
          {message("reason")}
        </label>
      )}

      {action === "apologize" && (
        <label>
          <span>{t("actionForm.newAppointment")}<span aria-hidden="true"> *</span></span>
          <input
            name="new_appointment"
            type="datetime-local"
            value={appointment}
            required
            {...errorOf("appointment")}
            onChange={(event) => setAppointment(event.target.value)}
          />
          <span className="muted hint">{t("actionForm.appointmentHint", { due: formatDateTimeOrDash(dossier.appointment_at ?? dossier.due_at) })}</span>
          {message("appointment")}
        </label>
      )}

      {action === "stop" && (
        <label>
          <span>{t("actionForm.reasons")}<span aria-hidden="true"> *</span></span>
          <textarea name="reasons" value={reasons} rows={4} required {...errorOf("reasons")} onChange={(event) => setReasons(event.target.value)} />
          <span className="muted hint">{t("actionForm.reasonsHint")}</span>
          {message("reasons")}
        </label>
      )}

      {action === "request_supplement" && <SupplementItems items={items} onChange={setItems} errors={itemProblems} />}

      {action === "request_payment" && (
        <>
          <label>
            {t("actionForm.amount")}
            <input type="number" min={1} step={1} inputMode="numeric" value={amount} {...errorOf("amount")} onChange={(event) => setAmount(event.target.value)} />
            <span className="muted hint">{t("actionForm.amountHint")}</span>
            {message("amount")}
          </label>
          <label>
            {t("actionForm.description")}
            <input value={description} maxLength={500} {...errorOf("description")} onChange={(event) => setDescription(event.target.value)} />
            {message("description")}
          </label>
        </>
      )}

      {action === "resolve" && (
        <label>
          {t("actionForm.resultFiles")}
          <FileInput multiple accept=".pdf,.png,.jpg,.jpeg,.docx" onFiles={setFiles} />
        </label>
      )}

      {!["send_back", "apologize", "stop", "request_supplement", "request_payment"].includes(action) && (
        <label>
          {action === "resolve" ? t("actionForm.resultNote") : t("actionForm.comment")}
          <textarea name="comment" value={comment} rows={3} maxLength={2000} onChange={(event) => setComment(event.target.value)} />
        </label>
      )}

      {!(send.error instanceof ApiProblem && send.error.status === 409) && <ProblemAlert error={send.error} />}
      <div className="actions">
        <button type="submit" className={["stop", "withdraw"].includes(action) ? "danger" : "primary"} disabled={send.isPending}>
          {t("actionForm.confirmAction", { action: t(`actions.${action}`) })}
        </button>
        <button type="button" onClick={onCancel}>{t("actionForm.cancel")}</button>
      </div>
    </form>
  );
}
