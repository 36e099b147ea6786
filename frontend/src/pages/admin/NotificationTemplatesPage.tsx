import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";

import { notify, unwrap } from "../../api/client";
import type { components } from "../../api/schema/notify";
import { Loading, PageTitle, ProblemAlert } from "../../components/Status";
import { formatDateTimeOrDash } from "../../components/format";
import { Checkbox, describe, Field, type Errors } from "../../components/Field";
import { TableHead, TableWrap } from "../../components/TableWrap";
import { notificationKeys, useNotificationTemplates } from "../../features/notifications/api";
import { FormFooter } from "./FormFooter";

type Template = components["schemas"]["TemplateOut"];
type Channel = "email" | "sms" | "in_app";
type Locale = "vi" | "en";
const CHANNELS: Channel[] = ["email", "sms", "in_app"];

interface Draft {
  event_type: string;
  channel: Channel;
  locale: Locale;
  subject: string;
  body: string;
  active: boolean;
}

function draftOf(template: Template | null): Draft {
  return {
    event_type: template?.event_type ?? "",
    channel: (template?.channel as Channel) ?? "sms",
    locale: (template?.locale as Locale) ?? "vi",
    subject: template?.subject ?? "",
    body: template?.body ?? "",
    active: template?.active ?? true,
  };
}

/** What the preview and the publish both send: the draft's text, with no subject for an SMS. */
function templateText(d: Draft) {
  return {
    event_type: d.event_type,
    channel: d.channel,
    locale: d.locale,
    subject: d.channel === "sms" ? null : d.subject || null,
    body: d.body,
  };
}

function Editor({ template, onDone }: { template: Template | null; onDone: () => void }) {
  const { t } = useTranslation("admin");
  const queryClient = useQueryClient();
  const [draft, setDraft] = useState<Draft>(() => draftOf(template));
  const [errors, setErrors] = useState<Errors>({});

  const preview = useMutation({
    mutationFn: async (d: Draft) => unwrap(await notify.POST("/api/v1/notification-templates/preview", { body: templateText(d) })),
  });
  const publish = useMutation({
    mutationFn: async (d: Draft) =>
      unwrap(await notify.POST("/api/v1/notification-templates", { body: { ...templateText(d), active: d.active } })),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: notificationKeys.templates() }),
  });

  function validate(): boolean {
    const found: Errors = {};
    const eventType = draft.event_type.trim();
    if (eventType.length < 3 || eventType.length > 64) found.event_type = t("validation.length", { min: 3, max: 64 });
    if (!draft.body.trim()) found.body = t("validation.required");
    else if (draft.body.length > 10000) found.body = t("validation.length", { min: 1, max: 10000 });
    if (draft.subject.length > 300) found.subject = t("validation.length", { min: 0, max: 300 });
    setErrors(found);
    return Object.keys(found).length === 0;
  }

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (validate()) publish.mutate({ ...draft, event_type: draft.event_type.trim() });
  }

  const set = <K extends keyof Draft>(key: K, value: Draft[K]) => setDraft((current) => ({ ...current, [key]: value }));
  const sms = preview.data?.sms;

  return (
    <form className="card" onSubmit={submit} noValidate aria-labelledby="editor-title" data-testid="template-editor">
      <h2 id="editor-title" className="card-title">
        {template ? t("notifications.editTitle", { event: template.event_type, version: template.version }) : t("notifications.newTitle")}
      </h2>
      <div className="admin-form">
        <Field id="nt-event" label={t("notifications.eventType")} error={errors.event_type} hint={t("notifications.eventHint")}>
          <input required maxLength={64} value={draft.event_type} onChange={(e) => set("event_type", e.target.value)} {...describe("nt-event", errors, "event_type", true)} />
        </Field>
        <Field id="nt-channel" label={t("notifications.channel")}>
          <select id="nt-channel" value={draft.channel} onChange={(e) => set("channel", e.target.value as Channel)}>
            {CHANNELS.map((channel) => (
              <option key={channel} value={channel}>{t(`notifications.channels.${channel}`)}</option>
            ))}
          </select>
        </Field>
        <Field id="nt-locale" label={t("notifications.locale")}>
          <select id="nt-locale" value={draft.locale} onChange={(e) => set("locale", e.target.value as Locale)}>
            <option value="vi">{t("notifications.locales.vi")}</option>
            <option value="en">{t("notifications.locales.en")}</option>
          </select>
        </Field>
        {draft.channel !== "sms" && (
          <Field id="nt-subject" label={t("notifications.subject")} error={errors.subject} className="wide">
            <input maxLength={300} value={draft.subject} onChange={(e) => set("subject", e.target.value)} {...describe("nt-subject", errors, "subject")} />
          </Field>
        )}
        <Field id="nt-body" label={t("notifications.body")} error={errors.body} hint={t("notifications.bodyHint", { example: "{{ dossier_code }}" })} className="wide">
          <textarea required rows={6} value={draft.body} onChange={(e) => set("body", e.target.value)} {...describe("nt-body", errors, "body", true)} />
        </Field>
        <Checkbox label={t("notifications.active")} checked={draft.active} onChange={(checked) => set("active", checked)} />
      </div>
      <FormFooter
        error={preview.error ?? publish.error}
        saved={publish.isSuccess && t("notifications.published", { version: publish.data.version })}
        submit={t("notifications.publish")}
        pending={publish.isPending}
        onClose={onDone}
      >
        <button type="button" onClick={() => validate() && preview.mutate({ ...draft, event_type: draft.event_type.trim() })} disabled={preview.isPending}>
          {t("notifications.preview")}
        </button>
      </FormFooter>
      {preview.data && (
        <section aria-labelledby="preview-title" className="preview" data-testid="preview">
          <h3 id="preview-title" className="card-title">{t("notifications.previewTitle")}</h3>
          {preview.data.subject && (
            <p>
              <strong>{t("notifications.subject")}:</strong> {preview.data.subject}
            </p>
          )}
          <pre className="preview-body">{preview.data.body}</pre>
          {sms && (
            <p role="status" className={sms.segments > sms.max_segments ? "alert alert-error" : "alert alert-info"} data-testid="sms-segments">
              {t("notifications.segments", {
                segments: sms.segments,
                max: sms.max_segments,
                characters: sms.characters,
                encoding: sms.encoding,
                per: sms.per_segment,
              })}
            </p>
          )}
        </section>
      )}
    </form>
  );
}

