import { useTranslation } from "react-i18next";
import { Link, useParams, useSearchParams } from "react-router";

import { ApiProblem } from "../../api/client";
import { formatDateTime, fileSize } from "../../components/format";
import { noteText } from "../../components/labels";
import { Empty, Loading, PageTitle, ProblemAlert } from "../../components/Status";
import { TableHead, TableWrap } from "../../components/TableWrap";
import { Timeline, TimelineAt } from "../../components/Timeline";
import {
  accountKeys,
  signInUrl,
  useCitizen,
  useMyDossier,
  useMyDossiers,
  useSignOut,
  type StoredDocument,
} from "../../features/citizen-account/api";
import { ResultDownloads } from "./ResultDownloads";

const SIGN_IN_ERRORS = new Set([
  "oidc_state_mismatch", "oidc_flow_missing", "oidc_denied", "oidc_exchange_failed", "oidc_id_token_invalid",
  "oidc_identity_missing", "oidc_unavailable",
]);

/** "Hồ sơ của tôi": sign in with the identity provider, then every dossier in the citizen's name. */
export function MyDossiers() {
  const { t } = useTranslation("citizen");
  const [query] = useSearchParams();
  const citizen = useCitizen();
  const dossiers = useMyDossiers(Boolean(citizen.data));
  const signOut = useSignOut();
  const refused = query.get("loi");

  if (citizen.isPending) return <Loading />;
  return (
    <section className="citizen">
      <PageTitle>{t("account.title")}</PageTitle>
      {refused && (
        <p role="alert" className="alert alert-error" data-testid="sign-in-error">
          {t(SIGN_IN_ERRORS.has(refused) ? `account.errors.${refused}` : "account.errors.oidc_exchange_failed")}
        </p>
      )}
      {citizen.error && <ProblemAlert error={citizen.error} />}
      {!citizen.data && (
        <div className="card">
          <p>{t("account.intro")}</p>
          <p><a className="button primary" href={signInUrl()}>{t("account.signIn")}</a></p>
        </div>
      )}
      {citizen.data && (
        <>
          <div className="card">
            <p className="lead" data-testid="citizen-name">{t("account.hello", { name: citizen.data.full_name })}</p>
            <button type="button" onClick={() => signOut.mutate()} disabled={signOut.isPending}>
              {t("account.signOut")}
            </button>
          </div>
          <h2>{t("account.dossiers")}</h2>
          {dossiers.isPending && <Loading />}
          {dossiers.error && <ProblemAlert error={dossiers.error} />}
          {dossiers.data && dossiers.data.items.length === 0 && <Empty>{t("account.none")}</Empty>}
          {dossiers.data && dossiers.data.items.length > 0 && (
            <TableWrap label={t("account.dossiers")} className="card">
              <table data-testid="my-dossiers">
                <TableHead columns={[t("account.code"), t("account.procedure"), t("account.status"),
                  t("account.submittedAt"), t("account.dueAt")]} />
                <tbody>
                  {dossiers.data.items.map((item) => (
                    <tr key={item.code}>
                      <td><Link to={`/ho-so-cua-toi/${encodeURIComponent(item.code)}`}>{item.code}</Link></td>
                      <td>{item.procedure_name}</td>
                      <td>{t(`status.${item.status}`, { defaultValue: item.status_label })}</td>
                      <td>{formatDateTime(item.submitted_at)}</td>
                      <td>{item.due_at ? formatDateTime(item.due_at) : "—"}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableWrap>
          )}
        </>
      )}
    </section>
  );
}

/** One of the citizen's dossiers: where it is and its files, no secret asked. */
export function MyDossierPage() {
  const { t } = useTranslation("citizen");
  const { code = "" } = useParams();
  const dossier = useMyDossier(code);
  const signedOut = dossier.error instanceof ApiProblem && dossier.error.status === 401;
  return (
    <section className="citizen">
      <p className="breadcrumb"><Link to="/ho-so-cua-toi">{t("account.back")}</Link></p>
      <PageTitle>{t("track.dossierTitle", { code })}</PageTitle>
      {dossier.isPending && <Loading />}
      {signedOut && <p><a className="button primary" href={signInUrl(`/ho-so-cua-toi/${code}`)}>{t("account.signIn")}</a></p>}
      {dossier.error && !signedOut && <ProblemAlert error={dossier.error} />}
      {dossier.data && (
        <>
          <div className="card" data-testid="tracking">
            <p>
              <span className="badge badge-neutral" data-testid="status-label">
                {t(`status.${dossier.data.status}`, { defaultValue: dossier.data.status_label })}
              </span>
            </p>
            <dl className="citizen-facts">
              <div><dt>{t("track.procedure")}</dt><dd>{dossier.data.procedure_name}</dd></div>
              <div><dt>{t("track.agency")}</dt><dd>{dossier.data.agency_name}</dd></div>
              {dossier.data.due_at && <div><dt>{t("track.appointment")}</dt><dd>{formatDateTime(dossier.data.due_at)}</dd></div>}
            </dl>
          </div>
          {(dossier.data.results ?? []).length > 0 && (
            <ResultDownloads path={`/api/v1/citizen/dossiers/${encodeURIComponent(code)}/result`} body={{}}
              results={dossier.data.results ?? []} returned={dossier.data.status === "returned"}
              againKey="account.resultsAgain" refresh={accountKeys.all} testId="my-results" />
          )}
          <h2>{t("account.documents")}</h2>
          <Documents documents={dossier.data.documents ?? []} />
          <h2>{t("track.history")}</h2>
          <Timeline items={dossier.data.history}>
            {(item) => (
              <>
                <TimelineAt at={item.at} />
                <div><strong>{t(`timeline.${item.status}`, { defaultValue: item.status_label })}</strong></div>
                {noteText(item) && <div className="muted">{noteText(item)}</div>}
              </>
            )}
          </Timeline>
        </>
      )}
    </section>
  );
}

function Documents({ documents }: { documents: StoredDocument[] }) {
  const { t } = useTranslation("citizen");
  if (documents.length === 0) return <Empty>{t("account.noDocuments")}</Empty>;
  return (
    <ul className="card" data-testid="my-documents">
      {documents.map((document) => (
        <li key={document.id}>
          {document.required_code && <strong>{document.required_code}: </strong>}
          {document.filename} ({fileSize(document.size_bytes)})
        </li>
      ))}
    </ul>
  );
}
