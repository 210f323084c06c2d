/*
 * The site's list, kept in localStorage from the last refresh so that names,
 * arrivals and search still work without a connection.
 */
import { load, save } from "./storage.js";
import { foldForSearch, normalizeCode } from "./text.js";

/**
 * The list of `site` kept under `key`, refreshed from `url` through `request`;
 * `onChange(data)` runs whenever it changes.
 */
export function createRoster({ key, site, url, request, onChange }) {
  let data = load(key, null);

  /** The person with this badge code, or null. */
  function find(code) {
    if (!data) return null;
    const wanted = normalizeCode(code);
    return data.registrations.find((person) => person.code === wanted) || null;
  }

  /** As the server searches: every word typed, in the name, organisation or email. */
  function search(query) {
    if (!data) return [];
    const words = foldForSearch(query).split(" ").filter(Boolean);
    return data.registrations.filter((person) => {
      const text = foldForSearch(
        [person.name, person.organization, person.email].filter(Boolean).join(" "));
      return words.every((word) => text.includes(word));
    }).slice(0, 20);
  }

  /** Counts an admission the server just answered, until the next refresh. */
  function markArrived(code, checkin) {
    const person = code && find(code);
    if (!person || person.checkin) return;
    person.checkin = {
      client_id: checkin.client_id, scanned_at: checkin.scanned_at,
      site: checkin.site, site_name: checkin.site_name,
    };
    person.arrived_here = checkin.site === site;
    if (person.arrived_here) data.counts.arrived += 1;
    if (person.expected) data.counts.not_arrived -= 1;
    onChange(data);
  }

  async function refresh() {
    try {
      const answer = await request("GET", url);
      if (answer.status !== 200) return;
      data = answer.data;
      save(key, data);
      onChange(data);
    } catch { /* offline: keep the list we have */ }
  }

  return {
    get data() { return data; },
    find,
    search,
    markArrived,
    refresh,
  };
}
