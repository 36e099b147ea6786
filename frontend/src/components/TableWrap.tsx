import type { ReactNode } from "react";

/**
 * A table that may scroll sideways on a phone: a named region the keyboard can reach and scroll.
 * The one wrapper every page uses around a wide table (axe asks that a scrollable region be
 * focusable and named); `className` adds a look ("card") without re-making the wrapper.
 */
export function TableWrap({ label, className, children }: { label: string; className?: string; children: ReactNode }) {
  return (
    <div className={className ? `table-wrap ${className}` : "table-wrap"} role="region" aria-label={label} tabIndex={0}>
      {children}
    </div>
  );
}

/**
 * A table's head: one column header (`th scope="col"`) a label, then, when `actions` is given, the
 * column of the rows' buttons, whose name only a screen reader hears. Every data table of the SPA
 * starts this way; the calendar's month grid (abbreviated weekdays) keeps its own head.
 */
export function TableHead({ columns, actions }: { columns: string[]; actions?: string }) {
  return (
    <thead>
      <tr>
        {columns.map((column, index) => (
          <th scope="col" key={index}>{column}</th>
        ))}
        {actions !== undefined && (
          <th scope="col"><span className="visually-hidden">{actions}</span></th>
        )}
      </tr>
    </thead>
  );
}
