import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";

import { notify, unwrap } from "../../api/client";
import { Checkbox } from "../../components/Field";
import { Loading, PageTitle, ProblemAlert } from "../../components/Status";
import { formatDateTimeOrDash } from "../../components/format";
import { notificationKeys, useInbox } from "../../features/notifications/api";

/** The in-app inbox: notices to the officer or their agency, newest first; mark them read. */
export function Notifications() {
  const { t } = useTranslation("staff");
  const queryClient = useQueryClient();
  const [unreadOnly, setUnreadOnly] = useState(false);
  const inbox = useInbox(unreadOnly);
  const read = useMutation({
    mutationFn: async (id: string) =>
      unwrap(await notify.POST("/api/v1/notifications/{notification_id}/read", { params: { path: { notification_id: id } } })),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: notificationKeys.inbox() }),
  });

  return (
    <section>
      <PageTitle>{t("notifications.title")}</PageTitle>
      <div className="card notifications-bar">
        <p role="status" data-testid="unread">{t("notifications.unread", { n: inbox.data?.unread ?? 0 })}</p>
        <Checkbox className="inline" label={t("notifications.unreadOnly")} checked={unreadOnly} onChange={setUnreadOnly} />
      </div>
      {inbox.isLoading && <Loading />}
      <ProblemAlert error={inbox.error ?? read.error} />
      {inbox.data && inbox.data.items.length === 0 && <p className="card">{t("notifications.empty")}</p>}
      {inbox.data && inbox.data.items.length > 0 && (
        <ul className="notice-list" data-testid="notices">
          {inbox.data.items.map((item) => (
            <li key={item.id} className={item.read_at ? "card notice" : "card notice unread"}>
              <div className="row-head">
                {!item.read_at && <span className="badge badge-soon">{t("notifications.new")}</span>}
                <strong>{item.subject ?? t(`events.${item.event_type}`, { defaultValue: item.event_type })}</strong>
                <span className="muted">{formatDateTimeOrDash(item.created_at)}</span>
              </div>
              <p className="notice-body">{item.body}</p>
              <div className="actions">
                {item.dossier_code && (
                  <Link to={`/can-bo/ho-so/${encodeURIComponent(item.dossier_code)}`}>
                    {t("notifications.openDossier", { code: item.dossier_code })}
                  </Link>
                )}
                {!item.read_at && (
                  <button type="button" onClick={() => read.mutate(item.id)} disabled={read.isPending}>
                    {t("notifications.markRead")}
                  </button>
                )}
              </div>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
