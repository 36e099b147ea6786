// Client-side checks shared by the citizen portal, the counter desk and the administration.
// Client-side checks that mirror the API's (services/core/validation.py, services/intake/schemas.py):
// the server stays the judge, these only spare the citizen a round trip.

const PHONE = /^(?:\+?84|0)(3|5|7|8|9)\d{8}$/;
const CCCD = /^\d{12}$/;
const TAX_CODE = /^\d{10}(?:-\d{3})?$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function compactPhone(value: string): string {
  return value.replace(/[\s.-]/g, "");
}

export function validPhone(value: string): boolean {
  return PHONE.test(compactPhone(value));
}

export function validIdNumber(value: string): boolean {
  const compact = value.trim();
  return CCCD.test(compact) || TAX_CODE.test(compact);
}

export function validEmail(value: string): boolean {
  return EMAIL.test(value.trim());
}

export function validName(value: string): boolean {
  const cleaned = value.trim().split(/\s+/).join(" ");
  return cleaned.length >= 2 && cleaned.length <= 200 && !/\d/.test(cleaned);
}

/** Accepted document types (the server sniffs the bytes: PDF, PNG, JPEG, DOCX) and the size limit. */
export const ACCEPT = ".pdf,.png,.jpg,.jpeg,.docx,application/pdf,image/png,image/jpeg";
export const MAX_FILE_BYTES = 10 * 1024 * 1024;
