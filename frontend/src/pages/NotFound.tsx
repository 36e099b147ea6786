import { useTranslation } from "react-i18next";

import { PageTitle } from "../components/Status";

export function NotFound() {
  const { t } = useTranslation();
  return <PageTitle>{t("state.notFound")}</PageTitle>;
}
