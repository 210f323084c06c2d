/*
 * Times written in the page's language. A browser without that language's date formats
 * (Chromium carries none for Turkmen) would write them in its own language and clock,
 * "11:05 PM" on a Turkmen page; such a page gets the 24-hour clock and the day as
 * day.month numbers instead, as they are written in Turkmenistan.
 */

function knowsDatesOf(language) {
  try {
    return Intl.DateTimeFormat.supportedLocalesOf([language]).length > 0;
  } catch {
    return false;
  }
}

function numbers(moment, timeZone, { day = false, year = false } = {}) {
  const time = new Intl.DateTimeFormat("en-GB", {
    timeZone, hour: "2-digit", minute: "2-digit", hourCycle: "h23",
  }).format(moment);
  if (!day) return time;
  const part = Object.fromEntries(
    new Intl.DateTimeFormat("en-GB", { timeZone, day: "2-digit", month: "2-digit", year: "numeric" })
      .formatToParts(moment)
      .map(({ type, value }) => [type, value]),
  );
  const date = year ? `${part.day}.${part.month}.${part.year}` : `${part.day}.${part.month}`;
  return `${date} ${time}`;
}

/** A scan's time in the event's zone: the time alone on the day it is, with the day otherwise. */
export function scanTime(moment, { timeZone, language, now = new Date() }) {
  const dayOf = (when) => new Intl.DateTimeFormat("en-CA", { timeZone }).format(when);
  const otherDay = dayOf(moment) !== dayOf(now);
  if (language && !knowsDatesOf(language)) return numbers(moment, timeZone, { day: otherDay });
  const options = { timeZone, hour: "2-digit", minute: "2-digit" };
  if (otherDay) {
    options.day = "numeric";
    options.month = "short";
  }
  return new Intl.DateTimeFormat(language, options).format(moment);
}

/** A date and time in full, in the visitor's own zone. */
export function fullTime(moment, language) {
  if (language && !knowsDatesOf(language)) return numbers(moment, undefined, { day: true, year: true });
  return moment.toLocaleString(language, { dateStyle: "full", timeStyle: "short" });
}
