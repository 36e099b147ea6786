import "./citizen.css";

import type { RouteObject } from "react-router";

import { Catalogue } from "./Catalogue";
import { Complaint } from "./Complaint";
import { Home } from "./Home";
import { MyDossierPage, MyDossiers } from "./MyDossiers";
import { PaymentTest } from "./PaymentTest";
import { ProcedurePage } from "./ProcedurePage";
import { Submit } from "./Submit";
import { TrackByPhone, TrackDossier, TrackLookup } from "./Track";
import { VerifySignature } from "./VerifySignature";

// The citizen area's routes; owned by the citizen pages. Paths are Vietnamese, without diacritics.
export const citizenRoutes: RouteObject[] = [
  { index: true, element: <Home /> },
  { path: "thu-tuc", element: <Catalogue /> },
  { path: "thu-tuc/:code", element: <ProcedurePage /> },
  { path: "thu-tuc/:code/nop-ho-so", element: <Submit /> },
  { path: "tra-cuu", element: <TrackLookup /> },
  { path: "tra-cuu-so-dien-thoai", element: <TrackByPhone /> },
  { path: "tra-cuu/:code", element: <TrackDossier /> },
  { path: "thanh-toan/thu-nghiem", element: <PaymentTest /> },
  { path: "phan-anh", element: <Complaint /> },
  { path: "ho-so-cua-toi", element: <MyDossiers /> },
  { path: "ho-so-cua-toi/:code", element: <MyDossierPage /> },
  { path: "kiem-tra-chu-ky", element: <VerifySignature /> },
  { path: "kiem-tra-chu-ky/:id", element: <VerifySignature /> },
];
