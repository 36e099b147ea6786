import { useId } from "react";
import { useTranslation } from "react-i18next";

export interface SupplementItem {
  document: string;
  reason: string;
}

/** What the citizen must add: one line per document, each with why (as the API requires). */
export function itemErrors(items: SupplementItem[], t: (key: string) => string): string[] {
  return items.map((item) => {
    if (item.document.trim().length < 2) return t("validation.itemDocument");
    if (item.reason.trim().length < 5) return t("validation.itemReason");
    return "";
  });
}

export function SupplementItems({
  items,
  onChange,
  errors,
}: {
  items: SupplementItem[];
  onChange: (items: SupplementItem[]) => void;
  errors: string[];
}) {
  const { t } = useTranslation("staff");
  const id = useId();
  const set = (index: number, patch: Partial<SupplementItem>) =>
    onChange(items.map((item, at) => (at === index ? { ...item, ...patch } : item)));
  return (
    <fieldset>
      <legend>{t("supplement.items")}</legend>
      <ol className="supplement-items">
        {items.map((item, index) => (
          <li key={index} className="form">
            <label>
              {t("supplement.document", { n: index + 1 })}
              <input
                value={item.document}
                maxLength={300}
                aria-invalid={errors[index] && item.document.trim().length < 2 ? true : undefined}
                onChange={(event) => set(index, { document: event.target.value })}
              />
            </label>
            <label>
              {t("supplement.reason", { n: index + 1 })}
              <input
                value={item.reason}
                maxLength={1000}
                aria-invalid={errors[index] ? true : undefined}
                aria-describedby={errors[index] ? `${id}-${index}` : undefined}
                onChange={(event) => set(index, { reason: event.target.value })}
              />
            </label>
            {errors[index] && <span id={`${id}-${index}`} className="field-error">{errors[index]}</span>}
            {items.length > 1 && (
              <button type="button" onClick={() => onChange(items.filter((_, at) => at !== index))}>
                {t("supplement.remove", { n: index + 1 })}
              </button>
            )}
          </li>
        ))}
      </ol>
      {items.length < 20 && (
        <button type="button" onClick={() => onChange([...items, { document: "", reason: "" }])}>
          {t("supplement.add")}
        </button>
      )}
    </fieldset>
  );
}

/** Reasons typed one per line, each at least five characters (refusal, stop). */
export function splitReasons(text: string): string[] {
  return text
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean);
}
