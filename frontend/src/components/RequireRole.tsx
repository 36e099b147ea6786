import { useTranslation } from "react-i18next";
import { Navigate, Outlet, useLocation } from "react-router";

import { useAuth } from "../auth/AuthContext";
import { PageTitle } from "./Status";
import type { RoleCode } from "../api/vocabulary";

/** Staff pages: sign in first; with `roles`, one of them is needed. */
export function RequireRole({ roles }: { roles?: readonly RoleCode[] }) {
  const { t } = useTranslation();
  const { session, hasRole } = useAuth();
  const location = useLocation();
  if (!session) return <Navigate to="/dang-nhap" replace state={{ from: location.pathname }} />;
  if (roles && !hasRole(...roles)) {
    return (
      <section>
        <PageTitle>{t("state.forbiddenTitle")}</PageTitle>
        <p role="alert" className="alert alert-error">{t("state.forbidden")}</p>
      </section>
    );
  }
  return <Outlet />;
}
