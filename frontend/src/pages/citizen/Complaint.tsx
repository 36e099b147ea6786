import { useMutation } from "@tanstack/react-query";
import { useRef, useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";

import { ApiProblem, intake, unwrap } from "../../api/client";
import type { components } from "../../api/schema/intake";
import { Loading, PageTitle, ProblemAlert } from "../../components/Status";
import { formatDateTime } from "../../components/format";
import { Field } from "../../components/Field";
import { compactPhone, validEmail, validPhone } from "../../components/validation";
import { usePublicAgencies } from "../../features/agencies/api";
import { useProcedure, useReceivableProcedures } from "../../features/procedures/api";
import { useComplaint } from "../../features/tracking/api";

type ComplaintIn = components["schemas"]["ComplaintIn"];

interface Values {
  kind: "complaint" | "suggestion";
  procedureCode: string;
  agencyCode: string;
  dossierCode: string;
  subject: string;
  content: string;
  name: string;
  phone: string;
  email: string;
}

const EMPTY: Values = {
  kind: "suggestion",
  procedureCode: "",
  agencyCode: "",
  dossierCode: "",
  subject: "",
  content: "",
  name: "",
  phone: "",
  email: "",
};

type Errors = Partial<Record<keyof Values, string>>;

function validate(values: Values): Errors {
  const errors: Errors = {};
  if (!values.procedureCode) errors.procedureCode = "errors.required";
  if (!values.agencyCode) errors.agencyCode = "errors.required";
  if (values.subject.trim().length < 3) errors.subject = values.subject.trim() ? "errors.subjectShort" : "errors.required";
  if (values.content.trim().length < 10) errors.content = values.content.trim() ? "errors.contentShort" : "errors.required";
  if (values.phone.trim() && !validPhone(values.phone)) errors.phone = "errors.phone";
  if (values.email.trim() && !validEmail(values.email)) errors.email = "errors.email";
  return errors;
}

function body(values: Values): ComplaintIn {
  const contact = {
    name: values.name.trim() || null,
    phone: values.phone.trim() ? compactPhone(values.phone) : null,
    email: values.email.trim() || null,
  };
  const anyContact = contact.name || contact.phone || contact.email;
  return {
    kind: values.kind,
    agency_code: values.agencyCode,
    dossier_code: values.dossierCode.trim() || null,
    subject: values.subject.trim(),
    content: values.content.trim(),
    contact: anyContact ? contact : null,
  };
}

export function Complaint() {
  const { t } = useTranslation("citizen");
  return (
    <section className="citizen">
      <PageTitle>{t("complaint.title")}</PageTitle>
      <p>{t("complaint.intro")}</p>
      <div className="two-columns">
        <ComplaintForm />
        <ComplaintLookup />
      </div>
    </section>
  );
}

/** Every agency from the public list; the chosen procedure's own agencies come first. */
function AgencySelect({ procedureCode, value, error, onChange }: {
  procedureCode: string;
  value: string;
  error?: string;
  onChange: (code: string) => void;
}) {
  const { t } = useTranslation("citizen");
  const procedure = useProcedure(procedureCode, { staleTime: 5 * 60_000 }); // nothing is fetched before a procedure is chosen
  const everyAgency = usePublicAgencies();
  const own = new Set((procedure.data?.agencies ?? []).map((agency) => agency.code));
  const listed = [...(everyAgency.data ?? [])].sort((a, b) => Number(own.has(b.code)) - Number(own.has(a.code)));
  return (
    <Field layout="stacked" id="complaint-agency" label={t("complaint.agency")} hint={t("complaint.agencyHint")} error={error} required>
      {(props) => (
        <select {...props} value={value} onChange={(event) => onChange(event.target.value)}>
          <option value="">{t("complaint.chooseAgency")}</option>
          {listed.map((agency) => (
            <option key={agency.code} value={agency.code}>{agency.name}</option>
          ))}
        </select>
      )}
    </Field>
  );
}

function ComplaintForm() {
  const { t } = useTranslation("citizen");
  const [values, setValues] = useState<Values>(EMPTY);
  const [errors, setErrors] = useState<Errors>({});
  const formRef = useRef<HTMLFormElement>(null);
  const procedures = useReceivableProcedures();
  const send = useMutation({
    mutationFn: async (data: ComplaintIn) => unwrap(await intake.POST("/api/v1/complaints", { body: data })),
  });

  function set<K extends keyof Values>(name: K, value: Values[K]) {
    setValues((current) => ({ ...current, [name]: value }));
  }

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const found = validate(values);
    setErrors(found);
    if (Object.keys(found).length) {
      requestAnimationFrame(() => formRef.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus());
      return;
    }
    send.mutate(body(values));
  }

  const message = (name: keyof Values) => (errors[name] ? t(errors[name] as string) : undefined);

  if (send.data) {
    return (
      <div className="card" role="status">
        <h2>{t("complaint.sentTitle")}</h2>
        <p>{t("complaint.sentText")}</p>
        <p className="big" data-testid="complaint-code">{send.data.code}</p>
        <p>{t("complaint.keepCode")}</p>
        <button type="button" onClick={() => { send.reset(); setValues(EMPTY); }}>{t("complaint.another")}</button>
      </div>
    );
  }

  return (
    <form className="card form" onSubmit={submit} noValidate aria-labelledby="complaint-form-title">
      <h2 id="complaint-form-title">{t("complaint.formTitle")}</h2>
      {Object.keys(errors).length > 0 && (
        <p role="alert" className="alert alert-error">{t("submit.fixErrors", { count: Object.keys(errors).length })}</p>
      )}
      <fieldset>
        <legend>{t("complaint.kind")}</legend>
        {(["suggestion", "complaint"] as const).map((kind) => (
          <label key={kind} className="inline">
            <input type="radio" name="kind" value={kind} checked={values.kind === kind} onChange={() => set("kind", kind)} />
            {t(`complaint.kinds.${kind}`)}
          </label>
        ))}
      </fieldset>
      <Field layout="stacked" id="complaint-procedure" label={t("complaint.procedure")} hint={t("complaint.procedureHint")}
        error={message("procedureCode")} required>
        {(props) => (
          <select {...props} value={values.procedureCode}
            onChange={(event) => setValues((current) => ({ ...current, procedureCode: event.target.value, agencyCode: "" }))}>
            <option value="">{t("complaint.chooseProcedure")}</option>
            {(procedures.data?.items ?? []).map((item) => (
              <option key={item.code} value={item.code}>{item.name}</option>
            ))}
          </select>
        )}
      </Field>
      <AgencySelect procedureCode={values.procedureCode} value={values.agencyCode} error={message("agencyCode")}
        onChange={(code) => set("agencyCode", code)} />
      <Field layout="stacked" id="complaint-dossier" label={t("complaint.dossierCode")} hint={t("complaint.dossierHint")}>
        {(props) => (
          <input {...props} value={values.dossierCode} maxLength={64} autoComplete="off"
            onChange={(event) => set("dossierCode", event.target.value)} />
        )}
      </Field>
      <Field layout="stacked" id="complaint-subject" label={t("complaint.subject")} error={message("subject")} required>
        {(props) => (
          <input {...props} value={values.subject} maxLength={300} onChange={(event) => set("subject", event.target.value)} />
        )}
      </Field>
      <Field layout="stacked" id="complaint-content" label={t("complaint.content")} error={message("content")} required>
        {(props) => (
          <textarea {...props} rows={5} maxLength={5000} value={values.content}
            onChange={(event) => set("content", event.target.value)} />
        )}
      </Field>
      <fieldset>
        <legend>{t("complaint.contact")}</legend>
        <p className="hint">{t("complaint.contactHint")}</p>
        <div className="form">
          <Field layout="stacked" id="complaint-name" label={t("complaint.name")}>
            {(props) => (
              <input {...props} value={values.name} maxLength={200} autoComplete="name"
                onChange={(event) => set("name", event.target.value)} />
            )}
          </Field>
          <Field layout="stacked" id="complaint-phone" label={t("submit.phone")} error={message("phone")}>
            {(props) => (
              <input {...props} type="tel" value={values.phone} maxLength={20} autoComplete="tel"
                onChange={(event) => set("phone", event.target.value)} />
            )}
          </Field>
          <Field layout="stacked" id="complaint-email" label={t("submit.email")} error={message("email")}>
            {(props) => (
              <input {...props} type="email" value={values.email} maxLength={254} autoComplete="email"
                onChange={(event) => set("email", event.target.value)} />
            )}
          </Field>
        </div>
      </fieldset>
      <ProblemAlert error={send.error} />
      <div className="actions">
        <button type="submit" className="primary" disabled={send.isPending}>{t("complaint.send")}</button>
      </div>
    </form>
  );
}

