import { useMutation } from "@tanstack/react-query";
import { useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useParams } from "react-router";

import { downloadFile } from "../../api/client";
import { useAuth } from "../../auth/AuthContext";
import { noteText, stepName } from "../../components/labels";
import { Loading, PageTitle, ProblemAlert } from "../../components/Status";
import { ActionForm, type Action } from "./ActionForm";
import { ApplicantFacts } from "../../features/dossiers/components/ApplicantFacts";
import { Documents } from "../../features/dossiers/components/Documents";
import { PostalReturned, PostalShipments } from "../../features/dossiers/components/Postal";
import { TableHead, TableWrap } from "../../components/TableWrap";
import { DUE_BADGE, dueState, splitWorkingTime } from "./format";
import { formatDateTimeOrDash } from "../../components/format";
import { useDeskDossier, useDossier, useDossierNotifications, useDossierTimeline } from "../../features/dossiers/api";
import { Timeline } from "../../components/Timeline";
import { COUNTER_ROLES } from "../../api/vocabulary";

const OUTCOME_BADGE: Record<string, string> = { early: "badge badge-ok", on_time: "badge badge-ok", late: "badge badge-late" };

function party(who: { full_name: string | null; agency_name: string | null }): string {
  if (who.full_name && who.agency_name) return `${who.full_name} (${who.agency_name})`;
  return who.full_name ?? who.agency_name ?? "";
}

function Remaining({ seconds, paused }: { seconds: number; paused: boolean }) {
  const { t } = useTranslation("staff");
  const { days, hours, minutes } = splitWorkingTime(seconds);
  const parts = [
    days ? t("remaining.days", { n: days }) : "",
    hours ? t("remaining.hours", { n: hours }) : "",
    minutes || (!days && !hours) ? t("remaining.minutes", { n: minutes }) : "",
  ];
  const text = parts.filter(Boolean).join(" ");
  if (paused) return <span className="badge badge-paused">{t("remaining.paused", { text })}</span>;
  if (seconds < 0) return <span className="badge badge-late">{t("remaining.overdue", { text })}</span>;
  return <span className={seconds <= 8 * 3600 ? "badge badge-soon" : "badge badge-ok"}>{t("remaining.left", { text })}</span>;
}

