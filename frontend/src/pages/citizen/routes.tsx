import type { RouteObject } from "react-router";

// The citizen area's routes; owned by the citizen pages. Paths are Vietnamese, without diacritics.
export const citizenRoutes: RouteObject[] = [];
