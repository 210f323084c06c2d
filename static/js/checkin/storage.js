/*
 * What the page keeps in localStorage across reloads: the offline queue, the
 * site's list, this device's name and its chosen camera. Private browsing may
 * refuse the storage; the page then keeps going in memory.
 *
 * The site's list names people, so it is kept only while the event may still
 * need it: each check-in page records its event's end (under
 * "hybriddesk:<event>:<site>:ends"), and 12 hours after that end the list and
 * the page's offline copy are dropped, on the next load of any check-in page and
 * every minute while one is open. Check-ins still waiting to be sent stay until
 * they are sent, so nothing recorded at the door is lost; the emptied queue goes.
 */

/** How long after its event's end a site's list stays on the device. */
export const KEPT_AFTER_END_MS = 12 * 60 * 60 * 1000;
// The name offline-copy.js, checkin-sw.js and forget-offline.js use too.
const CACHE = "hybriddesk-checkin-v1";
const PREFIX = "hybriddesk:";

export function load(key, fallback) {
  try {
    const value = window.localStorage.getItem(key);
    return value ? JSON.parse(value) : fallback;
  } catch {
    return fallback;
  }
}

function remove(key) {
  try {
    window.localStorage.removeItem(key);
  } catch { /* unavailable: nothing was kept either */ }
}

/** "hybriddesk:<event>:<site>:" for any key of one site's check-in page. */
function scopeOf(key) {
  return key.slice(0, key.lastIndexOf(":") + 1);
}

/** True once the event of `scope` ended more than KEPT_AFTER_END_MS before `now`. */
export function isExpired(scope, now = Date.now()) {
  const end = Date.parse((load(scope + "ends", null) || {}).ends);
  return Number.isFinite(end) && now > end + KEPT_AFTER_END_MS;
}

/** Whether `key` holds what an expired event's page may no longer keep. */
function mustNotKeep(key, value) {
  if (!key.startsWith(PREFIX) || !isExpired(scopeOf(key))) return false;
  return key.endsWith(":roster") || (key.endsWith(":queue") && !value.length);
}

export function save(key, value) {
  // A refresh answered after the end does not store the list again.
  if (mustNotKeep(key, value)) {
    remove(key);
    return;
  }
  try {
    window.localStorage.setItem(key, JSON.stringify(value));
  } catch { /* full or unavailable: keep going in memory */ }
}

/** Records when the event of this check-in page (`scope`, at `page`) ends. */
export function rememberEnd(scope, endsAt, page) {
  if (endsAt) save(scope + "ends", { ends: endsAt, page });
}

/** Drops the lists, emptied queues and offline pages of events that ended 12 hours ago. */
export function forgetEnded(now = Date.now()) {
  let keys;
  try {
    keys = Object.keys(window.localStorage);
  } catch {
    return;
  }
  for (const key of keys) {
    if (!key.startsWith(PREFIX) || !key.endsWith(":ends")) continue;
    const scope = scopeOf(key);
    if (!isExpired(scope, now)) continue;
    const page = load(key, {}).page;
    remove(scope + "roster");
    if (page && window.caches) {
      window.caches.open(CACHE).then((cache) => cache.delete(page, { ignoreSearch: true }))
        .catch(() => { /* no cache: no copy either */ });
    }
    if (!load(scope + "queue", []).length) remove(scope + "queue");
    // The end itself stays (it names no one), so that a later refresh is not stored again.
  }
}
