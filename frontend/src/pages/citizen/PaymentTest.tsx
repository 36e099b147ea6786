import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { Link, useLocation, useNavigate, useSearchParams } from "react-router";

import { intake, unwrap } from "../../api/client";
import { PageTitle, ProblemAlert } from "../../components/Status";
import { vnd } from "./format";
import type { TrackState } from "./Track";
import { trackingKeys } from "../../features/tracking/api";

/** /thanh-toan/thu-nghiem — demo mode's stand-in for the payment provider's checkout page. The tester
 * confirms or cancels; the API then receives a signed report exactly as from the real provider. */
export function PaymentTest() {
  const { t } = useTranslation("citizen");
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const location = useLocation();
  const client = useQueryClient();
  const state = (location.state as TrackState | null) ?? {};
  const reference = params.get("ma") ?? "";
  const amount = Number(params.get("so_tien") ?? "0");
  const code = params.get("ho_so") ?? "";
  const valid = /^[A-Za-z0-9-]{1,200}$/.test(reference) && Number.isFinite(amount) && amount >= 0;

  const report = useMutation({
    mutationFn: async (outcome: "succeeded" | "failed") =>
      unwrap(
        await intake.POST("/api/v1/demo/payment-provider/{reference}", {
          params: { path: { reference } },
          body: { outcome, amount_vnd: amount, reason: outcome === "failed" ? "Người nộp hủy giao dịch" : null },
        }),
      ),
    onSuccess: () => {
      // the dossier's state and its payments changed on the server
      void client.invalidateQueries({ queryKey: trackingKeys.all });
    },
  });

  const back = code ? `/tra-cuu/${encodeURIComponent(code)}` : "/tra-cuu";

  return (
    <section className="citizen narrow-page">
      <PageTitle>{t("paymentTest.title")}</PageTitle>
      <p className="alert alert-info">{t("paymentTest.demoNote")}</p>
      {!valid ? (
        <p role="alert" className="alert alert-error">{t("paymentTest.invalid")}</p>
      ) : (
        <div className="card">
          <dl className="citizen-facts">
            <div><dt>{t("payment.reference")}</dt><dd>{reference}</dd></div>
            {code && <div><dt>{t("secretBox.code")}</dt><dd>{code}</dd></div>}
            <div><dt>{t("payment.amount")}</dt><dd>{t("procedure.feeAmount", { amount: vnd(amount) })}</dd></div>
          </dl>
          <ProblemAlert error={report.error} />
          {report.data ? (
            <div role="status" className={`alert ${report.variables === "succeeded" ? "alert-ok" : "alert-info"}`}>
              <p>{t(report.variables === "succeeded" ? "paymentTest.paid" : "paymentTest.cancelled")}</p>
              <button type="button" className="primary" onClick={() => navigate(back, { state })}>
                {t("paymentTest.back")}
              </button>
            </div>
          ) : (
            <div className="actions">
              <button type="button" className="primary" disabled={report.isPending} onClick={() => report.mutate("succeeded")}>
                {t("paymentTest.confirm")}
              </button>
              <button type="button" className="danger" disabled={report.isPending} onClick={() => report.mutate("failed")}>
                {t("paymentTest.cancel")}
              </button>
            </div>
          )}
        </div>
      )}
      <p><Link to={back} state={state}>{t("paymentTest.back")}</Link></p>
    </section>
  );
}
