import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { Link, useLocation, useNavigate, useParams } from "react-router";

import { ApiProblem, intake, unwrap } from "../../api/client";
import { Loading, PageTitle, ProblemAlert } from "../../components/Status";
import { FileInput } from "../../components/FileInput";
import { noteText } from "../../components/labels";
import { vnd, workingDaysBetween, type Tracking } from "./format";
import { formatDateTime, vnDay } from "../../components/format";
import { Field } from "../../components/Field";
import { ACCEPT, MAX_FILE_BYTES } from "../../components/validation";
import { NOT_CLOSED } from "../../api/vocabulary";
import { useCalendarSpan } from "../../features/calendar/api";
import { trackingKeys, usePayments, useTracking } from "../../features/tracking/api";
import { Timeline, TimelineAt } from "../../components/Timeline";
import { ResultDownloads } from "./ResultDownloads";

/** What travels between pages in the router's state (never in the URL): the secret of the dossier. */
export interface TrackState {
  secret?: string;
}

const CODE_MAX = 64;

function cleanCode(value: string): string {
  return value.trim().toUpperCase();
}

/** /tra-cuu: the code and the secret. */
export function TrackLookup() {
  const { t } = useTranslation("citizen");
  const navigate = useNavigate();
  const [code, setCode] = useState("");
  const [secret, setSecret] = useState("");
  const [errors, setErrors] = useState<{ code?: string; secret?: string }>({});

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const found: typeof errors = {};
    if (!code.trim()) found.code = "errors.required";
    if (secret.trim().length < 4) found.secret = secret.trim() ? "errors.secret" : "errors.required";
    setErrors(found);
    if (Object.keys(found).length) return;
    navigate(`/tra-cuu/${encodeURIComponent(cleanCode(code))}`, { state: { secret: secret.trim() } satisfies TrackState });
  }

  return (
    <section className="citizen narrow-page">
      <PageTitle>{t("track.title")}</PageTitle>
      <p>{t("track.intro")}</p>
      <form className="form card" onSubmit={submit} noValidate>
        <Field layout="stacked" id="track-code" label={t("track.code")} hint={t("track.codeHint")}
          error={errors.code && t(errors.code)} required>
          {(props) => (
            <input {...props} value={code} maxLength={CODE_MAX} autoComplete="off" spellCheck={false}
              onChange={(event) => setCode(event.target.value)} />
          )}
        </Field>
        <Field layout="stacked" id="track-secret" label={t("track.secret")} hint={t("track.secretHint")}
          error={errors.secret && t(errors.secret)} required>
          {(props) => (
            <input {...props} value={secret} maxLength={64} autoComplete="off" spellCheck={false}
              onChange={(event) => setSecret(event.target.value)} />
          )}
        </Field>
        <div className="actions">
          <button type="submit" className="primary">{t("track.submit")}</button>
        </div>
      </form>
      <p><Link to="/tra-cuu-so-dien-thoai">{t("track.byPhone.link")}</Link></p>
    </section>
  );
}

/** /tra-cuu-so-dien-thoai — without the secret: the code and the applicant's phone (in a POST body, never a
 *  URL) show the state and the appointment only; the phone alone proves too little for the rest. */
