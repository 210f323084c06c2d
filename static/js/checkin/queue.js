/*
 * The offline queue: API calls that could not be sent wait in localStorage and
 * are sent again, in order, once the connection is back. Each check-in carries
 * a client_id made on this device, so a call that did reach the server before
 * the connection dropped is answered with its first result instead of being
 * recorded twice.
 */
import { load, save } from "./storage.js";

/**
 * The queue kept under `key`. `request` is the API client; `onChange(count)`
 * follows the number of calls waiting; `onSent(item, answer)` runs for each call
 * sent from the queue, with what was queued (its `note` too) and the server's
 * answer; `onDrained()` runs once all were sent.
 */
export function createQueue({ key, request, onChange, onSent = () => {}, onDrained }) {
  const items = load(key, []);
  let flushing = null;

  function enqueue(method, url, body, note) {
    items.push(note ? { method, url, body, note } : { method, url, body });
    save(key, items);
    onChange(items.length);
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
      save(key, items);
      onChange(items.length);
      onSent(item, answer);
    }
    return true;
  }

  /** Sends what waits; resolves to true once nothing does. */
  function flush() {
    if (!flushing) {
      flushing = drain().then((done) => {
        flushing = null;
        if (done) onDrained();
        return done;
      });
    }
    return flushing;
  }

  /**
   * Sends a call now, or queues it: answers { status, data } or { queued: true }.
   * `note(body)`, if given, is kept with a queued call: what the page told the
   * user about it while offline, to compare with the server's answer later.
   */
  async function send(method, url, body, note) {
    const queue = () => {
      enqueue(method, url, body, note ? note(body) : undefined);
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

  return {
    get length() { return items.length; },
    /** The calls waiting, oldest first (not to be changed). */
    get items() { return items; },
    flush,
    send,
  };
}
