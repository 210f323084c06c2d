/*
 * Signed out (or not yet in): drop the offline copy of the check-in page and the
 * lists of people kept for offline search from this device, with the queues
 * that have nothing left to send and the events' recorded ends. Check-ins still
 * waiting to be sent stay, so that nothing recorded at the door is lost.
 * (static/js/checkin/storage.js keeps the lists and queues in IndexedDB, an older
 * page kept them in localStorage; it drops the same things 12 hours after an event.)
 */
(function () {
  const PREFIX = "hybriddesk:";
  const scopeOf = (key) => key.slice(0, key.lastIndexOf(":") + 1);

  if (window.caches) {
    window.caches.delete("hybriddesk-checkin-v1");
  }

  /** Drops the lists and emptied queues in `kept` ({key: value}); answers the scopes still waiting. */
  function forget(kept, drop) {
    const waiting = new Set();
    for (const [key, value] of Object.entries(kept)) {
      if (key.endsWith(":queue") && value && value.length) waiting.add(scopeOf(key));
    }
    for (const key of Object.keys(kept)) {
      if (key.endsWith(":roster") || (key.endsWith(":queue") && !waiting.has(scopeOf(key)))) {
        drop(key);
      }
    }
    return waiting;
  }

  function forgetInLocalStorage(waitingElsewhere) {
    try {
      const storage = window.localStorage;
      const kept = {};
      for (const key of Object.keys(storage)) {
        if (!key.startsWith(PREFIX)) continue;
        let value = null;
        try { value = JSON.parse(storage.getItem(key)); } catch { /* not ours to read */ }
        kept[key] = value;
      }
      const waiting = forget(kept, (key) => storage.removeItem(key));
      for (const key of Object.keys(kept)) {
        const scope = scopeOf(key);
        if (key.endsWith(":ends") && !waiting.has(scope) && !waitingElsewhere.has(scope)) {
          storage.removeItem(key);
        }
      }
    } catch (error) {
      // Storage may be disabled; then nothing was kept either.
    }
  }

  if (!window.indexedDB) {
    forgetInLocalStorage(new Set());
    return;
  }
  const opening = window.indexedDB.open("hybriddesk", 1);
  opening.onupgradeneeded = () => opening.result.createObjectStore("kept");
  opening.onerror = () => forgetInLocalStorage(new Set());
  opening.onsuccess = () => {
    const db = opening.result;
    const transaction = db.transaction("kept", "readwrite");
    const store = transaction.objectStore("kept");
    const kept = {};
    const cursor = store.openCursor();
    cursor.onsuccess = () => {
      const at = cursor.result;
      if (at) {
        if (typeof at.key === "string" && at.key.startsWith(PREFIX)) kept[at.key] = at.value;
        at.continue();
        return;
      }
      const waiting = forget(kept, (key) => store.delete(key));
      transaction.oncomplete = () => {
        db.close();
        forgetInLocalStorage(waiting);
      };
    };
    transaction.onerror = () => forgetInLocalStorage(new Set());
  };
}());
