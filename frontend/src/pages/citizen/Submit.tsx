import { useMutation } from "@tanstack/react-query";
import { useRef, useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { Link, useParams } from "react-router";

import { intake, unwrap } from "../../api/client";
import type { components } from "../../api/schema/intake";
import { fieldErrors } from "../../components/problems";
import { Loading, PageTitle, ProblemAlert } from "../../components/Status";
import { FileInput } from "../../components/FileInput";
import { vnd, type DossierOut, type ProcedureDetail } from "./format";
import { formatDateTime } from "../../components/format";
import { Checkbox, Field } from "../../components/Field";
import { newIdempotencyKey } from "../../api/idempotency";
import { SecretBox } from "./SecretBox";
import { ACCEPT, MAX_FILE_BYTES, compactPhone, validEmail, validIdNumber, validName, validPhone } from "../../components/validation";
import { useProcedure } from "../../features/procedures/api";
import { ProcedureNotFound } from "../../features/procedures/components/ProcedureNotFound";
import { useCitizen, useStoredDocuments, type CitizenProfile } from "../../features/citizen-account/api";

type SubmissionIn = components["schemas"]["SubmissionIn"];
type CitizenSubmissionIn = components["schemas"]["CitizenSubmissionIn"];
type Reused = Record<string, string | undefined>; // document code → the id of an earlier dossier's document

interface Values {
  agencyCode: string;
  fullName: string;
  idNumber: string;
  phone: string;
  email: string;
  address: string;
  returnMethod: "counter" | "postal" | "online";
  pickupByPost: boolean;
  postalAddress: string;
  language: "vi" | "en";
}

const EMPTY: Values = {
  agencyCode: "",
  fullName: "",
  idNumber: "",
  phone: "",
  email: "",
  address: "",
  returnMethod: "counter",
  pickupByPost: false,
  postalAddress: "",
  language: "vi",
};

type Errors = Partial<Record<keyof Values | `file:${string}` | "contact" | "consent", string>>;

// where the API names a field (its JSON path in SubmissionIn), and which input that is
const SERVER_FIELDS: Partial<Record<keyof Values, string>> = {
  agencyCode: "agency_code",
  fullName: "applicant.full_name",
  idNumber: "applicant.id_number",
  phone: "applicant.phone",
  email: "applicant.email",
  address: "applicant.address",
  postalAddress: "postal_address",
};

function validate(
  values: Values, files: Record<string, File | undefined>, procedure: ProcedureDetail, receiving: number, reused: Reused,
  consent: boolean,
): Errors {
  const errors: Errors = {};
  if (receiving > 1 && !values.agencyCode) errors.agencyCode = "errors.agencyRequired";
  if (!values.fullName.trim()) errors.fullName = "errors.required";
  else if (!validName(values.fullName)) errors.fullName = "errors.name";
  if (!values.idNumber.trim()) errors.idNumber = "errors.required";
  else if (!validIdNumber(values.idNumber)) errors.idNumber = "errors.idNumber";
  if (values.phone.trim() && !validPhone(values.phone)) errors.phone = "errors.phone";
  if (values.email.trim() && !validEmail(values.email)) errors.email = "errors.email";
  if (!values.phone.trim() && !values.email.trim()) errors.contact = "errors.contact";
  if (values.address.length > 500) errors.address = "errors.tooLong";
  const byPost = values.returnMethod === "postal" || values.pickupByPost;
  if (byPost && values.postalAddress.trim().length < 10) errors.postalAddress = "errors.postalAddress";
  for (const document of procedure.required_documents) {
    const file = files[document.code];
    if (document.mandatory && !file && !reused[document.code]) errors[`file:${document.code}`] = "errors.fileRequired";
    else if (file && file.size > MAX_FILE_BYTES) errors[`file:${document.code}`] = "errors.fileTooLarge";
  }
  if (Object.values(reused).some(Boolean) && !consent) errors.consent = "account.consentRequired";
  return errors;
}

/** A signed-in citizen's filing: the identity is the session's (not sent), documents may be reused. */
function citizenBody(values: Values, procedureCode: string, reused: Reused, consent: boolean): CitizenSubmissionIn {
  const { applicant, ...rest } = body(values, procedureCode);
  const reuse = Object.entries(reused).flatMap(([code, id]) => (id ? [{ document_id: id, code }] : []));
  return {
    ...rest,
    contact: { phone: applicant.phone, email: applicant.email, address: applicant.address },
    reuse,
    reuse_consent: reuse.length > 0 && consent,
  };
}

function body(values: Values, procedureCode: string): SubmissionIn {
  const byPost = values.returnMethod === "postal" || values.pickupByPost;
  return {
    procedure_code: procedureCode,
    agency_code: values.agencyCode || null,
    applicant: {
      full_name: values.fullName.trim(),
      id_number: values.idNumber.trim(),
      phone: values.phone.trim() ? compactPhone(values.phone) : null,
      email: values.email.trim() || null,
      address: values.address.trim() || null,
    },
    return_method: values.returnMethod,
    pickup_by_post: values.pickupByPost,
    postal_address: byPost ? values.postalAddress.trim() : null,
    language: values.language,
  };
}

export function Submit() {
  const { code = "" } = useParams();
  const procedure = useProcedure(code, { staleTime: 5 * 60_000 });

  if (procedure.isPending) return <Loading />;
  if (!procedure.data) {
    return <ProcedureNotFound error={procedure.error} />;
  }
  return <SubmitForm procedure={procedure.data} />;
}

function SubmitForm({ procedure }: { procedure: ProcedureDetail }) {
  const { t, i18n } = useTranslation("citizen");
  // messages about the dossier come in the language the citizen is using now, unless changed below
  const [values, setValues] = useState<Values>({ ...EMPTY, language: i18n.language === "en" ? "en" : "vi" });
  const [files, setFiles] = useState<Record<string, File | undefined>>({});
  const [errors, setErrors] = useState<Errors>({});
  const key = useRef(newIdempotencyKey());
  const summary = useRef<HTMLDivElement>(null);
  const formRef = useRef<HTMLFormElement>(null);
  const receiving = procedure.agencies.filter((agency) => agency.role === "receiving");
  const account = useCitizen().data ?? null;
  const stored = useStoredDocuments(Boolean(account)).data ?? [];
  const [reused, setReused] = useState<Reused>({});
  const [consent, setConsent] = useState(false);
  const [prefilled, setPrefilled] = useState<CitizenProfile | null>(null);
  if (account && prefilled !== account) {
    // "công dân không viết": the identity the provider vouched for, and its contacts where the form is empty
    setPrefilled(account);
    setValues((current) => ({
      ...current,
      fullName: account.full_name,
      idNumber: account.id_number,
      phone: current.phone || account.phone || "",
      email: current.email || account.email || "",
      address: current.address || account.address || "",
    }));
  }

  const serialize = (json: unknown) => {
    const form = new FormData();
    form.append("data", JSON.stringify(json));
    for (const [documentCode, file] of Object.entries(files)) {
      if (file) form.append(documentCode, file, file.name);
    }
    return form;
  };
  const submit = useMutation({
    mutationFn: async (data: Values) => {
      const headers = { "Idempotency-Key": key.current };
      if (account) {
        const sent = citizenBody(data, procedure.code, reused, consent);
        return unwrap(
          await intake.POST("/api/v1/citizen/submissions", { body: sent, headers, bodySerializer: serialize }),
        ) as DossierOut;
      }
      const sent = body(data, procedure.code);
      return unwrap(await intake.POST("/api/v1/dossiers", { body: sent, headers, bodySerializer: serialize })) as DossierOut;
    },
  });

  function set<K extends keyof Values>(name: K, value: Values[K]) {
    setValues((current) => ({ ...current, [name]: value }));
  }

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const found = validate(values, files, procedure, receiving.length, reused, consent);
    setErrors(found);
    if (Object.keys(found).length > 0) {
      // take the keyboard to the first field to fix (the alert above announces how many)
      requestAnimationFrame(() => {
        const first = formRef.current?.querySelector<HTMLElement>('[aria-invalid="true"]');
        (first ?? summary.current)?.focus();
      });
      return;
    }
    submit.mutate(values);
  }

  if (procedure.online_mode === "none") {
    return (
      <section className="citizen">
        <PageTitle>{procedure.name}</PageTitle>
        <p className="alert alert-info">{t("procedure.counterOnly")}</p>
      </section>
    );
  }

  if (submit.data) return <Submitted dossier={submit.data} procedure={procedure} />;

  // the client's own checks first; then what the API said about that field (422), already translated
  const server = fieldErrors(submit.error);
  const message = (name: keyof Errors) => {
    if (errors[name]) return t(errors[name] as string);
    const path = SERVER_FIELDS[name as keyof Values];
    // a signed-in citizen's filing names the contact fields under `contact` (their identity is not sent)
    return path ? server[account ? path.replace(/^applicant\./, "contact.") : path] : undefined;
  };
  const errorCount = Object.keys(errors).length;
  const byPost = values.returnMethod === "postal" || values.pickupByPost;

  return (
    <section className="citizen">
      <p className="breadcrumb">
        <Link to={`/thu-tuc/${encodeURIComponent(procedure.code)}`}>{t("submit.backToProcedure")}</Link>
      </p>
      <PageTitle>{t("submit.title")}</PageTitle>
      <p className="lead">{procedure.name}</p>
      <p className="muted">{t("submit.requiredNote")}</p>

      <div ref={summary} tabIndex={-1}>
        {errorCount > 0 && (
          <div role="alert" className="alert alert-error" data-testid="form-errors">
            <strong>{t("submit.fixErrors", { count: errorCount })}</strong>
            {errors.contact && <p>{t(errors.contact)}</p>}
          </div>
        )}
        {submit.error && <ProblemAlert error={submit.error} />}
      </div>

      <form ref={formRef} className="form card" onSubmit={onSubmit} noValidate>
        {receiving.length > 1 && (
          <Field layout="stacked" id="agency" label={t("submit.agency")} error={message("agencyCode")} required>
            {(props) => (
              <select {...props} value={values.agencyCode} onChange={(event) => set("agencyCode", event.target.value)}>
                <option value="">{t("submit.chooseAgency")}</option>
                {receiving.map((agency) => (
                  <option key={agency.code} value={agency.code}>{agency.name}</option>
                ))}
              </select>
            )}
          </Field>
        )}
        {receiving.length === 1 && (
          <p><strong>{t("submit.agency")}:</strong> {receiving[0].name}</p>
        )}

        <fieldset>
          <legend>{t("submit.applicant")}</legend>
          {account && <p className="alert alert-info" data-testid="identity-from-account">{t("account.fromAccount")}</p>}
          <div className="form">
            <Field layout="stacked" id="full-name" label={t("submit.fullName")} error={message("fullName")} required>
              {(props) => (
                <input {...props} autoComplete="name" maxLength={200} value={values.fullName} readOnly={Boolean(account)}
                  onChange={(event) => set("fullName", event.target.value)} />
              )}
            </Field>
            <Field layout="stacked" id="id-number" label={t("submit.idNumber")} hint={t("submit.idNumberHint")}
              error={message("idNumber")} required>
              {(props) => (
                <input {...props} inputMode="numeric" autoComplete="off" maxLength={14} value={values.idNumber}
                  readOnly={Boolean(account)} onChange={(event) => set("idNumber", event.target.value)} />
              )}
            </Field>
            <p className="hint">{t("submit.contactHint")}</p>
            <Field layout="stacked" id="phone" label={t("submit.phone")} hint={t("submit.phoneHint")} error={message("phone")}>
              {(props) => (
                <input {...props} type="tel" autoComplete="tel" maxLength={20} value={values.phone}
                  onChange={(event) => set("phone", event.target.value)} />
              )}
            </Field>
            <Field layout="stacked" id="email" label={t("submit.email")} error={message("email")}>
              {(props) => (
                <input {...props} type="email" autoComplete="email" maxLength={254} value={values.email}
                  onChange={(event) => set("email", event.target.value)} />
              )}
            </Field>
            <Field layout="stacked" id="address" label={t("submit.address")} error={message("address")}>
              {(props) => (
                <input {...props} autoComplete="street-address" maxLength={500} value={values.address}
                  onChange={(event) => set("address", event.target.value)} />
              )}
            </Field>
          </div>
        </fieldset>

        <fieldset>
          <legend>{t("submit.documents")}</legend>
          <p className="hint">{t("submit.documentsHint")}</p>
          {procedure.required_documents.length === 0 && <p>{t("procedure.noDocuments")}</p>}
          <div className="form">
            {procedure.required_documents.map((document) => (
              <Field
                layout="stacked"
                key={document.code}
                id={`file-${document.code}`}
                label={`${document.name}${document.mandatory ? "" : ` (${t("procedure.optional")})`}`}
                error={message(`file:${document.code}`)}
                hint={files[document.code] ? t("submit.chosen", { name: files[document.code]?.name }) : undefined}
                required={document.mandatory}
              >
                {(props) => (
                  <FileInput
                    {...props}
                    accept={ACCEPT}
                    data-document={document.code}
                    onFiles={(chosen) => setFiles((current) => ({ ...current, [document.code]: chosen[0] }))}
                  />
                )}
              </Field>
            ))}
            {account && stored.length > 0 && procedure.required_documents.map((document) => (
              <Field layout="stacked" key={`reuse-${document.code}`} id={`reuse-${document.code}`}
                label={`${t("account.reuse")}: ${document.name}`}>
                {(props) => (
                  <select {...props} data-reuse={document.code} value={reused[document.code] ?? ""}
                    onChange={(event) => setReused((current) => ({ ...current, [document.code]: event.target.value || undefined }))}>
                    <option value="">{t("account.reuseNone")}</option>
                    {stored.map((item) => (
                      <option key={item.id} value={item.id}>
                        {t("account.reuseOption", { file: item.filename, code: item.dossier_code })}
                      </option>
                    ))}
                  </select>
                )}
              </Field>
            ))}
            {Object.values(reused).some(Boolean) && (
              <>
                <Checkbox label={t("account.consent")} checked={consent} onChange={setConsent} />
                {errors.consent && <p className="field-error" role="alert">{t(errors.consent)}</p>}
              </>
            )}
          </div>
        </fieldset>

        <fieldset>
          <legend>{t("submit.returnMethod")}</legend>
          <label className="inline">
            <input type="radio" name="return-method" value="counter" checked={values.returnMethod === "counter"}
              onChange={() => set("returnMethod", "counter")} />
            {t("submit.returnCounter")}
          </label>
          <label className="inline">
            <input type="radio" name="return-method" value="postal" checked={values.returnMethod === "postal"}
              disabled={!procedure.postal_return} onChange={() => set("returnMethod", "postal")} />
            {t("submit.returnPostal")}
            {!procedure.postal_return && ` (${t("submit.notForThisProcedure")})`}
          </label>
          <label className="inline">
            <input type="radio" name="return-method" value="online" checked={values.returnMethod === "online"}
              onChange={() => set("returnMethod", "online")} />
            {t("submit.returnOnline")}
          </label>
          {procedure.postal_submission && (
            <Checkbox className="inline" label={t("submit.pickupByPost")} checked={values.pickupByPost} onChange={(checked) => set("pickupByPost", checked)} />
          )}
          {byPost && (
            <Field layout="stacked" id="postal-address" label={t("submit.postalAddress")} error={message("postalAddress")} required>
              {(props) => (
                <textarea {...props} rows={2} maxLength={500} value={values.postalAddress}
                  onChange={(event) => set("postalAddress", event.target.value)} />
              )}
            </Field>
          )}
        </fieldset>

        <Field layout="stacked" id="notify-language" label={t("submit.notifyLanguage")} hint={t("submit.notifyNote")}>
          {(props) => (
            <select {...props} value={values.language}
              onChange={(event) => set("language", event.target.value === "en" ? "en" : "vi")}>
              <option value="vi">{t("submit.languages.vi")}</option>
              <option value="en">{t("submit.languages.en")}</option>
            </select>
          )}
        </Field>
        <div className="actions">
          <button type="submit" className="primary" disabled={submit.isPending}>
            {submit.isPending ? t("submit.sending") : t("submit.send")}
          </button>
        </div>
      </form>
    </section>
  );
}