/** One dossier for staff: header, what to do now (allowed_actions), documents, control sheet and notifications. */
export function DossierPage() {
  const { t } = useTranslation("staff");
  const { code = "" } = useParams();
  const { hasRole } = useAuth();
  const [action, setAction] = useState<Action | null>(null);
  const [conflict, setConflict] = useState<unknown>(null);
  const [done, setDone] = useState<{ action: Action; status: string } | null>(null);
  const doneRef = useRef<HTMLDivElement>(null);

  // while an action form is open the page holds still; a conflict on sending reloads it (409)
  const dossier = useDossier(code, { holdStill: action !== null });
  const desk = useDeskDossier(code, { retry: false });
  const timeline = useDossierTimeline(code);
  const notifications = useDossierNotifications(code);
  const pdf = useMutation({
    mutationFn: async (form: "control-sheet" | "apology" | "stop") =>
      downloadFile("workflow", `/api/v1/dossiers/${encodeURIComponent(code)}/forms/${form}.pdf`, `${code}-${form}.pdf`),
  });

  if (dossier.isLoading) return <Loading />;
  if (!dossier.data) return <ProblemAlert error={dossier.error} onRetry={() => void dossier.refetch()} />;
  const data = dossier.data;
  const state = dueState({ status: data.status, overdue: data.overdue, due_soon: false });
  const stepByPosition = new Map(data.steps.map((step) => [step.position, step]));

  return (
    <section>
      <p><Link to="/can-bo/ho-so">{t("dossier.backToInbox")}</Link></p>
      <PageTitle>{t("dossier.title", { code: data.code })}</PageTitle>

      <div className="card dossier-header" data-testid="dossier-header">
        <dl className="facts">
          <dt>{t("dossier.procedure")}</dt>
          <dd>{data.procedure_name} <span className="muted">({data.procedure_code})</span></dd>
          <dt>{t("dossier.status")}</dt>
          <dd>
            <span className="badge badge-neutral" data-testid="status">{t(`status.${data.status}`)}</span>{" "}
            {data.overdue && <span className="badge badge-late">{t("due.overdue")}</span>}{" "}
            {data.late_by_rule && <span className="badge badge-late">{t("dossier.lateByRule")}</span>}{" "}
            {data.apology_issued && <span className="badge badge-soon">{t("dossier.apologyIssued")}</span>}
            {data.outcome && <span className={OUTCOME_BADGE[data.outcome] ?? "badge badge-neutral"}>{t(`outcome.${data.outcome}`)}</span>}
          </dd>
          <dt>{t("dossier.currentStep")}</dt>
          <dd data-testid="current-step">{data.current_step ? `${data.current_step.position}. ${stepName(data.current_step)}` : "—"}</dd>
          <dt>{t("dossier.receivedAt")}</dt>
          <dd>{formatDateTimeOrDash(data.received_at)}</dd>
          <dt>{t("dossier.due")}</dt>
          <dd>
            {formatDateTimeOrDash(data.due_at)} <span className={DUE_BADGE[state]}>{t(`due.${state}`)}</span>
          </dd>
          {data.appointment_at && (
            <>
              <dt>{t("dossier.newAppointment")}</dt>
              <dd>{formatDateTimeOrDash(data.appointment_at)}</dd>
            </>
          )}
          <dt>{t("dossier.stepDue")}</dt>
          <dd>{formatDateTimeOrDash(data.step_due_at)}</dd>
          <dt>{t("dossier.remaining")}</dt>
          <dd data-testid="remaining">
            {desk.data && desk.data.remaining.length > 0
              ? desk.data.remaining.map((item) => (
                  <span key={item.kind} className="remaining">
                    {t(`remaining.${item.kind}`)}: <Remaining seconds={item.remaining_seconds} paused={item.paused} />{" "}
                  </span>
                ))
              : "—"}
          </dd>
          <dt>{t("dossier.channel")}</dt>
          <dd>{t(`channels.${data.channel}`)}</dd>
          <dt>{t("dossier.returnMethod")}</dt>
          <dd>{t(`returnMethods.${data.return_method}`)}</dd>
          <ApplicantFacts applicant={data.applicant} />
        </dl>
        <div className="actions">
          <button type="button" onClick={() => pdf.mutate("control-sheet")}>{t("pdf.controlSheet")}</button>
          {data.apology_issued && <button type="button" onClick={() => pdf.mutate("apology")}>{t("pdf.apology")}</button>}
          {data.status === "stopped" && <button type="button" onClick={() => pdf.mutate("stop")}>{t("pdf.stop")}</button>}
        </div>
        <ProblemAlert error={pdf.error} />
      </div>

      {done && (
        <div className="alert alert-ok" role="status" ref={doneRef} tabIndex={-1} data-testid="action-done">
          {t(`done.${done.action}`)} {t("done.status", { status: t(`status.${done.status}`) })}
          {done.action === "apologize" && (
            <>
              {" "}
              <button type="button" className="link-button" onClick={() => pdf.mutate("apology")}>{t("pdf.apology")}</button>
            </>
          )}
        </div>
      )}

      <section className="card" aria-labelledby="actions-title">
        <h2 id="actions-title">{t("dossier.actions")}</h2>
        {conflict ? (
          <div data-testid="conflict">
            <ProblemAlert error={conflict} />
            <p className="muted">{t("dossier.reloaded")}</p>
          </div>
        ) : null}
        {data.status === "submitted" && hasRole(...COUNTER_ROLES) && (
          <p>
            <Link to={`/can-bo/mot-cua/truc-tuyen/${encodeURIComponent(data.code)}`}>{t("dossier.checkAtDesk")}</Link>
          </p>
        )}
        {data.allowed_actions.length === 0 ? (
          <p className="muted">{t("dossier.noActions")}</p>
        ) : (
          <div className="actions" data-testid="allowed-actions">
            {data.allowed_actions.map((name) => (
              <button
                key={name}
                type="button"
                className={name === action ? "primary" : ["stop", "withdraw"].includes(name) ? "danger" : undefined}
                aria-pressed={name === action}
                onClick={() => {
                  setAction(name as Action);
                  setDone(null);
                  setConflict(null);
                }}
              >
                {t(`actions.${name}`)}
              </button>
            ))}
          </div>
        )}
        {action && !data.allowed_actions.includes(action) && (
          <div className="alert alert-info" role="status" data-testid="action-gone">
            {t("dossier.actionGone", { action: t(`actions.${action}`) })}{" "}
            <button type="button" className="link-button" onClick={() => setAction(null)}>{t("actionForm.cancel")}</button>
          </div>
        )}
        {action && data.allowed_actions.includes(action) && (
          <ActionForm
            key={action}
            dossier={data}
            action={action}
            onCancel={() => setAction(null)}
            onConflict={setConflict}
            onDone={(finished, result) => {
              setAction(null);
              setDone({ action: finished, status: result.status });
              setTimeout(() => doneRef.current?.focus(), 0);
            }}
          />
        )}
      </section>

      <section className="card" aria-labelledby="documents-title">
        <h2 id="documents-title">{t("documents.title")}</h2>
        {desk.isLoading && <Loading />}
        {desk.error ? <p className="muted">{t("documents.unavailable")}</p> : null}
        {desk.data && <Documents code={data.code} documents={desk.data.documents} checklist={desk.data.checklist} />}
      </section>

      {desk.data && desk.data.shipments.length > 0 && (
        <section className="card" aria-labelledby="postal-title">
          <h2 id="postal-title">{t("postal.title")}</h2>
          <PostalReturned
            code={data.code}
            waiting={desk.data.postal_returned && data.allowed_actions.includes("return_result")}
          />
          <PostalShipments shipments={desk.data.shipments} />
        </section>
      )}

      <section className="card" aria-labelledby="timeline-title">
        <h2 id="timeline-title">{t("timeline.title")}</h2>
        {timeline.isLoading && <Loading />}
        <ProblemAlert error={timeline.error} />
        {timeline.data && (
          <Timeline items={timeline.data}>
            {(row) => (
              <>
                <strong>{formatDateTimeOrDash(row.at)}</strong> — {t(`timeline.actions.${row.action}`, { defaultValue: row.action })}
                {" · "}
                <span>{t(`status.${row.status}`)}</span>
                {row.step_position !== null && stepByPosition.has(row.step_position) && (
                  <>
                    {" · "}
                    <span>{t("timeline.step", { step: `${row.step_position}. ${stepName(stepByPosition.get(row.step_position)!)}` })}</span>
                  </>
                )}
                <div className="muted">
                  {t("timeline.from", { who: party(row.giver) || t("timeline.system") })}
                  {party(row.receiver) ? ` → ${t("timeline.to", { who: party(row.receiver) })}` : ""}
                </div>
                {row.comment && <div>{row.comment}</div>}
                {!row.comment && noteText(row) && <div className="muted" data-testid="note">{noteText(row)}</div>}
                {(row.step_due_at || row.step_outcome) && (
                  <div className="muted">
                    {row.step_due_at && t("timeline.stepDue", { at: formatDateTimeOrDash(row.step_due_at) })}{" "}
                    {row.step_outcome && (
                      <span className={OUTCOME_BADGE[row.step_outcome] ?? "badge badge-neutral"}>{t(`outcome.${row.step_outcome}`)}</span>
                    )}
                  </div>
                )}
              </>
            )}
          </Timeline>
        )}
      </section>

      <section className="card" aria-labelledby="sent-title">
        <h2 id="sent-title">{t("sent.title")}</h2>
        {notifications.isLoading && <Loading />}
        {notifications.error ? <p className="muted">{t("sent.unavailable")}</p> : null}
        {notifications.data && notifications.data.length === 0 && <p className="muted">{t("sent.none")}</p>}
        {notifications.data && notifications.data.length > 0 && (
          <TableWrap label={t("sent.title")}>
            <table data-testid="sent">
              <TableHead columns={[t("sent.at"), t("sent.channel"), t("sent.recipient"), t("sent.subject"), t("sent.status"), t("sent.attempts")]} />
              <tbody>
                {notifications.data.map((item) => (
                  <tr key={item.id}>
                    <td>{formatDateTimeOrDash(item.created_at)}</td>
                    <td>{t(`channelNames.${item.channel}`, { defaultValue: item.channel })}</td>
                    <td>{item.recipient.startsWith("staff:") || item.recipient.startsWith("agency:") ? t(`sent.${item.recipient.split(":")[0]}`) : item.recipient}</td>
                    <td>{item.subject ?? t(`events.${item.event_type}`, { defaultValue: item.event_type })}</td>
                    <td>
                      <span className={item.status === "failed" ? "badge badge-late" : item.status === "queued" ? "badge badge-soon" : "badge badge-ok"}>
                        {t(`sendStatus.${item.status}`, { defaultValue: item.status })}
                      </span>
                    </td>
                    <td>{item.attempts}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableWrap>
        )}
      </section>
    </section>
  );
}
