/*
 * A copy of the check-in page for reloading without a connection: registers
 * the service worker (static/js/checkin-sw.js, served from /manage/ so that its
 * scope covers the page) and puts the page, its stylesheets and scripts, and
 * the modules of this directory it imported into the cache the worker answers
 * from when the network does not.
 */

// The name checkin-sw.js and forget-offline.js use too.
const CACHE = "hybriddesk-checkin-v1";
const MODULES = new URL("./", import.meta.url).href;

function pageAssets() {
  const named = Array.from(
    document.querySelectorAll("link[rel=stylesheet][href], script[src]"),
    (element) => element.href || element.src,
  );
  // Imported modules appear in no tag; the page's resource timings list them.
  const imported = performance.getEntriesByType("resource")
    .map((entry) => entry.name)
    .filter((url) => url.startsWith(MODULES));
  // cache.addAll refuses the same URL twice.
  return Array.from(new Set([window.location.pathname, ...named, ...imported]));
}

/** Keeps the offline copy, then marks `root` with data-offline-ready="1". */
export function keepOfflineCopy(root) {
  const serviceWorkerUrl = root.dataset.serviceWorkerUrl;
  if (!("serviceWorker" in navigator) || !window.caches || !serviceWorkerUrl) return;
  navigator.serviceWorker.register(serviceWorkerUrl)
    .then(() => navigator.serviceWorker.ready)
    .then(() => caches.open(CACHE))
    .then((cache) => cache.addAll(pageAssets()))
    .then(() => { root.dataset.offlineReady = "1"; })
    .catch(() => { /* no offline copy: the page still works online */ });
}
