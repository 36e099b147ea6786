import { useMutation } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";

import { downloadFile } from "../../../api/client";
import type { components } from "../../../api/schema/intake";
import { ProblemAlert } from "../../../components/Status";
import { fileSize } from "../../../components/format";

type DocumentOut = components["schemas"]["DocumentOut"];
type ChecklistItem = components["schemas"]["ChecklistItemOut"];

/** The dossier's files (downloaded with the staff token) and the procedure's checklist. */
export function Documents({ code, documents, checklist }: { code: string; documents: DocumentOut[]; checklist?: ChecklistItem[] }) {
  const { t } = useTranslation("staff");
  const download = useMutation({
    mutationFn: async (doc: DocumentOut) =>
      downloadFile("intake", `/api/v1/dossiers/${encodeURIComponent(code)}/documents/${doc.id}`, doc.filename),
  });
  return (
    <div>
      {checklist && checklist.length > 0 && (
        <>
          <h3>{t("documents.checklist")}</h3>
          <ul className="checklist" data-testid="checklist">
            {checklist.map((item) => (
              <li key={item.code}>
                <span className={item.received ? "badge badge-ok" : item.mandatory ? "badge badge-late" : "badge badge-neutral"}>
                  {item.received ? t("documents.attached") : t("documents.notAttached")}
                </span>{" "}
                {item.code}. {item.name}
                {item.mandatory ? ` (${t("receive.mandatory")})` : ""}
              </li>
            ))}
          </ul>
        </>
      )}
      <h3>{t("documents.files")}</h3>
      {documents.length === 0 ? (
        <p className="muted">{t("documents.none")}</p>
      ) : (
        <ul className="file-list">
          {documents.map((doc) => (
            <li key={doc.id}>
              <button type="button" className="link-button" onClick={() => download.mutate(doc)}>
                {t("documents.download", { name: doc.filename })}
              </button>{" "}
              <span className="muted">
                {t(`documents.kinds.${doc.kind}`, { defaultValue: doc.kind })}
                {doc.required_code ? ` · ${doc.required_code}` : ""} · {fileSize(doc.size_bytes)}
              </span>
            </li>
          ))}
        </ul>
      )}
      <ProblemAlert error={download.error} />
    </div>
  );
}
