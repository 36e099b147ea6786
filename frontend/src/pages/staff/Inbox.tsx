import { useTranslation } from "react-i18next";
import { Link, useSearchParams } from "react-router";

import { useAuth } from "../../auth/AuthContext";
import { Loading, PageTitle, ProblemAlert } from "../../components/Status";
import { TableHead, TableWrap } from "../../components/TableWrap";
import { DUE_BADGE, dueState } from "./format";
import { formatDateTimeOrDash } from "../../components/format";
import { useTasks } from "../../features/dossiers/api";
import { MANAGER_ROLES, type DossierStatus } from "../../api/vocabulary";

type Scope = "mine" | "unit" | "agency";
type Due = "soon" | "overdue";
const STATUSES = ["processing", "awaiting_supplement", "awaiting_payment", "resolved"] as const satisfies readonly DossierStatus[];
const COUNTS = ["total", "processing", "waiting_for_citizen", "to_return", "due_soon", "overdue"] as const;

/** The officer's inbox: their dossiers (or the unit's, the agency's), soonest due first, coloured by due state. */
export function Inbox() {
  const { t } = useTranslation("staff");
  const { hasRole } = useAuth();
  const [params, setParams] = useSearchParams();
  const leader = hasRole(...MANAGER_ROLES);
  const scope = (params.get("pham-vi") as Scope | null) ?? (hasRole("specialist", "head") ? "mine" : "unit");
  const status = params.get("trang-thai") ?? "";
  const due = (params.get("han") as Due | null) ?? null;
  const procedure = params.get("thu-tuc") ?? "";

  const tasks = useTasks({
    scope,
    status: status || undefined,
    due: due ?? undefined,
    procedure: procedure.trim() || undefined,
    limit: 200,
  });

  function set(key: string, value: string) {
    setParams(
      (previous) => {
        const next = new URLSearchParams(previous);
        if (value) next.set(key, value);
        else next.delete(key);
        return next;
      },
      { replace: true },
    );
  }

  const counts = tasks.data?.counts;
  return (
    <section>
      <PageTitle>{t("inbox.title")}</PageTitle>
      <form className="filters card" role="search" aria-label={t("inbox.filters")} onSubmit={(event) => event.preventDefault()}>
        <label>
          {t("inbox.scope")}
          <select value={scope} onChange={(event) => set("pham-vi", event.target.value)} data-testid="scope">
            <option value="mine">{t("inbox.scopes.mine")}</option>
            <option value="unit">{t("inbox.scopes.unit")}</option>
            {leader && <option value="agency">{t("inbox.scopes.agency")}</option>}
          </select>
        </label>
        <label>
          {t("dossier.status")}
          <select value={status} onChange={(event) => set("trang-thai", event.target.value)}>
            <option value="">{t("inbox.allStatuses")}</option>
            {STATUSES.map((value) => (
              <option key={value} value={value}>{t(`status.${value}`)}</option>
            ))}
          </select>
        </label>
        <label>
          {t("inbox.due")}
          <select value={due ?? ""} onChange={(event) => set("han", event.target.value)}>
            <option value="">{t("inbox.allDue")}</option>
            <option value="soon">{t("due.soon")}</option>
            <option value="overdue">{t("due.overdue")}</option>
          </select>
        </label>
        <label>
          {t("inbox.procedureCode")}
          <input value={procedure} onChange={(event) => set("thu-tuc", event.target.value)} />
        </label>
      </form>

      {counts && (
        <ul className="counts" aria-label={t("inbox.countsLabel")} data-testid="counts">
          {COUNTS.map((key) => (
            <li key={key} className={`count count-${key}`}>
              <strong>{counts[key] ?? 0}</strong>
              <span>{t(`inbox.counts.${key}`)}</span>
            </li>
          ))}
        </ul>
      )}

      {tasks.isLoading && <Loading />}
      <ProblemAlert error={tasks.error} />
      {tasks.data && tasks.data.items.length === 0 && <p className="card">{t("inbox.empty")}</p>}
      {tasks.data && tasks.data.items.length > 0 && (
        <TableWrap label={t("inbox.caption")}>
          <table className="tasks" data-testid="tasks">
            <caption className="visually-hidden">{t("inbox.caption")}</caption>
            <TableHead
              columns={[
                t("dossier.code"), t("dossier.procedure"), t("dossier.status"), t("dossier.stepDue"), t("dossier.appointment"),
                t("inbox.dueState"),
              ]}
            />
            <tbody>
              {tasks.data.items.map((item) => {
                const state = dueState(item);
                return (
                  <tr key={item.code} className={`due-${state}`} data-due={state}>
                    <td><Link to={`/can-bo/ho-so/${encodeURIComponent(item.code)}`}>{item.code}</Link></td>
                    <td>{item.procedure_name}</td>
                    <td>{t(`status.${item.status}`)}</td>
                    <td>{formatDateTimeOrDash(item.step_due_at)}</td>
                    <td>{formatDateTimeOrDash(item.due_at)}</td>
                    <td><span className={DUE_BADGE[state]}>{t(`due.${state}`)}</span></td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </TableWrap>
      )}
    </section>
  );
}
