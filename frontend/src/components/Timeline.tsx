import type { ReactNode } from "react";

import { formatDateTime } from "./format";

/**
 * A history, oldest first: the ordered list both the citizen's tracking page and the officer's
 * dossier page show (the red-dotted `.timeline`, `data-testid="timeline"`). Each page says what one
 * entry shows — a citizen sees the status and the note, an officer also the step, who gave it to
 * whom and the step's outcome — so the list takes a render function rather than fixed fields.
 */
export function Timeline<Item>({ items, children }: { items: Item[]; children: (item: Item) => ReactNode }) {
  return (
    <ol className="timeline" data-testid="timeline">
      {items.map((item, index) => (
        <li key={index}>{children(item)}</li>
      ))}
    </ol>
  );
}

/** When an entry happened: dd/mm/yyyy HH:mm (Việt Nam time) in a machine-readable `<time>`. */
export function TimelineAt({ at }: { at: string }) {
  return <time dateTime={at}>{formatDateTime(at)}</time>;
}
