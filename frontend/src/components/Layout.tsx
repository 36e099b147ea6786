import { useEffect, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, NavLink, Outlet, useLocation } from "react-router";

import { useAuth } from "../auth/AuthContext";
import { LANGUAGES } from "../i18n";
import { STATS_ROLES } from "../api/vocabulary";

function LanguageSwitch() {
  const { t, i18n } = useTranslation();
  return (
    <label className="language">
      <span className="visually-hidden">{t("language")}</span>
      <select
        aria-label={t("language")}
        value={i18n.language}
        onChange={(event) => void i18n.changeLanguage(event.target.value)}
        data-testid="language"
      >
        {LANGUAGES.map((language) => (
          <option key={language} value={language}>
            {t(`languageNames.${language}`)}
          </option>
        ))}
      </select>
    </label>
  );
}

export function Layout() {
  const { t } = useTranslation();
  const { session, signOut, hasRole } = useAuth();
  // on a phone the navigation folds behind a "Menu" button; a link chosen folds it again
  const [menuOpen, setMenuOpen] = useState(false);
  const menuButton = useRef<HTMLButtonElement>(null);
  // a new page: screen readers and keyboards start at its content, as after a full page load
  const { pathname } = useLocation();
  const firstPage = useRef(true);
  useEffect(() => {
    if (firstPage.current) {
      firstPage.current = false;
      return;
    }
    // unless the new page put the focus somewhere itself (an autofocused field)
    const active = document.activeElement;
    if (!active || active === document.body || active.closest(".site-header")) {
      document.getElementById("main")?.focus();
    }
  }, [pathname]);
  return (
    <>
      <a className="skip-link" href="#main">
        {t("skipToContent")}
      </a>
      <header
        className="site-header"
        onKeyDown={(event) => {
          if (event.key === "Escape" && menuOpen) {
            setMenuOpen(false);
            menuButton.current?.focus();
          }
        }}
      >
        <Link to="/" className="brand">
          <img src="/favicon.svg" alt="" width="32" height="32" />
          <span>
            <strong>{t("appName")}</strong>
            <small>{t("appTagline")}</small>
          </span>
        </Link>
        <button
          ref={menuButton}
          type="button"
          className="menu-toggle"
          aria-expanded={menuOpen}
          aria-controls="main-nav"
          onClick={() => setMenuOpen((open) => !open)}
        >
          <span aria-hidden="true">☰</span> {t("menu.label")}
        </button>
        <nav
          id="main-nav"
          aria-label={t("nav.main")}
          className={menuOpen ? "open" : undefined}
          onClick={(event) => {
            if ((event.target as HTMLElement).closest("a")) setMenuOpen(false);
          }}
        >
          <ul>
            <li><NavLink to="/thu-tuc">{t("nav.procedures")}</NavLink></li>
            <li><NavLink to="/tra-cuu">{t("nav.track")}</NavLink></li>
            <li><NavLink to="/phan-anh">{t("nav.complaint")}</NavLink></li>
            <li><NavLink to="/ho-so-cua-toi">{t("nav.myDossiers")}</NavLink></li>
            {hasRole("counter") && <li><NavLink to="/can-bo/mot-cua">{t("nav.desk")}</NavLink></li>}
            {session && <li><NavLink to="/can-bo/ho-so">{t("nav.inbox")}</NavLink></li>}
            {session && <li><NavLink to="/can-bo/thong-bao">{t("nav.notifications")}</NavLink></li>}
            {hasRole(...STATS_ROLES) && (
              <li><NavLink to="/lanh-dao">{t("nav.dashboard")}</NavLink></li>
            )}
            {hasRole("admin") && <li><NavLink to="/quan-tri">{t("nav.admin")}</NavLink></li>}
          </ul>
        </nav>
        <div className="header-tools">
          <LanguageSwitch />
          {session ? (
            <>
              <span className="who" data-testid="who">{session.fullName}</span>
              <button type="button" className="link-button" onClick={signOut}>{t("nav.signOut")}</button>
            </>
          ) : (
            <Link to="/dang-nhap">{t("nav.signIn")}</Link>
          )}
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <Outlet />
      </main>
      <footer className="site-footer">{t("footer")}</footer>
    </>
  );
}
