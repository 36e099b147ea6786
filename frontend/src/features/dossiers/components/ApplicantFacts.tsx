import { useTranslation } from "react-i18next";

/** The applicant's lines of a dossier's facts (inside a <dl>): name, CCCD or tax code, contact. */
export function ApplicantFacts({
  applicant,
}: {
  applicant: { full_name: string; id_number: string; phone?: string | null; email?: string | null };
}) {
  const { t } = useTranslation("staff");
  return (
    <>
      <dt>{t("applicant.fullName")}</dt>
      <dd>{applicant.full_name}</dd>
      <dt>{t("applicant.idNumber")}</dt>
      <dd>{applicant.id_number}</dd>
      <dt>{t("applicant.contact")}</dt>
      <dd>{[applicant.phone, applicant.email].filter(Boolean).join(" · ") || "—"}</dd>
    </>
  );
}
