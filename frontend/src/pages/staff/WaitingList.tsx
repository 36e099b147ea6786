import { useTranslation } from "react-i18next";
import { Link } from "react-router";

import { Loading, ProblemAlert } from "../../components/Status";
import { TableHead, TableWrap } from "../../components/TableWrap";
import { formatDateTimeOrDash } from "../../components/format";
import { useWaitingDossiers } from "../../features/dossiers/api";

/** Online (and postal) submissions at this desk waiting for the completeness check. */
export function WaitingList() {
  const { t } = useTranslation("staff");
  const waiting = useWaitingDossiers();
  return (
    <section className="card" aria-labelledby="waiting-title">
      <h2 id="waiting-title">{t("waiting.title")}</h2>
      <p className="muted">{t("waiting.intro")}</p>
      {waiting.isLoading && <Loading />}
      <ProblemAlert error={waiting.error} />
      {waiting.data && waiting.data.items.length === 0 && <p>{t("waiting.empty")}</p>}
      {waiting.data && waiting.data.items.length > 0 && (
        <TableWrap label={t("waiting.title")}>
          <table data-testid="waiting-table">
            <caption className="visually-hidden">{t("waiting.caption", { n: waiting.data.total })}</caption>
            <TableHead
              columns={[
                t("dossier.code"), t("dossier.procedure"), t("applicant.fullName"), t("dossier.submittedAt"),
                t("dossier.status"), t("waiting.files"),
              ]}
            />
            <tbody>
              {waiting.data.items.map((item) => (
                <tr key={item.code}>
                  <td>
                    <Link to={`/can-bo/mot-cua/truc-tuyen/${encodeURIComponent(item.code)}`}>{item.code}</Link>
                  </td>
                  <td>{item.procedure_name}</td>
                  <td>{item.applicant_name}</td>
                  <td>{formatDateTimeOrDash(item.submitted_at)}</td>
                  <td>
                    <span className={item.status === "submitted" ? "badge badge-soon" : "badge badge-paused"}>
                      {t(`status.${item.status}`)}
                    </span>
                  </td>
                  <td>{item.documents}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      )}
    </section>
  );
}
