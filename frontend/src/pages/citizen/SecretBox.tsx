import { useState } from "react";
import { useTranslation } from "react-i18next";

/** The dossier code and its secret, shown once: the citizen must keep them to track and supplement. */
export function SecretBox({ code, secret }: { code: string; secret: string }) {
  const { t } = useTranslation("citizen");
  const [copied, setCopied] = useState(false);

  async function copy() {
    try {
      await navigator.clipboard.writeText(`${t("secretBox.code")}: ${code}\n${t("secretBox.secret")}: ${secret}`);
      setCopied(true);
    } catch {
      setCopied(false);
    }
  }

  return (
    <div className="card secret-box" aria-labelledby="secret-box-title">
      <h2 id="secret-box-title">{t("secretBox.title")}</h2>
      <dl>
        <div>
          <dt>{t("secretBox.code")}</dt>
          <dd className="big" data-testid="dossier-code">{code}</dd>
        </div>
        <div>
          <dt>{t("secretBox.secret")}</dt>
          <dd className="big" data-testid="dossier-secret">{secret}</dd>
        </div>
      </dl>
      <p className="alert alert-info"><strong>{t("secretBox.keep")}</strong></p>
      <div className="actions">
        <button type="button" onClick={() => void copy()}>{t("secretBox.copy")}</button>
        <button type="button" onClick={() => window.print()}>{t("secretBox.print")}</button>
        <span role="status">{copied ? t("secretBox.copied") : ""}</span>
      </div>
    </div>
  );
}