export function TrackByPhone() {
  const { t } = useTranslation("citizen");
  const [code, setCode] = useState("");
  const [phone, setPhone] = useState("");
  const [errors, setErrors] = useState<{ code?: string; phone?: string }>({});
  const lookup = useMutation({
    mutationFn: async (body: { code: string; phone: string }) =>
      unwrap(await intake.POST("/api/v1/track", { body })),
  });

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const found: typeof errors = {};
    if (!code.trim()) found.code = "errors.required";
    if (phone.replace(/\D/g, "").length < 9) found.phone = phone.trim() ? "errors.phone" : "errors.required";
    setErrors(found);
    if (Object.keys(found).length) return;
    lookup.mutate({ code: cleanCode(code), phone: phone.trim() });
  }

  const notFound = lookup.error instanceof ApiProblem && lookup.error.status === 404;
  const tooMany = lookup.error instanceof ApiProblem && lookup.error.status === 429;
  const brief = lookup.data;
  return (
    <section className="citizen narrow-page">
      <PageTitle>{t("track.byPhone.title")}</PageTitle>
      <p>{t("track.byPhone.intro")}</p>
      <form className="form card" onSubmit={submit} noValidate>
        <Field layout="stacked" id="phone-code" label={t("track.code")} error={errors.code && t(errors.code)} required>
          {(props) => (
            <input {...props} value={code} maxLength={CODE_MAX} autoComplete="off" spellCheck={false}
              onChange={(event) => setCode(event.target.value)} />
          )}
        </Field>
        <Field layout="stacked" id="phone-number" label={t("track.byPhone.phone")} error={errors.phone && t(errors.phone)} required>
          {(props) => (
            <input {...props} type="tel" inputMode="tel" value={phone} maxLength={20} autoComplete="tel"
              onChange={(event) => setPhone(event.target.value)} />
          )}
        </Field>
        <div className="actions">
          <button type="submit" disabled={lookup.isPending}>{t("track.byPhone.submit")}</button>
        </div>
        {notFound && <p role="alert" className="alert alert-error">{t("track.byPhone.notFound")}</p>}
        {tooMany && <p role="alert" className="alert alert-error">{t("errors.tooMany")}</p>}
        {lookup.error && !notFound && !tooMany && <ProblemAlert error={lookup.error} />}
        {brief && (
          <div className="alert alert-info" data-testid="phone-tracking" role="status">
            <p>
              <span className="badge" data-testid="phone-status">
                {t(`status.${brief.status}`, { defaultValue: brief.status_label })}
              </span>
            </p>
            {brief.due_at && <p>{t("track.appointment")}: {formatDateTime(brief.due_at)}</p>}
            {brief.paused && <p>{t("track.pausedClock")}</p>}
            {brief.overdue && <p>{t("track.lateToday")}</p>}
            <p className="hint">{t("track.byPhone.more")}</p>
          </div>
        )}
      </form>
    </section>
  );
}

/** /tra-cuu/:code — the secret comes in the router state, or is asked for here. */
export function TrackDossier() {
  const { t } = useTranslation("citizen");
  const { code = "" } = useParams();
  const location = useLocation();
  const carried = (location.state as TrackState | null)?.secret ?? "";
  const [secret, setSecret] = useState(carried);
  const [draft, setDraft] = useState("");
  const [draftError, setDraftError] = useState<string>();
  const [shownCode, setShownCode] = useState(code);
  if (shownCode !== code) {
    // another dossier in the same page: forget the previous one's secret
    setShownCode(code);
    setSecret(carried);
    setDraft("");
  }

  const tracking = useTracking(code, secret);

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (draft.trim().length < 4) {
      setDraftError(draft.trim() ? "errors.secret" : "errors.required");
      return;
    }
    setDraftError(undefined);
    setSecret(draft.trim());
  }

  const notFound = tracking.error instanceof ApiProblem && tracking.error.status === 404;
  const tooMany = tracking.error instanceof ApiProblem && tracking.error.status === 429;

  return (
    <section className="citizen">
      <p className="breadcrumb"><Link to="/tra-cuu">{t("track.another")}</Link></p>
      <PageTitle>{t("track.dossierTitle", { code })}</PageTitle>
      {(!secret || notFound) && (
        <form className="form card narrow-form" onSubmit={submit} noValidate>
          {notFound && <p role="alert" className="alert alert-error">{t("track.notFound")}</p>}
          <Field layout="stacked" id="secret" label={t("track.secret")} hint={t("track.secretHint")}
            error={draftError && t(draftError)} required>
            {(props) => (
              <input {...props} value={draft} maxLength={64} autoComplete="off" spellCheck={false}
                onChange={(event) => setDraft(event.target.value)} />
            )}
          </Field>
          <div className="actions">
            <button type="submit" className="primary">{t("track.submit")}</button>
          </div>
        </form>
      )}
      {tooMany && <p role="alert" className="alert alert-error">{t("errors.tooMany")}</p>}
      {tracking.error && !notFound && !tooMany && <ProblemAlert error={tracking.error} />}
      {tracking.isFetching && !tracking.data && <Loading />}
      {tracking.data && !notFound && <DossierStatus data={tracking.data} secret={secret} />}
    </section>
  );
}

function yearsBetween(a: string, b: string): number[] {
  const [from, to] = [Number(a.slice(0, 4)), Number(b.slice(0, 4))].sort();
  const years: number[] = [];
  for (let year = from; year <= to && years.length < 4; year += 1) years.push(year);
  return years;
}

