import type { RouteObject } from "react-router";

import { Layout } from "./components/Layout";
import { RequireRole } from "./components/RequireRole";
import { adminRoutes } from "./pages/admin/routes";
import { citizenRoutes } from "./pages/citizen/routes";
import { leaderRoutes } from "./pages/leader/routes";
import { NotFound } from "./pages/NotFound";
import { SignIn } from "./pages/SignIn";
import { staffRoutes } from "./pages/staff/routes";
import { STATS_ROLES } from "./api/vocabulary";

// URL map (Vietnamese paths): citizen pages are public; /can-bo/ staff, /lanh-dao/ leaders, /quan-tri/ admins.
export const routes: RouteObject[] = [
  {
    element: <Layout />,
    children: [
      ...citizenRoutes,
      { path: "dang-nhap", element: <SignIn /> },
      { path: "can-bo", element: <RequireRole />, children: staffRoutes },
      { path: "lanh-dao", element: <RequireRole roles={STATS_ROLES} />, children: leaderRoutes },
      { path: "quan-tri", element: <RequireRole roles={["admin"]} />, children: adminRoutes },
      { path: "*", element: <NotFound /> },
    ],
  },
];
