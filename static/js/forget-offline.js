/*
 * Signed out (or not yet in): drop the offline copy of the check-in page and the
 * lists of people kept for offline search from this device, with the queues
 * that have nothing left to send and the events' recorded ends. Check-ins still
 * waiting to be sent stay, so that nothing recorded at the door is lost.
 * (static/js/checkin/storage.js drops the same things 12 hours after an event.)
 */
if (window.caches) {
  window.caches.delete("hybriddesk-checkin-v1");
}
try {
  const storage = window.localStorage;
  const keys = Object.keys(storage).filter((key) => key.startsWith("hybriddesk:"));
  const waiting = (scope) => {
    const queue = storage.getItem(scope + "queue");
    return Boolean(queue && queue !== "[]");
  };
  for (const key of keys) {
    const scope = key.slice(0, key.lastIndexOf(":") + 1);
    if (key.endsWith("roster") || (key.endsWith(":queue") && !waiting(scope))
        || (key.endsWith(":ends") && !waiting(scope))) {
      storage.removeItem(key);
    }
  }
} catch (error) {
  // Storage may be disabled; then nothing was kept either.
}
