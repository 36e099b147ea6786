import { useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { useLocation, useNavigate } from "react-router";

import { useAuth } from "../auth/AuthContext";
import { ApiProblem } from "../api/client";
import type { RoleCode } from "../api/vocabulary";
import { PageTitle, ProblemAlert } from "../components/Status";

function homeFor(roles: readonly RoleCode[]): string {
  if (roles.includes("counter")) return "/can-bo/mot-cua";
  if (roles.includes("admin")) return "/quan-tri";
  if (roles.includes("leader") || roles.includes("inspector")) return "/lanh-dao";
  return "/can-bo/ho-so";
}

export function SignIn() {
  const { t } = useTranslation("common");
  const { signIn } = useAuth();
  const navigate = useNavigate();
  const location = useLocation();
  const [failure, setFailure] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setBusy(true);
    setFailure(null);
    try {
      const session = await signIn(String(form.get("username")), String(form.get("password")));
      const from = (location.state as { from?: string } | null)?.from;
      navigate(from ?? homeFor(session.roles), { replace: true });
    } catch (error) {
      setFailure(error);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="narrow">
      <PageTitle>{t("signIn.title")}</PageTitle>
      <form onSubmit={submit} className="form">
        <label>
          {t("signIn.username")}
          <input name="username" autoComplete="username" required />
        </label>
        <label>
          {t("signIn.password")}
          <input name="password" type="password" autoComplete="current-password" required />
        </label>
        {failure !== null &&
          (failure instanceof ApiProblem && failure.status === 401 ? (
            <p role="alert" className="alert alert-error">{t("signIn.failed")}</p>
          ) : (
            <ProblemAlert error={failure} />
          ))}
        <button type="submit" className="primary" disabled={busy}>{t("signIn.submit")}</button>
      </form>
    </section>
  );
}