function Remaining({ data }: { data: Tracking }) {
  const { t } = useTranslation("citizen");
  const today = vnDay(new Date());
  const due = data.due_at ? vnDay(data.due_at) : today;
  const calendar = useCalendarSpan(data.due_at ? yearsBetween(today, due) : []);
  if (!data.due_at || !calendar.data) return null;
  if (data.overdue || due < today) {
    const late = workingDaysBetween(due, today, calendar.data);
    return (
      <p className="badge badge-late" data-testid="remaining">
        {late > 0 ? t("track.lateBy", { count: late }) : t("track.lateToday")}
      </p>
    );
  }
  const left = workingDaysBetween(today, due, calendar.data);
  return (
    <p className={`badge ${left <= 1 ? "badge-soon" : "badge-ok"}`} data-testid="remaining">
      {left === 0 ? t("track.dueToday") : t("track.remaining", { count: left })}
    </p>
  );
}


function statusBadge(data: Tracking): string {
  if (data.paused_since) return "badge-paused";
  if (data.overdue) return "badge-late";
  if (data.status === "returned" || data.status === "resolved") return "badge-ok";
  if (!NOT_CLOSED.has(data.status)) return "badge-neutral";
  return "badge-soon";
}

function DossierStatus({ data, secret }: { data: Tracking; secret: string }) {
  const { t } = useTranslation("citizen");
  const open = NOT_CLOSED.has(data.status);
  const last = [...data.history].reverse().find((item) => item.status === data.status);
  const lastNote = last ? noteText(last) : "";
  return (
    <>
      <div className="card" data-testid="tracking">
        <p>
          <span className={`badge ${statusBadge(data)}`} data-testid="status-label">
            {t(`status.${data.status}`, { defaultValue: data.status_label })}
          </span>
        </p>
        <p className="lead" data-testid="status-sentence">
          {t(`statusSentence.${data.status}`, { defaultValue: data.status_label })}
        </p>
        <dl className="citizen-facts">
          <div><dt>{t("track.procedure")}</dt><dd>{data.procedure_name}</dd></div>
          <div><dt>{t("track.agency")}</dt><dd>{data.agency_name}</dd></div>
          {data.received_at && <div><dt>{t("track.receivedAt")}</dt><dd>{formatDateTime(data.received_at)}</dd></div>}
          {data.due_at && (
            <div>
              <dt>{t("track.appointment")}</dt>
              <dd data-testid="appointment">{formatDateTime(data.due_at)}</dd>
            </div>
          )}
        </dl>
        {open && !data.paused_since && <Remaining data={data} />}
        {data.paused_since && (
          <div className="alert alert-info" data-testid="paused">
            <p>
              <strong>
                {t(`paused.${data.status}`, { defaultValue: data.paused_reason ?? "" })}
              </strong>{" "}
              {t("track.pausedSince", { at: formatDateTime(data.paused_since) })}
            </p>
            {lastNote && <p>{t("track.why")}: {lastNote}</p>}
            <p>{t("track.pausedClock")}</p>
          </div>
        )}
        {data.status === "awaiting_supplement" && !data.paused_since && lastNote && (
          <p className="alert alert-info">{t("track.why")}: {lastNote}</p>
        )}
      </div>

      {data.status === "awaiting_supplement" && <SupplementForm code={data.code} secret={secret} />}
      {data.status === "awaiting_payment" && <PaymentPanel code={data.code} secret={secret} />}
      {(data.results ?? []).length > 0 && (
        <ResultDownloads path={`/api/v1/dossiers/${encodeURIComponent(data.code)}/result`} body={{ secret }}
          results={data.results ?? []} returned={data.status === "returned"} againKey="track.results.again"
          refresh={trackingKeys.dossier(data.code)} testId="results" />
      )}
      {data.status === "returned" && <FeedbackForm code={data.code} secret={secret} />}
      {open && <WithdrawForm code={data.code} secret={secret} />}

      {data.status === "resolved" && data.shipments?.at(-1)?.status === "returned" && (
        <p className="alert alert-info" data-testid="postal-returned">
          {t("track.postalReturned", { agency: data.agency_name })}
          {data.agency_address && <> {t("track.postalReturnedAddress", { address: data.agency_address })}</>}
        </p>
      )}
      {(data.shipments ?? []).length > 0 && (
        <section className="card" data-testid="shipments" aria-labelledby="shipments-title">
          <h2 id="shipments-title">{t("track.shipments")}</h2>
          <ul>
            {(data.shipments ?? []).map((shipment) => (
              <li key={`${shipment.direction}-${shipment.tracking_number ?? ""}`}>
                {t(`track.shipment.${shipment.direction}`)}: <strong>{shipment.tracking_number ?? "—"}</strong>{" "}
                <span className="muted">({t(`track.shipmentStatus.${shipment.status}`, { defaultValue: shipment.status })})</span>
                {shipment.failed_attempts > 0 && (
                  <span className="postal-failure" data-testid="failed-attempts">
                    {" "}
                    {t("track.failedAttempts", {
                      count: shipment.failed_attempts,
                      reason: t(`track.postalReason.${shipment.failure_code ?? "other"}`, {
                        defaultValue: t("track.postalReason.other"),
                      }),
                    })}
                  </span>
                )}
              </li>
            ))}
          </ul>
          <p className="hint">{t("track.shipmentsHint")}</p>
        </section>
      )}

      <h2>{t("track.history")}</h2>
      <Timeline items={data.history}>
        {(item) => (
          <>
            <TimelineAt at={item.at} />
            <div><strong>{t(`timeline.${item.status}`, { defaultValue: item.status_label })}</strong></div>
            {noteText(item) && <div className="muted" data-testid="note">{noteText(item)}</div>}
          </>
        )}
      </Timeline>
    </>
  );
}

