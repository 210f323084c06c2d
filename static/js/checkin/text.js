/*
 * Text as the server reads it: badge codes (normalize_code in
 * app/checkin/services.py) and search folding (fold_for_search in app/text.py),
 * plus the %(name)s placeholders of the page's translated messages.
 *
 * The fold uses a table generated from Python's unidecode by
 * app/checkin/transliteration.py, so it cannot drift from the server's;
 * tests/browser/test_checkin_text.py compares the two on real names.
 */
import { TRANSLITERATION, WHITESPACE_RUNS } from "./transliteration.js";

/** A typed or scanned badge code without any whitespace, upper-case. */
export function normalizeCode(code) {
  return code.replace(WHITESPACE_RUNS, "").toUpperCase();
}

/**
 * What stands for a badge code among the people of other sites (code_hash in
 * app/checkin/roster.py): the first 8 hex digits of the SHA-256 of the normalised
 * code. Null where the browser has no Web Crypto (pages not served over HTTPS).
 */
export async function codeHash(code) {
  if (!globalThis.crypto || !crypto.subtle) return null;
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(normalizeCode(code)));
  return Array.from(new Uint8Array(digest).slice(0, 4),
    (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/**
 * Lower-case ASCII with single spaces: "Şükürowa" and "sukurowa" fold alike,
 * and so do "Ольга" and "ol'ga". Characters outside the table's Latin and
 * Cyrillic blocks, which the server would transliterate or drop, are kept as
 * they are, so a search typed in another script still finds what was written in it.
 */
export function foldForSearch(text) {
  let ascii = "";
  for (const char of text || "") {
    const replacement = TRANSLITERATION[char];
    ascii += replacement === undefined ? char : replacement;
  }
  return ascii.replace(WHITESPACE_RUNS, " ").replace(/^ | $/g, "").toLowerCase();
}

/** Fills the "%(name)s" placeholders of a translated message; a missing value is left empty. */
export function fmt(template, values) {
  return template.replace(/%\((\w+)\)s/g, (_match, key) =>
    values[key] == null ? "" : String(values[key]));
}
