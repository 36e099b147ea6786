import { useTranslation } from "react-i18next";
import type { ReactNode } from "react";

import { ApiProblem } from "../api/client";

export function Loading() {
  const { t } = useTranslation();
  return <p role="status" className="muted">{t("state.loading")}</p>;
}

/** A problem+json error shown to the user: its title and detail, and per-field messages when present. */
export function ProblemAlert({ error }: { error: unknown }) {
  const { t } = useTranslation();
  if (!error) return null;
  const problem = error instanceof ApiProblem ? error : null;
  return (
    <div role="alert" className="alert alert-error">
      <strong>{problem?.message ?? t("state.error")}</strong>
      {problem?.detail && <p>{problem.detail}</p>}
      {problem && problem.errors.length > 0 && (
        <ul>
          {problem.errors.map((item, index) => (
            <li key={index}>
              {(item.loc ?? []).filter((part) => part !== "body").join(".")}: {item.msg}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function PageTitle({ children }: { children: ReactNode }) {
  return <h1 className="page-title">{children}</h1>;
}