function SupplementForm({ code, secret }: { code: string; secret: string }) {
  const { t } = useTranslation("citizen");
  const client = useQueryClient();
  const [files, setFiles] = useState<File[]>([]);
  const [error, setError] = useState<string>();
  const send = useMutation({
    mutationFn: async () => {
      const form = new FormData();
      form.append("data", JSON.stringify({ secret }));
      for (const file of files) form.append("files", file, file.name);
      return unwrap(
        await intake.POST("/api/v1/dossiers/{code}/supplements", {
          params: { path: { code } },
          body: {},
          bodySerializer: () => form,
        }),
      );
    },
    onSuccess: () => {
      setFiles([]);
      void client.invalidateQueries({ queryKey: trackingKeys.dossier(code) });
    },
  });

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (files.length === 0) return setError("errors.fileRequired");
    if (files.some((file) => file.size > MAX_FILE_BYTES)) return setError("errors.fileTooLarge");
    setError(undefined);
    send.mutate();
  }

  return (
    <form className="card form" onSubmit={submit} noValidate aria-labelledby="supplement-title">
      <h2 id="supplement-title">{t("supplement.title")}</h2>
      <p>{t("supplement.intro")}</p>
      <Field layout="stacked" id="supplement-files" label={t("supplement.files")} hint={t("submit.documentsHint")}
        error={error && t(error)} required>
        {(props) => (
          <FileInput {...props} multiple accept={ACCEPT} onFiles={setFiles} />
        )}
      </Field>
      <ProblemAlert error={send.error} />
      {send.isSuccess && <p role="status" className="alert alert-ok">{t("supplement.done")}</p>}
      <div className="actions">
        <button type="submit" className="primary" disabled={send.isPending}>{t("supplement.send")}</button>
      </div>
    </form>
  );
}

function PaymentPanel({ code, secret }: { code: string; secret: string }) {
  const { t } = useTranslation("citizen");
  const navigate = useNavigate();
  const payments = usePayments(code, secret);
  const open = (payments.data ?? []).filter((payment) => payment.status === "requested");

  return (
    <div className="card" aria-labelledby="payment-title">
      <h2 id="payment-title">{t("payment.title")}</h2>
      <ProblemAlert error={payments.error} />
      {payments.isPending && <Loading />}
      {open.map((payment) => (
        <div key={payment.reference} className="payment">
          <dl className="citizen-facts">
            <div><dt>{t("payment.what")}</dt><dd>{payment.description}</dd></div>
            <div><dt>{t("payment.amount")}</dt><dd data-testid="payment-amount">{t("procedure.feeAmount", { amount: vnd(payment.amount_vnd) })}</dd></div>
            <div><dt>{t("payment.reference")}</dt><dd>{payment.reference}</dd></div>
            <div><dt>{t("payment.requestedAt")}</dt><dd>{formatDateTime(payment.requested_at)}</dd></div>
          </dl>
          <button
            type="button"
            className="primary"
            onClick={() => {
              const query = new URLSearchParams({ ma: payment.reference, so_tien: String(payment.amount_vnd), ho_so: code });
              navigate(`/thanh-toan/thu-nghiem?${query.toString()}`, { state: { secret } satisfies TrackState });
            }}
          >
            {t("payment.payOnline")}
          </button>
        </div>
      ))}
      {payments.data && open.length === 0 && <p>{t("payment.nothingOpen")}</p>}
    </div>
  );
}

