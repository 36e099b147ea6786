import type { RouteObject } from "react-router";

// The admin area's routes; owned by the admin pages. Paths are Vietnamese, without diacritics.
export const adminRoutes: RouteObject[] = [];
