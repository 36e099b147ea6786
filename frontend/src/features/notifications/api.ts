/** An officer's notification inbox and the admin's message templates (notify). */
import { useQuery } from "@tanstack/react-query";

import { notify, unwrap } from "../../api/client";
import type { paths } from "../../api/schema/notify";

export type TemplateQuery = NonNullable<paths["/api/v1/notification-templates"]["get"]["parameters"]["query"]>;

export const notificationKeys = {
  all: ["notifications"] as const,
  inbox: () => [...notificationKeys.all, "inbox"] as const,
  inboxList: (unreadOnly: boolean) => [...notificationKeys.inbox(), unreadOnly] as const,
  templates: () => [...notificationKeys.all, "templates"] as const,
  templateList: (query: TemplateQuery) => [...notificationKeys.templates(), query] as const,
};

/** The signed-in officer's notifications, polled every 30 s. */
export function useInbox(unreadOnly: boolean) {
  return useQuery({
    queryKey: notificationKeys.inboxList(unreadOnly),
    queryFn: async () => unwrap(await notify.GET("/api/v1/notifications/inbox", { params: { query: { unread: unreadOnly, limit: 100 } } })),
    refetchInterval: 30_000,
  });
}

/** The message templates matching the admin's filters. */
export function useNotificationTemplates(query: TemplateQuery) {
  return useQuery({
    queryKey: notificationKeys.templateList(query),
    queryFn: async () => unwrap(await notify.GET("/api/v1/notification-templates", { params: { query } })),
  });
}
