// The foot of the admin pages' forms (agency, staff, password, procedure, version, process template,
// notification template, calendar): one place that says how a form answers after a submit.
import type { ReactNode } from "react";
import { useTranslation } from "react-i18next";

import { ProblemAlert } from "../../components/Status";

/**
 * The server's problem, the success line (a polite status, so a screen reader hears it), then the
 * buttons: `children` first (a secondary action such as "preview"), the primary submit, disabled
 * while the request runs, and "Close" when the form sits in a panel that `onClose` hides. `saved`
 * is falsy until the request succeeds.
 */
export function FormFooter({
  error,
  saved,
  submit,
  pending,
  onClose,
  children,
}: {
  error: unknown;
  saved: ReactNode;
  submit: string;
  pending: boolean;
  onClose?: () => void;
  children?: ReactNode;
}) {
  const { t } = useTranslation("admin");
  return (
    <>
      <ProblemAlert error={error} />
      {saved ? <p role="status" className="alert alert-ok">{saved}</p> : null}
      <div className="actions">
        {children}
        <button type="submit" className="primary" disabled={pending}>{submit}</button>
        {onClose && <button type="button" onClick={onClose}>{t("common.close")}</button>}
      </div>
    </>
  );
}
