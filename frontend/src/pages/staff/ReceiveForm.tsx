import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useId, useState, type FormEvent, type MouseEvent } from "react";
import { flushSync } from "react-dom";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";

import { downloadFile, intake, unwrap } from "../../api/client";
import type { components } from "../../api/schema/intake";
import { useAuth } from "../../auth/AuthContext";
import { Loading, ProblemAlert } from "../../components/Status";
import { validEmail, validIdNumber, validPhone } from "../../components/validation";
import { formatDateTimeOrDash } from "../../components/format";
import { newIdempotencyKey } from "../../api/idempotency";
import { EMPTY_SPOT, OnTheSpotDone, OnTheSpotFields, spotErrors, type Resolved, type SpotDraft } from "./OnTheSpot";
import { dossierKeys } from "../../features/dossiers/api";
import { useProcedure, useProcedureList } from "../../features/procedures/api";
import { Field } from "../../components/Field";

type Counted = components["schemas"]["DossierOut"];
type DocForm = "original" | "copy" | "certified_copy" | "electronic";
type ReturnMethod = "counter" | "postal" | "online";

interface Applicant {
  full_name: string;
  id_number: string;
  phone: string;
  email: string;
  address: string;
}

interface DocumentLine {
  checked: boolean;
  copies: number;
  form: DocForm;
}

const EMPTY: Applicant = { full_name: "", id_number: "", phone: "", email: "", address: "" };
const FORMS: DocForm[] = ["original", "copy", "certified_copy", "electronic"];
type Errors = Partial<Record<keyof Applicant | "procedure" | "postal_address" | "contact", string>>;

