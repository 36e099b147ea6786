// One typed client per service, generated types from openapi/*.json (make api-client).
// The gateway (make run), nginx (deploy/) and the Vite dev server all route by prefix:
// /intake/…, /workflow/…, /notify/… — paths overlap between services, so routing is by service.
import createClient, { type Middleware } from "openapi-fetch";

import type { paths as IntakePaths } from "./schema/intake";
import type { paths as NotifyPaths } from "./schema/notify";
import type { paths as WorkflowPaths } from "./schema/workflow";
import { currentToken, signOutOnExpiry } from "../auth/token";

/** A problem+json answer from a service, thrown by `unwrap`. */
export class ApiProblem extends Error {
  readonly status: number;
  readonly code: string;
  readonly detail: string;
  readonly errors: { loc?: (string | number)[]; msg?: string; field?: string }[];

  constructor(status: number, body: Record<string, unknown> | undefined) {
    const title = typeof body?.title === "string" ? body.title : `HTTP ${status}`;
    super(title);
    this.status = status;
    this.code = typeof body?.code === "string" ? body.code : "error";
    this.detail = typeof body?.detail === "string" ? body.detail : "";
    this.errors = Array.isArray(body?.errors) ? (body.errors as ApiProblem["errors"]) : [];
  }
}

/** A citizen account's route: the citizen's session cookie is its credential, never a staff token. */
function isCitizenRoute(url: string): boolean {
  return new URL(url, window.location.origin).pathname.includes("/api/v1/citizen/");
}

/** The staff token for a request to `url`, if this tab holds one; none for a citizen route, which goes by the
 * citizen's cookie alone: a citizen and an officer signed in in one tab each keep their own credential, and the
 * officer's token never travels with the citizen's requests. */
function staffTokenFor(url: string): string | null {
  return isCitizenRoute(url) ? null : currentToken();
}

const auth: Middleware = {
  onRequest({ request }) {
    const token = staffTokenFor(request.url);
    if (token && !request.headers.has("Authorization")) request.headers.set("Authorization", `Bearer ${token}`);
    return request;
  },
  onResponse({ response }) {
    // a citizen route's 401 means no citizen is signed in (their cookie), not that the staff token expired
    if (response.status === 401 && !isCitizenRoute(response.url)) signOutOnExpiry();
    return response;
  },
};

function client<Paths extends object>(prefix: string) {
  const made = createClient<Paths>({ baseUrl: `${window.location.origin}/${prefix}` });
  made.use(auth);
  return made;
}

export const intake = client<IntakePaths>("intake");
export const workflow = client<WorkflowPaths>("workflow");
export const notify = client<NotifyPaths>("notify");

/** The data of an openapi-fetch result, or throw its problem. */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.error !== undefined || !result.response.ok) {
    throw new ApiProblem(result.response.status, result.error as Record<string, unknown> | undefined);
  }
  return result.data as T;
}

/** A URL under a service's prefix, for downloads (PDF, xlsx) opened or fetched directly. */
export function serviceUrl(service: "intake" | "workflow" | "notify", path: string): string {
  return `${window.location.origin}/${service}${path}`;
}

/** Fetch a file (PDF, xlsx) with the staff token (the citizen's cookie on a citizen route) and hand it to the
 * browser as a download or a new tab. */
export async function downloadFile(
  service: "intake" | "workflow" | "notify",
  path: string,
  filename: string,
  init: RequestInit = {},
): Promise<Blob> {
  const url = serviceUrl(service, path);
  const headers = new Headers(init.headers);
  const token = staffTokenFor(url);
  if (token) headers.set("Authorization", `Bearer ${token}`);
  const response = await fetch(url, { ...init, headers });
  if (!response.ok) {
    const body = await response.json().catch(() => undefined);
    throw new ApiProblem(response.status, body);
  }
  const blob = await response.blob();
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = filename;
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
  return blob;
}