function FeedbackForm({ code, secret }: { code: string; secret: string }) {
  const { t } = useTranslation("citizen");
  const [rating, setRating] = useState<"satisfied" | "acceptable" | "dissatisfied" | "">("");
  const [comment, setComment] = useState("");
  const [error, setError] = useState<string>();
  const send = useMutation({
    mutationFn: async () =>
      unwrap(
        await intake.POST("/api/v1/dossiers/{code}/feedback", {
          params: { path: { code } },
          body: { secret, rating: rating as "satisfied", comment: comment.trim() || null },
        }),
      ),
  });
  const already = send.error instanceof ApiProblem && send.error.code === "feedback_exists";

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (!rating) return setError("errors.rating");
    setError(undefined);
    send.mutate();
  }

  if (send.isSuccess || already) {
    return <p role="status" className="card alert alert-ok">{t(already ? "feedback.already" : "feedback.thanks")}</p>;
  }
  return (
    <form className="card form" onSubmit={submit} noValidate aria-labelledby="feedback-title">
      <h2 id="feedback-title">{t("feedback.title")}</h2>
      <fieldset aria-describedby={error ? "rating-error" : undefined}>
        <legend>{t("feedback.question")}</legend>
        {(["satisfied", "acceptable", "dissatisfied"] as const).map((value) => (
          <label key={value} className="inline">
            <input type="radio" name="rating" value={value} checked={rating === value} onChange={() => setRating(value)} />
            {t(`feedback.${value}`)}
          </label>
        ))}
        {error && <span id="rating-error" className="field-error">{t(error)}</span>}
      </fieldset>
      <Field layout="stacked" id="feedback-comment" label={t("feedback.comment")}>
        {(props) => (
          <textarea {...props} rows={3} maxLength={2000} value={comment} onChange={(event) => setComment(event.target.value)} />
        )}
      </Field>
      <ProblemAlert error={send.error} />
      <div className="actions">
        <button type="submit" className="primary" disabled={send.isPending}>{t("feedback.send")}</button>
      </div>
    </form>
  );
}

function WithdrawForm({ code, secret }: { code: string; secret: string }) {
  const { t } = useTranslation("citizen");
  const client = useQueryClient();
  const [sure, setSure] = useState(false);
  const [reason, setReason] = useState("");
  const [error, setError] = useState<string>();
  const send = useMutation({
    mutationFn: async () =>
      unwrap(
        await intake.POST("/api/v1/dossiers/{code}/withdraw", {
          params: { path: { code } },
          body: { secret, reason: reason.trim() || null },
        }),
      ),
    onSuccess: () => void client.invalidateQueries({ queryKey: trackingKeys.dossier(code) }),
  });

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (!sure) return setError("errors.confirmWithdraw");
    setError(undefined);
    send.mutate();
  }

  return (
    <details className="card withdraw">
      <summary>{t("withdraw.title")}</summary>
      <form className="form" onSubmit={submit} noValidate>
        <p>{t("withdraw.intro")}</p>
        <Field layout="stacked" id="withdraw-reason" label={t("withdraw.reason")}>
          {(props) => (
            <textarea {...props} rows={2} maxLength={1000} value={reason} onChange={(event) => setReason(event.target.value)} />
          )}
        </Field>
        <label className="inline">
          <input type="checkbox" checked={sure} onChange={(event) => setSure(event.target.checked)}
            aria-describedby={error ? "withdraw-error" : undefined} />
          {t("withdraw.confirm")}
        </label>
        {error && <span id="withdraw-error" className="field-error">{t(error)}</span>}
        <ProblemAlert error={send.error} />
        <div className="actions">
          <button type="submit" className="danger" disabled={send.isPending}>{t("withdraw.send")}</button>
        </div>
      </form>
    </details>
  );
}
