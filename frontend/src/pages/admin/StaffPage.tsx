import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import type { TFunction } from "i18next";
import { useTranslation } from "react-i18next";

import { unwrap, workflow } from "../../api/client";
import type { components } from "../../api/schema/workflow";
import { Loading, PageTitle, ProblemAlert } from "../../components/Status";
import { validEmail } from "../../components/validation";
import { Checkbox, describe, Field, type Errors } from "../../components/Field";
import { TableHead, TableWrap } from "../../components/TableWrap";
import { useAgencies } from "../../features/agencies/api";
import { staffKeys, useRoles, useStaffList, type StaffFilters } from "../../features/staff/api";
import { FormFooter } from "./FormFooter";

type StaffOut = components["schemas"]["StaffOut"];
type Role = components["schemas"]["RoleOut"];
type Agency = components["schemas"]["AgencyOut"];

const USERNAME = /^[a-z0-9][a-z0-9._-]{1,63}$/;

function RoleBoxes({
  idPrefix,
  roles,
  value,
  onChange,
  error,
}: {
  idPrefix: string;
  roles: Role[];
  value: string[];
  onChange: (roles: string[]) => void;
  error?: string;
}) {
  const { t, i18n } = useTranslation("admin");
  return (
    <fieldset className="wide" aria-describedby={error ? `${idPrefix}-roles-error` : undefined}>
      <legend>{t("staff.roles")}</legend>
      <div className="actions">
        {roles.map((role) => (
          <Checkbox
            key={role.code}
            label={i18n.language === "en" ? role.name_en : role.name_vi}
            name={`${idPrefix}-role`}
            value={role.code}
            checked={value.includes(role.code)}
            onChange={(checked) => onChange(checked ? [...value, role.code] : value.filter((r) => r !== role.code))}
          />
        ))}
      </div>
      {error && <span id={`${idPrefix}-roles-error`} className="field-error">{error}</span>}
    </fieldset>
  );
}

interface StaffDraft {
  username: string;
  full_name: string;
  email: string;
  agency_code: string;
  unit_code: string;
  roles: string[];
  password: string;
}

function validateStaff(draft: StaffDraft, isNew: boolean, t: TFunction<"admin">): Errors {
  const found: Errors = {};
  if (isNew && !USERNAME.test(draft.username.trim())) found.username = t("staff.usernameInvalid");
  const name = draft.full_name.trim();
  if (name.length < 2 || name.length > 200) found.full_name = t("validation.length", { min: 2, max: 200 });
  if (draft.email.trim() && !validEmail(draft.email)) found.email = t("validation.email");
  if (!draft.agency_code) found.agency_code = t("validation.required");
  if (draft.roles.length === 0) found.roles = t("staff.rolesRequired");
  if (isNew && (draft.password.length < 8 || draft.password.length > 128)) found.password = t("validation.length", { min: 8, max: 128 });
  return found;
}

