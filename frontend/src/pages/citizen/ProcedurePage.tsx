import { useTranslation } from "react-i18next";
import { Link, useParams } from "react-router";

import { Loading, PageTitle } from "../../components/Status";
import { TableHead } from "../../components/TableWrap";
import { Fee, OnlineBadge, TimeLimit } from "./Catalogue";
import { vnd } from "./format";
import { useProcedure } from "../../features/procedures/api";
import { ProcedureNotFound } from "../../features/procedures/components/ProcedureNotFound";

export function ProcedurePage() {
  const { t } = useTranslation("citizen");
  const { code = "" } = useParams();
  const procedure = useProcedure(code, { staleTime: 5 * 60_000 });

  if (procedure.isPending) return <Loading />;
  if (procedure.error || !procedure.data) {
    return <ProcedureNotFound error={procedure.error} />;
  }
  const data = procedure.data;
  // one line per agency with all its roles, receiving desks first
  const grouped = new Map<string, { name: string; roles: string[] }>();
  for (const agency of [...data.agencies].sort((a, b) => Number(b.role === "receiving") - Number(a.role === "receiving"))) {
    const entry = grouped.get(agency.code) ?? { name: agency.name, roles: [] };
    entry.roles.push(agency.role);
    grouped.set(agency.code, entry);
  }
  const agencies = [...grouped.entries()];
  const informationOnly = data.information_only;
  const canSubmit = !informationOnly && data.online_mode !== "none";
  const national = data.origin === "national";

  return (
    <section className="citizen">
      <p className="breadcrumb"><Link to="/thu-tuc">{t("procedure.backToCatalogue")}</Link></p>
      <PageTitle>{data.name}</PageTitle>
      <p>
        {informationOnly && <span className="badge badge-neutral">{t("procedure.informationOnly")}</span>}
        <OnlineBadge mode={data.online_mode} />
        {data.interagency && <span className="badge badge-neutral">{t("procedure.interagency")}</span>}
      </p>

      <div className="card">
        <dl className="citizen-facts">
          <div><dt>{t("procedure.code")}</dt><dd>{data.code}</dd></div>
          <div><dt>{t("procedure.field")}</dt><dd>{data.field}</dd></div>
          <div><dt>{t("procedure.level")}</dt><dd>{t(`level.${data.level}`, { defaultValue: data.level })}</dd></div>
          <div>
            <dt>{t("procedure.timeLimit")}</dt>
            <dd data-testid="time-limit">
              <TimeLimit procedure={data} />
              {data.time_limit_note && (
                <div className="muted">{t("procedure.timeLimitWording", { text: data.time_limit_note })}</div>
              )}
            </dd>
          </div>
          <div><dt>{t("procedure.fee")}</dt><dd data-testid="fee-total"><Fee procedure={data} /></dd></div>
          <div><dt>{t("procedure.onlineMode")}</dt><dd>{t(`onlineModeLong.${data.online_mode}`, { defaultValue: data.online_mode })}</dd></div>
        </dl>
        {data.cutoff_rule && <p className="muted">{t("procedure.cutoffNote")}</p>}
        <div className="actions">
          {informationOnly ? (
            <div className="alert alert-info" data-testid="information-only-reason">
              <strong>{t("procedure.informationOnlyTitle")}</strong>
              <p>{t(`procedure.reason.${data.information_only_reason ?? "no_local_workflow"}`)}</p>
            </div>
          ) : canSubmit ? (
            <Link className="button primary" to={`/thu-tuc/${encodeURIComponent(data.code)}/nop-ho-so`}>
              {t("procedure.submitOnline")}
            </Link>
          ) : (
            <p className="alert alert-info">{t("procedure.counterOnly")}</p>
          )}
        </div>
      </div>

      {national && (
        <>
          <h2>{t("procedure.departmentsTitle")}</h2>
          <div className="card" data-testid="departments">
            {data.departments.length > 0 ? (
              <ul className="agencies">
                {data.departments.map((name) => <li key={name}>{name}</li>)}
              </ul>
            ) : (
              <p>{t("procedure.noDepartments")}</p>
            )}
            <dl className="citizen-facts">
              {data.published_by && <div><dt>{t("procedure.publishedBy")}</dt><dd>{data.published_by}</dd></div>}
              {data.target.length > 0 && <div><dt>{t("procedure.target")}</dt><dd>{data.target.join(", ")}</dd></div>}
            </dl>
          </div>
          {!data.details_published && <p className="alert alert-info">{t("procedure.notPublished")}</p>}
        </>
      )}

      <h2>{t("procedure.documentsTitle")}</h2>
      {!data.details_published ? (
        <p>{t("procedure.feesUnknown")}</p>
      ) : data.required_documents.length === 0 ? (
        <p>{t("procedure.noDocuments")}</p>
      ) : (
        <ol className="card documents" data-testid="documents">
          {data.required_documents.map((document) => (
            <li key={document.code}>
              <span>{document.name}</span>{" "}
              {document.form !== "unspecified" && (
                <>
                  <span className={`badge ${document.mandatory ? "badge-late" : "badge-neutral"}`}>
                    {t(document.mandatory ? "procedure.mandatory" : "procedure.optional")}
                  </span>{" "}
                  <span className="muted">({t(`documentForm.${document.form}`, { defaultValue: document.form })})</span>
                </>
              )}
            </li>
          ))}
        </ol>
      )}

      <h2>{t("procedure.feesTitle")}</h2>
      {!data.details_published ? (
        <p>{t("procedure.feesUnknown")}</p>
      ) : data.fees.length === 0 ? (
        <p>{t("procedure.free")}</p>
      ) : (
        <div className="table-wrap">
          <table data-testid="fees">
            <caption className="visually-hidden">{t("procedure.feesTitle")}</caption>
            <TableHead columns={[t("procedure.feeName"), t("procedure.feeKind"), t("procedure.feeAmountHeader")]} />
            <tbody>
              {data.fees.map((fee, index) => (
                <tr key={index}>
                  <td>
                    {fee.name}
                    {fee.note && <div className="muted">{fee.note}</div>}
                  </td>
                  <td>{t(`feeKind.${fee.kind}`, { defaultValue: fee.kind })}</td>
                  <td>
                    {fee.amount_vnd === null
                      ? t("procedure.feeByProvince")
                      : fee.amount_vnd === 0
                        ? t("procedure.free")
                        : t("procedure.feeAmount", { amount: vnd(fee.amount_vnd) })}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {data.fee_note && <p className="muted">{data.fee_note}</p>}

      {agencies.length > 0 && (
        <>
          <h2>{t("procedure.whereTitle")}</h2>
          <ul className="card agencies">
            {agencies.map(([agencyCode, agency]) => (
              <li key={agencyCode}>
                {agency.name}{" "}
                <span className="muted">
                  — {agency.roles.map((role) => t(`agencyRole.${role}`, { defaultValue: role })).join(", ")}
                </span>
              </li>
            ))}
          </ul>
        </>
      )}
      {data.details_published && (
        <p className="muted">
          {t(data.postal_submission ? "procedure.postalSubmissionYes" : "procedure.postalSubmissionNo")}{" "}
          {t(data.postal_return ? "procedure.postalReturnYes" : "procedure.postalReturnNo")}
        </p>
      )}

      {data.result_description && (
        <>
          <h2>{t("procedure.resultTitle")}</h2>
          <p>{data.result_description}</p>
        </>
      )}
      {data.legal_basis.length > 0 && (
        <>
          <h2>{t("procedure.legalTitle")}</h2>
          <ul>
            {data.legal_basis.map((basis) => <li key={basis}>{basis}</li>)}
          </ul>
        </>
      )}
      {national && <p className="muted">{t("procedure.nationalSource")}</p>}
    </section>
  );
}
