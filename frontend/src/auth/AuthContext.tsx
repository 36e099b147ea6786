import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";

import { workflow, unwrap } from "../api/client";
import { loadSession, onSessionChange, saveSession, type StaffSession } from "./token";
import type { RoleCode } from "../api/vocabulary";

interface AuthValue {
  session: StaffSession | null;
  signIn: (username: string, password: string) => Promise<StaffSession>;
  signOut: () => void;
  hasRole: (...roles: RoleCode[]) => boolean;
}

const AuthContext = createContext<AuthValue | null>(null);

export function AuthProvider({ children }: { children: ReactNode }) {
  const [session, setSession] = useState<StaffSession | null>(loadSession);
  useEffect(() => onSessionChange(setSession), []);

  const signIn = useCallback(async (username: string, password: string) => {
    const data = unwrap(
      await workflow.POST("/api/v1/auth/token", {
        body: { username, password, grant_type: "password", scope: "" },
        bodySerializer: (body) => new URLSearchParams(body as Record<string, string>),
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
      }),
    );
    const next: StaffSession = {
      accessToken: data.access_token,
      expiresAt: Date.now() + data.expires_in * 1000,
      username: data.username,
      fullName: data.full_name,
      roles: data.roles,
      agencyCode: data.agency_code,
      agencyName: data.agency_name,
    };
    saveSession(next);
    return next;
  }, []);

  const signOut = useCallback(() => {
    // the server makes this token (and the account's others) stop working everywhere; the page
    // forgets it at once either way
    void workflow.POST("/api/v1/auth/logout").catch(() => undefined);
    saveSession(null);
  }, []);

  const value = useMemo<AuthValue>(
    () => ({
      session,
      signIn,
      signOut,
      hasRole: (...roles) => !!session && roles.some((role) => session.roles.includes(role)),
    }),
    [session, signIn, signOut],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthValue {
  const value = useContext(AuthContext);
  if (!value) throw new Error("useAuth outside AuthProvider");
  return value;
}
