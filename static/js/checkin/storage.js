/*
 * What the page keeps on the device across reloads. The offline queue and the
 * site's list live in IndexedDB, which holds thousands of people and is read
 * without blocking the page; this device's name, its chosen camera and session,
 * and each event's end stay in localStorage (a few bytes, read at once). Where
 * IndexedDB is refused (some private modes), the queue and the list fall back to
 * localStorage, and where that is refused too, the page keeps going in memory.
 *
 * IndexedDB is used directly: the page needs one object store and four calls
 * (get, put, delete, list the keys), a few lines of promises, so no wrapper
 * library is vendored for it.
 *
 * The site's list names people, so it is kept only while the event may still
 * need it: each check-in page records its event's end (under
 * "hybriddesk:<event>:<site>:ends"), and 12 hours after that end the list and
 * the page's offline copy are dropped, on the next load of any check-in page and
 * every minute while one is open. Check-ins still waiting to be sent stay until
 * they are sent, so nothing recorded at the door is lost; the emptied queue goes.
 * (static/js/forget-offline.js, on signing out, names the same database and store.)
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
  try {
    window.localStorage.setItem(key, JSON.stringify(value));
  } catch { /* full or unavailable: keep going in memory */ }
}

// --- the queue and the list, in IndexedDB ----------------------------------------

const DATABASE = "hybriddesk";
const STORE = "kept";
let opened = null;

/** The database, or a rejection where IndexedDB is refused. */
function database() {
  if (!opened) {
    opened = new Promise((resolve, reject) => {
      if (!window.indexedDB) throw new Error("IndexedDB is unavailable");
      const request = window.indexedDB.open(DATABASE, 1);
      request.onupgradeneeded = () => request.result.createObjectStore(STORE);
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  }
  return opened;
}

/** Runs `work(store)` in one transaction; resolves to its request's result once committed. */
async function inStore(mode, work) {
  const db = await database();
  return new Promise((resolve, reject) => {
    const transaction = db.transaction(STORE, mode);
    const request = work(transaction.objectStore(STORE));
    transaction.oncomplete = () => resolve(request.result);
    transaction.onerror = () => reject(transaction.error);
    transaction.onabort = () => reject(transaction.error);
  });
}

/** The value kept under `key` (the queue or the list of a site), or `fallback`. */
export async function getKept(key, fallback) {
  try {
    const value = await inStore("readonly", (store) => store.get(key));
    return value === undefined ? fallback : value;
  } catch {
    return load(key, fallback);
  }
}

/** Keeps `value` under `key`; resolves once it is written. */
export async function putKept(key, value) {
  // A refresh answered after the end does not store the list again.
  if (mustNotKeep(key, value)) {
    await removeKept(key);
    return;
  }
  try {
    await inStore("readwrite", (store) => store.put(value, key));
  } catch {
    save(key, value);
  }
}

export async function removeKept(key) {
  try {
    await inStore("readwrite", (store) => store.delete(key));
  } catch { /* unavailable: kept in localStorage, if anywhere */ }
  remove(key);
}

async function keptKeys() {
  try {
    return await inStore("readonly", (store) => store.getAllKeys());
  } catch {
    return [];
  }
}

/**
 * Moves the queues and lists an older page left in localStorage into IndexedDB,
 * queues first: a queued check-in is removed from localStorage only once written
 * anew, after those already waiting there.
 */
export async function moveFromLocalStorage() {
  let keys;
  try {
    await database();
    keys = Object.keys(window.localStorage).filter((key) => key.startsWith(PREFIX));
  } catch {
    return;  // nowhere to move them: they stay where they are
  }
  const queues = keys.filter((key) => key.endsWith(":queue"));
  const lists = keys.filter((key) => key.endsWith(":roster"));
  for (const key of queues) {
    const waiting = await getKept(key, []);
    const known = new Set(waiting.map((item) => JSON.stringify(item)));
    const older = load(key, []).filter((item) => !known.has(JSON.stringify(item)));
    await inStore("readwrite", (store) => store.put(older.concat(waiting), key));
    remove(key);
  }
  for (const key of lists) {
    const list = load(key, null);
    if (list && (await getKept(key, null)) === null) {
      await inStore("readwrite", (store) => store.put(list, key));
    }
    remove(key);
  }
}

/** Records when the event of this check-in page (`scope`, at `page`) ends. */
export function rememberEnd(scope, endsAt, page) {
  if (endsAt) save(scope + "ends", { ends: endsAt, page });
}

/** Drops the lists, emptied queues and offline pages of events that ended 12 hours ago. */
export async function forgetEnded(now = Date.now()) {
  let keys;
  try {
    keys = Object.keys(window.localStorage);
  } catch {
    return;
  }
  const kept = new Set(await keptKeys());
  for (const key of keys) {
    if (!key.startsWith(PREFIX) || !key.endsWith(":ends")) continue;
    const scope = scopeOf(key);
    if (!isExpired(scope, now)) continue;
    const page = load(key, {}).page;
    if (kept.has(scope + "roster")) await removeKept(scope + "roster");
    remove(scope + "roster");
    if (page && window.caches) {
      window.caches.open(CACHE).then((cache) => cache.delete(page, { ignoreSearch: true }))
        .catch(() => { /* no cache: no copy either */ });
    }
    if (!(await getKept(scope + "queue", [])).length) await removeKept(scope + "queue");
    // The end itself stays (it names no one), so that a later refresh is not stored again.
  }
}
