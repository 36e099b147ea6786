import type { RouteObject } from "react-router";

import { Dashboard } from "./Dashboard";

// The leader area's routes (under /lanh-dao); paths are Vietnamese, without diacritics.
export const leaderRoutes: RouteObject[] = [{ index: true, element: <Dashboard /> }];
