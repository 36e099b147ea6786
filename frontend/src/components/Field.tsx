import type { ReactNode } from "react";

/** What a form control needs to be tied to its field: its id, and its hint and error when there are some. */
export interface FieldControl {
  id: string;
  "aria-invalid"?: true;
  "aria-describedby"?: string;
  required?: boolean;
}

/** The control's attributes: invalid while it has an error, described by its hint and its error (in that order). */
export function fieldControl(id: string, { error, hint = false, required }: { error?: string; hint?: boolean; required?: boolean }): FieldControl {
  const described = [hint ? `${id}-hint` : "", error ? `${id}-error` : ""].filter(Boolean).join(" ");
  return {
    id,
    ...(error ? { "aria-invalid": true as const } : {}),
    ...(described ? { "aria-describedby": described } : {}),
    ...(required !== undefined ? { required } : {}),
  };
}

export type Errors = Record<string, string>;

/** `fieldControl` for a form that keeps its messages in one map (`errors[key]`). */
export function describe(id: string, errors: Errors, key: string, hint = false): FieldControl {
  return fieldControl(id, { error: errors[key], hint });
}

/**
 * The one labelled form field of the SPA: a label, the control, its hint and its error message,
 * tied together by ids (`<id>-hint`, `<id>-error`) so a screen reader reads the hint and the
 * error with the control, and the browser tests find the control by its label.
 *
 * Two layouts, because the pages are styled that way: `wrapped` (the label wraps the control:
 * admin and counter forms, a flex column — the label's words sit in one span so the star stays on
 * their line) and `stacked` (`div.field`: label, hint, control,
 * error one under the other: the citizen's forms). `children` is the control, or a function that
 * gets the control's attributes (`fieldControl`) and returns it.
 */
export function Field({
  id,
  label,
  error,
  hint,
  required,
  className,
  layout = "wrapped",
  children,
}: {
  id: string;
  label: string;
  error?: string;
  hint?: string;
  required?: boolean;
  className?: string;
  layout?: "wrapped" | "stacked";
  children: ReactNode | ((control: FieldControl) => ReactNode);
}) {
  const control = typeof children === "function" ? children(fieldControl(id, { error, hint: Boolean(hint), required })) : children;
  const star = required ? <span className="required" aria-hidden="true"> *</span> : null;
  const hintText = hint ? <span id={`${id}-hint`} className="hint">{hint}</span> : null;
  const errorText = error ? <span id={`${id}-error`} className="field-error">{error}</span> : null;
  if (layout === "stacked") {
    return (
      <div className={className ? `field ${className}` : "field"}>
        <label htmlFor={id}>
          {label}
          {star}
        </label>
        {hintText}
        {control}
        {errorText}
      </div>
    );
  }
  return (
    <label htmlFor={id} className={className}>
      <span>
        {label}
        {star}
      </span>
      {control}
      {hintText}
      {errorText}
    </label>
  );
}

/**
 * A checkbox with its words after it, both inside one label (`label.checkbox`; the leader's filter
 * adds "inline"), bound to a boolean. The label is the accessible name, so the browser tests find
 * the box by its words. `name` and `value` are there for a group of boxes that belong together.
 */
export function Checkbox({
  label,
  checked,
  onChange,
  name,
  value,
  className = "checkbox",
}: {
  label: string;
  checked: boolean;
  onChange: (checked: boolean) => void;
  name?: string;
  value?: string;
  className?: string;
}) {
  return (
    <label className={className}>
      <input type="checkbox" name={name} value={value} checked={checked} onChange={(event) => onChange(event.target.checked)} />
      {label}
    </label>
  );
}
