import type { RouteObject } from "react-router";

// The staff area's routes; owned by the staff pages. Paths are Vietnamese, without diacritics.
export const staffRoutes: RouteObject[] = [];
