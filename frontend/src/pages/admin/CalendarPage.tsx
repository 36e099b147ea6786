import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useMemo, useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";

import { unwrap, workflow } from "../../api/client";
import type { components } from "../../api/schema/workflow";
import { Loading, PageTitle, ProblemAlert } from "../../components/Status";
import { formatDateTimeOrDash, formatDay, todayInVietnam } from "../../components/format";
import { describe, Field, type Errors } from "../../components/Field";
import { TableHead, TableWrap } from "../../components/TableWrap";
import { useAgencies } from "../../features/agencies/api";
import { calendarKeys, useCalendarDays, useCalendarOverrides, useWeeklyHours } from "../../features/calendar/api";
import { FormFooter } from "./FormFooter";

type Day = components["schemas"]["DayOut"];
type Override = components["schemas"]["OverrideOut"];

const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;
const TIME_RANGE = /^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$/;

function pad(n: number): string {
  return String(n).padStart(2, "0");
}

/** "07:30-11:30, 13:00-17:00" → [["07:30","11:30"],["13:00","17:00"]]; null when malformed. */
export function parseWindows(text: string): string[][] | null {
  const parts = text.split(/[,;]/).map((part) => part.replace(/\s+/g, "")).filter(Boolean);
  if (parts.some((part) => !TIME_RANGE.test(part))) return null;
  const windows = parts.map((part) => part.split("-"));
  if (windows.some(([start, end]) => start >= end)) return null;
  return windows;
}

