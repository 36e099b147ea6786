// The staff token lives in sessionStorage: it ends with the tab, never shared with other sites.
import type { RoleCode } from "../api/vocabulary";

const KEY = "motcua.session";

export interface StaffSession {
  accessToken: string;
  expiresAt: number;
  username: string;
  fullName: string;
  roles: RoleCode[];
  agencyCode: string;
  agencyName: string;
}

type Listener = (session: StaffSession | null) => void;
const listeners = new Set<Listener>();

export function loadSession(): StaffSession | null {
  const raw = sessionStorage.getItem(KEY);
  if (!raw) return null;
  try {
    const session = JSON.parse(raw) as StaffSession;
    return session.expiresAt > Date.now() ? session : null;
  } catch {
    return null;
  }
}

export function saveSession(session: StaffSession | null): void {
  if (session) sessionStorage.setItem(KEY, JSON.stringify(session));
  else sessionStorage.removeItem(KEY);
  for (const listener of listeners) listener(session);
}

export function onSessionChange(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function currentToken(): string | null {
  return loadSession()?.accessToken ?? null;
}

export function signOutOnExpiry(): void {
  if (sessionStorage.getItem(KEY)) saveSession(null);
}
