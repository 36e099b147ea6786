import { useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { useParams } from "react-router";

import { ApiProblem } from "../../api/client";
import { Field } from "../../components/Field";
import { FileInput } from "../../components/FileInput";
import { formatDateTime } from "../../components/format";
import { Loading, PageTitle, ProblemAlert } from "../../components/Status";
import { MAX_FILE_BYTES } from "../../components/validation";
import {
  useIssuedDocument,
  useVerifyPdf,
  type CheckedSignature,
  type IssuedDocument,
  type Verification,
} from "../../features/signatures/api";

/** /kiem-tra-chu-ky and /kiem-tra-chu-ky/:id (the receipt's QR code): check a signed PDF. */
export function VerifySignature() {
  const { t } = useTranslation("citizen");
  const { id } = useParams();
  const issued = useIssuedDocument(id);
  const verify = useVerifyPdf();
  const [file, setFile] = useState<File>();
  const [error, setError] = useState<string>();

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (!file) return setError("errors.fileRequired");
    if (file.size > MAX_FILE_BYTES) return setError("errors.fileTooLarge");
    setError(undefined);
    verify.mutate(file);
  }

  const unknownId = issued.error instanceof ApiProblem && issued.error.status === 404;
  return (
    <section className="citizen narrow-page">
      <PageTitle>{t("verify.title")}</PageTitle>
      <p>{t("verify.intro")}</p>
      {id && issued.isLoading && <Loading />}
      {unknownId && <p role="alert" className="alert alert-error">{t("verify.unknownId")}</p>}
      {issued.error && !unknownId && <ProblemAlert error={issued.error} />}
      {issued.data && <IssuedCard document={issued.data} />}
      <form className="form card" onSubmit={submit} noValidate aria-labelledby="verify-upload">
        <h2 id="verify-upload">{t("verify.uploadTitle")}</h2>
        <Field layout="stacked" id="verify-file" label={t("verify.file")} hint={t("verify.fileHint")}
          error={error && t(error)} required>
          {(props) => <FileInput {...props} accept="application/pdf,.pdf" onFiles={(files) => setFile(files[0])} />}
        </Field>
        <ProblemAlert error={verify.error} />
        <div className="actions">
          <button type="submit" className="primary" disabled={verify.isPending}>{t("verify.submit")}</button>
        </div>
      </form>
      {verify.data && <Verdict result={verify.data} expected={issued.data} />}
    </section>
  );
}

function IssuedCard({ document }: { document: IssuedDocument }) {
  const { t } = useTranslation("citizen");
  return (
    <div className="card" data-testid="issued-document">
      <h2>{t("verify.issuedTitle")}</h2>
      {document.demo && <p className="alert alert-demo">{t("verify.demo")}</p>}
      <dl className="citizen-facts">
        <dt>{t("verify.kind")}</dt><dd>{t(`verify.kinds.${document.kind}`)}</dd>
        <dt>{t("verify.dossier")}</dt><dd>{document.dossier_code}</dd>
        <dt>{t("verify.agency")}</dt><dd>{document.agency_name}</dd>
        <dt>{t("verify.signedAt")}</dt><dd>{formatDateTime(document.signed_at)}</dd>
      </dl>
      <p>{t("verify.issuedHint")}</p>
    </div>
  );
}

function Verdict({ result, expected }: { result: Verification; expected?: IssuedDocument }) {
  const { t } = useTranslation("citizen");
  const headline = !result.readable ? "verify.unreadable" : !result.signed ? "verify.unsigned" : result.valid ? "verify.valid" : "verify.invalid";
  const otherDocument = expected && result.valid && !result.signatures.some((s) => s.issued?.id === expected.id);
  return (
    <div className="card" data-testid="verdict" aria-live="polite">
      <h2>{t("verify.resultTitle")}</h2>
      <p role="status" className={`alert ${result.valid ? "alert-ok" : "alert-error"}`} data-testid="verdict-headline">
        <strong>{t(headline)}</strong>
      </p>
      {otherDocument && <p className="alert alert-demo">{t("verify.otherDocument")}</p>}
      {result.signatures.map((signature, index) => <SignatureFacts key={index} signature={signature} />)}
    </div>
  );
}

function yesNo(value: boolean, t: (key: string) => string, yes: string, no: string) {
  return <span className={value ? "ok" : "bad"}>{t(value ? yes : no)}</span>;
}

function SignatureFacts({ signature }: { signature: CheckedSignature }) {
  const { t } = useTranslation("citizen");
  const issued = signature.issued;
  return (
    <section aria-label={t("verify.signature")}>
      {signature.demo && <p className="alert alert-demo">{t("verify.demo")}</p>}
      <dl className="citizen-facts">
        <dt>{t("verify.agency")}</dt><dd>{issued?.agency_name ?? signature.signer_organization ?? "—"}</dd>
        <dt>{t("verify.signer")}</dt><dd>{signature.signer}</dd>
        <dt>{t("verify.issuer")}</dt><dd>{signature.issuer}</dd>
        <dt>{t("verify.signedAt")}</dt><dd>{formatDateTime(signature.timestamp_at ?? signature.signed_at)}</dd>
        {issued && (<><dt>{t("verify.dossier")}</dt><dd>{issued.dossier_code}</dd></>)}
        {issued && (<><dt>{t("verify.kind")}</dt><dd>{t(`verify.kinds.${issued.kind}`)}</dd></>)}
        <dt>{t("verify.integrity")}</dt>
        <dd>{yesNo(signature.intact && signature.valid, t, "verify.intact", "verify.broken")}</dd>
        <dt>{t("verify.changes")}</dt>
        <dd>{yesNo(signature.unchanged, t, "verify.unchanged", "verify.changed")}</dd>
        <dt>{t("verify.trust")}</dt>
        <dd>{yesNo(signature.trusted, t, "verify.trusted", "verify.untrusted")}</dd>
      </dl>
    </section>
  );
}
