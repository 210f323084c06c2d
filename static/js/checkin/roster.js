/*
 * The site's list, kept in IndexedDB (storage.js) from the last refresh so that
 * names, arrivals and search still work without a connection. The whole list is
 * fetched once; each refresh after that asks only for what changed since the
 * last answer's cursor (?since=) and lays it over the list kept. Check-ins and
 * undos answered by the server change it at once; a refresh that was already on
 * its way when they did is asked again, so it cannot bring back the older state.
 */
import { getKept, putKept } from "./storage.js";
import { foldForSearch, normalizeCode } from "./text.js";

/**
 * The counts the page shows for `site`, as SiteRoster counts them on the server
 * (app/checkin/roster.py): of those expected here, `arrived` (here, or let in at
 * another site) and `notArrived` add up to `expected`; people let in here who
 * registered for another site or online are counted apart, in `fromOtherSites`.
 */
export function siteCounts(people, site) {
  const counts = { expected: 0, arrived: 0, notArrived: 0, fromOtherSites: 0 };
  for (const person of people) {
    if (person.expected) {
      counts.expected += 1;
      if (person.checkin) counts.arrived += 1;
      else counts.notArrived += 1;
    }
    if (person.checkin && person.checkin.site === site && person.site !== site) {
      counts.fromOtherSites += 1;
    }
  }
  return counts;
}

/**
 * The part of a check-in (or of an earlier admission) a person's row shows;
 * `offline` marks one made on this device that the server has not answered yet.
 */
export function arrivalOf(checkin) {
  if (!checkin) return null;
  const arrival = {
    client_id: checkin.client_id, scanned_at: checkin.scanned_at,
    site: checkin.site, site_name: checkin.site_name,
  };
  if (checkin.offline) arrival.offline = true;
  return arrival;
}

/**
 * What the server will most likely answer to a check-in (`body`, sent to `site`)
 * for `person` as the list kept on this device knows them (null when the code
 * is not on it): the same words as the API's reasons, or "admitted". The door's
 * admissions are the day's; a session's are not on the list, so a scan for a
 * session is judged only on who the person is.
 */
export function offlineVerdict(person, body, site) {
  // In the order the server decides (app/checkin/services.py, _decide).
  if (!person) return "unknown_code";
  if (!body.session && person.checkin) return "already_checked_in";
  if (person.status !== "confirmed") return "not_admitted";
  if (!body.force && person.site !== site) return "wrong_site";
  return "admitted";
}

/** The calendar day of a moment in `timezone`, as YYYY-MM-DD. */
function dayIn(timezone, moment) {
  try {
    return new Intl.DateTimeFormat("en-CA", { timeZone: timezone }).format(moment);
  } catch {
    return moment.toISOString().slice(0, 10);
  }
}

/**
 * A list kept from an earlier day of the event: its arrivals were that day's, and
 * today nobody has arrived yet as far as it knows.
 */
export function forgetOtherDays(data, timezone, now = new Date()) {
  if (!data || !data.generated_at) return false;
  if (dayIn(timezone, new Date(data.generated_at)) === dayIn(timezone, now)) return false;
  for (const person of data.registrations) {
    person.checkin = null;
    person.arrived_here = false;
  }
  data.generated_at = now.toISOString();
  // The next refresh fetches the whole list again, with today's arrivals.
  delete data.cursor;
  return true;
}

/** Lays a ?since= answer (`changes`) over the list kept (`data`): the list as it is now. */
export function mergeChanges(data, changes) {
  const byCode = new Map(data.registrations.map((person, index) => [person.code, index]));
  const people = data.registrations.slice();
  let added = false;
  for (const person of changes.registrations) {
    if (byCode.has(person.code)) {
      people[byCode.get(person.code)] = person;
    } else {
      people.push(person);
      added = true;
    }
  }
  const removed = new Set(changes.removed || []);
  const registrations = people.filter((person) => !removed.has(person.code));
  // By name, as the server lists them.
  if (added) registrations.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { ...changes, registrations };
}

/**
 * Reads the list of `site` kept under `key` and resolves to it, refreshed from `url` through `request`;
 * `onChange(data)` runs whenever it changes. Arrivals are the day's, in the
 * event's `timezone`. `overlay(data)` lays what this device did offline, and the
 * server has not heard yet, over each list the server sends.
 */
export async function openRoster({
  key, site, url, timezone, request, onChange, overlay = () => {},
}) {
  let data = await getKept(key, null);
  // Kept from an earlier day: the page (perhaps an offline copy of that day) shows it anew.
  const fromAnotherDay = forgetOtherDays(data, timezone || "UTC");
  // Refreshes are numbered, so that only the newest one's answer is used.
  let refreshes = 0;
  // Changes made here since the list was loaded: a refresh that saw fewer is out of date.
  let changes = 0;

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

  /**
   * Records what the server answered about this person: `checkin` is their live
   * admission, or null once it was undone. Answers false when the person is not
   * on the list.
   */
  function setArrival(code, checkin) {
    const person = code && find(code);
    if (!person) return false;
    person.checkin = arrivalOf(checkin);
    person.arrived_here = Boolean(checkin && checkin.site === site);
    changes += 1;
    putKept(key, data);
    onChange(data);
    return true;
  }

  async function refresh() {
    const number = ++refreshes;
    const changesBefore = changes;
    const since = data && data.cursor;
    let answer;
    try {
      answer = await request("GET", since ? url + "&since=" + encodeURIComponent(since) : url);
    } catch {
      return;  // offline: keep the list we have
    }
    if (number !== refreshes) return;
    if (since && answer.status === 422) {
      // Not a cursor the server knows (any more): fetch the whole list.
      delete data.cursor;
      refresh();
      return;
    }
    if (answer.status !== 200) return;
    // A check-in answered meanwhile may be missing from this list: ask again.
    if (changes !== changesBefore) {
      refresh();
      return;
    }
    data = since ? mergeChanges(data, answer.data) : answer.data;
    overlay(data);
    putKept(key, data);
    onChange(data);
  }

  return {
    get data() { return data; },
    get counts() { return siteCounts(data ? data.registrations : [], site); },
    fromAnotherDay,
    find,
    search,
    setArrival,
    refresh,
  };
}