export function NotificationTemplatesPage() {
  const { t } = useTranslation("admin");
  const [channel, setChannel] = useState<Channel | "">("");
  const [locale, setLocale] = useState<Locale | "">("");
  const [allVersions, setAllVersions] = useState(false);
  const [editing, setEditing] = useState<{ template: Template | null; key: number } | null>(null);
  const templates = useNotificationTemplates({
    ...(channel ? { channel } : {}),
    ...(locale ? { locale } : {}),
    all_versions: allVersions,
  });

  return (
    <section>
      <PageTitle>{t("notifications.title")}</PageTitle>
      <p className="muted">{t("notifications.intro")}</p>
      <div className="card">
        <div className="admin-form">
          <Field id="nt-filter-channel" label={t("notifications.channel")}>
            <select id="nt-filter-channel" value={channel} onChange={(e) => setChannel(e.target.value as Channel | "")}>
              <option value="">{t("common.all")}</option>
              {CHANNELS.map((c) => (
                <option key={c} value={c}>{t(`notifications.channels.${c}`)}</option>
              ))}
            </select>
          </Field>
          <Field id="nt-filter-locale" label={t("notifications.locale")}>
            <select id="nt-filter-locale" value={locale} onChange={(e) => setLocale(e.target.value as Locale | "")}>
              <option value="">{t("common.all")}</option>
              <option value="vi">{t("notifications.locales.vi")}</option>
              <option value="en">{t("notifications.locales.en")}</option>
            </select>
          </Field>
          <Checkbox label={t("notifications.allVersions")} checked={allVersions} onChange={setAllVersions} />
        </div>
        <div className="actions">
          <button type="button" onClick={() => setEditing({ template: null, key: Date.now() })}>{t("notifications.new")}</button>
        </div>
      </div>
      {editing && <Editor key={editing.key} template={editing.template} onDone={() => setEditing(null)} />}
      <ProblemAlert error={templates.error} />
      {templates.isPending && <Loading />}
      {templates.data && (
        <TableWrap label={t("notifications.title")} className="card">
          <table data-testid="templates">
            <caption className="visually-hidden">{t("notifications.title")}</caption>
            <TableHead
              columns={[
                t("notifications.eventType"), t("notifications.channel"), t("notifications.locale"), t("notifications.version"),
                t("notifications.content"), t("notifications.createdAt"),
              ]}
              actions={t("common.actions")}
            />
            <tbody>
              {templates.data.map((template) => (
                <tr key={template.id} className={template.active ? undefined : "inactive"}>
                  <th scope="row"><code>{template.event_type}</code></th>
                  <td>{t(`notifications.channels.${template.channel}`, { defaultValue: template.channel })}</td>
                  <td>{template.locale}</td>
                  <td>
                    {template.version}
                    {!template.active && <span className="badge badge-neutral">{t("notifications.off")}</span>}
                  </td>
                  <td className="small">{(template.subject ?? template.body).slice(0, 90)}{(template.subject ?? template.body).length > 90 ? "…" : ""}</td>
                  <td>{formatDateTimeOrDash(template.created_at)}</td>
                  <td>
                    <button
                      type="button"
                      onClick={() => {
                        setEditing({ template, key: Date.now() });
                        window.scrollTo({ top: 0 });
                      }}
                    >
                      {t("notifications.edit")}
                      <span className="visually-hidden"> {template.event_type} {template.channel} {template.locale}</span>
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      )}
    </section>
  );
}
