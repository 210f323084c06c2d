/* Signed out (or not yet in): drop the offline copy of the check-in page from this device. */
if (window.caches) {
  window.caches.delete("hybriddesk-checkin-v1");
}
