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
