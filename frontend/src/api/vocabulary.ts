// The dossier's vocabulary as the services publish it (services/domain/vocabulary.py): the state and role
// codes are the enums of the generated OpenAPI types, so a code the services do not know is a type error
// here, and a new state fails to compile until it is given its phase. Labels stay in the i18n catalogues,
// keyed by these codes.
import type { components } from "./schema/workflow";

export type DossierStatus = components["schemas"]["DossierStatus"];
export type RoleCode = components["schemas"]["RoleCode"];

/** Where a state stands, as `Phase` in services/domain/vocabulary.py. */
export type Phase = "before_receipt" | "running" | "paused" | "to_return" | "final";

export const PHASE: Record<DossierStatus, Phase> = {
  submitted: "before_receipt",
  received: "running",
  refused: "final",
  processing: "running",
  awaiting_supplement: "paused",
  awaiting_payment: "paused",
  withdrawn: "final",
  stopped: "final",
  resolved: "to_return",
  returned: "final",
};

function inPhase(...phases: Phase[]): ReadonlySet<string> {
  return new Set((Object.keys(PHASE) as DossierStatus[]).filter((status) => phases.includes(PHASE[status])));
}

/** Received and not yet resolved: the legal clock runs or is paused. */
export const OPEN: ReadonlySet<string> = inPhase("running", "paused");
/** Waiting for the citizen (a supplement, a payment): the clock is stopped. */
export const PAUSED: ReadonlySet<string> = inPhase("paused");
/** Not closed: before receipt or open (what a citizen may still withdraw). */
export const NOT_CLOSED: ReadonlySet<string> = inPhase("before_receipt", "running", "paused");
/** Nothing left to do on the dossier's clock: resolved (the result waits to be returned) or final. */
export const DONE: ReadonlySet<string> = inPhase("to_return", "final");

/** The roles that open the leader's pages (the indicators and the overdue list: STATS_ROLES). */
export const STATS_ROLES = ["leader", "inspector", "head", "admin"] as const satisfies readonly RoleCode[];
/** The agency's management and the administrator (MANAGER_ROLES). */
export const MANAGER_ROLES = ["head", "leader", "admin"] as const satisfies readonly RoleCode[];
/** The counter's work (COUNTER_ROLES). */
export const COUNTER_ROLES = ["counter", "admin"] as const satisfies readonly RoleCode[];
/** Who see every agency (SEE_ALL_ROLES). */
export const SEE_ALL_ROLES = ["admin", "inspector"] as const satisfies readonly RoleCode[];
