import { useEffect, type ReactNode } from "react";
import { useTranslation } from "react-i18next";

import { fieldProblems, problemDetail, problemMessage } from "./problems";

export function Loading({ label }: { label?: string }) {
  const { t } = useTranslation("common");
  return (
    <p role="status" aria-live="polite" className="muted">
      {label ?? t("state.loading")}
    </p>
  );
}

/** "Nothing here" for an empty list (in a <p>, so screen readers read it in place). */
export function Empty({ children }: { children?: ReactNode }) {
  const { t } = useTranslation("common");
  return <p className="muted empty">{children ?? t("state.empty")}</p>;
}

/**
 * A problem+json error for the user: a message per `code` in the user's language (common.json
 * problems.<code>), the per-field messages of a 422, and, in English mode, the API's own detail.
 * `onRetry` adds a retry button (for failed queries).
 */
export function ProblemAlert({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const { t } = useTranslation("common");
  if (!error) return null;
  const message = problemMessage(error);
  const detail = problemDetail(error);
  const fields = fieldProblems(error);
  return (
    <div role="alert" className="alert alert-error" data-testid="problem">
      <strong>{message}</strong>
      {detail && <p className="problem-detail">{detail}</p>}
      {fields.length > 0 && (
        <ul className="problem-fields">
          {fields.map((item, index) => (
            <li key={`${item.path}-${index}`}>
              {item.label ? t("problem.field", { field: item.label, message: item.message }) : item.message}
            </li>
          ))}
        </ul>
      )}
      {onRetry && (
        <p>
          <button type="button" onClick={onRetry}>
            {t("actions.retry")}
          </button>
        </p>
      )}
    </div>
  );
}

/** The page's one <h1>; also the browser tab's title ("<title> — Một Cửa"). */
export function PageTitle({ children, title }: { children: ReactNode; title?: string }) {
  const { t } = useTranslation("common");
  const text = title ?? (typeof children === "string" ? children : "");
  const appName = t("appName");
  useEffect(() => {
    if (text) document.title = `${text} — ${appName}`;
  }, [text, appName]);
  return <h1 className="page-title">{children}</h1>;
}
