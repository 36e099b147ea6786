// Vietnamese first, English second. One namespace per area so each area owns its strings:
// common (layout, shared components), citizen, staff, leader, admin.
import i18n from "i18next";
import { initReactI18next } from "react-i18next";

import enAdmin from "./en/admin.json";
import enCitizen from "./en/citizen.json";
import enCommon from "./en/common.json";
import enLeader from "./en/leader.json";
import enStaff from "./en/staff.json";
import viAdmin from "./vi/admin.json";
import viCitizen from "./vi/citizen.json";
import viCommon from "./vi/common.json";
import viLeader from "./vi/leader.json";
import viStaff from "./vi/staff.json";

export const LANGUAGES = ["vi", "en"] as const;
export type Language = (typeof LANGUAGES)[number];
const STORAGE_KEY = "motcua.lang";

function initialLanguage(): Language {
  const stored = localStorage.getItem(STORAGE_KEY);
  return stored === "en" ? "en" : "vi";
}

void i18n.use(initReactI18next).init({
  resources: {
    vi: { common: viCommon, citizen: viCitizen, staff: viStaff, leader: viLeader, admin: viAdmin },
    en: { common: enCommon, citizen: enCitizen, staff: enStaff, leader: enLeader, admin: enAdmin },
  },
  lng: initialLanguage(),
  fallbackLng: "vi",
  defaultNS: "common",
  ns: ["common", "citizen", "staff", "leader", "admin"],
  interpolation: { escapeValue: false },
  returnNull: false,
});

document.documentElement.lang = i18n.language;
i18n.on("languageChanged", (language) => {
  document.documentElement.lang = language;
  localStorage.setItem(STORAGE_KEY, language);
});

/** The locale for dates and numbers: vi-VN or en-GB (day-month order in both). */
export function locale(): string {
  return i18n.language === "en" ? "en-GB" : "vi-VN";
}

export default i18n;