function MonthGrid({ year, month, special, today }: { year: number; month: number; special: Map<string, Day>; today: string }) {
  const { t } = useTranslation("admin");
  const first = new Date(Date.UTC(year, month - 1, 1));
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  const lead = (first.getUTCDay() + 6) % 7; // Monday first
  const cells: (number | null)[] = [...Array<null>(lead).fill(null), ...Array.from({ length: daysInMonth }, (_, i) => i + 1)];
  while (cells.length % 7) cells.push(null);
  const weeks = Array.from({ length: cells.length / 7 }, (_, w) => cells.slice(w * 7, w * 7 + 7));
  return (
    <div className="card calendar-month">
      <table data-testid={`month-${year}-${pad(month)}`}>
        <caption>
          <strong>{t("calendar.monthName", { month, year })}</strong>
        </caption>
        <thead>
          <tr>
            {WEEKDAYS.map((day) => (
              <th scope="col" key={day}>
                <abbr title={t(`calendar.weekdays.${day}`)}>{t(`calendar.weekdaysShort.${day}`)}</abbr>
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {weeks.map((week, w) => (
            <tr key={w}>
              {week.map((day, d) => {
                if (day === null) return <td key={d} />;
                const iso = `${year}-${pad(month)}-${pad(day)}`;
                const info = special.get(iso);
                const weekend = d >= 5;
                const kind = info ? (info.working ? "makeup" : "closed") : weekend ? "weekend" : "";
                return (
                  <td key={d} className={`${kind}${iso === today ? " today" : ""}`} data-day={iso} title={info?.reason ?? undefined}>
                    {day}
                    {info && (
                      <span className="visually-hidden">
                        {" "}
                        {info.working ? t("calendar.makeup") : t("calendar.closed")}
                        {info.reason ? `: ${info.reason}` : ""}
                      </span>
                    )}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function OverrideForm({ agencies }: { agencies: { code: string; name: string }[] }) {
  const { t } = useTranslation("admin");
  const queryClient = useQueryClient();
  const [form, setForm] = useState({ day: "", kind: "closed" as "closed" | "working", reason: "", agency: "", windows: "" });
  const [errors, setErrors] = useState<Errors>({});
  const add = useMutation({
    mutationFn: async (body: components["schemas"]["OverrideIn"]) =>
      unwrap(await workflow.POST("/api/v1/calendar/overrides", { body })),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: calendarKeys.all });
      setForm((current) => ({ ...current, day: "", reason: "", windows: "" }));
    },
  });

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const found: Errors = {};
    if (!/^\d{4}-\d{2}-\d{2}$/.test(form.day)) found.day = t("validation.date");
    const reason = form.reason.trim();
    if (reason.length < 3 || reason.length > 500) found.reason = t("validation.length", { min: 3, max: 500 });
    let windows: string[][] | null = null;
    if (form.kind === "working" && form.windows.trim()) {
      windows = parseWindows(form.windows);
      if (!windows) found.windows = t("calendar.windowsInvalid");
    }
    setErrors(found);
    if (Object.keys(found).length) return;
    add.mutate({ day: form.day, kind: form.kind, reason, agency_code: form.agency || null, windows });
  }

  return (
    <form className="card" onSubmit={submit} noValidate aria-labelledby="override-title">
      <h2 id="override-title" className="card-title">{t("calendar.addTitle")}</h2>
      <div className="admin-form">
        <Field id="ov-day" label={t("calendar.day")} error={errors.day}>
          <input type="date" required value={form.day} onChange={(e) => setForm({ ...form, day: e.target.value })} {...describe("ov-day", errors, "day")} />
        </Field>
        <Field id="ov-kind" label={t("calendar.kind")}>
          <select id="ov-kind" value={form.kind} onChange={(e) => setForm({ ...form, kind: e.target.value as "closed" | "working" })}>
            <option value="closed">{t("calendar.kinds.closed")}</option>
            <option value="working">{t("calendar.kinds.working")}</option>
          </select>
        </Field>
        <Field id="ov-agency" label={t("calendar.scope")}>
          <select id="ov-agency" value={form.agency} onChange={(e) => setForm({ ...form, agency: e.target.value })}>
            <option value="">{t("calendar.wholeProvince")}</option>
            {agencies.map((agency) => (
              <option key={agency.code} value={agency.code}>{agency.name}</option>
            ))}
          </select>
        </Field>
        {form.kind === "working" && (
          <Field id="ov-windows" label={t("calendar.windows")} error={errors.windows} hint={t("calendar.windowsHint")}>
            <input value={form.windows} onChange={(e) => setForm({ ...form, windows: e.target.value })} {...describe("ov-windows", errors, "windows", true)} />
          </Field>
        )}
        <Field id="ov-reason" label={t("calendar.reason")} error={errors.reason} className="wide">
          <input required maxLength={500} value={form.reason} onChange={(e) => setForm({ ...form, reason: e.target.value })} {...describe("ov-reason", errors, "reason")} />
        </Field>
      </div>
      <FormFooter
        error={add.error}
        saved={add.isSuccess && t("calendar.added", { day: formatDay(add.data.override?.day), moved: add.data.clocks_moved })}
        submit={t("calendar.add")}
        pending={add.isPending}
      />
    </form>
  );
}

const DEFAULT_HOURS = "07:30-11:30, 13:00-17:00";

function WeeklyForm({ agencies }: { agencies: { code: string; name: string }[] }) {
  const { t } = useTranslation("admin");
  const queryClient = useQueryClient();
  const [hours, setHours] = useState<Record<string, string>>(() =>
    Object.fromEntries(WEEKDAYS.map((day) => [day, day === "sat" || day === "sun" ? "" : DEFAULT_HOURS])),
  );
  const [agency, setAgency] = useState("");
  const [reason, setReason] = useState("");
  const [errors, setErrors] = useState<Errors>({});
  const save = useMutation({
    mutationFn: async (body: components["schemas"]["WeeklyIn"]) => unwrap(await workflow.PUT("/api/v1/calendar/weekly", { body })),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: calendarKeys.all }),
  });
  // the form starts from the hours in force for the chosen agency (its own, the province's or the national ones)
  const current = useWeeklyHours(agency);
  const [shownFor, setShownFor] = useState<string | null>(null);
  if (current.data && shownFor !== `${agency}|${current.dataUpdatedAt}`) {
    setShownFor(`${agency}|${current.dataUpdatedAt}`);
    const windows = current.data.windows;
    setHours(Object.fromEntries(WEEKDAYS.map((day) => [day, (windows[day] ?? []).map(([from, to]) => `${from}-${to}`).join(", ")])));
  }

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const found: Errors = {};
    const windows: Record<string, string[][]> = {};
    for (const day of WEEKDAYS) {
      const parsed = parseWindows(hours[day] ?? "");
      if (!parsed) found[day] = t("calendar.windowsInvalid");
      else windows[day] = parsed;
    }
    if (!found.mon && Object.values(windows).every((w) => w.length === 0)) found.mon = t("calendar.weeklyEmpty");
    const text = reason.trim();
    if (text.length < 3 || text.length > 500) found.reason = t("validation.length", { min: 3, max: 500 });
    setErrors(found);
    if (Object.keys(found).length === 0) save.mutate({ windows, reason: text, agency_code: agency || null });
  }

  return (
    <details className="card">
      <summary>
        <h2 className="card-title inline-heading">{t("calendar.weeklyTitle")}</h2>
      </summary>
      <form onSubmit={submit} noValidate aria-label={t("calendar.weeklyTitle")}>
        <p className="muted small">{t("calendar.weeklyHelp")}</p>
        <div className="admin-form">
          <Field id="wk-agency" label={t("calendar.scope")}>
            <select id="wk-agency" value={agency} onChange={(e) => setAgency(e.target.value)}>
              <option value="">{t("calendar.wholeProvince")}</option>
              {agencies.map((a) => (
                <option key={a.code} value={a.code}>{a.name}</option>
              ))}
            </select>
          </Field>
          {WEEKDAYS.map((day) => (
            <Field key={day} id={`wk-${day}`} label={t(`calendar.weekdays.${day}`)} error={errors[day]}>
              <input value={hours[day] ?? ""} onChange={(e) => setHours({ ...hours, [day]: e.target.value })} {...describe(`wk-${day}`, errors, day)} />
            </Field>
          ))}
          <Field id="wk-reason" label={t("calendar.reason")} error={errors.reason} className="wide">
            <input required maxLength={500} value={reason} onChange={(e) => setReason(e.target.value)} {...describe("wk-reason", errors, "reason")} />
          </Field>
        </div>
        <FormFooter
          error={save.error}
          saved={save.isSuccess && t("calendar.weeklySaved", { moved: save.data.clocks_moved })}
          submit={t("calendar.weeklySave")}
          pending={save.isPending}
        />
      </form>
    </details>
  );
}

function RevokeButton({ override }: { override: Override }) {
  const { t } = useTranslation("admin");
  const queryClient = useQueryClient();
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState("");
  const [error, setError] = useState("");
  const revoke = useMutation({
    mutationFn: async () =>
      unwrap(
        await workflow.POST("/api/v1/calendar/overrides/{override_id}/revoke", {
          params: { path: { override_id: override.id } },
          body: { reason: reason.trim() },
        }),
      ),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: calendarKeys.all }),
  });
  if (!open) {
    return (
      <button type="button" className="danger" onClick={() => setOpen(true)}>
        {t("calendar.revoke")}
        <span className="visually-hidden"> {formatDay(override.day)}</span>
      </button>
    );
  }
  const id = `revoke-${override.id}`;
  return (
    <form
      className="form"
      noValidate
      onSubmit={(event) => {
        event.preventDefault();
        const text = reason.trim();
        if (text.length < 3 || text.length > 500) return setError(t("validation.length", { min: 3, max: 500 }));
        setError("");
        revoke.mutate();
      }}
    >
      <Field id={id} label={t("calendar.revokeReason")} error={error}>
        <input required maxLength={500} value={reason} onChange={(e) => setReason(e.target.value)} {...describe(id, error ? { r: error } : {}, "r")} />
      </Field>
      <ProblemAlert error={revoke.error} />
      <div className="actions">
        <button type="submit" className="danger" disabled={revoke.isPending}>{t("calendar.confirmRevoke")}</button>
        <button type="button" onClick={() => setOpen(false)}>{t("common.cancel")}</button>
      </div>
    </form>
  );
}

export function CalendarPage() {
  const { t } = useTranslation("admin");
  const today = todayInVietnam();
  const [year, setYear] = useState(Number(today.slice(0, 4)));
  const [month, setMonth] = useState(0); // 0: the whole year
  const [agency, setAgency] = useState("");

  const agencies = useAgencies({ staleTime: 10 * 60_000 });
  const days = useCalendarDays(year, agency);
  const overrides = useCalendarOverrides(year);
  const special = useMemo(() => new Map((days.data ?? []).map((day) => [day.day, day])), [days.data]);
  const agencyList = (agencies.data ?? []).filter((a) => !a.valid_to).map((a) => ({ code: a.code, name: a.name }));
  const months = month ? [month] : Array.from({ length: 12 }, (_, i) => i + 1);

  return (
    <section>
      <PageTitle>{t("calendar.title")}</PageTitle>
      <p className="muted">{t("calendar.intro")}</p>
      <div className="card">
        <div className="admin-form">
          <Field id="cal-year" label={t("calendar.year")}>
            <select id="cal-year" value={year} onChange={(e) => setYear(Number(e.target.value))}>
              {Array.from({ length: 7 }, (_, i) => Number(today.slice(0, 4)) - 2 + i).map((y) => (
                <option key={y} value={y}>{y}</option>
              ))}
            </select>
          </Field>
          <Field id="cal-month" label={t("calendar.view")}>
            <select id="cal-month" value={month} onChange={(e) => setMonth(Number(e.target.value))}>
              <option value={0}>{t("calendar.wholeYear")}</option>
              {Array.from({ length: 12 }, (_, i) => i + 1).map((m) => (
                <option key={m} value={m}>{t("calendar.monthName", { month: m, year })}</option>
              ))}
            </select>
          </Field>
          <Field id="cal-agency" label={t("calendar.calendarOf")}>
            <select id="cal-agency" value={agency} onChange={(e) => setAgency(e.target.value)}>
              <option value="">{t("calendar.wholeProvince")}</option>
              {agencyList.map((a) => (
                <option key={a.code} value={a.code}>{a.name}</option>
              ))}
            </select>
          </Field>
        </div>
      </div>
      <ul className="legend" aria-label={t("calendar.legend")}>
        <li className="closed">{t("calendar.closed")}</li>
        <li className="makeup">{t("calendar.makeup")}</li>
        <li className="weekend">{t("calendar.weekend")}</li>
      </ul>
      <ProblemAlert error={days.error} />
      {days.isPending ? (
        <Loading />
      ) : (
        <div className="calendar-months">
          {months.map((m) => (
            <MonthGrid key={m} year={year} month={m} special={special} today={today} />
          ))}
        </div>
      )}

      <section className="card" aria-labelledby="special-title">
        <h2 id="special-title" className="card-title">{t("calendar.specialDays", { year })}</h2>
        {days.data && days.data.length === 0 && <p className="muted">{t("calendar.noSpecial")}</p>}
        {days.data && days.data.length > 0 && (
          <TableWrap label={t("calendar.specialDays", { year })}>
            <table data-testid="special-days">
              <TableHead columns={[t("calendar.day"), t("calendar.kind"), t("calendar.reason"), t("calendar.windows")]} />
              <tbody>
                {days.data
                  .filter((d) => !month || Number(d.day.slice(5, 7)) === month)
                  .map((d) => (
                    <tr key={d.day}>
                      <th scope="row">{formatDay(d.day)}</th>
                      <td>
                        <span className={`badge ${d.working ? "badge-ok" : "badge-late"}`}>
                          {d.working ? t("calendar.makeup") : t("calendar.closed")}
                        </span>
                      </td>
                      <td>{d.reason ?? "—"}</td>
                      <td>{d.windows.map((w) => w.join("–")).join(", ") || "—"}</td>
                    </tr>
                  ))}
              </tbody>
            </table>
          </TableWrap>
        )}
      </section>

      <OverrideForm agencies={agencyList} />
      <WeeklyForm agencies={agencyList} />

      <section className="card" aria-labelledby="overrides-title">
        <h2 id="overrides-title" className="card-title">{t("calendar.overrides", { year })}</h2>
        <ProblemAlert error={overrides.error} />
        {overrides.isPending && <Loading />}
        {overrides.data && overrides.data.length === 0 && <p className="muted">{t("calendar.noOverrides")}</p>}
        {overrides.data && overrides.data.length > 0 && (
          <TableWrap label={t("calendar.overrides", { year })}>
            <table data-testid="overrides">
              <TableHead
                columns={[
                  t("calendar.day"), t("calendar.kind"), t("calendar.reason"), t("calendar.scope"), t("calendar.changedAt"),
                  t("calendar.state"),
                ]}
              />
              <tbody>
                {overrides.data.map((o) => (
                  <tr key={o.id} className={o.revoked_at ? "inactive" : undefined}>
                    <th scope="row">{formatDay(o.day)}</th>
                    <td>{t(`calendar.kinds.${o.kind}`, { defaultValue: o.kind })}</td>
                    <td>{o.reason}</td>
                    <td>{o.agency_id ? (o.agency_code ?? t("calendar.oneAgency")) : t("calendar.wholeProvince")}</td>
                    <td>{formatDateTimeOrDash(o.changed_at)}</td>
                    <td>
                      {o.revoked_at ? (
                        <>
                          <span className="badge badge-neutral">{t("calendar.revoked", { when: formatDateTimeOrDash(o.revoked_at) })}</span>
                          {o.revoke_reason && <span className="block small">{o.revoke_reason}</span>}
                        </>
                      ) : (
                        <RevokeButton override={o} />
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableWrap>
        )}
      </section>
    </section>
  );
}
