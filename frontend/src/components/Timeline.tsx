import type { ReactNode } from "react";
import { useTranslation } from "react-i18next";

import { formatDateTime } from "./format";

export interface TimelineItem {
  /** ISO instant */
  at: string;
  /** what happened, already in the user's language */
  title: ReactNode;
  /** who did it */
  by?: string | null;
  /** more words (a note, a reason) */
  detail?: ReactNode;
  key?: string;
}

/** A dossier's (or complaint's) history: an ordered list, oldest first, each with dd/mm/yyyy HH:mm. */
export function Timeline({ items, label }: { items: TimelineItem[]; label?: string }) {
  const { t } = useTranslation("common");
  if (items.length === 0) return <p className="muted">{t("timeline.empty")}</p>;
  return (
    <ol className="timeline" aria-label={label ?? t("timeline.label")}>
      {items.map((item, index) => (
        <li key={item.key ?? `${item.at}-${index}`}>
          <time dateTime={item.at} className="timeline-at">
            {formatDateTime(item.at)}
          </time>
          <div className="timeline-title">{item.title}</div>
          {item.by && <div className="muted">{t("timeline.by", { name: item.by })}</div>}
          {item.detail && <div className="timeline-detail">{item.detail}</div>}
        </li>
      ))}
    </ol>
  );
}
