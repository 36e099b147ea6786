import { useState, type InputHTMLAttributes } from "react";
import { useTranslation } from "react-i18next";

type Props = Omit<InputHTMLAttributes<HTMLInputElement>, "type" | "onChange"> & { onFiles: (files: File[]) => void };

/**
 * A file input that speaks the app's language: the browser's own button says "Choose File" in the
 * browser's language, whatever the user chose here. The native input stays (transparent, over the
 * whole control), so its label, keyboard focus and assistive technology work as usual.
 */
export function FileInput({ onFiles, multiple, className, ...rest }: Props) {
  const { t } = useTranslation();
  const [names, setNames] = useState<string[]>([]);
  return (
    <span className={`file-input${className ? ` ${className}` : ""}`}>
      <input
        {...rest}
        type="file"
        multiple={multiple}
        className="file-input-native"
        onChange={(event) => {
          const chosen = Array.from(event.target.files ?? []);
          setNames(chosen.map((file) => file.name));
          onFiles(chosen);
        }}
      />
      <span className="file-input-button" aria-hidden="true">{t(multiple ? "files.chooseMany" : "files.choose")}</span>
      <span className="file-input-names" aria-hidden="true">{names.length > 0 ? names.join(", ") : t("files.none")}</span>
    </span>
  );
}