function ComplaintLookup() {
  const { t } = useTranslation("citizen");
  const [draft, setDraft] = useState("");
  const [code, setCode] = useState("");
  const found = useComplaint(code);
  const notFound = found.error instanceof ApiProblem && found.error.status === 404;

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setCode(draft.trim().toUpperCase());
  }

  return (
    <div className="card">
      <h2>{t("complaint.lookupTitle")}</h2>
      <form className="form" onSubmit={submit}>
        <Field layout="stacked" id="complaint-lookup" label={t("complaint.code")} required>
          {(props) => (
            <input {...props} value={draft} maxLength={32} autoComplete="off" spellCheck={false}
              onChange={(event) => setDraft(event.target.value)} />
          )}
        </Field>
        <div className="actions">
          <button type="submit">{t("complaint.lookup")}</button>
        </div>
      </form>
      {found.isFetching && <Loading />}
      {notFound && <p role="alert" className="alert alert-error">{t("complaint.notFound")}</p>}
      {found.error && !notFound && <ProblemAlert error={found.error} />}
      {found.data && (
        <dl className="citizen-facts" data-testid="complaint-found">
          <div><dt>{t("complaint.code")}</dt><dd>{found.data.code}</dd></div>
          <div><dt>{t("complaint.kind")}</dt><dd>{t(`complaint.kinds.${found.data.kind}`, { defaultValue: found.data.kind })}</dd></div>
          <div><dt>{t("complaint.subject")}</dt><dd>{found.data.subject}</dd></div>
          <div>
            <dt>{t("track.status")}</dt>
            <dd data-testid="complaint-status">{t(`complaint.status.${found.data.status}`, { defaultValue: found.data.status })}</dd>
          </div>
          <div><dt>{t("complaint.receivedAt")}</dt><dd>{formatDateTime(found.data.received_at)}</dd></div>
          {found.data.answer_due_at && (
            <div><dt>{t("complaint.answerDue")}</dt><dd>{formatDateTime(found.data.answer_due_at)}</dd></div>
          )}
          {found.data.answer && (
            <div className="wide"><dt>{t("complaint.answer")}</dt><dd>{found.data.answer}</dd></div>
          )}
          {found.data.answered_at && <div><dt>{t("complaint.answeredAt")}</dt><dd>{formatDateTime(found.data.answered_at)}</dd></div>}
        </dl>
      )}
    </div>
  );
}
