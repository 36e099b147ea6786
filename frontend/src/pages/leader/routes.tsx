import type { RouteObject } from "react-router";

// The leader area's routes (under /lanh-dao); paths are Vietnamese, without diacritics.
// Loaded on demand: the charts library stays out of the bundle the citizen pages download.
export const leaderRoutes: RouteObject[] = [
  { index: true, lazy: async () => ({ Component: (await import("./Dashboard")).Dashboard }) },
];