/** "Công dân không viết": the officer fills the dossier in for the citizen, then prints the receipt. */
export function ReceiveForm() {
  const { t } = useTranslation("staff");
  const { session, hasRole } = useAuth();
  const queryClient = useQueryClient();
  const id = useId();
  const [search, setSearch] = useState("");
  const [procedureCode, setProcedureCode] = useState("");
  const [applicant, setApplicant] = useState<Applicant>(EMPTY);
  const [returnMethod, setReturnMethod] = useState<ReturnMethod>("counter");
  const [postalAddress, setPostalAddress] = useState("");
  const [language, setLanguage] = useState<"vi" | "en">("vi");
  const [documents, setDocuments] = useState<Record<string, DocumentLine>>({});
  const [errors, setErrors] = useState<Errors>({});
  const [idempotencyKey, setIdempotencyKey] = useState(newIdempotencyKey);
  const [created, setCreated] = useState<Counted | null>(null);
  const [spot, setSpot] = useState<SpotDraft>(EMPTY_SPOT);
  const [spotInvalid, setSpotInvalid] = useState<ReturnType<typeof spotErrors>>({});
  const [resolved, setResolved] = useState<Resolved | null>(null);

  const procedures = useProcedureList({ agency: session?.agencyCode, q: search.trim() || undefined, limit: 100 });
  const procedure = useProcedure(procedureCode);

  const counterBody = () => ({
    procedure_code: procedureCode,
    agency_code: null,
    pickup_by_post: false,
    language,
    applicant: {
      full_name: applicant.full_name.trim(),
      id_number: applicant.id_number.trim(),
      phone: applicant.phone.trim() || null,
      email: applicant.email.trim() || null,
      address: applicant.address.trim() || null,
    },
    return_method: returnMethod,
    postal_address: returnMethod === "postal" ? postalAddress.trim() : null,
    documents_received: Object.entries(documents)
      .filter(([, line]) => line.checked)
      .map(([code, line]) => ({ code, copies: line.copies, form: line.form })),
  });

  const submit = useMutation({
    mutationFn: async () =>
      unwrap(
        await intake.POST("/api/v1/counter/dossiers", {
          params: { header: { "Idempotency-Key": idempotencyKey } },
          body: counterBody(),
        }),
      ),
    onSuccess: (data) => {
      setCreated(data);
      void queryClient.invalidateQueries({ queryKey: dossierKeys.tasks() });
    },
  });

  // 4 tại chỗ: the same dossier, decided and (when approved) returned in this visit
  const resolve = useMutation({
    mutationFn: async () =>
      unwrap(
        await intake.POST("/api/v1/counter/dossiers/on-the-spot", {
          params: { header: { "Idempotency-Key": idempotencyKey } },
          body: {
            ...counterBody(),
            return_method: "counter",
            postal_address: null,
            decision: spot.decision,
            result_note: spot.decision === "approve" ? spot.resultNote.trim() : null,
            reasons: spot.decision === "refuse" ? [spot.reason.trim()] : null,
          },
        }),
      ),
    onSuccess: (data) => {
      setResolved(data);
      void queryClient.invalidateQueries({ queryKey: dossierKeys.tasks() });
    },
  });

  const receipt = useMutation({
    mutationFn: async (dossier: Counted) =>
      downloadFile("intake", `/api/v1/dossiers/${encodeURIComponent(dossier.code)}/forms/receipt.pdf`, `${dossier.code}-01.pdf`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ secret: dossier.secret }),
      }),
  });

  function clearError(...names: (keyof Errors)[]) {
    if (names.some((name) => errors[name])) {
      setErrors((previous) => {
        const next = { ...previous };
        for (const name of names) delete next[name];
        return next;
      });
    }
  }

  function chooseProcedure(code: string) {
    setProcedureCode(code);
    setDocuments({});
    setErrors((previous) => ({ ...previous, procedure: undefined }));
  }

  function validate(): Errors {
    const found: Errors = {};
    const name = applicant.full_name.trim();
    if (!procedureCode) found.procedure = t("validation.procedureRequired");
    if (name.length < 2) found.full_name = t("validation.nameRequired");
    else if (/\d/.test(name)) found.full_name = t("validation.nameDigits");
    if (!applicant.id_number.trim()) found.id_number = t("validation.idRequired");
    else if (!validIdNumber(applicant.id_number)) found.id_number = t("validation.idFormat");
    if (applicant.phone.trim() && !validPhone(applicant.phone)) found.phone = t("validation.phoneFormat");
    if (applicant.email.trim() && !validEmail(applicant.email)) found.email = t("validation.emailFormat");
    if (!applicant.phone.trim() && !applicant.email.trim()) found.contact = t("validation.contactRequired");
    if (applicant.address.length > 500) found.address = t("validation.addressLong");
    if (returnMethod === "postal" && postalAddress.trim().length < 10) found.postal_address = t("validation.postalAddress");
    return found;
  }

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const found = validate();
    setErrors(found);
    if (Object.values(found).some(Boolean)) {
      const first = event.currentTarget.querySelector<HTMLElement>("[aria-invalid='true']");
      first?.focus();
      return;
    }
    submit.mutate();
  }

  function resolveOnTheSpot(event: MouseEvent<HTMLButtonElement>) {
    const found = validate();
    if (returnMethod === "postal") delete found.postal_address; // handed over at the counter
    const missing = spotErrors(spot, t);
    const form = event.currentTarget.form;
    // rendered now, so the first invalid field carries aria-invalid and can take the focus
    flushSync(() => {
      setErrors(found);
      setSpotInvalid(missing);
    });
    if (Object.values(found).some(Boolean) || Object.values(missing).some(Boolean)) {
      form?.querySelector<HTMLElement>("[aria-invalid='true']")?.focus();
      return;
    }
    resolve.mutate();
  }

  function startOver() {
    setCreated(null);
    setResolved(null);
    setSpot(EMPTY_SPOT);
    setSpotInvalid({});
    resolve.reset();
    setApplicant(EMPTY);
    setPostalAddress("");
    setReturnMethod("counter");
    setLanguage("vi");
    setDocuments({});
    setIdempotencyKey(newIdempotencyKey());
    submit.reset();
    receipt.reset();
  }

  if (resolved) return <OnTheSpotDone resolved={resolved} onAnother={startOver} />;

  if (created) {
    return (
      <section className="card" aria-labelledby={`${id}-done`} data-testid="receipt">
        <h2 id={`${id}-done`}>{t("receive.done")}</h2>
        <div className="alert alert-ok" role="status">{t("receive.doneHint")}</div>
        <dl className="facts">
          <dt>{t("dossier.code")}</dt>
          <dd data-testid="dossier-code">{created.code}</dd>
          <dt>{t("receive.secret")}</dt>
          <dd data-testid="dossier-secret"><strong>{created.secret}</strong></dd>
          <dt>{t("dossier.receivedAt")}</dt>
          <dd>{formatDateTimeOrDash(created.received_at)}</dd>
          <dt>{t("receive.appointment")}</dt>
          <dd data-testid="appointment">{formatDateTimeOrDash(created.due_at)}</dd>
        </dl>
        <ProblemAlert error={receipt.error} />
        <div className="actions">
          <button type="button" className="primary" onClick={() => receipt.mutate(created)} disabled={receipt.isPending}>
            {t("receive.printReceipt")}
          </button>
          <Link to={`/can-bo/ho-so/${encodeURIComponent(created.code)}`}>{t("receive.openDossier")}</Link>
          <button type="button" onClick={startOver}>{t("receive.another")}</button>
        </div>
        {receipt.isSuccess && <p role="status" className="muted">{t("receive.receiptReady")}</p>}
      </section>
    );
  }

  const detail = procedure.data;
  // offered for a "4 tại chỗ" procedure to a counter officer holding the delegation (the server checks both)
  const spotOffered = !!detail?.on_the_spot && hasRole("on_the_spot");
  const field = (name: keyof Applicant, label: string, options: { required?: boolean; type?: string; autoComplete?: string; hint?: string } = {}) => {
    const error = errors[name];
    // the hint gives way to the error message
    return (
      <Field id={`${id}-${name}`} label={label} error={error} hint={error ? undefined : options.hint} required={options.required}>
        {(control) => (
          <input
            {...control}
            name={name}
            type={options.type ?? "text"}
            value={applicant[name]}
            autoComplete={options.autoComplete ?? "off"}
            onChange={(event) => {
              setApplicant((previous) => ({ ...previous, [name]: event.target.value }));
              clearError(name, ...(name === "phone" || name === "email" ? (["contact"] as const) : []));
            }}
          />
        )}
      </Field>
    );
  };

  return (
    <form className="form card" onSubmit={onSubmit} noValidate aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>{t("receive.title")}</h2>
      <p className="muted">{t("receive.intro")}</p>
      <fieldset>
        <legend>{t("receive.procedure")}</legend>
        <div className="form">
          <label>
            {t("receive.searchProcedure")}
            <input type="search" value={search} onChange={(event) => setSearch(event.target.value)} />
          </label>
          <Field id={`${id}-procedure`} label={t("receive.chooseProcedure")} required error={errors.procedure}>
            {(control) => (
              <select {...control} name="procedure" value={procedureCode} onChange={(event) => chooseProcedure(event.target.value)}>
                <option value="">{t("receive.pickOne")}</option>
                {procedureCode && !procedures.data?.items.some((item) => item.code === procedureCode) && detail && (
                  <option value={detail.code}>{detail.name}</option>
                )}
                {procedures.data?.items.map((item) => (
                  <option key={item.code} value={item.code}>
                    {item.name} ({item.code})
                  </option>
                ))}
              </select>
            )}
          </Field>
          {procedures.isLoading && <Loading />}
          <ProblemAlert error={procedures.error} />
          {detail && (
            <p className="muted" data-testid="procedure-facts">
              {t("receive.limit", { value: detail.time_limit.value, unit: t(`units.${detail.time_limit.unit}`) })}
              {" · "}
              {t("receive.fee", { fee: detail.fee_vnd.toLocaleString("vi-VN") })}
            </p>
          )}
        </div>
      </fieldset>

      <fieldset>
        <legend>{t("receive.applicant")}</legend>
        <div className="form">
          {field("full_name", t("applicant.fullName"), { required: true, autoComplete: "off" })}
          {field("id_number", t("applicant.idNumber"), { required: true, hint: t("applicant.idHint") })}
          {field("phone", t("applicant.phone"), { type: "tel", hint: t("applicant.phoneHint") })}
          {field("email", t("applicant.email"), { type: "email" })}
          {errors.contact && <p className="field-error" role="alert">{errors.contact}</p>}
          {field("address", t("applicant.address"))}
          <label>
            {t("applicant.language")}
            <select value={language} onChange={(event) => setLanguage(event.target.value as "vi" | "en")}>
              <option value="vi">{t("applicant.languages.vi")}</option>
              <option value="en">{t("applicant.languages.en")}</option>
            </select>
          </label>
        </div>
      </fieldset>

      {detail && (
        <fieldset>
          <legend>{t("receive.documents")}</legend>
          {detail.required_documents.length === 0 && <p className="muted">{t("receive.noDocuments")}</p>}
          <ul className="checklist">
            {detail.required_documents.map((doc) => {
              const line = documents[doc.code] ?? { checked: false, copies: 1, form: "copy" as DocForm };
              const update = (patch: Partial<DocumentLine>) =>
                setDocuments((previous) => ({ ...previous, [doc.code]: { ...line, ...patch } }));
              return (
                <li key={doc.code}>
                  <label className="inline">
                    <input type="checkbox" checked={line.checked} onChange={(event) => update({ checked: event.target.checked })} />
                    <span>
                      {doc.code}. {doc.name}
                      {doc.mandatory ? ` (${t("receive.mandatory")})` : ""}
                    </span>
                  </label>
                  {line.checked && (
                    <span className="doc-details">
                      <label className="inline">
                        {t("receive.copies")}
                        <input
                          type="number"
                          min={1}
                          max={100}
                          value={line.copies}
                          onChange={(event) => update({ copies: Math.min(100, Math.max(1, Number(event.target.value) || 1)) })}
                        />
                      </label>
                      <label className="inline">
                        {t("receive.form")}
                        <select value={line.form} onChange={(event) => update({ form: event.target.value as DocForm })}>
                          {FORMS.map((form) => (
                            <option key={form} value={form}>{t(`docForms.${form}`)}</option>
                          ))}
                        </select>
                      </label>
                    </span>
                  )}
                </li>
              );
            })}
          </ul>
          {detail.required_documents.some((doc) => doc.mandatory && !documents[doc.code]?.checked) && (
            <p className="muted" role="note">{t("receive.missingMandatory")}</p>
          )}
        </fieldset>
      )}

      <fieldset>
        <legend>{t("receive.returnMethod")}</legend>
        <div className="form">
          {(["counter", "postal", "online"] as ReturnMethod[]).map((method) => (
            <label key={method} className="inline">
              <input
                type="radio"
                name="return_method"
                value={method}
                checked={returnMethod === method}
                disabled={method === "postal" && detail !== undefined && !detail.postal_return}
                onChange={() => setReturnMethod(method)}
              />
              {t(`returnMethods.${method}`)}
            </label>
          ))}
          {returnMethod === "postal" && (
            <Field id={`${id}-postal`} label={t("applicant.postalAddress")} required error={errors.postal_address}>
              {(control) => (
                <input
                  {...control}
                  name="postal_address"
                  value={postalAddress}
                  onChange={(event) => {
                    setPostalAddress(event.target.value);
                    clearError("postal_address");
                  }}
                />
              )}
            </Field>
          )}
        </div>
      </fieldset>

      {spotOffered && (
        <OnTheSpotFields
          draft={spot}
          errors={spotInvalid}
          onChange={(draft) => {
            setSpot(draft);
            setSpotInvalid({});
          }}
        />
      )}

      <ProblemAlert error={submit.error} />
      <ProblemAlert error={resolve.error} />
      <div className="actions">
        {spotOffered && (
          <button type="button" className="primary" onClick={resolveOnTheSpot} disabled={resolve.isPending || submit.isPending}>
            {resolve.isPending ? t("common.sending") : t("onTheSpot.submit")}
          </button>
        )}
        <button type="submit" className={spotOffered ? undefined : "primary"} disabled={submit.isPending || resolve.isPending}>
          {submit.isPending ? t("common.sending") : t("receive.submit")}
        </button>
      </div>
    </form>
  );
}
