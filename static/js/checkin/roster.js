/*
 * The site's list, kept in IndexedDB (storage.js) from the last refresh so that
 * names, arrivals and search still work without a connection. The whole list is
 * fetched once; each refresh after that asks only for what changed since the
 * last answer's cursor (?since=) and lays it over the list kept. Check-ins and
 * undos answered by the server change it at once; a refresh that was already on
 * its way when they did is asked again, so it cannot bring back the older state.
 */
import { getKept, putKept } from "./storage.js";
import { codeHash, foldForSearch, normalizeCode } from "./text.js";

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
 * is not on it): the same words as the API's reasons, or "admitted". Without a
 * session the admission is the day's; with one, to that session.
 */
export function offlineVerdict(person, body, site) {
  // In the order the server decides (app/checkin/services.py, _decide).
  if (!person) return "unknown_code";
  const inAlready = body.session ? (person.sessions || []).includes(body.session)
    : Boolean(person.checkin);
  if (inAlready) return "already_checked_in";
  if (person.status !== "confirmed") return "not_admitted";
  if (!body.force && person.site !== site) return "wrong_site";
  return "admitted";
}

/**
 * Someone of another site (or online) as the list's `elsewhere` groups know them:
 * no name, only where they registered and whether they came today. `checkin`
 * without a time says they were admitted at another site today.
 */
function personElsewhere(code, group) {
  return {
    code, name: "", organization: "", site: group.site, site_name: group.site_name,
    status: group.state === "not_admitted" ? "" : "confirmed",
    checkin: group.state === "arrived" ? { scanned_at: null, site: null, site_name: "" } : null,
    sessions: [], expected: false, arrived_here: false, elsewhere: true,
  };
}

/**
 * The `elsewhere` groups of a list with a ?since= answer's laid over them: a code
 * in the answer leaves the group it was in for its new one.
 */
export function mergeElsewhere(kept, changed) {
  if (!changed || !changed.length) return kept || [];
  const moved = new Set(changed.flatMap((group) => group.codes));
  const groups = new Map();
  const keyOf = (group) => (group.site || "") + " " + group.state;
  for (const group of [...(kept || []), ...changed]) {
    const key = keyOf(group);
    if (!groups.has(key)) groups.set(key, { ...group, codes: [] });
  }
  for (const group of kept || []) {
    const target = groups.get(keyOf(group)).codes;
    for (const hash of group.codes) if (!moved.has(hash)) target.push(hash);
  }
  for (const group of changed) groups.get(keyOf(group)).codes.push(...group.codes);
  return [...groups.values()].filter((group) => group.codes.length);
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
  for (const group of data.elsewhere || []) {
    if (group.state === "arrived") group.state = "expected";
  }
  data.elsewhere = mergeElsewhere([], data.elsewhere || []);
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
  return { ...changes, registrations, elsewhere: mergeElsewhere(data.elsewhere, changes.elsewhere) };
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

  // The groups of people elsewhere by code hash, built when first asked after a change.
  let elsewhereIndex = null;

  /**
   * The person with this badge code on the list, or else someone of another site
   * whose code it is (see personElsewhere), or null.
   */
  async function lookup(code) {
    const listed = find(code);
    if (listed || !data || !(data.elsewhere || []).length) return listed;
    const hash = await codeHash(code);
    if (!hash) return null;
    if (!elsewhereIndex) {
      elsewhereIndex = new Map();
      for (const group of data.elsewhere) {
        for (const groupHash of group.codes) elsewhereIndex.set(groupHash, group);
      }
    }
    const group = elsewhereIndex.get(hash);
    return group ? personElsewhere(normalizeCode(code), group) : null;
  }

  function changed() {
    changes += 1;
    elsewhereIndex = null;
    putKept(key, data);
    onChange(data);
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
   * Records what is known of this person's admission: `checkin` is their live
   * admission, or null once it was undone. Someone not on the list who was let
   * in here (`standIn`, as lookup() found them) joins it until the server's list
   * names them. Answers false when the person is not on the list.
   */
  function setArrival(code, checkin, standIn) {
    let person = code && find(code);
    if (!person && standIn && data && checkin && checkin.site === site) {
      // Named by the code until the server's list names them.
      person = { ...standIn, name: standIn.name || standIn.code, elsewhere: undefined };
      data.registrations.push(person);
    }
    if (!person) return false;
    person.checkin = arrivalOf(checkin);
    person.arrived_here = Boolean(checkin && checkin.site === site);
    changed();
    return true;
  }

  /** Records that this person was admitted to the agenda item `session`, or is no longer. */
  function setSession(code, session, admitted) {
    const person = code && find(code);
    if (!person) return;
    const sessions = (person.sessions || []).filter((id) => id !== session);
    if (admitted) sessions.push(session);
    person.sessions = sessions;
    changed();
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
    elsewhereIndex = null;
    overlay(data);
    putKept(key, data);
    onChange(data);
  }

  return {
    get data() { return data; },
    get counts() { return siteCounts(data ? data.registrations : [], site); },
    fromAnotherDay,
    find,
    lookup,
    search,
    setArrival,
    setSession,
    refresh,
  };
}
