import { Navigate, Outlet, type RouteObject } from "react-router";

import { RequireRole } from "../../components/RequireRole";
import { CheckDossier } from "./CheckDossier";
import { CounterDesk } from "./CounterDesk";
import { DossierPage } from "./DossierPage";
import { Inbox } from "./Inbox";
import { Notifications } from "./Notifications";
import { ReceiveForm } from "./ReceiveForm";
import { ReturnList } from "./ReturnList";
import { WaitingList } from "./WaitingList";
import "./staff.css";
import { COUNTER_ROLES } from "../../api/vocabulary";

function StaffArea() {
  return (
    <div className="staff-area">
      <Outlet />
    </div>
  );
}

// The staff area's routes; owned by the staff pages. Paths are Vietnamese, without diacritics.
export const staffRoutes: RouteObject[] = [
  {
    element: <StaffArea />,
    children: [
      { index: true, element: <Navigate to="ho-so" replace /> },
      {
        path: "mot-cua",
        element: <RequireRole roles={COUNTER_ROLES} />,
        children: [
          {
            element: <CounterDesk />,
            children: [
              { index: true, element: <ReceiveForm /> },
              { path: "truc-tuyen", element: <WaitingList /> },
              { path: "truc-tuyen/:code", element: <CheckDossier /> },
              { path: "tra-ket-qua", element: <ReturnList /> },
            ],
          },
        ],
      },
      { path: "ho-so", element: <Inbox /> },
      { path: "ho-so/:code", element: <DossierPage /> },
      { path: "thong-bao", element: <Notifications /> },
    ],
  },
];
