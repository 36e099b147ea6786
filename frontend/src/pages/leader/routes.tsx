import type { RouteObject } from "react-router";

// The leader area's routes; owned by the leader pages. Paths are Vietnamese, without diacritics.
export const leaderRoutes: RouteObject[] = [];
