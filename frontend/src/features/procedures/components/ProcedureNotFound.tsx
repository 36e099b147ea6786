import { useTranslation } from "react-i18next";
import { Link } from "react-router";

import { PageTitle, ProblemAlert } from "../../../components/Status";

/** What a citizen page about one procedure shows when the code leads nowhere: the problem and the way back to the catalogue. */
export function ProcedureNotFound({ error }: { error: unknown }) {
  const { t } = useTranslation("citizen");
  return (
    <section className="citizen">
      <PageTitle>{t("procedure.notFoundTitle")}</PageTitle>
      <ProblemAlert error={error} />
      <Link to="/thu-tuc">{t("procedure.backToCatalogue")}</Link>
    </section>
  );
}
