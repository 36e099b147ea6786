import { useTranslation } from "react-i18next";
import { Link } from "react-router";

import { PageTitle } from "../components/Status";

export function NotFound() {
  const { t } = useTranslation("common");
  return (
    <section>
      <PageTitle>{t("state.notFound")}</PageTitle>
      <p>
        <Link to="/">{t("notFound.home")}</Link>
      </p>
    </section>
  );
}
