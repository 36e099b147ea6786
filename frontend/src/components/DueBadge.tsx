import { useTranslation } from "react-i18next";

import { formatDateTime } from "./format";

export type DueState = "on_time" | "due_soon" | "overdue" | "paused" | "done_on_time" | "done_late" | "none";

const SOON_MS = 24 * 3600_000; // the server warns 8 working hours ahead; a calendar day is close enough here

/** Where a deadline stands now: paused, finished (on time or late), overdue, due soon, or on time. */
export function dueState({
  dueAt,
  overdue,
  paused,
  finishedAt,
  now = Date.now(),
}: {
  dueAt?: string | null;
  overdue?: boolean | null;
  paused?: boolean | null;
  finishedAt?: string | null;
  now?: number;
}): DueState {
  const due = dueAt ? new Date(dueAt).getTime() : NaN;
  if (finishedAt) {
    if (Number.isNaN(due)) return "done_on_time";
    return new Date(finishedAt).getTime() > due ? "done_late" : "done_on_time";
  }
  if (paused) return "paused";
  if (overdue) return "overdue";
  if (Number.isNaN(due)) return "none";
  if (now > due) return "overdue";
  if (due - now <= SOON_MS) return "due_soon";
  return "on_time";
}

const LOOK: Record<DueState, { className: string; key: string }> = {
  on_time: { className: "badge-ok", key: "due.onTime" },
  due_soon: { className: "badge-soon", key: "due.soon" },
  overdue: { className: "badge-late", key: "due.late" },
  paused: { className: "badge-paused", key: "due.paused" },
  done_on_time: { className: "badge-ok", key: "due.doneOnTime" },
  done_late: { className: "badge-late", key: "due.doneLate" },
  none: { className: "badge-neutral", key: "due.none" },
};

/**
 * A coloured badge with words (never colour alone): Trong hạn / Sắp đến hạn / Quá hạn / Tạm dừng / …
 * Give `state` when you know it, or the dossier's `dueAt` (+ `overdue`, `paused`, `finishedAt`).
 * `showDue` adds the due time after the badge ("Hạn: dd/mm/yyyy HH:mm").
 */
export function DueBadge(props: {
  state?: DueState;
  dueAt?: string | null;
  overdue?: boolean | null;
  paused?: boolean | null;
  finishedAt?: string | null;
  showDue?: boolean;
}) {
  const { t } = useTranslation("common");
  const state = props.state ?? dueState(props);
  const look = LOOK[state];
  return (
    <span className="due">
      <span className={`badge ${look.className}`} data-testid="due-badge" data-state={state}>
        {t(look.key)}
      </span>
      {props.showDue && props.dueAt && (
        <span className="muted due-at"> {t("due.dueAt", { when: formatDateTime(props.dueAt) })}</span>
      )}
    </span>
  );
}
