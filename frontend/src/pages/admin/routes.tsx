import type { RouteObject } from "react-router";

import { AdminHome, AdminLayout } from "./AdminLayout";
import { AgenciesPage } from "./AgenciesPage";
import { CalendarPage } from "./CalendarPage";
import { NotificationTemplatesPage } from "./NotificationTemplatesPage";
import { ProcedureDetailPage } from "./ProcedureDetailPage";
import { ProceduresPage } from "./ProceduresPage";
import { StaffPage } from "./StaffPage";

// The admin area's routes (under /quan-tri); paths are Vietnamese, without diacritics.
export const adminRoutes: RouteObject[] = [
  {
    element: <AdminLayout />,
    children: [
      { index: true, element: <AdminHome /> },
      { path: "co-quan", element: <AgenciesPage /> },
      { path: "can-bo", element: <StaffPage /> },
      { path: "thu-tuc", element: <ProceduresPage /> },
      { path: "thu-tuc/:code", element: <ProcedureDetailPage /> },
      { path: "lich", element: <CalendarPage /> },
      { path: "mau-thong-bao", element: <NotificationTemplatesPage /> },
    ],
  },
];
