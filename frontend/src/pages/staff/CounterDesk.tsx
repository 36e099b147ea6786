import { useTranslation } from "react-i18next";
import { NavLink, Outlet } from "react-router";

import { PageTitle } from "../../components/Status";

/** The counter desk: receive at the counter, check online submissions, return results. */
export function CounterDesk() {
  const { t } = useTranslation("staff");
  return (
    <section>
      <PageTitle>{t("desk.title")}</PageTitle>
      <nav aria-label={t("desk.sections")} className="staff-tabs">
        <ul>
          <li><NavLink end to="/can-bo/mot-cua">{t("desk.receive")}</NavLink></li>
          <li><NavLink to="/can-bo/mot-cua/truc-tuyen">{t("desk.online")}</NavLink></li>
          <li><NavLink to="/can-bo/mot-cua/tra-ket-qua">{t("desk.toReturn")}</NavLink></li>
        </ul>
      </nav>
      <Outlet />
    </section>
  );
}
