/*
 * Signed out (or not yet in): drop the offline copy of the check-in page and the
 * lists of people kept for offline search from this device. Check-ins still
 * waiting to be sent stay, so that nothing recorded at the door is lost.
 */
if (window.caches) {
  window.caches.delete("hybriddesk-checkin-v1");
}
try {
  for (const key of Object.keys(window.localStorage)) {
    if (key.startsWith("hybriddesk:") && key.endsWith("roster")) {
      window.localStorage.removeItem(key);
    }
  }
} catch (error) {
  // Storage may be disabled; then nothing was kept either.
}
