import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";

import { intake, unwrap } from "../../../api/client";
import type { components } from "../../../api/schema/intake";
import { ProblemAlert } from "../../../components/Status";
import { TableHead, TableWrap } from "../../../components/TableWrap";
import { formatDateTimeOrDash } from "../../../components/format";
import { dossierKeys } from "../api";

type Shipment = components["schemas"]["DeskShipmentOut"];

const VND = new Intl.NumberFormat("vi-VN");

/** The public post's shipments of a dossier as staff see them: state, failed attempts and the operator's
 *  booking reply (its own reference and fee). */
export function PostalShipments({ shipments }: { shipments: Shipment[] }) {
  const { t } = useTranslation("staff");
  return (
    <TableWrap label={t("postal.title")}>
      <table data-testid="shipments">
        <TableHead
          columns={[
            t("postal.direction"), t("postal.trackingNumber"), t("postal.status"), t("postal.failedAttempts"),
            t("postal.reference"), t("postal.fee"),
          ]}
        />
        <tbody>
          {shipments.map((shipment) => (
            <tr key={`${shipment.direction}-${shipment.tracking_number ?? ""}`}>
              <td>{t(`postal.directions.${shipment.direction}`)}</td>
              <td><code>{shipment.tracking_number ?? "—"}</code></td>
              <td>
                {t(`postal.statuses.${shipment.status}`, { defaultValue: shipment.status })}
                {shipment.redelivery_at && (
                  <div className="muted">{t("postal.redeliveryAt", { at: formatDateTimeOrDash(shipment.redelivery_at) })}</div>
                )}
              </td>
              <td>
                {shipment.failed_attempts}
                {shipment.failure_code && (
                  <div className="muted">
                    {t(`postal.reasons.${shipment.failure_code}`, { defaultValue: t("postal.reasons.other") })}
                  </div>
                )}
              </td>
              <td>{shipment.operator_reference ?? "—"}</td>
              <td>{shipment.fee_vnd === null ? "—" : t("postal.feeValue", { amount: VND.format(shipment.fee_vnd) })}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableWrap>
  );
}

/** The post brought the result back: it waits at the desk. The counter hands it over there (the return
 *  form) or asks the post to deliver it again, here. Keep it mounted and pass ``waiting``: once the post is
 *  asked again the refetched dossier no longer waits, and the confirmation must outlive that refetch. */
export function PostalReturned({ code, waiting }: { code: string; waiting: boolean }) {
  const { t } = useTranslation("staff");
  const queryClient = useQueryClient();
  const again = useMutation({
    mutationFn: async () =>
      unwrap(
        await intake.POST("/api/v1/dossiers/{code}/postal-redelivery", { params: { path: { code } }, body: {} }),
      ),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: dossierKeys.all }),
  });
  if (again.isSuccess) {
    return (
      <p className="alert alert-ok" role="status" data-testid="redelivery-requested">
        {t("postal.redeliveryRequested", { code })}
      </p>
    );
  }
  if (!waiting) return null;
  return (
    <div className="alert alert-info" data-testid="postal-returned">
      <p><strong>{t("postal.returnedTitle")}</strong></p>
      <p>{t("postal.returnedHelp")}</p>
      <ProblemAlert error={again.error} />
      <div className="actions">
        <button type="button" onClick={() => again.mutate()} disabled={again.isPending}>
          {t("postal.redeliver")}
        </button>
      </div>
    </div>
  );
}
