/*
 * The start of an event in the visitor's own time zone, beside the event's zone,
 * for a <time data-local-time data-event-zone="..."> inside a hidden paragraph.
 */
import { fullTime } from "./times.js";

const element = document.querySelector("[data-local-time]");
if (element && window.Intl) {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (zone !== element.dataset.eventZone) {
    const when = new Date(element.getAttribute("datetime"));
    const local = fullTime(when, document.documentElement.lang || undefined);
    element.textContent = `${local} (${zone})`;
    element.parentElement.hidden = false;
  }
}
