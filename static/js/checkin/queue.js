/*
 * The offline queue: API calls that could not be sent wait in IndexedDB
 * (storage.js) and are sent again, in order, once the connection is back. Each
 * check-in carries a client_id made on this device, so a call that did reach the
 * server before the connection dropped is answered with its first result instead
 * of being recorded twice.
 *
 * For other modules of the page (saving the queue to a file, for one), two
 * functions reach the page's queue once it is open:
 * - `queuedScans()` resolves to every check-in waiting to be sent, oldest first,
 *   as plain copies of the bodies sent to POST /api/v1/events/<slug>/checkins
 *   ({client_id, code, site, scanned_at, force, method, device, session?});
 * - `removeQueuedScan(clientId)` removes the waiting check-in with that
 *   client_id and resolves to true, or to false when none waits.
 * Both wait for the page's queue to be read from the device first.
 */
import { getKept, putKept } from "./storage.js";

let resolvePageQueue;
/** The page's queue, once openQueue() has read it. */
const pageQueue = new Promise((resolve) => { resolvePageQueue = resolve; });

function isScan(item) {
  return item.method === "POST" && item.body && item.body.client_id && item.body.code
    && /\/checkins$/.test(item.url);
}

/** The client_id a waiting undo (DELETE .../checkins/<client_id>) takes back. */
function undoneClientId(item) {
  const match = item.method === "DELETE" && /\/checkins\/([^/]+)$/.exec(item.url);
  return match ? decodeURIComponent(match[1]) : null;
}

/**
 * Every check-in waiting to be sent, oldest first, as the bodies sent to the API;
 * one undone on this device while it waited is left out, as if never made.
 */
export async function queuedScans() {
  const queue = await pageQueue;
  const undone = new Set(queue.items.map(undoneClientId).filter(Boolean));
  return queue.items
    .filter((item) => isScan(item) && !undone.has(item.body.client_id))
    .map((item) => structuredClone(item.body));
}

/** Removes the waiting check-in with this client_id; resolves to whether there was one. */
export async function removeQueuedScan(clientId) {
  return (await pageQueue).remove(clientId);
}

/**
 * Reads the queue kept under `key`, and resolves to it. `request` is the API client; `onChange(count)`
 * follows the number of calls waiting; `onSending(true|false)` tells when sending what
 * waits starts and ends; `onSent(item, answer)` runs for each call sent from the queue,
 * with what was queued (its `note` too) and the server's answer; `onDrained()` runs once
 * all were sent.
 */
export async function openQueue({
  key, request, onChange, onSending = () => {}, onSent = () => {}, onDrained,
}) {
  const items = await getKept(key, []);
  let flushing = null;
  let askedAgain = false;
  // Writes follow one another, so that an older state never overwrites a newer one.
  let writing = Promise.resolve();

  function persist() {
    const copy = items.slice();
    writing = writing.then(() => putKept(key, copy));
    return writing;
  }

  async function enqueue(method, url, body, note) {
    items.push(note ? { method, url, body, note } : { method, url, body });
    onChange(items.length);
    await persist();
  }

  async function remove(clientId) {
    const index = items.findIndex((item) => isScan(item) && item.body.client_id === clientId);
    // One being sent right now stays: its answer is on its way.
    if (index < 0 || (flushing && index === 0)) return false;
    items.splice(index, 1);
    onChange(items.length);
    await persist();
    return true;
  }

  async function drain() {
    while (items.length) {
      const item = items[0];
      let answer;
      try {
        answer = await request(item.method, item.url, item.body);
      } catch {
        return false;
      }
      if (answer.status >= 500) return false;
      // Any other answer is final, even a refusal: the same client_id would get it again.
      items.shift();
      persist();
      onChange(items.length);
      onSent(item, answer);
    }
    return true;
  }

  /**
   * Sends what waits; resolves to true once nothing does. Asked again while sending (the
   * connection came back while a call was failing), it tries once more after.
   */
  function flush() {
    if (flushing) {
      askedAgain = true;
      return flushing;
    }
    askedAgain = false;
    onSending(true);
    flushing = drain().then((done) => {
      flushing = null;
      onSending(false);
      if (!done && askedAgain) return flush();
      if (done) onDrained();
      return done;
    });
    return flushing;
  }

  /**
   * Sends a call now, or queues it: answers { status, data } or { queued: true }.
   * `note(body)`, if given, is kept with a queued call: what the page told the
   * user about it while offline, to compare with the server's answer later.
   */
  async function send(method, url, body, note) {
    const queue = async () => {
      await enqueue(method, url, body, note ? note(body) : undefined);
      return { queued: true };
    };
    // Whatever waits goes first, so an undo never overtakes its check-in.
    if (items.length && !(await flush())) return queue();
    try {
      const answer = await request(method, url, body);
      if (answer.status >= 500) throw new Error("server error " + answer.status);
      return answer;
    } catch {
      return queue();
    }
  }

  const queue = {
    get length() { return items.length; },
    /** The calls waiting, oldest first (not to be changed). */
    get items() { return items; },
    /** True while calls are being sent from the queue. */
    get flushing() { return Boolean(flushing); },
    flush,
    send,
    remove,
  };
  resolvePageQueue(queue);
  return queue;
}
