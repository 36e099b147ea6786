import type { RouteObject } from "react-router";

// The admin area's routes (under /quan-tri); paths are Vietnamese, without diacritics.
// Each page is loaded on demand, so the public pages do not download the administration code.
export const adminRoutes: RouteObject[] = [
  {
    lazy: async () => ({ Component: (await import("./AdminLayout")).AdminLayout }),
    children: [
      { index: true, lazy: async () => ({ Component: (await import("./AdminLayout")).AdminHome }) },
      { path: "co-quan", lazy: async () => ({ Component: (await import("./AgenciesPage")).AgenciesPage }) },
      { path: "can-bo", lazy: async () => ({ Component: (await import("./StaffPage")).StaffPage }) },
      { path: "thu-tuc", lazy: async () => ({ Component: (await import("./ProceduresPage")).ProceduresPage }) },
      { path: "thu-tuc/:code", lazy: async () => ({ Component: (await import("./ProcedureDetailPage")).ProcedureDetailPage }) },
      { path: "lich", lazy: async () => ({ Component: (await import("./CalendarPage")).CalendarPage }) },
      { path: "mau-thong-bao", lazy: async () => ({ Component: (await import("./NotificationTemplatesPage")).NotificationTemplatesPage }) },
      { path: "cong-dvcqg", lazy: async () => ({ Component: (await import("./PortalSyncPage")).PortalSyncPage }) },
    ],
  },
];
