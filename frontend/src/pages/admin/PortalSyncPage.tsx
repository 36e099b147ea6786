import { useState } from "react";
import { useTranslation } from "react-i18next";

import { Empty, Loading, PageTitle, ProblemAlert } from "../../components/Status";
import { formatDateTimeOrDash } from "../../components/format";
import { Field } from "../../components/Field";
import { TableHead, TableWrap } from "../../components/TableWrap";
import { usePortalSync, useReplayPortalSync, type PortalSyncQuery } from "../../features/portal/api";

type Status = NonNullable<PortalSyncQuery["status"]>;
const STATUSES: Status[] = ["parked", "pending", "acknowledged"];

/** The national portal (DVCQG) sync: what was sent, acknowledged, parked; replay of a parked state change. */
export function PortalSyncPage() {
  const { t } = useTranslation("admin");
  const { t: staff } = useTranslation("staff");
  const [status, setStatus] = useState<Status>("parked");
  const journal = usePortalSync({ status, limit: 100 });
  const replay = useReplayPortalSync();
  const counts = journal.data?.counts ?? {};

  return (
    <section>
      <PageTitle>{t("portal.title")}</PageTitle>
      <p className="muted">{t("portal.intro")}</p>
      {journal.data && !journal.data.enabled && (
        <p role="status" className="alert alert-info" data-testid="portal-off">{t("portal.off")}</p>
      )}
      <dl className="grid" data-testid="portal-counts">
        {[...STATUSES, "blocked" as const].map((key) => (
          <div className="card" key={key}>
            <dt className="muted">{t(`portal.counts.${key}`)}</dt>
            <dd className="card-title" data-testid={`count-${key}`}>
              {key === "blocked" ? (journal.data?.blocked ?? 0) : (counts[key] ?? 0)}
            </dd>
          </div>
        ))}
      </dl>
      <div className="card">
        <div className="admin-form">
          <Field id="portal-status" label={t("portal.show")}>
            <select id="portal-status" value={status} onChange={(e) => setStatus(e.target.value as Status)}>
              {STATUSES.map((s) => (
                <option key={s} value={s}>{t(`portal.counts.${s}`)}</option>
              ))}
            </select>
          </Field>
        </div>
      </div>
      <ProblemAlert error={journal.error ?? replay.error} />
      {replay.isSuccess && (
        <p role="status" className="alert alert-info" data-testid="replayed">
          {t("portal.replayed", { code: replay.data.dossier_code, seq: replay.data.seq })}
        </p>
      )}
      {journal.isPending && <Loading />}
      {journal.data && journal.data.items.length === 0 && <Empty />}
      {journal.data && journal.data.items.length > 0 && (
        <TableWrap label={t("portal.title")} className="card">
          <table data-testid="portal-journal">
            <caption className="visually-hidden">{t("portal.title")}</caption>
            <TableHead
              columns={[
                t("portal.dossier"), t("portal.seq"), t("portal.state"), t("portal.changedAt"), t("portal.attempts"),
                t("portal.answer"), t("portal.ack"),
              ]}
              actions={t("common.actions")}
            />
            <tbody>
              {journal.data.items.map((item) => (
                <tr key={item.id}>
                  <th scope="row"><code>{item.dossier_code}</code></th>
                  <td>{item.seq}</td>
                  <td>{item.state_code} · {staff(`status.${item.state}`)}</td>
                  <td>{formatDateTimeOrDash(item.changed_at)}</td>
                  <td>{item.attempts}</td>
                  <td className="small">{item.last_error ?? (item.last_status_code ? `HTTP ${item.last_status_code}` : "—")}</td>
                  <td>
                    {item.ack_id ?? "—"}
                    {item.duplicate && <span className="badge badge-neutral">{t("portal.duplicate")}</span>}
                  </td>
                  <td>
                    {item.status === "parked" && (
                      <button type="button" onClick={() => replay.mutate(item.id)} disabled={replay.isPending}>
                        {t("portal.replay")}
                        <span className="visually-hidden"> {item.dossier_code} {item.seq}</span>
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      )}
    </section>
  );
}