function Submitted({ dossier, procedure }: { dossier: DossierOut; procedure: ProcedureDetail }) {
  const { t } = useTranslation("citizen");
  const hasFee = procedure.fee_vnd > 0 || !procedure.fee_complete;
  return (
    <section className="citizen">
      <PageTitle>{t("submitted.title")}</PageTitle>
      <div className="alert alert-ok" role="status">
        <p>{t("submitted.intro", { procedure: procedure.name })}</p>
      </div>
      <SecretBox code={dossier.code} secret={dossier.secret ?? ""} />
      <dl className="citizen-facts card">
        <div><dt>{t("track.status")}</dt><dd>{t(`status.${dossier.status}`, { defaultValue: dossier.status_label })}</dd></div>
        {dossier.submitted_at && <div><dt>{t("submitted.submittedAt")}</dt><dd>{formatDateTime(dossier.submitted_at)}</dd></div>}
        <div><dt>{t("submitted.documents")}</dt><dd>{t("submitted.fileCount", { count: dossier.documents?.length ?? 0 })}</dd></div>
      </dl>
      <p>{t("submitted.next")}</p>
      {hasFee && (
        <div className="card">
          <h2>{t("submitted.feeTitle")}</h2>
          <p>
            {procedure.fee_vnd > 0
              ? t("submitted.feeText", { amount: vnd(procedure.fee_vnd) })
              : t("submitted.feeProvince")}
          </p>
        </div>
      )}
      <div className="actions">
        <Link className="button primary" to={`/tra-cuu/${encodeURIComponent(dossier.code)}`} state={{ secret: dossier.secret }}>
          {t("submitted.trackNow")}
        </Link>
        <Link className="button" to="/thu-tuc">{t("submitted.another")}</Link>
      </div>
    </section>
  );
}