function StaffForm({
  existing,
  roles,
  agencies,
  onDone,
}: {
  existing: StaffOut | null;
  roles: Role[];
  agencies: Agency[];
  onDone: () => void;
}) {
  const { t } = useTranslation("admin");
  const queryClient = useQueryClient();
  const isNew = existing === null;
  const prefix = isNew ? "new-staff" : `staff-${existing.username}`;
  const [draft, setDraft] = useState<StaffDraft>({
    username: existing?.username ?? "",
    full_name: existing?.full_name ?? "",
    email: existing?.email ?? "",
    agency_code: existing?.agency_code ?? "",
    unit_code: existing?.unit_code ?? "",
    roles: existing?.roles ?? [],
    password: "",
  });
  const [active, setActive] = useState(existing?.active ?? true);
  const [errors, setErrors] = useState<Errors>({});
  const save = useMutation({
    mutationFn: async () => {
      const email = draft.email.trim() || null;
      if (isNew) {
        return unwrap(
          await workflow.POST("/api/v1/staff", {
            body: {
              username: draft.username.trim(),
              full_name: draft.full_name.trim(),
              email,
              agency_code: draft.agency_code,
              unit_code: draft.unit_code || null,
              roles: draft.roles,
              password: draft.password,
            },
          }),
        );
      }
      return unwrap(
        await workflow.PATCH("/api/v1/staff/{username}", {
          params: { path: { username: existing.username } },
          body: {
            full_name: draft.full_name.trim(),
            email,
            agency_code: draft.agency_code,
            unit_code: draft.unit_code || null,
            roles: draft.roles,
            active,
          },
        }),
      );
    },
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: staffKeys.all }),
  });

  const units = agencies.filter((a) => a.parent_code === draft.agency_code);
  const set = <K extends keyof StaffDraft>(key: K, value: StaffDraft[K]) => setDraft((current) => ({ ...current, [key]: value }));

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const found = validateStaff(draft, isNew, t);
    setErrors(found);
    if (Object.keys(found).length === 0) save.mutate();
  }

  return (
    <form className="card" onSubmit={submit} noValidate aria-labelledby={`${prefix}-title`} data-testid={isNew ? "new-staff" : "edit-staff"}>
      <h2 id={`${prefix}-title`} className="card-title">
        {isNew ? t("staff.newTitle") : t("staff.editTitle", { username: existing.username })}
      </h2>
      <div className="admin-form">
        {isNew && (
          <Field id={`${prefix}-username`} label={t("staff.username")} error={errors.username} hint={t("staff.usernameHint")}>
            <input required autoComplete="off" maxLength={64} value={draft.username} onChange={(e) => set("username", e.target.value)} {...describe(`${prefix}-username`, errors, "username", true)} />
          </Field>
        )}
        <Field id={`${prefix}-name`} label={t("staff.fullName")} error={errors.full_name}>
          <input required autoComplete="off" maxLength={200} value={draft.full_name} onChange={(e) => set("full_name", e.target.value)} {...describe(`${prefix}-name`, errors, "full_name")} />
        </Field>
        <Field id={`${prefix}-email`} label={t("staff.email")} error={errors.email}>
          <input type="email" autoComplete="off" value={draft.email} onChange={(e) => set("email", e.target.value)} {...describe(`${prefix}-email`, errors, "email")} />
        </Field>
        <Field id={`${prefix}-agency`} label={t("staff.agency")} error={errors.agency_code}>
          <select
            required
            value={draft.agency_code}
            onChange={(e) => setDraft((current) => ({ ...current, agency_code: e.target.value, unit_code: "" }))}
            {...describe(`${prefix}-agency`, errors, "agency_code")}
          >
            <option value="">{t("common.choose")}</option>
            {agencies.filter((a) => !a.valid_to).map((a) => (
              <option key={a.code} value={a.code}>{a.name} ({a.code})</option>
            ))}
          </select>
        </Field>
        {units.length > 0 && (
          <Field id={`${prefix}-unit`} label={t("staff.unit")}>
            <select id={`${prefix}-unit`} value={draft.unit_code} onChange={(e) => set("unit_code", e.target.value)}>
              <option value="">{t("staff.noUnit")}</option>
              {units.map((u) => (
                <option key={u.code} value={u.code}>{u.name}</option>
              ))}
            </select>
          </Field>
        )}
        {isNew && (
          <Field id={`${prefix}-password`} label={t("staff.password")} error={errors.password} hint={t("staff.passwordHint")}>
            <input type="password" required autoComplete="new-password" value={draft.password} onChange={(e) => set("password", e.target.value)} {...describe(`${prefix}-password`, errors, "password", true)} />
          </Field>
        )}
        <RoleBoxes idPrefix={prefix} roles={roles} value={draft.roles} onChange={(value) => set("roles", value)} error={errors.roles} />
        {!isNew && (
          <Checkbox label={t("staff.active")} checked={active} onChange={setActive} />
        )}
      </div>
      <FormFooter
        error={save.error}
        saved={save.isSuccess && t("staff.saved", { username: save.data.username })}
        submit={isNew ? t("staff.create") : t("common.save")}
        pending={save.isPending}
        onClose={onDone}
      />
    </form>
  );
}

function PasswordForm({ username, onDone }: { username: string; onDone: () => void }) {
  const { t } = useTranslation("admin");
  const [password, setPassword] = useState("");
  const [error, setError] = useState("");
  const reset = useMutation({
    mutationFn: async () =>
      unwrap(await workflow.POST("/api/v1/staff/{username}/password", { params: { path: { username } }, body: { password } })),
    onSuccess: () => setPassword(""),
  });
  const id = `password-${username}`;
  return (
    <form
      className="card"
      noValidate
      aria-labelledby={`${id}-title`}
      onSubmit={(event) => {
        event.preventDefault();
        if (password.length < 8 || password.length > 128) return setError(t("validation.length", { min: 8, max: 128 }));
        setError("");
        reset.mutate();
      }}
    >
      <h2 id={`${id}-title`} className="card-title">{t("staff.passwordTitle", { username })}</h2>
      <Field id={id} label={t("staff.newPassword")} error={error}>
        <input type="password" autoComplete="new-password" value={password} onChange={(e) => setPassword(e.target.value)} {...describe(id, error ? { p: error } : {}, "p")} />
      </Field>
      <FormFooter
        error={reset.error}
        saved={reset.isSuccess && t("staff.passwordSet")}
        submit={t("staff.setPassword")}
        pending={reset.isPending}
        onClose={onDone}
      />
    </form>
  );
}

