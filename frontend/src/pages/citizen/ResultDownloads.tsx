import { useMutation, useQueryClient, type QueryKey } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";

import { downloadFile } from "../../api/client";
import type { components } from "../../api/schema/intake";
import { fileSize } from "../../components/format";
import { ProblemAlert } from "../../components/Status";

type Result = components["schemas"]["ResultOut"];

/**
 * An electronic result (return method "online"): its files, each with "Tải kết quả". The tracking page (the
 * secret in the body) and "Hồ sơ của tôi" (the session) differ only in the route, the body and the note shown
 * once returned. The first download returns the dossier, so `refresh` is read again after each one.
 */
export function ResultDownloads({ path, body, results, returned, againKey, refresh, testId }: {
  path: string;
  body: Record<string, string>;
  results: Result[];
  returned: boolean;
  againKey: string;
  refresh: QueryKey;
  testId: string;
}) {
  const { t } = useTranslation("citizen");
  const client = useQueryClient();
  const download = useMutation({
    mutationFn: async (result: Result) =>
      downloadFile("intake", path, result.filename, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ ...body, document_id: result.id }),
      }),
    onSuccess: () => void client.invalidateQueries({ queryKey: refresh }),
  });
  const titleId = `${testId}-title`;
  return (
    <section className="card" data-testid={testId} aria-labelledby={titleId}>
      <h2 id={titleId}>{t("track.results.title")}</h2>
      <p>{t(returned ? againKey : "track.results.intro")}</p>
      <ul>
        {results.map((result) => (
          <li key={result.id}>
            <button type="button" className="primary" disabled={download.isPending}
              aria-label={`${t("track.results.download")} ${result.filename}`} onClick={() => download.mutate(result)}>
              {t("track.results.download")}
            </button>{" "}
            <span className="muted">{result.filename} ({fileSize(result.size_bytes)})</span>
          </li>
        ))}
      </ul>
      <ProblemAlert error={download.error} />
      {download.isSuccess && <p role="status" className="alert alert-ok">{t("track.results.done")}</p>}
    </section>
  );
}
