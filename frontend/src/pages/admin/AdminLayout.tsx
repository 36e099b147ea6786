import { useTranslation } from "react-i18next";
import { NavLink, Outlet } from "react-router";

import "../../components/office.css";

const SECTIONS = [
  { to: "/quan-tri/co-quan", key: "agencies" },
  { to: "/quan-tri/can-bo", key: "staff" },
  { to: "/quan-tri/thu-tuc", key: "procedures" },
  { to: "/quan-tri/lich", key: "calendar" },
  { to: "/quan-tri/mau-thong-bao", key: "notifications" },
  { to: "/quan-tri/cong-dvcqg", key: "portal" },
] as const;

/** The administration area: a section menu above each page. */
export function AdminLayout() {
  const { t } = useTranslation("admin");
  return (
    <>
      <nav className="admin-nav" aria-label={t("nav.label")}>
        <ul>
          {SECTIONS.map((section) => (
            <li key={section.key}>
              <NavLink to={section.to}>{t(`nav.${section.key}`)}</NavLink>
            </li>
          ))}
        </ul>
      </nav>
      <Outlet />
    </>
  );
}

export function AdminHome() {
  const { t } = useTranslation("admin");
  return (
    <section>
      <h1 className="page-title">{t("home.title")}</h1>
      <div className="grid">
        {SECTIONS.map((section) => (
          <div className="card" key={section.key}>
            <h2 className="card-title">
              <NavLink to={section.to}>{t(`nav.${section.key}`)}</NavLink>
            </h2>
            <p className="muted">{t(`home.${section.key}`)}</p>
          </div>
        ))}
      </div>
    </section>
  );
}