export function StaffPage() {
  const { t, i18n } = useTranslation("admin");
  const roles = useRoles();
  const agencies = useAgencies();
  const [filters, setFilters] = useState<StaffFilters>({ q: "", agency: "", role: "", active: "" });
  const [panel, setPanel] = useState<{ kind: "new" } | { kind: "edit" | "password"; staff: StaffOut } | null>(null);
  const staff = useStaffList(filters);
  const roleName = (code: string) => {
    const role = roles.data?.find((r) => r.code === code);
    return role ? (i18n.language === "en" ? role.name_en : role.name_vi) : code;
  };

  return (
    <section>
      <PageTitle>{t("staff.title")}</PageTitle>
      <div className="card">
        <div className="admin-form">
          <Field id="staff-q" label={t("staff.search")}>
            <input id="staff-q" type="search" value={filters.q} onChange={(e) => setFilters({ ...filters, q: e.target.value })} />
          </Field>
          <Field id="staff-filter-agency" label={t("staff.agency")}>
            <select id="staff-filter-agency" value={filters.agency} onChange={(e) => setFilters({ ...filters, agency: e.target.value })}>
              <option value="">{t("common.all")}</option>
              {(agencies.data ?? []).map((a) => (
                <option key={a.code} value={a.code}>{a.name}</option>
              ))}
            </select>
          </Field>
          <Field id="staff-filter-role" label={t("staff.role")}>
            <select id="staff-filter-role" value={filters.role} onChange={(e) => setFilters({ ...filters, role: e.target.value })}>
              <option value="">{t("common.all")}</option>
              {(roles.data ?? []).map((r) => (
                <option key={r.code} value={r.code}>{roleName(r.code)}</option>
              ))}
            </select>
          </Field>
          <Field id="staff-filter-active" label={t("staff.state")}>
            <select id="staff-filter-active" value={filters.active} onChange={(e) => setFilters({ ...filters, active: e.target.value })}>
              <option value="">{t("common.all")}</option>
              <option value="true">{t("staff.activeOnly")}</option>
              <option value="false">{t("staff.inactiveOnly")}</option>
            </select>
          </Field>
        </div>
        <div className="actions">
          <button type="button" onClick={() => setPanel({ kind: "new" })}>{t("staff.new")}</button>
        </div>
      </div>
      <ProblemAlert error={roles.error ?? agencies.error} />
      {panel && roles.data && agencies.data && (
        panel.kind === "password" ? (
          <PasswordForm key={`p-${panel.staff.username}`} username={panel.staff.username} onDone={() => setPanel(null)} />
        ) : (
          <StaffForm
            key={panel.kind === "new" ? "new" : panel.staff.username}
            existing={panel.kind === "new" ? null : panel.staff}
            roles={roles.data}
            agencies={agencies.data}
            onDone={() => setPanel(null)}
          />
        )
      )}
      <ProblemAlert error={staff.error} />
      {staff.isPending && <Loading />}
      {staff.data && (
        <TableWrap label={t("staff.title")} className="card">
          <table data-testid="staff-table">
            <caption className="visually-hidden">{t("staff.title")}</caption>
            <TableHead
              columns={[
                t("staff.username"), t("staff.fullName"), t("staff.agency"), t("staff.roles"), t("staff.state"),
              ]}
              actions={t("common.actions")}
            />
            <tbody>
              {staff.data.map((s) => (
                <tr key={s.username} className={s.active ? undefined : "inactive"}>
                  <th scope="row">{s.username}</th>
                  <td>{s.full_name}</td>
                  <td>{s.agency_name}</td>
                  <td>{s.roles.map(roleName).join(", ")}</td>
                  <td>
                    <span className={`badge ${s.active ? "badge-ok" : "badge-neutral"}`}>{s.active ? t("staff.activeLabel") : t("staff.inactiveLabel")}</span>
                  </td>
                  <td>
                    <div className="actions">
                      <button type="button" onClick={() => setPanel({ kind: "edit", staff: s })}>
                        {t("common.edit")}<span className="visually-hidden"> {s.username}</span>
                      </button>
                      <button type="button" onClick={() => setPanel({ kind: "password", staff: s })}>
                        {t("staff.setPassword")}<span className="visually-hidden"> {s.username}</span>
                      </button>
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {staff.data.length === 0 && <p className="muted">{t("common.none")}</p>}
        </TableWrap>
      )}
    </section>
  );
}
